// The memory service on a real HTTP port over a database shared by the test file (reset between
// tests), with an embedder factory that counts what is embedded. The database is an in-memory
// PGlite, or, for the files under test/memory/server/ (the same suites run again, as pg-boss runs
// its suite twice), a PostgreSQL server with pgvector: a throwaway cluster of the file's own.
import { rmSync } from 'node:fs';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/platform/config.js';
import type { Database } from '../../src/platform/database/database.js';
import { openPglite } from '../../src/platform/database/pglite.js';
import { openPostgres } from '../../src/platform/database/postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { createEmbedder, type CreatedEmbedder, type EmbeddingSettings } from '../../src/memory/embeddings/embedder.js';
import type { EmbedderFactory } from '../../src/memory/embeddings/embedderPool.js';
import { buildMemory, type MemoryService } from '../../src/memory/memory.js';
import { pgvectorSkipReason, requirePg, startPgCluster, type PgCluster } from '../support/pgCluster.js';
import { tempDir } from '../support/repo.js';

let shared: Promise<Database> | undefined;
/** Set by onPostgresServer: this file's tests run on that server instead of PGlite. */
let server: { cluster: PgCluster; url: string } | undefined;

/** The database of this test file: one in-memory PGlite (creating one takes seconds), or the server's. */
export function sharedDb(): Promise<Database> {
  shared ??= server ? openPostgres(server.url, createLogger({ level: 'silent' })) : openPglite(undefined);
  return shared;
}

/** Which database this file's tests run on. */
export function testDatabaseKind(): Database['kind'] {
  return server ? 'postgres' : 'pglite';
}

/** The server this file runs on (postgres only): its cluster and the test database's URL. */
export function testServer(): { cluster: PgCluster; url: string } | undefined {
  return server;
}

/**
 * Runs a suite (a test file of test/memory, loaded by `load`) on a PostgreSQL server with pgvector:
 * a throwaway cluster for this file, one fresh database in it. Without PostgreSQL or pgvector the
 * suite skips with the reason, except under CI=true, where that fails.
 */
export async function onPostgresServer(load: () => Promise<unknown>): Promise<void> {
  const reason = pgvectorSkipReason();
  if (reason !== undefined && !requirePg) {
    console.warn(`skipping the memory tests on a PostgreSQL server: ${reason}`);
    describe.skip('on a PostgreSQL server with pgvector', () => {
      it(`skipped: ${reason}`, () => undefined);
    });
    return;
  }
  if (reason !== undefined) throw new Error(`CI=true needs the memory tests on a PostgreSQL server with pgvector: ${reason}`);
  const cluster = await startPgCluster();
  server = { cluster, url: await cluster.createDatabase('memory_test') };
  // Registered before the suite's own hooks, so it runs after them (after-hooks run in reverse).
  afterAll(async () => {
    const db = shared;
    shared = undefined;
    await (await db)?.close();
    await cluster.stop();
  });
  it('runs on a PostgreSQL server with pgvector 0.8+ (iterative index scans)', async () => {
    const db = await sharedDb();
    expect(db.kind).toBe('postgres');
    const [row] = await db.query<{ version: string; server: string }>(
      `select (select default_version from pg_available_extensions where name = 'vector') as version, current_setting('server_version_num') as server`,
    );
    expect(Number(row?.server)).toBeGreaterThanOrEqual(150000);
    expect(row?.version).toMatch(/^(0\.(8|9|\d\d)|[1-9])/);
  });
  await load();
}

/**
 * Makes every session of the file's database read-only (or writable again). PGlite has one session;
 * on a server the setting goes to the server's configuration and is reloaded, so that the pool's
 * open connections take it at their next statement.
 */
