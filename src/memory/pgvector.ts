// Owns the memory service's requirement on pgvector: present (or a clear startup error naming it),
// and which of its features this version has (iterative index scans came with 0.8.0).
import type { Queryable } from '../platform/database/database.js';

export class PgvectorMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PgvectorMissingError';
  }
}

/** Throws before any migration when the server cannot provide pgvector at all. */
export async function requirePgvector(q: Queryable): Promise<void> {
  const rows = await q.query<{ name: string }>(`select name from pg_available_extensions where name = 'vector'`);
  if (rows.length === 0) {
    throw new PgvectorMissingError(
      'the memory service needs the pgvector extension ("vector"), and this PostgreSQL server does not have it installed: ' +
        'install pgvector on the server (https://github.com/pgvector/pgvector#installation), or unset DATABASE_URL to use the embedded database, which bundles it',
    );
  }
}

/** A failed `create extension vector` (no privilege) said in terms of what to do. */
export function explainExtensionFailure(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  if (/extension|vector/i.test(message)) {
    return new PgvectorMissingError(
      `the memory service could not enable the pgvector extension ("vector") in this database: ${message}; ` +
        'a superuser can enable it once with: create extension vector',
    );
  }
  return error instanceof Error ? error : new Error(message);
}

export interface PgvectorFeatures {
  version: string;
  iterativeScan: boolean;
}

export async function pgvectorFeatures(q: Queryable): Promise<PgvectorFeatures> {
  const [row] = await q.query<{ extversion: string }>(`select extversion from pg_extension where extname = 'vector'`);
  const version = row?.extversion ?? '0';
  const [major = 0, minor = 0] = version.split('.').map((part) => Number.parseInt(part, 10) || 0);
  return { version, iterativeScan: major > 0 || minor >= 8 };
}
