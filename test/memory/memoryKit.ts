// The memory service on a real HTTP port over a PGlite shared by the test file (reset between
// tests), with an embedder factory that counts what is embedded.
import { rmSync } from 'node:fs';
import { loadConfig, type Config } from '../../src/platform/config.js';
import type { Database } from '../../src/platform/database/database.js';
import { openPglite } from '../../src/platform/database/pglite.js';
import { createLogger } from '../../src/platform/logger.js';
import { createEmbedder, type CreatedEmbedder, type EmbeddingSettings } from '../../src/memory/embeddings/embedder.js';
import type { EmbedderFactory } from '../../src/memory/embeddings/embedderPool.js';
import { buildMemory, type MemoryService } from '../../src/memory/memory.js';
import { tempDir } from '../support/repo.js';

let shared: Promise<Database> | undefined;

/** One in-memory PGlite per test file (creating one takes seconds). */
export function sharedDb(): Promise<Database> {
  shared ??= openPglite(undefined);
  return shared;
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

/** The real factory, with every embedder wrapped to count its work. */
export function countingFactory(stats: EmbedStats, inner: EmbedderFactory = createEmbedder): EmbedderFactory {
  return async (settings) => {
    stats.created.push(settings);
    const made: CreatedEmbedder = await inner(settings);
    const embedder = made.embedder;
    return {
      ...made,
      embedder: {
        provider: embedder.provider,
        model: embedder.model,
        dimension: embedder.dimension,
        async embed(texts: string[]) {
          stats.texts += texts.length;
          stats.calls++;
          return embedder.embed(texts);
        },
      },
    };
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
