// /health is honest about memories: an embedding server that fails (a local server speaking the
// OpenAI wire format, answering 500) or a memory store that refuses writes (a trigger that raises, a
// read-only database) makes the service `degraded` with the reason, POST /api/v1/memory answers
// 503 with the contract's error body and stores nothing, and both recover to `ok`. Evidence comes
// from real writes and from a probe cached for a TTL, so polling /health stays cheap.
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildMemory, type MemoryService } from '../../src/memory/memory.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { startFakeEmbeddings, type FakeEmbeddings } from '../fakes/openaiEmbeddings.js';
import { api } from '../support/orchestrator.js';
import { tempDir } from '../support/repo.js';
import { MEMORY_TEST_ENV, resetMemoryDb, setReadOnly, sharedDb } from './memoryKit.js';

interface Running {
  url: string;
  memory: MemoryService;
  home: string;
}
const running: Running[] = [];

/** The memory service over the file's shared database with /health's probe TTL set (the default is 5 s). */
async function start(ttlMs: number, env: Record<string, string> = {}): Promise<string> {
  const home = tempDir('autobuild-health-home-');
  const db = await sharedDb();
  const config = loadConfig({ ...MEMORY_TEST_ENV, AUTOBUILD_HOME: home, ...env });
  const memory = await buildMemory({ config, db, logger: createLogger({ level: config.logLevel }), healthProbeTtlMs: ttlMs });
  const url = await memory.start();
  running.push({ url, memory, home });
  return url;
}

afterEach(async () => {
  for (const r of running.splice(0)) {
    await r.memory.stop();
    rmSync(r.home, { recursive: true, force: true });
  }
  const db = await sharedDb();
  await setReadOnly(db, false);
  await db.exec(`drop trigger if exists refuse_writes on memory.memories`);
  await resetMemoryDb(db);
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const health = async (url: string) => api(url, 'GET', '/health');
const remember = async (url: string, content: string) => api(url, 'POST', '/api/v1/memory', { project_id: 'p', type: 'insight', content });
async function stored(): Promise<number> {
  const [row] = await (await sharedDb()).query<{ n: number }>(`select count(*)::int as n from memory.memories`);
  return row!.n;
}

/** An OpenAI-compatible /v1/embeddings server that can be switched to answer 500. */
describe('an embedding server that fails', () => {
  let fake: FakeEmbeddings;
  let baseUrl: string;
  let failing = false;

  beforeAll(async () => {
    fake = await startFakeEmbeddings();
    baseUrl = fake.baseUrl;
    fake.intercept = () => (failing ? { status: 500, body: { error: { message: 'model server crashed: CUDA out of memory', type: 'server_error' } } } : undefined);
  });
  afterAll(async () => fake?.close());
  afterEach(() => {
    failing = false;
  });
  const openai = () => ({ EMBEDDING_PROVIDER: 'openai', EMBEDDING_MODEL: 'test-embed', OPENAI_BASE_URL: baseUrl });

  it('is degraded with the reason while embeddings fail, answers 503 to writes storing nothing, and recovers', async () => {
    const url = await start(200, openai());
    const ok = await health(url);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'ok', checks: { database: 'ok', embeddings: 'openai test-embed', memories: 'ok' } });

    failing = true;
    await sleep(250); // past the probe's TTL
    const bad = await health(url);
    expect(bad.status).toBe(200);
    expect(bad.body.status).toBe('degraded');
    expect(bad.body.checks.embeddings).toMatch(/^openai test-embed failing: .*status 500/);
    expect(bad.body.checks.memories).toBe('ok');

    const write = await remember(url, 'The staging database is reset every night');
    expect(write.status).toBe(503);
    expect(write.body.error.code).toBe('dependency_unavailable');
    expect(write.body.error.message).toMatch(/status 500/);
    expect(await stored()).toBe(0);

    failing = false;
    await sleep(250);
    expect((await health(url)).body).toMatchObject({ status: 'ok', checks: { embeddings: 'openai test-embed' } });
    expect((await remember(url, 'The staging database is reset every night')).status).toBe(201);
  });

  it('says why when the embedder cannot even load at start, and recovers once the server answers', async () => {
    failing = true;
    const url = await start(200, openai());
    const bad = await health(url);
    expect(bad.body.status).toBe('degraded');
    expect(bad.body.checks.embeddings).toMatch(/^unavailable: embedding server .* failed with status 500/);
    failing = false;
    await sleep(250);
    expect((await health(url)).body).toMatchObject({ status: 'ok', checks: { embeddings: 'openai test-embed', memories: 'ok' } });
  });

  it('probes at most once per TTL, and not at all while real writes keep the evidence fresh', async () => {
    const url = await start(60_000, openai());
    await health(url);
    const afterFirst = fake.requests.length;
    for (let i = 0; i < 5; i++) expect((await health(url)).body.status).toBe('ok');
    expect(fake.requests.length).toBe(afterFirst);

    // A real write that fails is newer than the cached probe: /health says so at once.
    failing = true;
    expect((await remember(url, 'Releases are tagged from main only')).status).toBe(503);
    const bad = await health(url);
    expect(bad.body.status).toBe('degraded');
    expect(bad.body.checks.embeddings).toMatch(/^openai test-embed failing: embedding with openai test-embed .*status 500/);
    // ... and a real write that succeeds clears it, without a probe.
    failing = false;
    expect((await remember(url, 'Releases are tagged from main only')).status).toBe(201);
    const before = fake.requests.length;
    expect((await health(url)).body.status).toBe('ok');
    expect(fake.requests.length).toBe(before);
  });
});

