// Owns one index call end to end: the files checked before anything is written, the model pinned
// (an index is only ever extended with the model it records), each file re-chunked only when its
// hash changed and each chunk re-embedded only when its content is new, the writes done in one
// transaction per batch of files, `sync` removals, and the project's HNSW index (re)built at the end.
import { performance } from 'node:perf_hooks';
import { exclusively, type Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { KeyedQueue } from '../../platform/keyedQueue.js';
import type { Logger } from '../../platform/logger.js';
import type { Embedder } from '../embeddings/embedder.js';
import { embedTexts, modelName, sameModel, type EmbedderPool } from '../embeddings/embedderPool.js';
import { deleteFiles, loadChunks, loadFiles, writeFiles, type ChunkFields, type FileWrite, type StoredChunk, type StoredFile } from '../store/chunkStore.js';
import { adjustCounts, deleteCodeIndex, ensureCodeIndex, findCodeIndex, lockCodeIndex, refreshCounts, type CodeIndexRecord } from '../store/codeIndexes.js';
import { analyzeChunks, createVectorIndex, dropVectorIndex, vectorIndexExists } from '../store/vectors.js';
import { chunkRecords, decodeText, embeddingText, fileHash } from './chunkRecords.js';
import { detectLanguage, MAX_INDEXED_FILE_BYTES, shouldSkipFile } from './language.js';
import { resolveSource, type SourceFile, type SourceLimits, type SourceRequest } from './sourceFiles.js';

export interface IndexFilesRequest extends SourceRequest {
  projectId: string;
  sync?: boolean;
}

export interface IndexFilesResult {
  indexed_files: number;
  skipped_files: number;
  chunks_added: number;
  chunks_unchanged: number;
  chunks_removed: number;
  duration_ms: number;
  embedding_model: string;
}

export interface IndexerDeps {
  db: Database;
  embedders: EmbedderPool;
  logger: Logger;
  limits: SourceLimits;
  /** Called after planner statistics were refreshed (search caches token frequencies from them). */
  onAnalyzed?: () => void;
}

// A batch is written in one transaction: at most this many changed files or new chunks.
const BATCH_FILES = 200;
const BATCH_CHUNKS = 1000;
const READ_CONCURRENCY = 16;
// Adding at least this many chunks (and at least as many as the index holds) drops the project's
// HNSW index and builds it again at the end: on PGlite a build costs ~1 ms per vector, inserting
// into an existing graph ~5 ms.
const REBUILD_MIN_CHUNKS = 2000;

// Statistics are refreshed when a call changes this many chunks, or this share of the index.
const ANALYZE_MIN_CHANGES = 1000;
const ANALYZE_SHARE = 0.2;

interface ChangedFile {
  path: string;
  language: string;
  contentHash: string;
  sizeBytes: number;
  chunks: ChunkFields[];
  previous: StoredFile | undefined;
}

export class CodeIndexer {
  private readonly projects = new KeyedQueue();

  constructor(private readonly deps: IndexerDeps) {}

  async index(request: IndexFilesRequest): Promise<IndexFilesResult> {
    const started = performance.now();
    const source = await resolveSource(request, this.deps.limits);
    const embedder = await this.deps.embedders.configured();
    return this.writer(request.projectId, async () => {
      const existing = await findCodeIndex(this.deps.db, request.projectId);
      if (existing && !sameModel(embedder, existing)) throw modelConflict(existing, embedder);
      const run = new IndexRun(this.deps, embedder, request.projectId, existing);
      const counts = await run.execute(source.files, request.sync ? source.inScope : undefined);
      const result = { ...counts, duration_ms: Math.round(performance.now() - started), embedding_model: embedder.model };
      this.deps.logger.info({ project: request.projectId, ...result }, 'indexed');
      return result;
    });
  }

  /**
   * fn as the project's only index writer, in this process and across replicas sharing a server:
   * an index call reads what is stored, embeds, then writes batch by batch, and two calls
   * interleaving on stale reads would store a file's chunks twice (and race to build the HNSW index).
   */
  private writer<T>(projectId: string, fn: () => Promise<T>): Promise<T> {
    return this.projects.run(projectId, () => exclusively(this.deps.db, `memory:index:${projectId}`, fn));
  }

  /** Drop a project's index: the number of chunks removed; 404 when it has none. */
  async deleteIndex(projectId: string): Promise<number> {
    return this.writer(projectId, async () => {
      const deleted = await deleteCodeIndex(this.deps.db, projectId);
      if (deleted === undefined) throw new AppError('project_not_found', `project "${projectId}" has no index`);
      return deleted;
    });
  }
}

function modelConflict(recorded: CodeIndexRecord, configured: Embedder): AppError {
  return new AppError(
    'state_conflict',
    `project "${recorded.projectId}" is indexed with ${modelName(recorded)} but this service now embeds with ${modelName(configured)}; ` +
      `vectors of different models never mix, so a re-index is needed: DELETE /api/v1/index/${recorded.projectId}, then index it again ` +
      '(or configure the recorded model back with EMBEDDING_PROVIDER and EMBEDDING_MODEL)',
    {
      recorded: { provider: recorded.provider, model: recorded.model, dimension: recorded.dimension },
      configured: { provider: configured.provider, model: configured.model, dimension: configured.dimension },
    },
  );
}

/** The state of one index call. */
class IndexRun {
  private record: CodeIndexRecord | undefined;
  private stored = new Map<string, StoredFile>();
  private readonly seen = new Set<string>();
  /** Indexed files that are now skipped (grown huge, turned binary): their old chunks go. */
  private readonly nowSkipped: string[] = [];
  private pending: ChangedFile[] = [];
  private pendingChunks = 0;
  private rebuildAtEnd = false;
  private readonly counts = { indexed_files: 0, skipped_files: 0, chunks_added: 0, chunks_unchanged: 0, chunks_removed: 0 };

  constructor(
    private readonly deps: IndexerDeps,
    private readonly embedder: Embedder,
    private readonly projectId: string,
    existing: CodeIndexRecord | undefined,
  ) {
    this.record = existing;
  }

  async execute(files: SourceFile[], syncScope: ((path: string) => boolean) | undefined): Promise<typeof this.counts> {
    const { db } = this.deps;
    if (this.record) {
      this.stored = await loadFiles(db, this.record.id);
      // A first index (or one that was interrupted) builds its graph once, at the end.
      this.rebuildAtEnd = !(await vectorIndexExists(db, this.record.id));
    } else {
      this.rebuildAtEnd = true;
    }
    try {
      for (let start = 0; start < files.length; start += READ_CONCURRENCY) {
        const group = files.slice(start, start + READ_CONCURRENCY);
        const bodies = await Promise.all(group.map((file) => file.read(MAX_INDEXED_FILE_BYTES)));
        for (let i = 0; i < group.length; i++) await this.consider(group[i]!, bodies[i]);
      }
      await this.flush();
      const gone = syncScope ? [...this.stored.keys()].filter((path) => !this.seen.has(path) && syncScope(path)) : [];
      await this.remove([...this.nowSkipped, ...gone]);
      const record = this.record ?? (await ensureCodeIndex(db, this.projectId, this.embedder));
      this.record = await refreshCounts(db, record.id);
      await this.tidyUp();
    } catch (error) {
      // Whatever was written stays searchable: the graph is rebuilt before the error is answered.
      if (this.record && this.rebuildAtEnd) {
        await createVectorIndex(db, this.record.id, this.record.dimension).catch((rebuild: Error) =>
          this.deps.logger.error({ err: rebuild.message, project: this.projectId }, 'could not rebuild the HNSW index; the next index call will'),
        );
      }
      throw error;
    }
    if (this.record && this.rebuildAtEnd) await createVectorIndex(db, this.record.id, this.record.dimension);
    return this.counts;
  }

  private async consider(file: SourceFile, body: Awaited<ReturnType<SourceFile['read']>>): Promise<void> {
    if (!body) return; // vanished since it was listed: not seen, so `sync` removes it
    const { path } = file;
    this.seen.add(path);
    const previous = this.stored.get(path);
    if (body.content === undefined || shouldSkipFile(path, body.content, body.sizeBytes).skip) {
      this.counts.skipped_files++;
      if (previous) this.nowSkipped.push(path);
      return;
    }
    const language = file.language ?? detectLanguage(path) ?? 'text';
    const contentHash = fileHash(language, body.content);
    this.counts.indexed_files++;
    if (previous?.contentHash === contentHash) {
      this.counts.chunks_unchanged += previous.chunkCount;
      return;
    }
    const chunks = await chunkRecords(path, language, decodeText(body.content));
    this.pending.push({ path, language, contentHash, sizeBytes: body.sizeBytes, chunks, previous });
    this.pendingChunks += chunks.length;
    if (this.pending.length >= BATCH_FILES || this.pendingChunks >= BATCH_CHUNKS) await this.flush();
  }

  /** Write the pending files: keep chunks whose content is unchanged, embed only the new ones. */
  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const { db } = this.deps;
    const batch = this.pending;
    this.pending = [];
    this.pendingChunks = 0;
    // A new project's index row is written with its first batch, so a failed call leaves nothing.
    const existing = this.record;
    const stored = existing ? await loadChunks(db, existing.id, batch.filter((file) => file.previous).map((file) => file.path)) : new Map<string, StoredChunk[]>();
    const writes: FileWrite[] = [];
    const toEmbed: Array<{ write: FileWrite; chunk: ChunkFields }> = [];
    for (const file of batch) {
      const byHash = new Map<string, StoredChunk[]>();
      for (const old of stored.get(file.path) ?? []) byHash.set(old.contentHash, [...(byHash.get(old.contentHash) ?? []), old]);
      const write: FileWrite = { path: file.path, language: file.language, contentHash: file.contentHash, sizeBytes: file.sizeBytes, chunkCount: file.chunks.length, remove: [], move: [], insert: [] };
      for (const chunk of file.chunks) {
        const kept = byHash.get(chunk.contentHash)?.pop();
        if (!kept) {
          toEmbed.push({ write, chunk });
          continue;
        }
        this.counts.chunks_unchanged++;
        const moved = kept.startLine !== chunk.startLine || kept.endLine !== chunk.endLine || kept.symbol !== chunk.symbol || kept.kind !== chunk.kind || kept.language !== chunk.language;
        if (moved) write.move.push({ id: kept.id, chunk });
      }
      for (const left of byHash.values()) write.remove.push(...left.map((old) => old.id));
      this.counts.chunks_removed += write.remove.length;
      writes.push(write);
    }
    const vectors = toEmbed.length > 0 ? await embedTexts(this.embedder, toEmbed.map(({ chunk }) => embeddingText(chunk))) : [];
    if (vectors.length !== toEmbed.length || vectors.some((v) => v.length !== this.embedder.dimension)) {
      throw new AppError('dependency_unavailable', `the embedder ${modelName(this.embedder)} returned vectors of the wrong number or size`);
    }
    toEmbed.forEach(({ write, chunk }, i) => write.insert.push({ chunk, vector: vectors[i]! }));
    if (existing && !this.rebuildAtEnd && this.counts.chunks_added + toEmbed.length >= Math.max(REBUILD_MIN_CHUNKS, existing.chunkCount)) {
      await dropVectorIndex(db, existing.id);
      this.rebuildAtEnd = true;
    }
    this.record = await db.transaction(async (tx) => {
      const record = existing ?? (await ensureCodeIndex(tx, this.projectId, this.embedder));
      await lockCodeIndex(tx, record.id);
      await adjustCounts(tx, record.id, await writeFiles(tx, record.id, writes));
      return record;
    });
    this.counts.chunks_added += toEmbed.length;
    for (const file of batch) this.stored.set(file.path, { contentHash: file.contentHash, chunkCount: file.chunks.length });
  }

  /**
   * New chunks' full-text entries moved from the GIN pending list (fast to insert, scanned linearly
   * by every search, and it makes the planner shun the index) into the index proper; planner
   * statistics refreshed after a large change. Autovacuum does both in time (a server's; PGlite has
   * none), but searches right after an index call would plan without them.
   */
  private async tidyUp(): Promise<void> {
    const { db } = this.deps;
    if (this.counts.chunks_added > 0) {
      await db.query(`select gin_clean_pending_list('memory.chunks_search_idx'::regclass), gin_clean_pending_list('memory.chunks_symbol_search_idx'::regclass)`);
    }
    const changed = this.counts.chunks_added + this.counts.chunks_removed;
    if (changed === 0) return;
    if (changed < ANALYZE_MIN_CHANGES) {
      // Statistics are the table's, which every project shares: large is large against all its rows.
      const [table] = await db.query<{ rows: number }>(`select greatest(reltuples, 0)::float8 as rows from pg_class where oid = 'memory.chunks'::regclass`);
      if (changed < ANALYZE_SHARE * (table?.rows ?? 0)) return;
    }
    if (await analyzeChunks(db)) this.deps.onAnalyzed?.();
  }

  private async remove(paths: string[]): Promise<void> {
    if (paths.length === 0 || !this.record) return;
    const record = this.record;
    this.counts.chunks_removed += await this.deps.db.transaction(async (tx) => {
      await lockCodeIndex(tx, record.id);
      const change = await deleteFiles(tx, record.id, paths);
      await adjustCounts(tx, record.id, change);
      return -change.chunks;
    });
  }
}
