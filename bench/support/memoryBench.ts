// What the memory-service benchmarks share: buildMemory in this process over embedded PGlite (on
// disk, in a fresh AUTOBUILD_HOME), listening on 127.0.0.1 on a free port, and a JSON client over
// node:http with keep-alive and no client-side timeouts (a first index of a large tree is one
// request that can take many minutes; fetch would give up on the response headers after 300 s).
import { mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/platform/config.js';
import type { Database } from '../../src/platform/database/database.js';
import { openPglite } from '../../src/platform/database/pglite.js';
import { openPostgres } from '../../src/platform/database/postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import type { EmbedderFactory } from '../../src/memory/embeddings/embedderPool.js';
import { buildMemory, type MemoryService } from '../../src/memory/memory.js';
import { tempDir } from './harness.js';

export interface BenchMemory {
  url: string;
  home: string;
  config: Config;
  db: Database;
  memory: MemoryService;
  /** Stop the service, close the database; the home directory is removed unless keep is set. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/**
 * The memory service with the built-in offline (hash) embedder unless `env` says otherwise. The
 * configuration comes from a fixed environment, not the caller's, so a DATABASE_URL or an
 * EMBEDDING_PROVIDER around the benchmark cannot change what it measures.
 */
export async function startBenchMemory(
  options: {
    env?: Record<string, string>;
    /** Wraps the database handle (profiling). */
    wrapDb?: (db: Database) => Database;
    /** How embedders are made (default: the real backends); wrapped to time embedding. */
    embedderFactory?: EmbedderFactory;
  } = {},
): Promise<BenchMemory> {
  const home = tempDir('autobuild-bench-memory-');
  const config = loadConfig({
    AUTOBUILD_HOME: home,
    AUTOBUILD_HOST: '127.0.0.1',
    MEMORY_PORT: '0',
    AUTOBUILD_LOG_LEVEL: 'silent',
    EMBEDDING_PROVIDER: 'hash',
    ...options.env,
  });
  const logger = createLogger({ level: config.logLevel });
  // BENCH_DATABASE_URL: a PostgreSQL server (with pgvector) instead of the embedded database; its
  // database should be empty (the service migrates it), as a fresh AUTOBUILD_HOME is for PGlite.
  const serverUrl = process.env.BENCH_DATABASE_URL;
  const dataDir = path.join(home, 'db');
  mkdirSync(dataDir, { recursive: true });
  const opened = serverUrl ? await openPostgres(serverUrl, logger) : await openPglite(dataDir, { sharedBuffersMb: config.pgliteSharedBuffersMb });
  const db = options.wrapDb ? options.wrapDb(opened) : opened;
  const memory = await buildMemory({ config, db, logger, ...(options.embedderFactory ? { embedderFactory: options.embedderFactory } : {}) });
  const url = await memory.start();
  return {
    url,
    home,
    config,
    db,
    memory,
    async stop(stopOptions = {}) {
      await memory.stop();
      await opened.close();
      agent.destroy();
      if (!stopOptions.keep) rmSync(home, { recursive: true, force: true });
    },
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** One JSON request over a keep-alive connection; no timeout. */
export function requestJson<T>(base: string, method: string, urlPath: string, body?: unknown): Promise<JsonResponse<T>> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), 'utf8');
  return new Promise((resolve, reject) => {
    const request = http.request(
      `${base}${urlPath}`,
      {
        method,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {},
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: response.statusCode ?? 0, body: parsed as T });
        });
      },
    );
    request.on('error', reject);
    request.end(payload);
  });
}

/** A request that must answer `expected`; the API's error otherwise. */
export async function expectJson<T>(base: string, method: string, urlPath: string, body: unknown, expected = 200): Promise<T> {
  const response = await requestJson<T>(base, method, urlPath, body);
  if (response.status !== expected) {
    throw new Error(`${method} ${urlPath} answered ${response.status}, expected ${expected}: ${JSON.stringify(response.body).slice(0, 500)}`);
  }
  return response.body;
}

// The wire types are the memory client's own.
export type { IndexFilesResult as IndexResult, SearchResult } from '../../src/clients/memory.js';

/** A deterministic pseudo-random generator (mulberry32), so that every run picks the same samples. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
