// POST /api/v1/memory with a language model judging the close neighbours the lexical rules call
// distinct: the real @anthropic-ai/sdk talking to the fake Anthropic server. The model's "same"
// merges (200, same id), "contradicts" supersedes, "different" changes nothing; its failures (500,
// 529, 429, a hang past the timeout, an answer that is not the JSON asked for, an unknown id) leave
// the rules' verdict (201), logged without the memories' contents; without a key, and when the
// rules already merge, the model is not asked.
import { rmSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JUDGE_SYSTEM } from '../../src/memory/memories/llmJudge.js';
import { buildMemory, type MemoryService } from '../../src/memory/memory.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { apiError, contentText, startFakeAnthropic, text, type FakeAnthropic, type FakeScript, type MessagesRequest } from '../fakes/anthropicServer.js';
import { api } from '../support/orchestrator.js';
import { tempDir } from '../support/repo.js';
import { MEMORY_TEST_ENV, resetMemoryDb, sharedDb } from './memoryKit.js';

const KEY = 'sk-ant-judge-secret-key-456';
const MODEL = 'claude-judge-model';
/** Short, so the hang case is quick; the fake's normal answers take milliseconds. */
const JUDGE_TIMEOUT_MS = 1500;
const PROJECT = 'claims';

// A paraphrase the rules keep apart: only understanding says both mean "the tests need MariaDB".
const FIXTURES = 'The claims intake test fixtures open a connection to MariaDB on startup, so have one running';
const KEEP_MARIADB = 'Keep MariaDB around while you iterate on claims intake; its tests hit it for real';

let script: FakeScript = () => ({ content: [text('{}')] });
let fake: FakeAnthropic;
const logLines: string[] = [];

interface Service {
  url: string;
  memory: MemoryService;
  home: string;
}
let withKey: Service;
let noKey: Service;

async function start(env: Record<string, string>): Promise<Service> {
  const home = tempDir('autobuild-judge-home-');
  const config = loadConfig({ ...MEMORY_TEST_ENV, AUTOBUILD_HOME: home, ANTHROPIC_BASE_URL: fake.url, AUTOBUILD_LLM_MODEL: MODEL, ...env });
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString('utf8'));
      done();
    },
  });
  const logger = createLogger({ level: 'warn', destination });
  const memory = await buildMemory({ config, db: await sharedDb(), logger, memoryJudgeTimeoutMs: JUDGE_TIMEOUT_MS });
  return { url: await memory.start(), memory, home };
}

beforeAll(async () => {
  fake = await startFakeAnthropic((body, index) => script(body, index));
  withKey = await start({ ANTHROPIC_API_KEY: KEY });
  noKey = await start({});
}, 60_000);

afterAll(async () => {
  for (const service of [withKey, noKey]) {
    await service?.memory.stop();
    if (service) rmSync(service.home, { recursive: true, force: true });
  }
  await fake?.close();
});

beforeEach(async () => {
  await resetMemoryDb(await sharedDb());
  script = () => ({ content: [text('{}')] });
  logLines.length = 0;
});

const remember = (base: string, content: string | Record<string, unknown>, type = 'insight') => api(base, 'POST', '/api/v1/memory', { project_id: PROJECT, type, content });
const live = async (base: string) => (await api(base, 'GET', `/api/v1/memory/${PROJECT}`)).body.memories as Array<{ id: string; content: unknown; seen_count: number }>;
const recall = async (base: string, query: string) => (await api(base, 'GET', `/api/v1/memory/${PROJECT}?query=${encodeURIComponent(query)}`)).body.memories as Array<{ id: string }>;
const sentSince = (before: number) => fake.messages().slice(before);

/** The JSON object of the judge's user message: the new text and the candidates. */
function judgeInput(request: MessagesRequest): { new: string; existing: Array<{ id: string; text: string }> } {
  const [message] = request.messages;
  return JSON.parse(contentText(message!.content)) as { new: string; existing: Array<{ id: string; text: string }> };
}