export async function setReadOnly(db: Database, readOnly: boolean): Promise<void> {
  if (!server) {
    await db.exec(`set session characteristics as transaction ${readOnly ? 'read only' : 'read write'}`);
    return;
  }
  // Its own connection, writable whatever the configuration says (ALTER SYSTEM needs that).
  const client = new pg.Client({ connectionString: server.url, options: '-c default_transaction_read_only=off' });
  await client.connect();
  try {
    await client.query(readOnly ? `alter system set default_transaction_read_only = on` : `alter system reset default_transaction_read_only`);
    await client.query(`select pg_reload_conf()`);
  } finally {
    await client.end();
  }
  // The postmaster passes the reload on to every backend by signal: give it a moment to arrive.
  await new Promise((resolve) => setTimeout(resolve, 200));
}

export async function resetMemoryDb(db: Database): Promise<void> {
  const [exists] = await db.query<{ found: string | null }>(`select to_regclass('memory.indexes')::text as found`);
  if (!exists?.found) return;
  const indexes = await db.query<{ indexname: string }>(`select indexname from pg_indexes where schemaname = 'memory' and indexname ~ '^chunks_embedding_[0-9]+$'`);
  for (const { indexname } of indexes) await db.exec(`drop index memory.${indexname}`);
  await db.query(`truncate memory.indexes, memory.files, memory.chunks restart identity`);
  const [memories] = await db.query<{ found: string | null }>(`select to_regclass('memory.memories')::text as found`);
  if (memories?.found) await db.query(`truncate memory.memories restart identity`);
  const [patterns] = await db.query<{ found: string | null }>(`select to_regclass('memory.patterns')::text as found`);
  if (patterns?.found) await db.query(`truncate memory.patterns, memory.pattern_support, memory.pattern_jobs restart identity`);
}

export interface EmbedStats {
  /** Texts embedded, and embed() calls, by all embedders the factory made. */
  texts: number;
  calls: number;
  /** Settings each embedder was created with. */
  created: EmbeddingSettings[];
}

/**
 * The factory's embedders with `before` run ahead of every embed() call: to count the work, or to
 * throw as a backend that fails (it may look at the texts).
 */
export function embedderFactoryWith(before: (texts: string[]) => void, inner: EmbedderFactory = createEmbedder): EmbedderFactory {
  return async (settings) => {
    const made: CreatedEmbedder = await inner(settings);
    const embedder = made.embedder;
    return {
      ...made,
      embedder: {
        provider: embedder.provider,
        model: embedder.model,
        dimension: embedder.dimension,
        async embed(texts: string[]) {
          before(texts);
          return embedder.embed(texts);
        },
      },
    };
  };
}

/** The real factory, with every embedder wrapped to count its work. */
export function countingFactory(stats: EmbedStats, inner: EmbedderFactory = createEmbedder): EmbedderFactory {
  const counted = embedderFactoryWith((texts) => {
    stats.texts += texts.length;
    stats.calls++;
  }, inner);
  return (settings) => {
    stats.created.push(settings);
    return counted(settings);
  };
}

export const MEMORY_TEST_ENV = {
  AUTOBUILD_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  MEMORY_PORT: '0',
  EMBEDDING_PROVIDER: 'hash',
};

export interface TestMemory {
  url: string;
  config: Config;
  db: Database;
  memory: MemoryService;
  stats: EmbedStats;
  stop(): Promise<void>;
}

export async function startTestMemory(options: { env?: Record<string, string>; db?: Database; factory?: EmbedderFactory; reset?: boolean } = {}): Promise<TestMemory> {
  const home = tempDir('autobuild-memory-home-');
  const db = options.db ?? (await sharedDb());
  if (options.reset !== false) await resetMemoryDb(db);
  const config = loadConfig({ ...MEMORY_TEST_ENV, AUTOBUILD_HOME: home, ...options.env });
  const logger = createLogger({ level: config.logLevel });
  const stats: EmbedStats = { texts: 0, calls: 0, created: [] };
  const memory = await buildMemory({ config, db, logger, embedderFactory: countingFactory(stats, options.factory) });
  const url = await memory.start();
  return {
    url,
    config,
    db,
    memory,
    stats,
    async stop() {
      await memory.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
