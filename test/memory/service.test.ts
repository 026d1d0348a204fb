// The memory service as a whole: /health, auth and OpenAPI, model pinning (409 on a model change,
// queries with the recorded model, 503 when a model cannot be loaded), the typed client, and
// pgvector required on a PostgreSQL server (missing, or not enabled for an ordinary role).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, MemoryClient, MemoryUnreachableError } from '../../src/clients/memory.js';
import { loadConfig } from '../../src/platform/config.js';
import { openPostgres } from '../../src/platform/database/postgres.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildMemory } from '../../src/memory/memory.js';
import { EmbeddingUnavailableError } from '../../src/memory/embeddings/embedder.js';
import { api } from '../support/orchestrator.js';
import { pgClusterSkipReason, pgvectorSkipReason, requirePg, startPgCluster, type PgCluster } from '../support/pgCluster.js';
import { freePort } from '../support/processes.js';
import { GO_SERVER, PY_CLI, TS_CALLER, TS_SCHEDULER } from './fixtures.js';
import { embedderFactoryWith, resetMemoryDb, sharedDb, startTestMemory, type TestMemory } from './memoryKit.js';

const FILES = Object.entries({ 'src/jobs/claim.ts': TS_SCHEDULER, 'src/jobs/loop.ts': TS_CALLER, 'tools/cli.py': PY_CLI, 'server/server.go': GO_SERVER }).map(([path, content]) => ({ path, content }));

const running: TestMemory[] = [];
async function start(env: Record<string, string> = {}, reset = true): Promise<TestMemory> {
  const t = await startTestMemory({ env, reset });
  running.push(t);
  return t;
}
afterEach(async () => {
  for (const t of running.splice(0)) await t.stop();
  await resetMemoryDb(await sharedDb());
});

describe('/health', () => {
  it('names the database, the embedder in use and the LLM; answers without a token', async () => {
    const t = await start({ AUTOBUILD_API_TOKEN: 'secret-token' });
    const res = await api(t.url, 'GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', checks: { database: 'ok', embeddings: 'hash autobuild-hash-v1-384', llm: 'disabled' } });
    expect(typeof res.body.version).toBe('string');
    expect(res.body.uptime_s).toBeGreaterThanOrEqual(0);
  });

  it('says when auto fell back to the built-in embedder, and that an LLM is configured', async () => {
    const t = await start({ EMBEDDING_PROVIDER: 'auto', ANTHROPIC_API_KEY: 'sk-test-key' });
    const res = await api(t.url, 'GET', '/health');
    expect(res.body.status).toBe('ok');
    expect(res.body.checks.embeddings).toMatch(/^hash autobuild-hash-v1-384 \(auto fallback: MiniLM is not available/);
    expect(res.body.checks.llm).toBe('configured claude-sonnet-4-5');
  });

  it('is degraded when the configured embedder cannot be loaded; indexing is then a 503 that says why', async () => {
    const t = await start({ EMBEDDING_PROVIDER: 'minilm' });
    const health = await api(t.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.checks.embeddings).toMatch(/^unavailable: MiniLM model "Xenova\/all-MiniLM-L6-v2" was not found locally/);
    const res = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'p', files: FILES });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    expect(res.body.error.message).toMatch(/configured embedder \(minilm\) cannot be used/);
  });
});

