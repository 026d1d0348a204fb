// Owns memory.files and memory.chunks rows: what an index holds per file (content hash, chunk
// count, term count), the stored chunks of some files, and one batch's writes (files upserted,
// chunks removed, moved or inserted with their vectors in multi-row statements), each answering
// what it changed in the index's counts.
import type { Queryable } from '../../platform/database/database.js';
import { vectorParam } from './vectors.js';

export interface StoredFile {
  contentHash: string;
  chunkCount: number;
}

export interface StoredChunk {
  id: number;
  contentHash: string;
  startLine: number;
  endLine: number;
  symbol: string | null;
  kind: string;
  language: string;
}

/** A chunk's row without its id and vector. */
export interface ChunkFields {
  path: string;
  startLine: number;
  endLine: number;
  language: string;
  symbol: string | null;
  kind: string;
  content: string;
  contentHash: string;
  symbolTokens: string;
  pathTokens: string;
  contentTokens: string;
}

export interface FileWrite {
  path: string;
  language: string;
  contentHash: string;
  sizeBytes: number;
  chunkCount: number;
  /** Ids of stored chunks that are no longer in the file. */
  remove: number[];
  /** Stored chunks kept (same content) whose lines, symbol or kind moved. */
  move: Array<{ id: number; chunk: ChunkFields }>;
  insert: Array<{ chunk: ChunkFields; vector: Float32Array }>;
}

export async function loadFiles(q: Queryable, indexId: number): Promise<Map<string, StoredFile>> {
  const rows = await q.query<{ path: string; content_hash: string; chunk_count: number }>(
    `select path, content_hash, chunk_count from memory.files where index_id = $1`,
    [indexId],
  );
  return new Map(rows.map((row) => [row.path, { contentHash: row.content_hash, chunkCount: row.chunk_count }]));
}

export async function loadChunks(q: Queryable, indexId: number, paths: string[]): Promise<Map<string, StoredChunk[]>> {
  const out = new Map<string, StoredChunk[]>();
  if (paths.length === 0) return out;
  const rows = await q.query<{ id: string | number; path: string; content_hash: string; start_line: number; end_line: number; symbol: string | null; kind: string; language: string }>(
    `select id, path, content_hash, start_line, end_line, symbol, kind, language from memory.chunks where index_id = $1 and path = any($2::text[])`,
    [indexId, paths],
  );
  for (const row of rows) {
    const list = out.get(row.path) ?? [];
    list.push({ id: Number(row.id), contentHash: row.content_hash, startLine: row.start_line, endLine: row.end_line, symbol: row.symbol, kind: row.kind, language: row.language });
    out.set(row.path, list);
  }
  return out;
}

/** Rows per insert statement: 12 parameters each, well under PostgreSQL's 65,535. */
const INSERT_ROWS = 400;

/** How a write changed an index's files, chunks and summed term counts (what memory.indexes counts). */
export interface CountChange {
  files: number;
  chunks: number;
  terms: number;
}

