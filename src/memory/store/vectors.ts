// Owns how embeddings meet PostgreSQL: vectors travel in pgvector's binary format (a Uint8Array
// parameter goes binary over both database drivers; parsing 384 floats from text costs more than
// the rest of an insert), and the names and DDL of each project's HNSW index, built only from integers.
import type { Queryable } from '../../platform/database/database.js';

/** pgvector's binary input (vector_recv): int16 dimension, int16 zero, then big-endian float4s. */
export function vectorParam(vector: Float32Array): Uint8Array {
  const bytes = new Uint8Array(4 + 4 * vector.length);
  const view = new DataView(bytes.buffer);
  view.setInt16(0, vector.length);
  view.setInt16(2, 0);
  for (let i = 0; i < vector.length; i++) view.setFloat32(4 + 4 * i, vector[i] ?? 0);
  return bytes;
}

/** Integers that are interpolated into SQL (index names, the partial index's predicate, casts). */
export function sqlInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${what} must be a positive integer, not ${value}`);
  return value;
}

/** The HNSW index of one project's chunks. */
export function vectorIndexName(indexId: number): string {
  return `chunks_embedding_${sqlInteger(indexId, 'index id')}`;
}

/**
 * The expression both the index and every query use; the query must repeat it (and the predicate
 * `index_id = <id>`) literally for the planner to pick the partial index.
 */
export function embeddingExpression(dimension: number): string {
  return `embedding::vector(${sqlInteger(dimension, 'dimension')})`;
}

export async function vectorIndexExists(q: Queryable, indexId: number): Promise<boolean> {
  const rows = await q.query<{ found: string | null }>(`select to_regclass($1)::text as found`, [`memory.${vectorIndexName(indexId)}`]);
  return rows[0]?.found != null;
}

// HNSW build parameters: m 16 (pgvector's default) and ef_construction 128 (twice the default).
// Recall@10 against exact search at 100k chunks (hash embedder, ef_search 400) varies from build to
// build, levels being drawn at random. bench/memoryScale.ts: ef_construction 64 measured 0.941-0.956,
// at the goal's 0.95 only by luck; 128 measured 0.955-0.970 over five builds (0.963-0.974 on another
// 100 queries, where 64 gave 0.947-0.951), for a build ~1.6x as long (100k vectors: 89-104 s against
// 58 s; the first index of 100k chunks ~25% slower). ef_construction 40 held recall to 0.82-0.87.
const HNSW_M = 16;
const HNSW_EF_CONSTRUCTION = 128;
// The build keeps the graph in memory when it fits (~2 kB per 384-d vector), which is far faster
// than spilling to disk; the setting lasts for the building transaction only.
const BUILD_MEMORY = '256MB';

export async function createVectorIndex(
  db: { transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> },
  indexId: number,
  dimension: number,
): Promise<void> {
  const name = vectorIndexName(indexId);
  await db.transaction(async (tx) => {
    await tx.query(`select set_config('maintenance_work_mem', $1, true)`, [BUILD_MEMORY]);
    await tx.exec(
      `create index if not exists ${name} on memory.chunks using hnsw ((${embeddingExpression(dimension)}) vector_cosine_ops) ` +
        `with (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) where index_id = ${sqlInteger(indexId, 'index id')}`,
    );
  });
}

export async function dropVectorIndex(q: Queryable, indexId: number): Promise<void> {
  await q.exec(`drop index if exists memory.${vectorIndexName(indexId)}`);
}
