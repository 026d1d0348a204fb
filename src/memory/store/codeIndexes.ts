// Owns memory.indexes: one row per project's code index, recording the embedder it was built with
// (provider, model, dimension) and its counts; deleting a row drops the project's files, chunks and
// HNSW index.
import type { Database, Queryable } from '../../platform/database/database.js';
import { dropVectorIndex } from './vectors.js';

export interface CodeIndexRecord {
  id: number;
  projectId: string;
  provider: string;
  model: string;
  dimension: number;
  fileCount: number;
  chunkCount: number;
  /** Its chunks' distinct code tokens, summed over chunks (BM25's average chunk length is this over chunkCount). */
  termCount: number;
}

export interface EmbedderIdentity {
  provider: string;
  model: string;
  dimension: number;
}

interface IndexRow {
  id: number;
  project_id: string;
  provider: string;
  model: string;
  dimension: number;
  file_count: number;
  chunk_count: number;
  term_count: string | number;
}

const COLUMNS = 'id, project_id, provider, model, dimension, file_count, chunk_count, term_count';

function toRecord(row: IndexRow): CodeIndexRecord {
  return {
    id: row.id,
    projectId: row.project_id,
    provider: row.provider,
    model: row.model,
    dimension: row.dimension,
    fileCount: row.file_count,
    chunkCount: row.chunk_count,
    termCount: Number(row.term_count),
  };
}

export async function findCodeIndex(q: Queryable, projectId: string): Promise<CodeIndexRecord | undefined> {
  // Every search starts here; the plan (a unique key) never changes, so it is prepared once.
  const [row] = await q.query<IndexRow>(`select ${COLUMNS} from memory.indexes where project_id = $1`, [projectId], { reusePlan: true });
  return row ? toRecord(row) : undefined;
}

/**
 * The project's index row as a column of another statement (JSON text; `projectParam` names the
 * parameter holding the project id): search reads it in the statement that starts its work, to
 * check the record it began with.
 */
export function codeIndexColumn(projectParam: string): string {
  const fields = COLUMNS.split(', ')
    .map((column) => `'${column}', ${column}`)
    .join(', ');
  return `(select json_build_object(${fields})::text from memory.indexes where project_id = ${projectParam}) as code_index`;
}

/** codeIndexColumn's value as a record; undefined when the project has no index. */
export function parseCodeIndexColumn(text: string | null | undefined): CodeIndexRecord | undefined {
  return text ? toRecord(JSON.parse(text) as IndexRow) : undefined;
}

/** The project's index, created with this embedder when it has none. */
export async function ensureCodeIndex(q: Queryable, projectId: string, embedder: EmbedderIdentity): Promise<CodeIndexRecord> {
  await q.query(
    `insert into memory.indexes (project_id, provider, model, dimension) values ($1, $2, $3, $4) on conflict (project_id) do nothing`,
    [projectId, embedder.provider, embedder.model, embedder.dimension],
  );
  const record = await findCodeIndex(q, projectId);
  if (!record) throw new Error(`index of project ${projectId} vanished while being created`);
  return record;
}

/**
 * Recount files and chunks (index-only scans of the project's rows), and total the chunks' term
 * counts from the files' sums (a few thousand small rows, where summing the chunks would read and
 * decompress every full-text vector).
 */
export async function refreshCounts(q: Queryable, indexId: number): Promise<CodeIndexRecord> {
  const [row] = await q.query<IndexRow>(
    `update memory.indexes set
       file_count = (select count(*) from memory.files where index_id = $1),
       chunk_count = (select count(*) from memory.chunks where index_id = $1),
       term_count = (select coalesce(sum(term_count), 0) from memory.files where index_id = $1),
       updated_at = now()
     where id = $1 returning ${COLUMNS}`,
    [indexId],
  );
  if (!row) throw new Error(`index ${indexId} vanished`);
  return toRecord(row);
}

/**
 * Moves the index's counts by what a batch changed, in the batch's transaction: the counts search
 * reads (BM25's documents and average length, an empty index) are always those of the rows
 * committed, also when an index call dies half way (kill -9) or while one runs.
 */
export async function adjustCounts(tx: Queryable, indexId: number, change: { files: number; chunks: number; terms: number }): Promise<void> {
  if (change.files === 0 && change.chunks === 0 && change.terms === 0) return;
  await tx.query(
    `update memory.indexes set file_count = file_count + $2, chunk_count = chunk_count + $3, term_count = term_count + $4, updated_at = now() where id = $1`,
    [indexId, change.files, change.chunks, Math.round(change.terms)],
  );
}

/** Drop a project's index; the number of chunks it held, or undefined when it had none. */
export async function deleteCodeIndex(db: Database, projectId: string): Promise<number | undefined> {
  // On a server the HNSW index is dropped first, concurrently (dropVectorIndex): that cannot run in
  // the transaction, and would wait for it. Until the rows go, the project's search scans exactly.
  if (db.kind === 'postgres') {
    const [known] = await db.query<{ id: number }>(`select id from memory.indexes where project_id = $1`, [projectId]);
    if (known) await dropVectorIndex(db, known.id);
  }
  return db.transaction(async (tx) => {
    const [row] = await tx.query<{ id: number }>(`select id from memory.indexes where project_id = $1 for update`, [projectId]);
    if (!row) return undefined;
    const [count] = await tx.query<{ n: number }>(`select count(*)::int as n from memory.chunks where index_id = $1`, [row.id]);
    if (db.kind !== 'postgres') await dropVectorIndex(db, row.id, tx);
    await tx.query(`delete from memory.indexes where id = $1`, [row.id]);
    return count?.n ?? 0;
  });
}

/** Serialises writers of one index across replicas, for the rest of the transaction. */
export async function lockCodeIndex(tx: Queryable, indexId: number): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('autobuild:memory:index'), $1)`, [indexId]);
}