describe('a memory store that refuses writes', () => {
  async function refuseWrites(): Promise<void> {
    await (await sharedDb()).exec(`
      create or replace function memory.refuse_writes() returns trigger language plpgsql as $$
      begin raise exception 'memories are frozen for maintenance'; end $$;
      create trigger refuse_writes before insert or update on memory.memories for each row execute function memory.refuse_writes();`);
  }

  it('is degraded naming the database error (a trigger that raises), answers 503 storing nothing, and recovers', async () => {
    const url = await start(200);
    expect((await health(url)).body).toMatchObject({ status: 'ok', checks: { memories: 'ok', embeddings: 'hash autobuild-hash-v1-384' } });
    expect(await stored()).toBe(0); // the probe's insert was rolled back

    await refuseWrites();
    await sleep(250);
    const bad = await health(url);
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ status: 'degraded', checks: { database: 'ok', memories: 'failing: memories are frozen for maintenance', embeddings: 'hash autobuild-hash-v1-384' } });

    const write = await remember(url, 'Deploys need a green canary first');
    expect(write.status).toBe(503);
    expect(write.body).toEqual({ error: { code: 'dependency_unavailable', message: 'the memory store refused the write: memories are frozen for maintenance' } });
    expect(await stored()).toBe(0);

    await (await sharedDb()).exec(`drop trigger refuse_writes on memory.memories`);
    await sleep(250);
    expect((await health(url)).body).toMatchObject({ status: 'ok', checks: { memories: 'ok' } });
    expect((await remember(url, 'Deploys need a green canary first')).status).toBe(201);
    expect(await stored()).toBe(1);
  });

  it('is degraded in a read-only session, and a failed real write shows at once despite a cached probe', async () => {
    const url = await start(60_000);
    expect((await health(url)).body.status).toBe('ok');
    const db = await sharedDb();
    await setReadOnly(db, true);
    const write = await remember(url, 'The cache TTL is ten minutes');
    expect(write.status).toBe(503);
    expect(write.body.error.message).toMatch(/^the memory store refused the write: cannot execute INSERT in a read-only transaction/);
    const bad = await health(url);
    expect(bad.body).toMatchObject({ status: 'degraded', checks: { database: 'ok' } });
    expect(bad.body.checks.memories).toMatch(/^failing: cannot execute INSERT in a read-only transaction/);

    await setReadOnly(db, false);
    expect((await remember(url, 'The cache TTL is ten minutes')).status).toBe(201);
    expect((await health(url)).body).toMatchObject({ status: 'ok', checks: { memories: 'ok' } });
  });
});
