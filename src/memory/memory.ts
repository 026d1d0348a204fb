// Builds the memory service: its API (index, search, context, health) over one database handle,
// with pgvector required and the configured embedder loaded at start. `up` and `autobuild memory`
// call this; so do the tests.
import { Registry } from 'prom-client';
import { assertSafeBind, type Config } from '../platform/config.js';
import { createLlm } from '../platform/llm.js';
import type { Database } from '../platform/database/database.js';
import { startEmbeddedVacuum } from '../platform/database/embeddedVacuum.js';
import { migrate } from '../platform/database/migrate.js';
import { createHttpApp, type HttpApp } from '../platform/http/app.js';
import type { Logger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { registerChatRoute } from './api/chatRoute.js';
import { relevantMemories } from './retrieval/context.js';
import { memoryLine } from './retrieval/knowledge.js';
import { registerChangelogRoute } from './api/changelogRoute.js';
import { changelogSummarizer } from './changelog/summary.js';
import { registerHealthRoute } from './api/healthRoute.js';
import { registerIndexRoutes } from './api/indexRoutes.js';
import { registerMemoryRoutes } from './api/memoryRoutes.js';
import { registerPatternsRoute } from './api/patternsRoute.js';
import { registerSearchRoutes } from './api/searchRoutes.js';
import { createMemoryJudge, JUDGE_TIMEOUT_MS } from './memories/llmJudge.js';
import { MemoryWriteHealth } from './memories/writeHealth.js';
import { createEmbedder, describeEmbedder, type EmbeddingSettings } from './embeddings/embedder.js';
import { EmbedderPool, type EmbedderFactory } from './embeddings/embedderPool.js';
import { HASH_MODEL_PREFIX } from './embeddings/hashEmbedder.js';
import { CodeIndexer } from './indexing/indexer.js';
import { explainExtensionFailure, pgvectorFeatures, requirePgvector } from './pgvector.js';
import type { SearchDeps } from './retrieval/search.js';
import { TermStats } from './retrieval/termStats.js';
import { registerComponents } from '../platform/http/components.js';
import { memoryComponents } from './api/wireSchemas.js';

export interface MemoryOptions {
  config: Config;
  db: Database;
  logger: Logger;
  /** How embedders are made (default: the real backends); tests wrap it to count embeddings. */
  embedderFactory?: EmbedderFactory;
  /** How old /health's evidence of memory writes may get before it probes again (default 5 s); tests shorten it. */
  healthProbeTtlMs?: number;
  /** How long a memory write waits for the model's verdict on its near neighbours (default JUDGE_TIMEOUT_MS); tests shorten it. */
  memoryJudgeTimeoutMs?: number;
}

export interface MemoryService {
  app: HttpApp;
  indexer: CodeIndexer;
  embedders: EmbedderPool;
  search: SearchDeps;
  /** Listen on config.memoryPort; returns the bound URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Candidates examined per vector query (hnsw.ef_search). Measured on the openai package's 10,930
 * chunks (hash embedder, 100 queries): recall@10 against exact search 0.92 at 40, 0.949 at 100,
 * 0.982 at 200, for 2.5, 3.0 and 3.3 ms per query.
 */
// At 100k chunks (bench/memoryScale.ts) 200 gave 0.82-0.87; with ef_construction 64, 400 gave
// 0.958 for ~2 ms more per query.
const EF_SEARCH = 400;

export function embeddingSettings(config: Config): EmbeddingSettings {
  const { embedding } = config;
  // EMBEDDING_DIMENSIONS sizes the built-in embedder too, when no model names a size.
  const hashModel = embedding.provider === 'hash' && embedding.dimensions ? `${HASH_MODEL_PREFIX}${embedding.dimensions}` : undefined;
  return {
    provider: embedding.provider,
    model: embedding.model ?? hashModel,
    modelDir: embedding.modelDir,
    allowDownload: embedding.allowDownload,
    openai: { baseUrl: embedding.openaiBaseUrl, apiKey: embedding.openaiApiKey, dimensions: embedding.dimensions },
  };
}

export async function buildMemory(options: MemoryOptions): Promise<MemoryService> {
  const { config, db, logger } = options;
  assertSafeBind(config);
  await requirePgvector(db);
  await migrate(db, 'memory').catch((error: unknown) => {
    throw explainExtensionFailure(error);
  });
  const pgvector = await pgvectorFeatures(db);

  const embedders = new EmbedderPool(embeddingSettings(config), options.embedderFactory ?? createEmbedder);
  // On a server other replicas and autovacuum analyse too: searches check the statistics are current.
  const terms = new TermStats(db, { shared: db.kind === 'postgres' });
  const indexer = new CodeIndexer({ db, embedders, logger, limits: { maxInlineFiles: config.memory.maxInlineFiles }, onAnalyzed: () => terms.invalidate() });
  const search: SearchDeps = { db, embedders, vector: { iterativeScan: pgvector.iterativeScan, efSearch: EF_SEARCH }, terms };

  const app = await createHttpApp({
    title: 'AutoBuild Memory & Insights Service',
    version: VERSION,
    description: 'Indexes code and finds what an agent needs for a task: hybrid (vector + full-text) search and token-budgeted context.',
    logger,
    apiToken: config.apiToken,
    bodyLimitBytes: config.bodyLimitBytes,
    publicPaths: ['/health'],
    registry: new Registry(),
  });
  registerComponents(app, memoryComponents);
  registerIndexRoutes(app, { indexer, bodyLimitBytes: Math.max(config.bodyLimitBytes, config.memory.indexBodyLimitBytes) });
  registerSearchRoutes(app, search);
  const writes = new MemoryWriteHealth({ db, embedders }, { ttlMs: options.healthProbeTtlMs });
  // Its own client: a write waits for it, so one attempt within the judge's short timeout, no retries.
  const judgeTimeoutMs = options.memoryJudgeTimeoutMs ?? JUDGE_TIMEOUT_MS;
  const judgeLlm = createLlm(config.anthropic, { timeoutMs: judgeTimeoutMs, maxRetries: 0 });
  const judge = judgeLlm ? createMemoryJudge(judgeLlm, logger, { timeoutMs: judgeTimeoutMs }) : undefined;
  registerMemoryRoutes(app, { db, embedders, writes, judge });
  registerPatternsRoute(app, { db });
  const llm = createLlm(config.anthropic);
  registerChangelogRoute(app, { db, summarize: llm ? changelogSummarizer(llm) : undefined });
  registerChatRoute(app, {
    search,
    llm,
    recallNotes: async (projectId, question) =>
      (await relevantMemories(search, projectId, question)).map((memory) => ({ label: `memory ${memory.id} (${memory.type}, ${memory.updated_at})`, content: memoryLine(memory).slice(2) })),
  });
  registerHealthRoute(app, { db, embedders, writes, llmModel: config.anthropic.apiKey ? config.anthropic.model : undefined, version: VERSION, startedAt: Date.now() });

  let listening = false;
  let stopVacuum = async (): Promise<void> => undefined;
  return {
    app,
    indexer,
    embedders,
    search,
    async start() {
      try {
        const embedder = await embedders.configured();
        const note = embedders.current();
        logger.info({ embedder: describeEmbedder(embedder), ...(note.state === 'ready' && note.note ? { note: note.note } : {}) }, 'embedder ready');
      } catch (error) {
        // The service still starts: /health says why, and index calls answer 503 until it loads.
        logger.warn({ err: (error as Error).message }, 'embedder unavailable');
      }
      const address = await app.listen({ host: config.host, port: config.memoryPort });
      listening = true;
      // PGlite has no autovacuum: merges, re-counted patterns, re-indexed chunks and the health
      // probe's rolled-back insert leave dead rows (and dead HNSW entries) behind.
      stopVacuum = startEmbeddedVacuum(db, 'memory', logger);
      logger.info({ address, database: db.kind, pgvector: pgvector.version }, 'memory service listening');
      return address;
    },
    async stop() {
      await stopVacuum();
      if (listening) await app.close();
    },
  };
}
