// Owns how embeddings meet PostgreSQL: vectors travel in pgvector's binary format (a Uint8Array
// parameter goes binary over both database drivers; parsing 384 floats from text costs more than
// the rest of an insert), and the names and DDL of each project's HNSW index, built only from integers.
import { takeNamedLock, type Database, type Queryable } from '../../platform/database/database.js';

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

/**
 * Whether the project's HNSW index is there and usable. A concurrent build that died (the replica
 * killed, the statement cancelled) leaves an invalid index behind, which the planner ignores: that
 * counts as none, and the next build replaces it.
 */
export async function vectorIndexExists(q: Queryable, indexId: number): Promise<boolean> {
  return (await vectorIndexState(q, indexId)) === 'valid';
}

async function vectorIndexState(q: Queryable, indexId: number): Promise<'valid' | 'invalid' | 'none'> {
  const [row] = await q.query<{ valid: boolean }>(`select indisvalid as valid from pg_index where indexrelid = to_regclass($1)`, [`memory.${vectorIndexName(indexId)}`]);
  return row ? (row.valid ? 'valid' : 'invalid') : 'none';
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
// than spilling to disk; the setting lasts for the building transaction (PGlite) or the building
// connection (a server) only.
const BUILD_MEMORY = '256MB';
/** The named lock HNSW builds and drops take on a server (see createVectorIndex). */
const DDL_LOCK = 'memory:hnsw-ddl';

type ServerSession = NonNullable<Database['session']>;

/** The server's sessions of their own connection; undefined on PGlite (one connection, DDL in transactions). */
function serverSession(db: Database): ServerSession | undefined {
  return db.kind === 'postgres' && db.session ? db.session.bind(db) : undefined;
}

/**
 * fn on a server connection of its own that first holds DDL_LOCK (waited for, or with `ifFree`
 * not: then fn does not run). The lock is held by the very connection that runs the DDL, so it
 * lasts exactly as long as that backend's work, whatever happens to any other connection.
 */
async function underDdlLock(session: ServerSession, fn: (q: Queryable) => Promise<void>, ifFree = false): Promise<boolean> {
  return session(async (q) => {
    if (!(await takeNamedLock(q, DDL_LOCK, { wait: !ifFree }))) return false;
    await fn(q);
    return true;
  });
}

/**
 * Builds the project's HNSW index. On a PostgreSQL server concurrently: a plain build holds a lock
 * on the chunks table that every project shares, and blocks every other project's index writes
 * for as long as it runs (100k chunks: over a minute). A leftover invalid index (a concurrent
 * build or drop that died) is dropped first; until then the planner ignores it, though writes of
 * that project still maintain it. On PGlite, one connection, in a transaction.
 *
 * Builds and drops run one at a time across replicas (DDL_LOCK): two concurrent builds on one
 * table wait for each other's snapshots and end in a deadlock.
 */
export async function createVectorIndex(db: Database, indexId: number, dimension: number): Promise<void> {
  const name = vectorIndexName(indexId);
  const definition =
    `${name} on memory.chunks using hnsw ((${embeddingExpression(dimension)}) vector_cosine_ops) ` +
    `with (m = ${HNSW_M}, ef_construction = ${HNSW_EF_CONSTRUCTION}) where index_id = ${sqlInteger(indexId, 'index id')}`;
  const session = serverSession(db);
  if (session) {
    await underDdlLock(session, async (q) => {
      if ((await vectorIndexState(q, indexId)) === 'invalid') await q.exec(`drop index concurrently if exists memory.${name}`);
      await q.query(`select set_config('maintenance_work_mem', $1, false)`, [BUILD_MEMORY]);
      await q.exec(`create index concurrently if not exists ${definition}`);
    });
    return;
  }
  await db.transaction(async (tx) => {
    await tx.query(`select set_config('maintenance_work_mem', $1, true)`, [BUILD_MEMORY]);
    await tx.exec(`create index if not exists ${definition}`);
  });
}

/**
 * Refreshes the planner's statistics of the files and chunks tables; false when it did not. On a
 * server only when no HNSW build or drop runs: ANALYZE and a concurrent build exclude each other,
 * and an index call should not wait minutes for another project's build (the server's autovacuum
 * analyzes the tables soon enough).
 */
export async function analyzeChunks(db: Database): Promise<boolean> {
  const sql = 'analyze memory.files; analyze memory.chunks';
  const session = serverSession(db);
  if (session) return underDdlLock(session, (q) => q.exec(sql), true);
  await db.exec(sql);
  return true;
}

/**
 * Drops the project's HNSW index: on a server concurrently (a plain drop locks the shared chunks
 * table against every search until the dropping transaction ends), so never inside a transaction;
 * on PGlite with `inTransaction`, as part of it.
 */
export async function dropVectorIndex(db: Database, indexId: number, inTransaction?: Queryable): Promise<void> {
  const name = `memory.${vectorIndexName(indexId)}`;
  const session = serverSession(db);
  if (session) {
    await underDdlLock(session, (q) => q.exec(`drop index concurrently if exists ${name}`));
    return;
  }
  await (inTransaction ?? db).exec(`drop index if exists ${name}`);
}
