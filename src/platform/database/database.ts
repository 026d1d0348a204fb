// What both services know of their database: parameterised queries, transactions, and
// LISTEN/NOTIFY, the same over embedded PGlite and a PostgreSQL server.
// Why no query builder: kysely's PGlite dialect does not support pglite 0.5, and the queries that
// matter (the queue claim) are hand-written SQL either way, as in graphile-worker.
import { setTimeout as sleep } from 'node:timers/promises';

export interface QueryOptions {
  /**
   * A statement run often whose best plan does not depend on its parameters (the queue claim, a
   * row by its key): on the embedded database it is prepared once and its plan reused, where
   * planning would otherwise cost more than running it (PGlite plans in WASM: ~2 ms for the
   * claim). Leave unset for statements whose plan should follow the values, e.g. optional
   * filters written as `($2 is null or col = $2)`, which a reused plan cannot simplify.
   */
  reusePlan?: boolean;
}

export interface Queryable {
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[], options?: QueryOptions): Promise<Row[]>;
  /** Run a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Run fn in one transaction; rolled back if fn throws. Retried on serialization failures. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Run fn while holding the lock named `key`, which no other holder, in this process or in another
   * replica on the same server, holds at the same time (fn's statements run as usual, not in a
   * transaction of the lock's). For work that spans several transactions, e.g. indexing one project.
   * Both databases have it; optional for wrappers (benchmarks' profilers), which get `exclusively`'s
   * fallback: fn alone, serialised by nothing.
   */
  exclusive?<T>(key: string, fn: () => Promise<T>): Promise<T>;
  /**
   * A PostgreSQL server's only: fn's statements on one connection of their own, outside any
   * transaction, and the connection closed after (session settings and locks never reach other
   * work). For what a transaction cannot hold: CREATE and DROP INDEX CONCURRENTLY.
   */
  session?<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribe to a NOTIFY channel; returns the unsubscribe function. `onGap` runs when notifications
   * may have been missed (a server's listening connection was lost and listens again): look again
   * at what they would have announced. The embedded database never misses one.
   */
  listen(channel: string, onNotify: (payload: string) => void, onGap?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

/** SQLSTATEs worth retrying a whole transaction for (graphile-worker's table). */
const RETRYABLE_SQLSTATES = new Set(['40001', '40P01', '57P03', '08006', '08003', '08000']);

export function isRetryableDatabaseError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && RETRYABLE_SQLSTATES.has(code);
}

export async function withTransactionRetry<T>(attempt: () => Promise<T>, tries = 5): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= tries || !isRetryableDatabaseError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * 2 ** i + Math.random() * 10));
    }
  }
}

/**
 * The database failed for a reason outside the request (the server unreachable or restarting, the
 * statement cancelled by an operator, out of resources, a deadlock left after the retries): worth
 * answering 503 and trying again, not a 500 that reads as a bug.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return isConnectionLost(error) || (typeof code === 'string' && BUSY_SQLSTATES.test(code));
}

/**
 * The connection to the database was lost or could not be made (not a busy server's refusal, such
 * as a deadlock or too many connections): this replica was cut off from it.
 */
export function isConnectionLost(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  // pg reports a connection that could not be made or was cut with the socket's error code.
  if (typeof code === 'string' && (CONNECTION_SQLSTATES.test(code) || CONNECTION_SOCKET_ERRORS.has(code))) return true;
  return typeof message === 'string' && /^Connection terminated|^Client has encountered a connection error/.test(message);
}

/**
 * fn, tried again while the database is unavailable (isDatabaseUnavailable: a server restarting,
 * unreachable for a moment), pausing 0.25 s and doubling to 5 s, for up to `forMs`; any other error,
 * or the last one once the time is up or `signal` aborts, is thrown. For background work that must
 * not be lost to a database restart (a finished job's outcome), never for requests, which answer
 * 503 at once. fn must be safe to run again after a failure (a transaction, or one statement).
 */
export async function retryWhileDatabaseUnavailable<T>(
  fn: () => Promise<T>,
  options: { forMs: number; signal?: AbortSignal; onRetry?: (error: Error, pauseMs: number) => void },
): Promise<T> {
  const deadline = Date.now() + options.forMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 5_000)) {
    try {
      return await fn();
    } catch (error) {
      if (!isDatabaseUnavailable(error) || options.signal?.aborted || Date.now() + pause > deadline) throw error;
      options.onRetry?.(error as Error, pause);
      // A stop ends the pause at once, with the error it was waiting out.
      await sleep(pause, undefined, { signal: options.signal }).catch(() => {
        throw error;
      });
    }
  }
}

/** Connection exceptions (not 08P01, a protocol violation: a bug), and the server shutting down or starting. */
const CONNECTION_SQLSTATES = /^(0800[0-467]|57P0[1-3])$/;
const CONNECTION_SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
/** A busy server's refusals: insufficient resources, operator intervention, and the transaction rollbacks left after the retries. */
const BUSY_SQLSTATES = /^(53|57|40001$|40P01$)/;

/**
 * The database refused what it was asked to store or do (a value it cannot keep, a constraint, a
 * trigger's exception): an error with a SQLSTATE that is not one of unavailability. SQLSTATEs are
 * five characters with a digit among them; Node's own error codes (EPIPE) have none.
 */
export function isDatabaseRefusal(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /[0-9]/.test(code) && !isDatabaseUnavailable(error);
}

/** Channel names are SQL identifiers we choose; keep them to a safe alphabet. */
export function assertChannelName(channel: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name ${channel}`);
}

/**
 * A PostgreSQL server's named lock (the one `exclusive` holds), taken by the connection `q` for the
 * rest of its session: false when `wait` is off and another session holds it. Waited for by trying
 * again, never by blocking in pg_advisory_lock: a statement blocked on a lock keeps its snapshot,
 * and CREATE INDEX CONCURRENTLY (which the holder may be running) waits for every older snapshot
 * to end. The holder would wait for the waiter that waits for it, through this process: a deadlock
 * the server cannot see.
 */
export async function takeNamedLock(q: Queryable, key: string, options: { wait: boolean }): Promise<boolean> {
  for (let pause = 5; ; pause = Math.min(pause * 2, 200)) {
    const [row] = await q.query<{ held: boolean }>(`select pg_try_advisory_lock(hashtext('autobuild:exclusive'), hashtext($1)) as held`, [key]);
    if (row?.held) return true;
    if (!options.wait) return false;
    await sleep(pause);
  }
}

/** fn under the database's lock named `key` (see Database.exclusive). */
export function exclusively<T>(db: Database, key: string, fn: () => Promise<T>): Promise<T> {
  return db.exclusive ? db.exclusive(key, fn) : fn();
}
