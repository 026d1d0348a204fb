// The embedded database behind the Database interface: PGlite in its worker thread, statements in
// one protocol round, prepared statements with reused plans. What callers rely on: transactions
// hold the database and roll back, errors keep their SQLSTATE, NOTIFY reaches listeners, values
// (dates, JSON, binary, arrays) arrive as PGlite gives them, and data survives a reopen.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/database/database.js';
import { openPglite } from '../../src/platform/database/pglite.js';

let db: Database;

beforeAll(async () => {
  db = await openPglite(undefined);
  await db.exec(`create table items (id int primary key, name text not null, data jsonb, at timestamptz default now(), blob bytea)`);
});

afterAll(async () => {
  await db.close();
});

describe('the embedded database in its worker thread', () => {
  it('returns typed values, the same with and without a reused plan', async () => {
    const sql = `select $1::int + 1 as n, $2::text as s, $3::jsonb as j, $4::timestamptz as t, $5::bytea as b, $6::text[] as a, null::int as z`;
    const params = [41, 'x', JSON.stringify({ k: [1, 2] }), new Date('2024-01-02T03:04:05.000Z'), new Uint8Array([0, 255]), ['p', 'q']];
    for (const reusePlan of [false, true, true]) {
      const [row] = await db.query(sql, params, { reusePlan });
      expect(row).toEqual({ n: 42, s: 'x', j: { k: [1, 2] }, t: new Date('2024-01-02T03:04:05.000Z'), b: new Uint8Array([0, 255]), a: ['p', 'q'], z: null });
    }
  });

  it('keeps the SQLSTATE and the constraint of an error, and goes on working', async () => {
    await db.query(`insert into items (id, name) values (1, 'one')`);
    const error = await db.query(`insert into items (id, name) values ($1, $2)`, [1, 'again'], { reusePlan: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ code: '23505', constraint: 'items_pkey' });
    const syntax = await db.query(`selec 1`).catch((e: unknown) => e);
    expect(syntax).toMatchObject({ code: '42601' });
    expect(await db.query(`select name from items where id = $1`, [1])).toEqual([{ name: 'one' }]);
  });

  it('commits a transaction, and rolls back one that throws, with its statements in it', async () => {
    const result = await db.transaction(async (tx) => {
      await tx.query(`insert into items (id, name) values (2, 'two')`);
      return (await tx.query<{ n: number }>(`select count(*)::int as n from items where id = $1`, [2], { reusePlan: true }))[0]!.n;
    });
    expect(result).toBe(1);
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`insert into items (id, name) values (3, 'three')`);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    // A failed statement aborts the transaction; the caller sees the database's error.
    await expect(
      db.transaction(async (tx) => {
        await tx.query(`insert into items (id, name) values (4, 'four')`);
        await tx.query(`insert into items (id, name) values (4, 'four again')`);
      }),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await db.query<{ id: number }>(`select id from items order by id`)).map((r) => r.id)).toEqual([1, 2]);
  });

  it('runs statements from elsewhere only after an open transaction ends', async () => {
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const transaction = db.transaction(async (tx) => {
      await tx.query(`update items set name = 'two, changed' where id = 2`);
      order.push('tx updated');
      await held;
      order.push('tx ends');
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const outside = db.query<{ name: string }>(`select name from items where id = 2`).then((rows) => {
      order.push('outside read');
      return rows[0]!.name;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(order).toEqual(['tx updated']);
    release();
    await transaction;
    expect(await outside).toBe('two, changed');
    expect(order).toEqual(['tx updated', 'tx ends', 'outside read']);
  });

  it('delivers NOTIFY to listeners until they unsubscribe', async () => {
    const seen: string[] = [];
    const off = await db.listen('items_changed', (payload) => seen.push(payload));
    await db.query(`select pg_notify('items_changed', $1)`, ['first']);
    await db.transaction(async (tx) => {
      await tx.query(`select pg_notify('items_changed', 'in a transaction')`);
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(['first', 'in a transaction']);
    await off();
    await db.query(`select pg_notify('items_changed', 'after')`);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(seen).toEqual(['first', 'in a transaction']);
    await expect(db.listen('Bad-Name', () => undefined)).rejects.toThrow(/invalid channel/);
  });

  it('sees a changed table through a statement prepared before the change', async () => {
    const sql = `select * from items where id = $1`;
    expect(await db.query(sql, [1], { reusePlan: true })).toEqual([expect.objectContaining({ id: 1, name: 'one' })]);
    await db.exec(`alter table items add column extra text default 'x'`);
    expect(await db.query(sql, [1], { reusePlan: true })).toEqual([expect.objectContaining({ id: 1, name: 'one', extra: 'x' })]);
    // Changed by a plain statement rather than a script: the prepared plan notices the new shape.
    await db.query(`alter table items drop column extra`);
    const [row] = await db.query(sql, [1], { reusePlan: true });
    expect(row).not.toHaveProperty('extra');
  });
});

describe('the embedded database on disk', () => {
  it('keeps committed data across a close and a reopen, and refuses use after close', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'autobuild-db-'));
    try {
      const first = await openPglite(dir);
      await first.exec(`create table kept (v text)`);
      await first.query(`insert into kept values ($1)`, ['survives']);
      await first.close();
      await expect(first.query(`select 1`)).rejects.toThrow(/closed/);
      // Reopened with the buffer cache the services configure (AUTOBUILD_PGLITE_SHARED_BUFFERS_MB).
      const second = await openPglite(dir, { sharedBuffersMb: 64 });
      expect(await second.query(`select v from kept`)).toEqual([{ v: 'survives' }]);
      expect(await second.query(`select current_setting('shared_buffers') as size`)).toEqual([{ size: '64MB' }]);
      await second.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