/** Answers every candidate of the request with the same verdict. */
const everyCandidate = (verdict: string): FakeScript => (body) => ({
  content: [text(JSON.stringify(Object.fromEntries(judgeInput(body).existing.map((candidate) => [candidate.id, verdict]))))],
});

describe('the model judges what the rules call distinct', () => {
  it('merges a paraphrase the model calls the same fact (200, same id), after one request naming both texts and the id', async () => {
    const first = await remember(withKey.url, FIXTURES);
    expect(first.status).toBe(201);
    const before = fake.messages().length;
    script = everyCandidate('same');

    const second = await remember(withKey.url, KEEP_MARIADB);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ id: first.body.id, merged_into: first.body.id, content: KEEP_MARIADB, seen_count: 2, supersedes: [] });
    expect(await live(withKey.url)).toHaveLength(1);

    const sent = sentSince(before);
    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect(request).toMatchObject({ model: MODEL, temperature: 0 });
    expect(request.max_tokens).toBeLessThanOrEqual(500);
    expect(request.system).toBe(JUDGE_SYSTEM);
    const input = judgeInput(request);
    expect(input.new).toBe(KEEP_MARIADB);
    expect(input.existing).toEqual([{ id: first.body.id, text: FIXTURES }]);
    expect(JSON.stringify(request)).not.toContain(KEY);
  });

  it('supersedes what the model says the new memory contradicts: out of recall, kept as history', async () => {
    const old = await remember(withKey.url, FIXTURES);
    script = everyCandidate('contradicts');
    const replacing = await remember(withKey.url, 'Claims intake tests no longer need a database: they run against an in-memory MariaDB substitute now');
    expect(replacing.status).toBe(201);
    expect(replacing.body.supersedes).toEqual([old.body.id]);

    expect((await recall(withKey.url, 'MariaDB claims intake tests')).map((memory) => memory.id)).toEqual([replacing.body.id]);
    const history = await api(withKey.url, 'GET', `/api/v1/memory/${PROJECT}?include_superseded=true`);
    expect(history.body.memories.find((memory: { id: string }) => memory.id === old.body.id)).toMatchObject({ superseded_by: replacing.body.id, content: FIXTURES });
  });

  it('stores a memory the model calls different as new (201), changing nothing else', async () => {
    const old = await remember(withKey.url, FIXTURES);
    const before = fake.messages().length;
    script = everyCandidate('different');
    const other = await remember(withKey.url, KEEP_MARIADB);
    expect(other.status).toBe(201);
    expect(other.body.supersedes).toEqual([]);
    expect(sentSince(before)).toHaveLength(1);
    const memories = await live(withKey.url);
    expect(memories.map((memory) => memory.id).sort()).toEqual([old.body.id, other.body.id].sort());
    expect(memories.find((memory) => memory.id === old.body.id)).toMatchObject({ content: FIXTURES, seen_count: 1 });
  });

  it('merges into one memory only, the nearest the model called the same', async () => {
    const a = await remember(withKey.url, FIXTURES);
    const b = await remember(withKey.url, 'Production claims intake runs on MariaDB 10.11, managed by the platform team');
    expect(b.status).toBe(201);
    const before = fake.messages().length;
    script = everyCandidate('same');
    const merged = await remember(withKey.url, KEEP_MARIADB);
    expect(merged.status).toBe(200);
    expect([a.body.id, b.body.id]).toContain(merged.body.id);
    // Both were asked about, nearest first; the nearest absorbed the new memory.
    const [request] = sentSince(before);
    const candidates = judgeInput(request!).existing.map((candidate) => candidate.id);
    expect(candidates.sort()).toEqual([a.body.id, b.body.id].sort());
    expect(merged.body.id).toBe(judgeInput(request!).existing[0]!.id);
    const memories = await live(withKey.url);
    expect(memories).toHaveLength(2);
    const untouched = memories.find((memory) => memory.id !== merged.body.id)!;
    expect(untouched.seen_count).toBe(1);
    expect([FIXTURES, b.body.content]).toContain(untouched.content);
  });
});

