// Opens the configured database: a PostgreSQL server when DATABASE_URL is set, else embedded PGlite.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { Database } from './database.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';

export async function openDatabase(options: { databaseUrl: string | undefined; home: string; logger: Logger; sharedBuffersMb?: number }): Promise<Database> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.logger);
  const dataDir = path.join(options.home, 'db');
  mkdirSync(dataDir, { recursive: true });
  return openPglite(dataDir, { sharedBuffersMb: options.sharedBuffersMb });
}
