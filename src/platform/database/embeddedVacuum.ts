// Owns what autovacuum does on a PostgreSQL server and PGlite does not have: reclaiming the dead
// rows that updates and deletes leave behind (job leases renewed every few seconds, memories merged,
// patterns re-counted, chunks replaced on re-index, the health probe's rolled-back insert), and
// refreshing the planner's statistics. Without it an embedded database that runs for weeks grows.
//
// The rule is autovacuum's own, with its default settings: a table is vacuumed when its dead rows
// exceed 50 + 20% of its rows, or the rows inserted since its last vacuum 1000 + 20% (which keeps
// the visibility map that index-only scans rely on current), and analysed when the rows changed
// since the last analyse exceed 50 + 10%. Its rows are the planner's count, which survives a
// restart; the statistics counters start from zero when the database is opened, so dead rows left
// before a restart wait for new ones to make the table due. Checked on an interval for one schema
// (each service its own); statements run on the single embedded connection, so a due vacuum
// delays the others while it runs (milliseconds for the queue's tables).
// A server database is left to its own autovacuum.
import type { Database } from './database.js';
import type { Logger } from '../logger.js';

const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE_FACTOR = 0.2;
const VACUUM_INSERT_THRESHOLD = 1000;
const VACUUM_INSERT_SCALE_FACTOR = 0.2;
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE_FACTOR = 0.1;
/** How often the tables are checked. */
export const DEFAULT_VACUUM_CHECK_MS = 60_000;

export interface MaintainedTable {
  table: string;
  action: 'vacuum analyze' | 'vacuum analyze, heap only' | 'analyze';
}

interface TableStats {
  relname: string;
  /** The planner's row count (kept across restarts, unlike the statistics counters), or the live count when never analysed. */
  rows: number;
  n_dead_tup: string | number;
  n_mod_since_analyze: string | number;
  n_ins_since_vacuum: string | number;
  /** The table has an HNSW index. */
  hnsw: boolean;
}

/** Schema names are ours; quoting keeps an odd one from becoming SQL. */
function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The statement for a due table. An HNSW index is cleaned only once as many rows are dead as live:
 * pgvector repairs the graph around every dead entry by walking all of it (on the 100k-chunk index,
 * 100 s after 10k deletions, during which the single embedded connection answers nothing). Until
 * then the heap pass alone (0.2 s) frees the dead rows' data; it skips every index, so their index
 * entries and line pointers stay, and searches step over them (iterative scans).
 */
function maintenanceStatement(table: string, stats: TableStats, deadLeft: number): { sql: string; action: MaintainedTable['action'] } | undefined {
  const rows = Math.max(0, stats.rows);
  const vacuum =
    Number(stats.n_dead_tup) - deadLeft > VACUUM_THRESHOLD + VACUUM_SCALE_FACTOR * rows ||
    Number(stats.n_ins_since_vacuum) > VACUUM_INSERT_THRESHOLD + VACUUM_INSERT_SCALE_FACTOR * rows;
  if (vacuum && stats.hnsw) {
    // Once as many rows are dead as live, the whole walk is worth it: paid once per turnover of the
    // table, it stays proportional to the deletions, and the dead entries stop piling up.
    if (Number(stats.n_dead_tup) > VACUUM_THRESHOLD + rows) return { sql: `vacuum analyze ${table}`, action: 'vacuum analyze' };
    return { sql: `vacuum (analyze, index_cleanup off) ${table}`, action: 'vacuum analyze, heap only' };
  }
  if (vacuum) return { sql: `vacuum analyze ${table}`, action: 'vacuum analyze' };
  if (Number(stats.n_mod_since_analyze) > ANALYZE_THRESHOLD + ANALYZE_SCALE_FACTOR * rows) return { sql: `analyze ${table}`, action: 'analyze' };
  return undefined;
}

/**
 * Dead rows a heap-only pass leaves counted (their index entries remain), by table: not counted
 * again, or the table would be due at every check. Per database handle; the counters and this
 * start from zero together when the database is opened.
 */
const deadLeftBehind = new WeakMap<Database, Map<string, number>>();

async function deadRows(db: Database, schema: string, table: string): Promise<number> {
  await db.query(`select pg_stat_force_next_flush()`);
  const [row] = await db.query<{ n: number }>(`select n_dead_tup::float8 as n from pg_stat_user_tables where schemaname = $1 and relname = $2`, [schema, table]);
  return row?.n ?? 0;
}

/** Vacuums (and analyses) the schema's tables that autovacuum's thresholds say are due; what it did. */
export async function maintainDueTables(db: Database, schema: string): Promise<MaintainedTable[]> {
  const left = deadLeftBehind.get(db) ?? new Map<string, number>();
  deadLeftBehind.set(db, left);
  // Counters reach the statistics views only when a backend flushes them; force it, so the check
  // sees this connection's own changes (the next statement runs after the flush).
  await db.query(`select pg_stat_force_next_flush()`);
  const tables = await db.query<TableStats>(
    `select s.relname, greatest(c.reltuples, s.n_live_tup)::float8 as rows, s.n_dead_tup, s.n_mod_since_analyze, s.n_ins_since_vacuum,
            exists (select 1 from pg_index i join pg_class ic on ic.oid = i.indexrelid join pg_am am on am.oid = ic.relam
                     where i.indrelid = s.relid and am.amname = 'hnsw') as hnsw
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.schemaname = $1 order by s.relname`,
    [schema],
  );
  const done: MaintainedTable[] = [];
  for (const stats of tables) {
    const table = `${quoteIdent(schema)}.${quoteIdent(stats.relname)}`;
    const due = maintenanceStatement(table, stats, left.get(table) ?? 0);
    if (!due) continue;
    await db.exec(due.sql);
    if (stats.hnsw) left.set(table, await deadRows(db, schema, stats.relname));
    else left.delete(table);
    done.push({ table: `${schema}.${stats.relname}`, action: due.action });
  }
  return done;
}

/**
 * On the embedded database, checks the schema's tables on an interval; returns the stop function
 * (a no-op on a server), which waits for a check under way, so that none runs on a closed
 * database. Failures are logged and the next check tries again.
 */
export function startEmbeddedVacuum(db: Database, schema: string, logger: Logger, intervalMs = DEFAULT_VACUUM_CHECK_MS): () => Promise<void> {
  if (db.kind !== 'pglite') return async () => undefined;
  let pass: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (pass) return;
    pass = maintainDueTables(db, schema)
      .then((done) => {
        if (done.length > 0) logger.debug({ tables: done }, 'embedded database maintenance');
      })
      .catch((error: Error) => logger.warn({ err: error.message, schema }, 'embedded database maintenance failed'))
      .finally(() => {
        pass = undefined;
      });
  }, intervalMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await pass;
  };
}
