// Numbered, append-only SQL migrations per service schema (migrations/<schema>/NNN_name.sql),
// applied in one transaction under an advisory lock so that replicas starting together are safe.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import type { Database } from './database.js';

export interface Migration {
  id: number;
  name: string;
  sql: string;
}

export function readMigrations(schema: string): Migration[] {
  const dir = path.join(packageRoot(), 'migrations', schema);
  return readdirSync(dir)
    .filter((file) => /^\d{3}_[a-z0-9_]+\.sql$/.test(file))
    .sort()
    .map((file) => ({ id: Number(file.slice(0, 3)), name: file.slice(4, -4), sql: readFileSync(path.join(dir, file), 'utf8') }));
}

export async function migrate(db: Database, schema: string): Promise<number> {
  if (!/^[a-z_]+$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const migrations = readMigrations(schema);
  return db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext($1))`, [`autobuild:migrate:${schema}`]);
    await tx.query(`create schema if not exists ${schema}`);
    await tx.query(
      `create table if not exists ${schema}.migrations (id int primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    const applied = new Set((await tx.query<{ id: number }>(`select id from ${schema}.migrations`)).map((r) => r.id));
    let count = 0;
    for (const migration of migrations) {
      if (applied.has(migration.id)) continue;
      await tx.exec(migration.sql);
      await tx.query(`insert into ${schema}.migrations (id, name) values ($1, $2)`, [migration.id, migration.name]);
      count++;
    }
    return count;
  });
}
