// The HTTP surface: every bad input a 4xx with the contract's error body (and nothing stored),
// auth, OpenAPI and docs, metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildOrchestrator } from '../../src/orchestrator/orchestrator.js';
import { api, isDone, sharedDb, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, tempDir } from '../support/repo.js';

const expectError = (res: { status: number; body: any }, status: number, code?: string) => {
  expect(res.status).toBe(status);
  expect(typeof res.body.error?.message).toBe('string');
  expect(res.body.error.message).not.toMatch(/\n\s+at /); // no stack traces
  if (code) expect(res.body.error.code).toBe(code);
};

describe('bad input', () => {
  let t: TestOrchestrator;
  let repo: string;
  const ok = () => ({ project_id: 'p', prompt: 'hi', repo, agent: { type: 'command', command: ['true'] } });
  beforeAll(async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_BODY_LIMIT_BYTES: '4096' } });
    repo = createTestRepo();
  });
  afterAll(async () => t.stop());

  const post = (body: unknown, headers: Record<string, string> = {}) => api(t.url, 'POST', '/api/v1/jobs', body, headers);

  it.each([
    ['missing prompt', { project_id: 'p' }, 'prompt'],
    ['wrong type', { project_id: 'p', prompt: 42 }, 'prompt'],
    ['unknown priority', { priority: 'urgent' }, 'priority'],
    ['unknown agent type', { agent: { type: 'gpt' } }, 'agent.type'],
    ['command agent with a shell string', { agent: { type: 'command', command: 'rm -rf /' } }, 'agent.command'],
    ['empty argv', { agent: { type: 'command', command: [] } }, 'agent.command'],
    ['unknown agent option', { agent: { type: 'codex', sandbox: 'none' } }, 'agent.sandbox'],
    ['timeout as a string', { timeout_s: '30' }, 'timeout_s'],
    ['blank prompt', { prompt: ' \n\t ' }, 'prompt'],
    ['negative timeout', { timeout_s: -1 }, 'timeout_s'],
    ['absurd max_attempts', { max_attempts: 1000 }, 'max_attempts'],
    ['unknown field', { priorty: 'high' }, 'priorty'],
    ['bad project id', { project_id: '../etc' }, 'project_id'],
    ['repo that does not exist', { repo: '/nonexistent/repo' }, 'repo'],
    ['repo that is not git', { repo: '/tmp' }, 'repo'],
    ['unknown base branch', { base_branch: 'nope' }, 'base_branch'],
    ['branch starting with a dash', { branch: '-x' }, 'branch'],
    ['invalid branch name', { branch: 'a..b' }, 'branch'],
    ['unknown executor', { executor: 'mars' }, 'executor'],
  ])('%s is a 400 naming the field', async (_name, patch, field) => {
    const before = (await api(t.url, 'GET', '/api/v1/jobs?limit=500')).body.jobs.length;
    const body = { ...ok(), ...patch } as Record<string, unknown>;
    if (_name === 'missing prompt') delete body.prompt;
    const res = await post(body);
    expectError(res, 400);
    expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    expect((await api(t.url, 'GET', '/api/v1/jobs?limit=500')).body.jobs.length).toBe(before);
  });

  it('malformed JSON is a 400, a wrong content type a 415, a huge body a 413', async () => {
    expectError(await post('{"project_id": ', {}), 400, 'malformed_json');
    expectError(await api(t.url, 'POST', '/api/v1/jobs', undefined, { 'content-type': 'application/json' }), 400);
    const text = await fetch(`${t.url}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expectError({ status: text.status, body: await text.json() }, 415, 'unsupported_media_type');
    expectError(await post({ ...ok(), prompt: 'x'.repeat(10_000) }), 413, 'payload_too_large');
  });

  it('ids, limits and cursors are checked', async () => {
    expectError(await api(t.url, 'GET', '/api/v1/jobs/not-a-uuid'), 400, 'validation_failed');
    expectError(await api(t.url, 'DELETE', '/api/v1/jobs/123'), 400);
    expectError(await api(t.url, 'GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000'), 404, 'job_not_found');
    expectError(await api(t.url, 'DELETE', '/api/v1/jobs/00000000-0000-4000-8000-000000000000'), 404);
    expectError(await api(t.url, 'GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/logs'), 404);
    for (const limit of ['0', '501', 'abc', '-5', '1.5']) expectError(await api(t.url, 'GET', `/api/v1/jobs?limit=${limit}`), 400);
    expectError(await api(t.url, 'GET', '/api/v1/jobs?cursor=garbage'), 400, 'invalid_cursor');
    expectError(await api(t.url, 'GET', `/api/v1/jobs?cursor=${Buffer.from('{"seq":"1; drop"}').toString('base64url')}`), 400, 'invalid_cursor');
    expectError(await api(t.url, 'GET', '/api/v1/jobs?status=done'), 400);
    expectError(await api(t.url, 'GET', '/api/v1/worktrees?cursor=x'), 400, 'invalid_cursor');
    expectError(await api(t.url, 'GET', '/api/v1/nowhere'), 404, 'not_found');
    expectError(await api(t.url, 'POST', '/api/v1/projects', { id: 'x', repo: '/nonexistent' }), 400);
    expectError(await api(t.url, 'POST', '/api/v1/projects', { id: 'x', repo, max_parallel: 0 }), 400);
    expectError(await api(t.url, 'GET', '/api/v1/projects/nope'), 404, 'project_not_found');
  });

  it('lists newest first with a working cursor and filters', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await post({ ...ok(), project_id: 'listing', prompt: `n${i}` })).body.id);
    for (const id of ids) await waitForJob(t.url, id, isDone);
    const first = await api(t.url, 'GET', '/api/v1/jobs?project_id=listing&limit=2');
    expect(first.body.jobs.map((j: any) => j.id)).toEqual([ids[4], ids[3]]);
    const second = await api(t.url, 'GET', `/api/v1/jobs?project_id=listing&limit=2&cursor=${first.body.next_cursor}`);
    expect(second.body.jobs.map((j: any) => j.id)).toEqual([ids[2], ids[1]]);
    const third = await api(t.url, 'GET', `/api/v1/jobs?project_id=listing&limit=2&cursor=${second.body.next_cursor}`);
    expect(third.body.jobs.map((j: any) => j.id)).toEqual([ids[0]]);
    expect(third.body.next_cursor).toBeNull();
    const succeeded = await api(t.url, 'GET', '/api/v1/jobs?project_id=listing&status=succeeded');
    expect(succeeded.body.jobs).toHaveLength(5);
    expect((await api(t.url, 'GET', '/api/v1/jobs?project_id=listing&status=failed')).body.jobs).toHaveLength(0);
  });

  it('serves OpenAPI 3.1 and the docs', async () => {
    const doc = await api(t.url, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    for (const p of ['/api/v1/jobs', '/api/v1/jobs/{id}', '/api/v1/jobs/{id}/logs', '/api/v1/queue', '/api/v1/worktrees', '/api/v1/projects', '/api/v1/health', '/api/v1/metrics']) {
      expect(Object.keys(doc.body.paths)).toContain(p);
    }
    const docs = await fetch(`${t.url}/docs/`);
    expect(docs.status).toBe(200);
    expect(await docs.text()).toMatch(/swagger/i);
  });

  it('reports health and Prometheus metrics', async () => {
    const health = await api(t.url, 'GET', '/api/v1/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: 'ok', checks: { database: 'ok', git: 'ok', memory_service: 'disabled' } });
    expect(typeof health.body.version).toBe('string');
    const job = await post(ok());
    await waitForJob(t.url, job.body.id, isDone);
    const metrics = await fetch(`${t.url}/api/v1/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await metrics.text();
    expect(text).toMatch(/^autobuild_jobs\{status="succeeded"\} [1-9]/m);
    expect(text).toMatch(/^autobuild_queue_depth\{priority="critical"\} 0/m);
    expect(text).toMatch(/^autobuild_jobs_running 0/m);
    expect(text).toMatch(/^autobuild_worktrees_active 0/m);
    expect(text).toMatch(/^autobuild_job_duration_seconds_count\{status="succeeded"\} [1-9]/m);
    expect(text).toMatch(/^autobuild_http_request_duration_seconds_bucket\{.*route="\/api\/v1\/jobs\/:id"/m);
  });
});