describe('auth and OpenAPI', () => {
  it('requires the token everywhere but /health; serves /openapi.json and /docs', async () => {
    const t = await start({ AUTOBUILD_API_TOKEN: 'secret-token' });
    const anonymous = await api(t.url, 'POST', '/api/v1/search', { project_id: 'p', query: 'x' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error.code).toBe('unauthorized');
    const auth = { authorization: 'Bearer secret-token' };
    expect((await api(t.url, 'POST', '/api/v1/search', { project_id: 'p', query: 'x' }, auth)).status).toBe(404);
    const doc = await api(t.url, 'GET', '/openapi.json', undefined, auth);
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/health', '/api/v1/index/files', '/api/v1/index/{project_id}', '/api/v1/search', '/api/v1/context']));
    expect((await fetch(`${t.url}/docs`, { headers: auth })).status).toBe(200);
  });

  it('refuses to start on a non-loopback address without a token', async () => {
    const config = loadConfig({ AUTOBUILD_HOST: '0.0.0.0', AUTOBUILD_LOG_LEVEL: 'silent', EMBEDDING_PROVIDER: 'hash' });
    await expect(buildMemory({ config, db: await sharedDb(), logger: createLogger({ level: 'silent' }) })).rejects.toThrow(/without AUTOBUILD_API_TOKEN/);
  });
});

describe('model pinning', () => {
  it('an index keeps its model: another configured model is a 409 that says to re-index; queries embed with the recorded model', async () => {
    const first = await start();
    expect((await api(first.url, 'POST', '/api/v1/index/files', { project_id: 'pinned', files: FILES })).status).toBe(200);
    await first.stop();
    running.splice(running.indexOf(first), 1);

    const t = await start({ EMBEDDING_MODEL: 'autobuild-hash-v1-256' }, false);
    const conflict = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'pinned', files: FILES.slice(0, 1) });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.code).toBe('state_conflict');
    expect(conflict.body.error.message).toContain('re-index');
    expect(conflict.body.error.message).toContain('DELETE /api/v1/index/pinned');
    expect(conflict.body.error.details).toEqual({
      recorded: { provider: 'hash', model: 'autobuild-hash-v1-384', dimension: 384 },
      configured: { provider: 'hash', model: 'autobuild-hash-v1-256', dimension: 256 },
    });

    // Search and context still work, embedding the query with the index's own 384-d model.
    const search = await api(t.url, 'POST', '/api/v1/search', { project_id: 'pinned', query: 'claimJobs' });
    expect(search.status).toBe(200);
    expect(search.body.results[0]).toMatchObject({ path: 'src/jobs/claim.ts', symbol: 'claimJobs' });
    expect((await api(t.url, 'POST', '/api/v1/context', { project_id: 'pinned', task_description: 'claim jobs' })).body.tokens).toBeGreaterThan(0);
    expect(t.stats.created.map((s) => `${s.provider} ${s.model ?? ''}`)).toEqual(['hash autobuild-hash-v1-256', 'hash autobuild-hash-v1-384']);

    // A new project gets the configured 256-d model, with an HNSW index of its own.
    const fresh = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'fresh', files: FILES });
    expect(fresh.body.embedding_model).toBe('autobuild-hash-v1-256');
    expect((await api(t.url, 'POST', '/api/v1/search', { project_id: 'fresh', query: 'parse_args' })).body.results[0].path).toBe('tools/cli.py');
    const dimensions = await t.db.query<{ project_id: string; dimension: number }>(`select project_id, dimension from memory.indexes order by project_id`);
    expect(dimensions).toEqual([{ project_id: 'fresh', dimension: 256 }, { project_id: 'pinned', dimension: 384 }]);

    // Re-index: drop, then index again with the configured model.
    expect((await api(t.url, 'DELETE', '/api/v1/index/pinned')).body.deleted_chunks).toBe(7);
    const again = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'pinned', files: FILES });
    expect(again.status).toBe(200);
    expect(again.body.embedding_model).toBe('autobuild-hash-v1-256');
  });

  it('a recorded model that cannot be loaded makes queries a 503 that names it', async () => {
    const t = await start();
    await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'gone', files: FILES });
    await t.db.query(`update memory.indexes set provider = 'minilm', model = 'someone/missing-model' where project_id = 'gone'`);
    const res = await api(t.url, 'POST', '/api/v1/search', { project_id: 'gone', query: 'claimJobs' });
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    expect(res.body.error.message).toContain("the index's embedding model minilm someone/missing-model cannot be loaded");
  });
});

describe('MemoryClient', () => {
  it('indexes, searches, builds context, reports health and drops an index; errors are ApiErrors', async () => {
    const t = await start({ AUTOBUILD_API_TOKEN: 'client-token' });
    const client = new MemoryClient({ baseUrl: `${t.url}/`, token: 'client-token' });
    const indexed = await client.index({ project_id: 'c', files: FILES });
    expect(indexed).toMatchObject({ indexed_files: 4, chunks_added: 7, embedding_model: 'autobuild-hash-v1-384' });
    const results = await client.search({ project_id: 'c', query: 'parse_args', limit: 2 });
    expect(results).toHaveLength(2);
    expect(results[0]).toMatchObject({ path: 'tools/cli.py', symbol: 'parse_args' });
    const context = await client.context({ project_id: 'c', task_description: 'parse the command line', max_tokens: 300 });
    expect(context.tokens).toBeLessThanOrEqual(300);
    expect(context.sources.length).toBeGreaterThan(0);
    expect((await client.health()).checks.embeddings).toBe('hash autobuild-hash-v1-384');
    expect(await client.deleteIndex('c')).toBe(7);

    const missing = await client.search({ project_id: 'c', query: 'x' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'project_not_found' });
    const anonymous = await new MemoryClient({ baseUrl: t.url }).deleteIndex('c').catch((error: unknown) => error);
    expect(anonymous).toMatchObject({ status: 401, code: 'unauthorized' });
    const down = await new MemoryClient({ baseUrl: `http://127.0.0.1:${await freePort()}` }).health().catch((error: unknown) => error);
    expect(down).toBeInstanceOf(MemoryUnreachableError);
    expect(() => new MemoryClient({ baseUrl: 'ftp://x' })).toThrow(/http\(s\) URL/);
  });
});