/** One batch's writes, in the caller's transaction; what they changed in the index's counts. */
export async function writeFiles(tx: Queryable, indexId: number, files: FileWrite[]): Promise<CountChange> {
  if (files.length === 0) return { files: 0, chunks: 0, terms: 0 };
  const paths = files.map((f) => f.path);
  const [before] = await tx.query<{ files: number; terms: number }>(
    `select count(*)::int as files, coalesce(sum(term_count), 0)::float8 as terms from memory.files where index_id = $1 and path = any($2::text[])`,
    [indexId, paths],
  );
  await tx.query(
    `insert into memory.files (index_id, path, language, content_hash, size_bytes, chunk_count)
     select $1, * from unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[])
     on conflict (index_id, path) do update set language = excluded.language, content_hash = excluded.content_hash,
       size_bytes = excluded.size_bytes, chunk_count = excluded.chunk_count, indexed_at = now()`,
    [indexId, paths, files.map((f) => f.language), files.map((f) => f.contentHash), files.map((f) => f.sizeBytes), files.map((f) => f.chunkCount)],
  );
  const remove = files.flatMap((f) => f.remove);
  let removed = 0;
  if (remove.length > 0) {
    const [gone] = await tx.query<{ n: number }>(`with gone as (delete from memory.chunks where id = any($1::bigint[]) returning 1) select count(*)::int as n from gone`, [remove]);
    removed = gone?.n ?? 0;
  }
  const move = files.flatMap((f) => f.move);
  if (move.length > 0) {
    await tx.query(
      `update memory.chunks c set start_line = u.start_line, end_line = u.end_line, symbol = u.symbol, kind = u.kind,
         language = u.language, symbol_tokens = u.symbol_tokens
       from unnest($1::bigint[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[])
         as u(id, start_line, end_line, symbol, kind, language, symbol_tokens)
       where c.id = u.id`,
      [
        move.map((m) => m.id),
        move.map((m) => m.chunk.startLine),
        move.map((m) => m.chunk.endLine),
        move.map((m) => m.chunk.symbol),
        move.map((m) => m.chunk.kind),
        move.map((m) => m.chunk.language),
        move.map((m) => m.chunk.symbolTokens),
      ],
    );
  }
  const insert = files.flatMap((f) => f.insert);
  for (let start = 0; start < insert.length; start += INSERT_ROWS) {
    await insertChunks(tx, indexId, insert.slice(start, start + INSERT_ROWS));
  }
  // Each written file's term count: its chunks' distinct tokens (the length BM25 normalises by),
  // summed over its chunks as they now are; refreshCounts totals these for the index's average.
  const [after] = await tx.query<{ terms: number }>(
    `with written as (
       update memory.files f set term_count = coalesce(
         (select sum(length(c.search)) from memory.chunks c where c.index_id = f.index_id and c.path = f.path), 0)
       where f.index_id = $1 and f.path = any($2::text[]) returning f.term_count)
     select coalesce(sum(term_count), 0)::float8 as terms from written`,
    [indexId, paths],
  );
  return { files: files.length - (before?.files ?? 0), chunks: insert.length - removed, terms: (after?.terms ?? 0) - (before?.terms ?? 0) };
}

async function insertChunks(tx: Queryable, indexId: number, rows: FileWrite['insert']): Promise<void> {
  const params: unknown[] = [indexId];
  const tuples: string[] = [];
  for (const { chunk, vector } of rows) {
    const at = params.length;
    params.push(
      chunk.path, chunk.startLine, chunk.endLine, chunk.language, chunk.symbol, chunk.kind, chunk.content,
      chunk.contentHash, chunk.symbolTokens, chunk.pathTokens, chunk.contentTokens, vectorParam(vector),
    );
    const p = (i: number) => `$${at + i}`;
    tuples.push(`($1, ${p(1)}, ${p(2)}::int, ${p(3)}::int, ${p(4)}, ${p(5)}, ${p(6)}, ${p(7)}, ${p(8)}, ${p(9)}, ${p(10)}, ${p(11)}, ${p(12)}::vector)`);
  }
  await tx.query(
    `insert into memory.chunks (index_id, path, start_line, end_line, language, symbol, kind, content, content_hash,
       symbol_tokens, path_tokens, content_tokens, embedding) values ${tuples.join(', ')}`,
    params,
  );
}

/** Remove files (their chunks go with them); what that changed in the index's counts (negative). */
export async function deleteFiles(tx: Queryable, indexId: number, paths: string[]): Promise<CountChange> {
  if (paths.length === 0) return { files: 0, chunks: 0, terms: 0 };
  const [gone] = await tx.query<{ files: number; chunks: number; terms: number }>(
    `with gone as (delete from memory.files where index_id = $1 and path = any($2::text[]) returning chunk_count, term_count)
     select count(*)::int as files, coalesce(sum(chunk_count), 0)::int as chunks, coalesce(sum(term_count), 0)::float8 as terms from gone`,
    [indexId, paths],
  );
  return { files: -(gone?.files ?? 0), chunks: -(gone?.chunks ?? 0), terms: -(gone?.terms ?? 0) };
}