describe('auth', () => {
  let t: TestOrchestrator;
  beforeAll(async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_API_TOKEN: 'sekret-token-123' } });
  });
  afterAll(async () => t.stop());

  it('requires the bearer token everywhere except health', async () => {
    expect((await api(t.url, 'GET', '/api/v1/health')).status).toBe(200);
    for (const p of ['/api/v1/jobs', '/api/v1/queue', '/api/v1/metrics', '/openapi.json', '/api/v1/worktrees']) {
      const res = await api(t.url, 'GET', p);
      expectError(res, 401, 'unauthorized');
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
    }
    expectError(await api(t.url, 'GET', '/api/v1/jobs', undefined, { authorization: 'Bearer wrong' }), 401);
    expectError(await api(t.url, 'GET', '/api/v1/jobs', undefined, { authorization: 'Basic sekret-token-123' }), 401);
    expectError(await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'p', prompt: 'x', repo: '/tmp' }), 401);
    const good = await api(t.url, 'GET', '/api/v1/jobs', undefined, { authorization: 'Bearer sekret-token-123' });
    expect(good.status).toBe(200);
    expect(JSON.stringify(good.body)).not.toContain('sekret-token-123');
  });

  it('refuses to listen beyond loopback without a token', async () => {
    const config = loadConfig({ AUTOBUILD_HOME: tempDir(), AUTOBUILD_HOST: '0.0.0.0', ORCHESTRATOR_PORT: '0', AUTOBUILD_LOG_LEVEL: 'silent' });
    await expect(buildOrchestrator({ config, db: await sharedDb(), logger: createLogger({ level: 'silent' }), agentEnv: {} })).rejects.toThrow(/AUTOBUILD_API_TOKEN/);
  });
});