describe('a model that fails leaves the rules to decide', () => {
  const failures: Array<[string, FakeScript]> = [
    ['an API error (500)', () => apiError(500, 'api_error', 'internal error')],
    ['an overload (529)', () => apiError(529, 'overloaded_error', 'overloaded')],
    ['a rate limit (429)', () => apiError(429, 'rate_limit_error', 'slow down', { 'retry-after': '30' })],
    ['a hang past the timeout', async () => new Promise((resolve) => setTimeout(() => resolve({ content: [text('{}')] }), JUDGE_TIMEOUT_MS + 2500))],
    ['an answer that is not JSON', () => ({ content: [text('They look like the same fact to me.')] })],
    ['a verdict it was not offered', everyCandidate('duplicate')],
    ['an id it was not given', (body) => ({ content: [text(JSON.stringify({ [judgeInput(body).existing[0]!.id]: 'different', '00000000-0000-4000-8000-000000000000': 'same' }))] })],
  ];

  for (const [failure, answer] of failures) {
    it(`stores the memory as the rules decide (201) on ${failure}, with a warning that names no content`, async () => {
      const old = await remember(withKey.url, FIXTURES);
      const before = fake.messages().length;
      script = answer;
      const started = Date.now();
      const res = await remember(withKey.url, KEEP_MARIADB);
      expect(res.status).toBe(201);
      expect(res.body.supersedes).toEqual([]);
      // One attempt, no retries: a write does not wait out the model's troubles.
      expect(sentSince(before)).toHaveLength(1);
      expect(Date.now() - started).toBeLessThan(JUDGE_TIMEOUT_MS + 2000);
      const memories = await live(withKey.url);
      expect(memories).toHaveLength(2);
      expect(memories.find((memory) => memory.id === old.body.id)).toMatchObject({ content: FIXTURES, seen_count: 1 });

      const warnings = logLines.filter((line) => line.includes('memory judge'));
      expect(warnings).toHaveLength(1);
      for (const secret of [KEY, 'MariaDB', 'claims intake']) expect(warnings[0]).not.toContain(secret);
    }, 15_000);
  }
});

describe('the model is not asked', () => {
  it('without an API key: the rules alone decide, as before (201, no request)', async () => {
    const before = fake.requests.length;
    const old = await remember(noKey.url, FIXTURES);
    const res = await remember(noKey.url, KEEP_MARIADB);
    expect(res.status).toBe(201);
    expect(res.body.supersedes).toEqual([]);
    expect((await live(noKey.url)).find((memory) => memory.id === old.body.id)).toMatchObject({ content: FIXTURES, seen_count: 1 });
    // The rules' own verdicts still hold: a reworded repeat merges.
    const repeat = await remember(noKey.url, 'The claims intake test fixtures open a connection to MariaDB on startup, so have one running.');
    expect(repeat.status).toBe(200);
    expect(repeat.body.id).toBe(old.body.id);
    expect(fake.requests.length).toBe(before);
  });

  it('when the rules already merge the new memory into a duplicate (200, no request)', async () => {
    const old = await remember(withKey.url, FIXTURES);
    await remember(withKey.url, 'Claims intake exports are uploaded to the reports bucket every night');
    const before = fake.requests.length;
    script = everyCandidate('contradicts');
    const res = await remember(withKey.url, FIXTURES);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: old.body.id, seen_count: 2, supersedes: [] });
    expect(fake.requests.length).toBe(before);
  });

  it('when no neighbour shares a word with the new memory (201, no request)', async () => {
    await remember(withKey.url, FIXTURES);
    const before = fake.requests.length;
    const res = await remember(withKey.url, 'Release notes are drafted by the product owner on Fridays');
    expect(res.status).toBe(201);
    expect(fake.requests.length).toBe(before);
  });
});
