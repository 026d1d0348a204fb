// The embedded database's stand-in for autovacuum: a schema's tables are vacuumed once their dead
// rows pass autovacuum's threshold (and only then), analysed once enough rows changed, other schemas
// are left alone, and the interval does it without being asked.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/database/database.js';
import { maintainDueTables, startEmbeddedVacuum } from '../../src/platform/database/embeddedVacuum.js';
import { openPglite } from '../../src/platform/database/pglite.js';
import { createLogger } from '../../src/platform/logger.js';

let db: Database;

beforeAll(async () => {
  db = await openPglite(undefined);
});

afterAll(async () => {
  await db.close();
});

beforeEach(async () => {
  await db.exec(`drop schema if exists kept cascade; drop schema if exists other cascade; create schema kept; create schema other;`);
  for (const schema of ['kept', 'other']) {
    await db.exec(`create table ${schema}.items (id int primary key, note text); insert into ${schema}.items select g, 'note ' || g from generate_series(1, 1000) g;`);
  }
  // Start from a maintained state: the 1,000 inserts are due for an analyse on their own.
  await maintainDueTables(db, 'kept');
  await maintainDueTables(db, 'other');
});

async function deadRows(schema: string, table = 'items'): Promise<number> {
  await db.query(`select pg_stat_force_next_flush()`);
  const [row] = await db.query<{ n: number }>(`select n_dead_tup::int as n from pg_stat_user_tables where schemaname = $1 and relname = $2`, [schema, table]);
  return row!.n;
}

describe('maintainDueTables', () => {
  it('vacuums a table once a fifth of it is dead rows, reclaims them, and leaves other schemas alone', async () => {
    await db.exec(`delete from kept.items where id <= 400; delete from other.items where id <= 400;`);
    expect(await deadRows('kept')).toBe(400);

    expect(await maintainDueTables(db, 'kept')).toEqual([{ table: 'kept.items', action: 'vacuum analyze' }]);
    expect(await deadRows('kept')).toBe(0);
    expect(await deadRows('other')).toBe(400);
    // Nothing is due any more.
    expect(await maintainDueTables(db, 'kept')).toEqual([]);
  });

  it('leaves a table whose dead rows are under the threshold', async () => {
    await db.exec(`delete from kept.items where id <= 100;`);
    expect(await maintainDueTables(db, 'kept')).toEqual([]);
    expect(await deadRows('kept')).toBe(100);
  });

  it('counts updates: each leaves a dead row version behind', async () => {
    for (let round = 0; round < 3; round++) await db.exec(`update kept.items set note = note || '.' where id <= 100`);
    expect(await maintainDueTables(db, 'kept')).toEqual([{ table: 'kept.items', action: 'vacuum analyze' }]);
    expect(await deadRows('kept')).toBe(0);
  });

  it('analyses a table whose rows changed enough for stale statistics but not enough for a vacuum', async () => {
    await db.exec(`insert into kept.items select g, 'more' from generate_series(1001, 1200) g`);
    expect(await maintainDueTables(db, 'kept')).toEqual([{ table: 'kept.items', action: 'analyze' }]);
    const [stats] = await db.query<{ n: number }>(`select reltuples::int as n from pg_class where oid = 'kept.items'::regclass`);
    expect(stats!.n).toBe(1200);
  });
});

describe('a table with an HNSW index', () => {
  it('gets the heap pass only (cleaning the graph walks all of it) until as many rows are dead as live', async () => {
    await db.exec(`create extension if not exists vector;
      create table kept.vectors (id int primary key, note text, embedding vector(3));
      insert into kept.vectors select g, repeat('x', 200), array[g, g % 7, 1]::vector(3) from generate_series(1, 1000) g;
      create index on kept.vectors using hnsw (embedding vector_cosine_ops);`);
    await maintainDueTables(db, 'kept');
    const heapPages = async () => (await db.query<{ n: number }>(`select pg_relation_size('kept.vectors')::int / 8192 as n`))[0]!.n;
    const before = await heapPages();
    await db.exec(`delete from kept.vectors where id <= 400`);
    expect(await maintainDueTables(db, 'kept')).toEqual([{ table: 'kept.vectors', action: 'vacuum analyze, heap only' }]);
    // The dead rows' index entries remain, but the next check does not start over for them.
    expect(await maintainDueTables(db, 'kept')).toEqual([]);
    // Their space takes new rows: the heap does not grow.
    await db.exec(`insert into kept.vectors select g, repeat('y', 200), array[g, 1, g % 5]::vector(3) from generate_series(2001, 2400) g`);
    expect(await heapPages()).toBe(before);
    // Searches step over the dead entries (through the index, as the service searches: iterative
    // scans on; at 1,000 rows the planner would rather sort a table scan).
    const nearestSql = `select id from kept.vectors order by embedding <=> '[1,1,1]' limit 5`;
    const [plan, nearest] = await db.transaction(async (tx) => {
      await tx.query(`select set_config('enable_seqscan', 'off', true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`);
      return [await tx.query<{ 'QUERY PLAN': string }>(`explain ${nearestSql}`), await tx.query<{ id: number }>(nearestSql)] as const;
    });
    expect(plan.map((row) => row['QUERY PLAN']).join('\n')).toMatch(/Index Scan using vectors_embedding_idx/);
    expect(nearest).toHaveLength(5);
    expect(nearest.every((r) => r.id > 400)).toBe(true);
    // Newly dead rows make it due again; with as many dead as live, the graph is cleaned too.
    await db.exec(`delete from kept.vectors where id > 2000`);
    expect(await deadRows('kept', 'vectors')).toBeGreaterThan(600 + 50);
    expect(await maintainDueTables(db, 'kept')).toEqual([{ table: 'kept.vectors', action: 'vacuum analyze' }]);
    expect(await deadRows('kept', 'vectors')).toBe(0);
  });
});

describe('startEmbeddedVacuum', () => {
  it('does it on its interval, and stops when told', async () => {
    const stop = startEmbeddedVacuum(db, 'kept', createLogger({ level: 'silent' }), 50);
    try {
      await db.exec(`delete from kept.items where id <= 500`);
      const deadline = Date.now() + 10_000;
      while ((await deadRows('kept')) > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await deadRows('kept')).toBe(0);
    } finally {
      await stop();
    }
    await db.exec(`delete from kept.items where id <= 900`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await deadRows('kept')).toBe(400);
  });
});