const pgSkip = requirePg ? undefined : pgClusterSkipReason();
const pgvectorSkip = requirePg ? undefined : pgvectorSkipReason();
describe.skipIf(pgSkip !== undefined)('on a PostgreSQL server', () => {
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => cluster?.stop());

  it('needs pgvector: without it the service refuses to start and says so; with it, it indexes and searches', async () => {
    const url = await cluster!.createDatabase('memory_service');
    const logger = createLogger({ level: 'silent' });
    const db = await openPostgres(url, logger);
    try {
      const config = loadConfig({ AUTOBUILD_LOG_LEVEL: 'silent', MEMORY_PORT: '0', EMBEDDING_PROVIDER: 'hash', DATABASE_URL: url });
      const [available] = await db.query<{ n: number }>(`select count(*)::int as n from pg_available_extensions where name = 'vector'`);
      if (!available?.n) {
        await expect(buildMemory({ config, db, logger })).rejects.toThrow(/needs the pgvector extension \("vector"\).*install pgvector/);
        const [schema] = await db.query<{ n: number }>(`select count(*)::int as n from information_schema.tables where table_schema = 'memory'`);
        expect(schema?.n).toBe(0);
        return;
      }
      const memory = await buildMemory({ config, db, logger });
      const base = await memory.start();
      try {
        expect((await api(base, 'POST', '/api/v1/index/files', { project_id: 'pg', files: FILES })).body.chunks_added).toBe(7);
        expect((await api(base, 'POST', '/api/v1/search', { project_id: 'pg', query: 'claimJobs' })).body.results[0].symbol).toBe('claimJobs');
      } finally {
        await memory.stop();
      }
    } finally {
      await db.close();
    }
  });
});

describe.skipIf(pgvectorSkip !== undefined)('on a PostgreSQL server with pgvector, as an ordinary role', () => {
  let cluster: PgCluster | undefined;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => cluster?.stop());

  it('cannot enable the extension itself and says how; once a superuser has, it starts', async () => {
    const admin = await openPostgres(cluster!.url, createLogger({ level: 'silent' }));
    await admin.exec(`create role memory_app login`);
    await admin.exec(`create database memory_app owner memory_app`);
    await admin.close();
    const url = new URL(cluster!.url);
    url.username = 'memory_app';
    url.pathname = '/memory_app';
    const config = loadConfig({ AUTOBUILD_LOG_LEVEL: 'silent', MEMORY_PORT: '0', EMBEDDING_PROVIDER: 'hash', DATABASE_URL: url.toString() });
    const logger = createLogger({ level: 'silent' });
    const db = await openPostgres(url.toString(), logger);
    try {
      await expect(buildMemory({ config, db, logger })).rejects.toThrow(/could not enable the pgvector extension \("vector"\).*permission denied.*a superuser can enable it once with: create extension vector/);
      const superuser = new URL(cluster!.url);
      superuser.pathname = '/memory_app';
      const su = await openPostgres(superuser.toString(), logger);
      await su.exec(`create extension vector`);
      await su.close();
      const memory = await buildMemory({ config, db, logger });
      const base = await memory.start();
      try {
        expect((await api(base, 'POST', '/api/v1/index/files', { project_id: 'pg', files: FILES })).body.chunks_added).toBe(7);
        expect((await api(base, 'GET', '/health')).body.checks).toMatchObject({ database: 'ok', memories: 'ok' });
      } finally {
        await memory.stop();
      }
    } finally {
      await db.close();
    }
  });
});

describe('an embedding backend failing mid-call', () => {
  it('is a 503 that says so, for indexing (nothing written) and for search', async () => {
    let failing = false;
    const t = await startTestMemory({
      factory: embedderFactoryWith(() => {
        if (failing) throw new EmbeddingUnavailableError('embedding server http://127.0.0.1:1/v1 is unreachable');
      }),
    });
    running.push(t);
    await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'ok', files: FILES });
    failing = true;
    const index = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'new', files: FILES });
    expect(index.status).toBe(503);
    expect(index.body.error).toMatchObject({ code: 'dependency_unavailable', message: expect.stringContaining('is unreachable') });
    expect(await t.db.query(`select project_id from memory.indexes`)).toEqual([{ project_id: 'ok' }]);
    const search = await api(t.url, 'POST', '/api/v1/search', { project_id: 'ok', query: 'claimJobs' });
    expect(search.status).toBe(503);
    expect(search.body.error.message).toContain('embedding with hash autobuild-hash-v1-384 (384-d) failed');

    // A project searched, then deleted: still a 404 while the embedder is down (not the embedder's 503),
    // and again on the next search.
    failing = false;
    await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'gone', files: FILES });
    expect((await api(t.url, 'POST', '/api/v1/search', { project_id: 'gone', query: 'claimJobs' })).status).toBe(200);
    expect((await api(t.url, 'DELETE', '/api/v1/index/gone')).status).toBe(200);
    failing = true;
    for (const query of ['claim the next job', 'claim the next job']) {
      const afterDelete = await api(t.url, 'POST', '/api/v1/search', { project_id: 'gone', query });
      expect(afterDelete.status, JSON.stringify(afterDelete.body)).toBe(404);
      expect(afterDelete.body.error.code).toBe('project_not_found');
    }
  });
});
