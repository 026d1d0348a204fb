import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PgCluster, pgClusterSkipReason, postgresBinDir, requirePg, startPgCluster } from './pgCluster.js';

const reason = pgClusterSkipReason();
// Under CI a missing PostgreSQL fails the tests (startPgCluster throws the reason) instead of skipping.
const skip = reason !== undefined && !requirePg;
if (skip) console.warn(`skipping pgCluster tests: ${reason}`);

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe.skipIf(skip)('throwaway PostgreSQL cluster', () => {
  let cluster: PgCluster | undefined;

  beforeAll(async () => {
    cluster = await startPgCluster();
  });

  afterAll(async () => {
    await cluster?.stop();
  });

  const get = (): PgCluster => {
    if (!cluster) throw new Error('cluster did not start');
    return cluster;
  };

  it('finds a PostgreSQL 15+ bin dir', () => {
    expect(postgresBinDir()).toBeTypeOf('string');
  });

  it('listens on 127.0.0.1 at the reported port and answers select 1', async () => {
    const c = get();
    expect(c.url).toBe(`postgresql://postgres@127.0.0.1:${c.port}/postgres`);
    const rows = await withClient(c.url, async (client) => (await client.query('select 1 as one')).rows);
    expect(rows).toEqual([{ one: 1 }]);
    const settings = await withClient(c.url, async (client) => {
      const r = await client.query<{ name: string; setting: string }>(
        "select name, setting from pg_settings where name in ('max_connections', 'fsync', 'listen_addresses', 'server_encoding')",
      );
      return Object.fromEntries(r.rows.map((row) => [row.name, row.setting]));
    });
    expect(settings).toEqual({
      max_connections: '200',
      fsync: 'off',
      listen_addresses: '127.0.0.1',
      server_encoding: 'UTF8',
    });
  });

  it('creates a fresh database and returns its URL', async () => {
    const c = get();
    const url = await c.createDatabase('pgcluster_test_db');
    expect(url).toBe(`postgresql://postgres@127.0.0.1:${c.port}/pgcluster_test_db`);
    const row = await withClient(url, async (client) => {
      await client.query('create table t (id int primary key)');
      await client.query('insert into t values (1), (2)');
      return (await client.query<{ db: string; n: string }>('select current_database() as db, count(*) as n from t'))
        .rows[0];
    });
    expect(row).toEqual({ db: 'pgcluster_test_db', n: '2' });
  });

  it('rejects invalid database names', async () => {
    const c = get();
    await expect(c.createDatabase('Bad-Name')).rejects.toThrow(/invalid database name/);
    await expect(c.createDatabase('x; drop database postgres')).rejects.toThrow(/invalid database name/);
    await expect(c.createDatabase('1abc')).rejects.toThrow(/invalid database name/);
  });

  it('serves two concurrent connections', async () => {
    const c = get();
    const url = await c.createDatabase('pgcluster_concurrent');
    const a = new pg.Client({ connectionString: url });
    const b = new pg.Client({ connectionString: url });
    await Promise.all([a.connect(), b.connect()]);
    try {
      const [pa, pb] = await Promise.all([
        a.query<{ pid: number }>('select pg_backend_pid() as pid'),
        b.query<{ pid: number }>('select pg_backend_pid() as pid'),
      ]);
      expect(pa.rows[0]?.pid).not.toBe(pb.rows[0]?.pid);

      // A holds a row lock; B's update waits until A commits, then sees A's write.
      await a.query('create table counter (id int primary key, n int not null)');
      await a.query('insert into counter values (1, 0)');
      await a.query('begin');
      await a.query('update counter set n = n + 1 where id = 1');
      const bUpdate = b.query<{ n: number }>('update counter set n = n + 1 where id = 1 returning n');
      let bDone = false;
      void bUpdate.then(() => (bDone = true));
      await new Promise((r) => setTimeout(r, 200));
      expect(bDone).toBe(false);
      const waiting = await withClient(url, async (client) => {
        const r = await client.query<{ n: string }>(
          "select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
        );
        return r.rows[0]?.n;
      });
      expect(waiting).toBe('1');
      await a.query('commit');
      expect((await bUpdate).rows).toEqual([{ n: 2 }]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('stops idempotently and removes its data dir', async () => {
    const c = get();
    expect(existsSync(c.dataDir)).toBe(true);
    await c.stop();
    expect(existsSync(c.dataDir)).toBe(false);
    await c.stop();
    const client = new pg.Client({ connectionString: c.url, connectionTimeoutMillis: 2_000 });
    await expect(client.connect()).rejects.toThrow();
    await client.end().catch(() => undefined);
  });
});