describe('memory service down', () => {
  it('runs jobs all the same, notes it in the log, and reports degraded health', async () => {
    const t = await startTestOrchestrator({ env: { MEMORY_SERVICE_URL: 'http://127.0.0.1:9' } });
    try {
      const repo = createTestRepo();
      const out = path.join(tempDir(), 'ctx');
      const job = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'p', prompt: 'x', repo, agent: { type: 'command', command: ['sh', '-c', 'cat "$AUTOBUILD_CONTEXT_FILE" > "$1"; echo done', 'sh', out] } });
      const done = await waitForJob(t.url, job.body.id, isDone);
      expect(done.status).toBe('succeeded');
      const log = await api(t.url, 'GET', `/api/v1/jobs/${done.id}/logs`);
      expect(log.body).toMatch(/memory context unavailable: could not reach the memory service/);
      expect(readFileSync(out, 'utf8')).toBe('');
      const health = await api(t.url, 'GET', '/api/v1/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({ status: 'degraded', checks: { memory_service: 'unreachable' } });
    } finally {
      await t.stop();
    }
  });
});

describe('configuration', () => {
  it('reads a config file, lets the environment win, and rejects bad values clearly', () => {
    const home = tempDir();
    writeFileSync(path.join(home, 'config.json'), JSON.stringify({ AUTOBUILD_MAX_PARALLEL: 3, ORCHESTRATOR_PORT: 9000 }));
    const config = loadConfig({ AUTOBUILD_HOME: home, ORCHESTRATOR_PORT: '9100' });
    expect(config.maxParallel).toBe(3);
    expect(config.orchestratorPort).toBe(9100);
    expect(() => loadConfig({ AUTOBUILD_HOME: home, AUTOBUILD_MAX_PARALLEL: 'many' })).toThrow(/AUTOBUILD_MAX_PARALLEL must be a whole number/);
    expect(() => loadConfig({ AUTOBUILD_HOME: home, MEMORY_SERVICE_URL: 'not a url' })).toThrow(/MEMORY_SERVICE_URL must be a URL/);
    expect(() => loadConfig({ AUTOBUILD_HOME: home, AUTOBUILD_PGLITE_SHARED_BUFFERS_MB: '1e9' })).toThrow(/AUTOBUILD_PGLITE_SHARED_BUFFERS_MB must be a whole number from 16 to 1024/);
    expect(loadConfig({ AUTOBUILD_HOME: home, AUTOBUILD_PGLITE_SHARED_BUFFERS_MB: '256' }).pgliteSharedBuffersMb).toBe(256);
    expect(loadConfig({ AUTOBUILD_HOME: home }).pgliteSharedBuffersMb).toBeGreaterThanOrEqual(128);
  });
});
