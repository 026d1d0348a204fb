// A PostgreSQL server through a pg pool. LISTEN uses one dedicated connection that reconnects.
import pg from 'pg';
import type { Logger } from '../logger.js';
import { assertChannelName, takeNamedLock, withTransactionRetry, type Database, type Queryable } from './database.js';

export async function openPostgres(connectionString: string, logger: Logger, poolSize = 10): Promise<Database> {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  // An idle client's error (server restart) must not crash the process.
  pool.on('error', (error) => logger.warn({ err: error.message }, 'database pool client error'));
  await pool.query('select 1');

  const listeners = new Map<string, Set<(payload: string) => void>>();
  /** Per channel, what to run when its notifications may have been missed (see Database.listen). */
  const gapHandlers = new Map<string, Set<() => void>>();
  let listenClient: pg.Client | undefined;
  let connecting: Promise<pg.Client> | undefined;
  /** The listening connection was lost: notifications sent meanwhile never arrived. */
  let lost = false;
  let closed = false;

  async function connectListener(): Promise<pg.Client> {
    const client = new pg.Client({ connectionString });
    client.on('notification', (message) => {
      for (const handler of listeners.get(message.channel) ?? []) handler(message.payload ?? '');
    });
    const onLost = (error?: Error) => {
      // One that never got going (its caller sees why), one already handled, or closed on purpose.
      if (listenClient !== client || closed) return;
      logger.warn({ err: error?.message ?? 'the connection ended' }, 'LISTEN connection lost; reconnecting');
      listenClient = undefined;
      lost = true;
      void client.end().catch(() => undefined);
      reconnect(1000);
    };
    client.on('error', onLost);
    client.on('end', () => onLost());
    try {
      await client.connect();
      for (const channel of listeners.keys()) await client.query(`LISTEN ${channel}`);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    if (closed) {
      await client.end().catch(() => undefined);
      throw new Error('the database was closed');
    }
    listenClient = client;
    if (lost) {
      lost = false;
      logger.info('LISTEN connection back');
      for (const handlers of gapHandlers.values()) {
        for (const onGap of handlers) {
          try {
            onGap();
          } catch (error) {
            logger.error({ err: (error as Error).message }, 'a listener failed to catch up');
          }
        }
      }
    }
    return client;
  }

  /** Listen again after pauseMs, and keep trying (up to 5 s apart) for as long as the server is away. */
  function reconnect(pauseMs: number): void {
    if (closed) return;
    setTimeout(() => {
      if (closed || listenClient) return;
      ensureListener().catch((error: Error) => {
        logger.warn({ err: error.message }, 'LISTEN connection not back yet; trying again');
        reconnect(Math.min(pauseMs * 2, 5_000));
      });
    }, pauseMs).unref();
  }

  function ensureListener(): Promise<pg.Client> {
    if (listenClient) return Promise.resolve(listenClient);
    connecting ??= connectListener().finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /** fn's statements on a connection of its own, outside the pool and any transaction; ended after. */
  async function ownConnection<T>(purpose: string, fn: (q: Queryable) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString });
    client.on('error', (error) => logger.warn({ err: error.message }, `the connection ${purpose} was lost`));
    await client.connect();
    try {
      return await fn(on(client));
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const root: Queryable = {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, params as unknown[]);
      return result.rows as Row[];
    },
    async exec(sql: string) {
      await pool.query(sql);
    },
  };

  return {
    kind: 'postgres',
    query: root.query,
    exec: root.exec,
    transaction<T>(fn: (tx: Queryable) => Promise<T>) {
      return withTransactionRetry(async () => {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(on(client));
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      });
    },
    exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
      // A session-level advisory lock on a connection of its own, outside the pool: a lock held for
      // minutes never takes a connection fn's statements need. The server releases it when the
      // session ends, also when this process dies (kill -9).
      return ownConnection(`holding the lock ${key}`, async (q) => {
        await takeNamedLock(q, key, { wait: true });
        return fn();
      });
    },
    session: <T>(fn: (q: Queryable) => Promise<T>) => ownConnection('a session', fn),
    async listen(channel, onNotify, onGap) {
      assertChannelName(channel);
      let handlers = listeners.get(channel);
      const first = !handlers;
      if (!handlers) listeners.set(channel, (handlers = new Set()));
      handlers.add(onNotify);
      let gaps = gapHandlers.get(channel);
      if (!gaps) gapHandlers.set(channel, (gaps = new Set()));
      if (onGap) gaps.add(onGap);
      const unsubscribe = async () => {
        handlers.delete(onNotify);
        if (onGap) gaps.delete(onGap);
      };
      try {
        const client = await ensureListener();
        if (first) await client.query(`LISTEN ${channel}`);
      } catch (error) {
        await unsubscribe();
        // Not listening on it after all: the next subscriber's LISTEN must be sent.
        if (first && handlers.size === 0) listeners.delete(channel);
        throw error;
      }
      return unsubscribe;
    },
    async close() {
      closed = true;
      const listening = listenClient;
      listenClient = undefined;
      await listening?.end().catch(() => undefined);
      await connecting?.catch(() => undefined);
      await pool.end();
    },
  };
}

/** Statements on one connection. */
function on(client: pg.ClientBase): Queryable {
  return {
    async query<Row>(sql: string, params: readonly unknown[] = []) {
      return (await client.query(sql, params as unknown[])).rows as Row[];
    },
    async exec(sql: string) {
      await client.query(sql);
    },
  };
}
