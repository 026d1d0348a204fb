// An orchestrator on a real HTTP port over a PGlite shared by the test file (reset between tests).
import { rmSync } from 'node:fs';
import { loadConfig, type Config } from '../../src/platform/config.js';
import type { Database } from '../../src/platform/database/database.js';
import { openPglite } from '../../src/platform/database/pglite.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildOrchestrator, type Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { tempDir } from './repo.js';

let shared: Promise<Database> | undefined;

/** One in-memory PGlite per test file (creating one takes seconds). */
export function sharedDb(): Promise<Database> {
  shared ??= openPglite(undefined);
  return shared;
}

export async function resetDb(db: Database): Promise<void> {
  const tables = await db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'orchestrator' and table_name = 'jobs'`);
  if (tables[0]?.n) await db.query(`truncate orchestrator.jobs, orchestrator.worktrees, orchestrator.projects, orchestrator.memory_outbox`);
}

export interface TestOrchestrator {
  url: string;
  config: Config;
  home: string;
  db: Database;
  orchestrator: Orchestrator;
  stop(): Promise<void>;
}

export const TEST_ENV = {
  AUTOBUILD_LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
  ORCHESTRATOR_PORT: '0',
  AUTOBUILD_KILL_GRACE_MS: '1000',
  AUTOBUILD_RETRY_BACKOFF_S: '0',
  AUTOBUILD_DEFAULT_AGENT: 'command',
};

export async function startTestOrchestrator(options: { env?: Record<string, string>; db?: Database } = {}): Promise<TestOrchestrator> {
  const home = tempDir('autobuild-home-');
  const db = options.db ?? (await sharedDb());
  await resetDb(db);
  const config = loadConfig({ ...TEST_ENV, AUTOBUILD_HOME: home, ...options.env });
  const logger = createLogger({ level: config.logLevel });
  const orchestrator = await buildOrchestrator({ config, db, logger, agentEnv: process.env });
  const url = await orchestrator.start();
  return {
    url,
    config,
    home,
    db,
    orchestrator,
    async stop() {
      await orchestrator.stop();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

export async function api<T = any>(base: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

/** Poll a job until predicate holds (tests only; the product never polls). */
export async function waitForJob(base: string, id: string, predicate: (job: any) => boolean, timeoutMs = 30_000, headers: Record<string, string> = {}): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  while (Date.now() < deadline) {
    last = (await api(base, 'GET', `/api/v1/jobs/${id}`, undefined, headers)).body;
    if (predicate(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
}

export const isDone = (job: any) => ['succeeded', 'failed', 'cancelled', 'timed_out'].includes(job?.status);
