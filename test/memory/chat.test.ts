// POST /api/v1/insights/chat over a small indexed project, with the real @anthropic-ai/sdk talking
// to the fake Anthropic server: grounded prompt and history, JSON and SSE, the no-key answer, the
// model's failures (429 with Retry-After, 529, 401, a hang past the timeout) as 429/503, bad input,
// unknown and empty projects, and /health's llm check.
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { registerChatRoute } from '../../src/memory/api/chatRoute.js';
import { conversation } from '../../src/memory/insights/chat.js';
import { createHttpApp, type HttpApp } from '../../src/platform/http/app.js';
import { createLlm } from '../../src/platform/llm.js';
import { createLogger } from '../../src/platform/logger.js';
import { apiError, contentText, startFakeAnthropic, text, type FakeAnthropic, type FakeScript } from '../fakes/anthropicServer.js';
import { api } from '../support/orchestrator.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';

const KEY = 'sk-ant-test-secret-key-123';
const MODEL = 'claude-test-model';

const FILES = {
  'src/billing/invoice.ts': [
    "import { roundCents } from './money.js';",
    '',
    '/** The total of an invoice: the lines, less the discount, plus VAT. */',
    'export function computeInvoiceTotal(lines: Array<{ price: number; quantity: number }>, discountRate: number, vatRate: number): number {',
    '  const subtotal = lines.reduce((sum, line) => sum + line.price * line.quantity, 0);',
    '  const discounted = subtotal * (1 - discountRate);',
    '  return roundCents(discounted * (1 + vatRate));',
    '}',
    '',
  ].join('\n'),
  'src/billing/money.ts': ['/** Rounds to whole cents, half away from zero. */', 'export function roundCents(amount: number): number {', '  return Math.sign(amount) * Math.round(Math.abs(amount) * 100) / 100;', '}', ''].join('\n'),
  'src/auth/session.ts': [
    'export interface Session { userId: string; expiresAt: number }',
    '',
    'export function sessionExpired(session: Session, now = Date.now()): boolean {',
    '  return session.expiresAt <= now;',
    '}',
    '',
  ].join('\n'),
  'README.md': '# Shop\n\nA small shop backend: billing and sessions.\n',
};

let script: FakeScript = () => ({ content: [text('unused')] });
let fake: FakeAnthropic;
let withKey: TestMemory;
let noKey: TestMemory;

beforeAll(async () => {
  fake = await startFakeAnthropic((body, index) => script(body, index));
  withKey = await startTestMemory({ env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: fake.url, AUTOBUILD_LLM_MODEL: MODEL } });
  noKey = await startTestMemory({ env: { ANTHROPIC_BASE_URL: fake.url, AUTOBUILD_LLM_MODEL: MODEL }, reset: false });
  const files = Object.entries(FILES).map(([path, content]) => ({ path, content }));
  expect((await api(withKey.url, 'POST', '/api/v1/index/files', { project_id: 'shop', files })).status).toBe(200);
  expect((await api(withKey.url, 'POST', '/api/v1/index/files', { project_id: 'empty', files: [] })).status).toBe(200);
}, 60_000);

afterAll(async () => {
  await withKey?.stop();
  await noKey?.stop();
  await fake?.close();
});

const chat = (base: string, body: Record<string, unknown>, headers: Record<string, string> = {}) => api(base, 'POST', '/api/v1/insights/chat', body, headers);

function systemText(system: unknown): string {
  if (typeof system === 'string') return system;
  return Array.isArray(system) ? system.map((block: { text?: string }) => block.text ?? '').join('\n') : '';
}

interface SseEvent {
  event: string;
  data: any;
}

async function chatStream(base: string, body: Record<string, unknown>): Promise<{ status: number; contentType: string; events: SseEvent[]; raw: string; headers: Headers }> {
  const response = await fetch(`${base}/api/v1/insights/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(20_000),
  });
  const raw = await response.text();
  const events: SseEvent[] = [];
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for (const block of raw.split('\n\n')) {
      if (!block.trim()) continue;
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => line.slice(6))
        .join('\n');
      events.push({ event, data: JSON.parse(data) });
    }
  }
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', events, raw, headers: response.headers };
}

describe('with a model', () => {
  it('answers through the SDK with the retrieved passages and the history, in order', async () => {
    const before = fake.messages().length;
    script = () => ({ content: [text('computeInvoiceTotal applies the discount, then VAT (src/billing/invoice.ts:4-8).')] });
    const history = [
      { role: 'user', content: 'What does this project do?' },
      { role: 'assistant', content: 'It is a small shop backend with billing and sessions.' },
    ];
    const res = await chat(withKey.url, { project_id: 'shop', message: 'How is computeInvoiceTotal calculated?', conversation_history: history });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ response: 'computeInvoiceTotal applies the discount, then VAT (src/billing/invoice.ts:4-8).', model: MODEL });
    expect(res.body.sources.length).toBeGreaterThan(0);
    expect(res.body.sources[0]).toMatchObject({ path: 'src/billing/invoice.ts' });
    for (const source of res.body.sources) expect(Object.keys(source).sort()).toEqual(['end_line', 'path', 'start_line']);

    const sent = fake.messages().slice(before);
    expect(sent).toHaveLength(1);
    const request = sent[0]!;
    expect(request.model).toBe(MODEL);
    expect(request.stream).toBeFalsy();
    const system = systemText(request.system);
    expect(system).toContain('## src/billing/invoice.ts');
    expect(system).toContain('const discounted = subtotal * (1 - discountRate);');
    expect(system).toMatch(/Cite the passages/);
    expect(request.messages.map((m) => [m.role, contentText(m.content)])).toEqual([
      ['user', 'What does this project do?'],
      ['assistant', 'It is a small shop backend with billing and sessions.'],
      ['user', 'How is computeInvoiceTotal calculated?'],
    ]);
    // The key went out in the SDK's auth header (x-api-key or Authorization, redacted in the record), never in the body.
    const recorded = fake.requests.filter((r) => r.path.startsWith('/v1/messages')).at(-1)!;
    expect(recorded.headers['x-api-key'] ?? recorded.headers.authorization).toBe('[redacted]');
    expect(JSON.stringify(recorded.body)).not.toContain(KEY);
  });

  it('tells the model the project\'s memories that speak to the question, and only those', async () => {
    const decision = await api(withKey.url, 'POST', '/api/v1/memory', { project_id: 'shop', type: 'decision', content: 'Invoice totals round to whole cents after VAT, never before the discount.' });
    const unrelated = await api(withKey.url, 'POST', '/api/v1/memory', { project_id: 'shop', type: 'insight', content: 'Session cookies expire after thirty minutes of inactivity.' });
    expect([decision.status, unrelated.status]).toEqual([201, 201]);
    try {
      const before = fake.messages().length;
      script = () => ({ content: [text('They round after VAT.')] });
      expect((await chat(withKey.url, { project_id: 'shop', message: 'When do invoice totals round to cents?' })).status).toBe(200);
      const system = systemText(fake.messages()[before]!.system);
      expect(system).toContain('<memories>');
      expect(system).toContain(`memory ${decision.body.id}`);
      expect(system).toContain('Invoice totals round to whole cents after VAT');
      expect(system).not.toContain('Session cookies expire');

      const plain = await chat(noKey.url, { project_id: 'shop', message: 'When do invoice totals round to cents?' });
      expect(plain.body.response).toMatch(/^No language model is configured/);
      expect(plain.body.response).toContain('Invoice totals round to whole cents after VAT');
      expect(plain.body.response).not.toContain('Session cookies expire');
    } finally {
      await api(withKey.url, 'DELETE', `/api/v1/memory/${decision.body.id}`);
      await api(withKey.url, 'DELETE', `/api/v1/memory/${unrelated.body.id}`);
    }
  });

  it('a follow-up finds its subject through the earlier user turn', async () => {
    const before = fake.messages().length;
    script = () => ({ content: [text('It rounds to whole cents.')] });
    const res = await chat(withKey.url, {
      project_id: 'shop',
      message: 'and what does the rounding helper do?',
      conversation_history: [
        { role: 'user', content: 'Tell me about computeInvoiceTotal' },
        { role: 'assistant', content: 'It totals invoice lines.' },
      ],
    });
    expect(res.status).toBe(200);
    expect(res.body.sources.map((s: any) => s.path)).toContain('src/billing/invoice.ts');
    expect(systemText(fake.messages()[before]!.system)).toContain('computeInvoiceTotal');
  });

  it('streams over SSE: sources first, the deltas, then done; the text is the model\'s', async () => {
    const before = fake.messages().length;
    const answer = 'Sessions expire when expiresAt is not after now: see src/auth/session.ts:3-5.';
    script = () => ({ content: [text(answer)] });
    const res = await chatStream(withKey.url, { project_id: 'shop', message: 'When does a session expire? sessionExpired' });
    expect(res.status).toBe(200);
    expect(res.contentType).toContain('text/event-stream');
    const names = res.events.map((e) => e.event);
    expect(names[0]).toBe('sources');
    expect(names.at(-1)).toBe('done');
    expect(names.slice(1, -1).every((name) => name === 'delta')).toBe(true);
    expect(names.filter((name) => name === 'delta').length).toBeGreaterThan(1);
    expect(res.events.filter((e) => e.event === 'delta').map((e) => e.data.text).join('')).toBe(answer);
    expect(res.events[0]!.data.sources.map((s: any) => s.path)).toContain('src/auth/session.ts');
    expect(res.events.at(-1)!.data).toEqual({ model: MODEL });
    expect(fake.messages()[before]!.stream).toBe(true);
  });

  it('an empty index: the model is told nothing matched, and no sources come back', async () => {
    const before = fake.messages().length;
    script = () => ({ content: [text('The index has nothing on that.')] });
    const res = await chat(withKey.url, { project_id: 'empty', message: 'How are invoices totalled?' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ response: 'The index has nothing on that.', sources: [], model: MODEL });
    expect(systemText(fake.messages()[before]!.system)).toContain('no passages');
  });

  it('a 429 from the model is a 429 with its Retry-After (JSON and before any SSE)', async () => {
    script = () => apiError(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '7', 'x-should-retry': 'false' });
    const res = await chat(withKey.url, { project_id: 'shop', message: 'invoice total' });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(res.body.error).toMatchObject({ code: 'rate_limited' });
    const streamed = await chatStream(withKey.url, { project_id: 'shop', message: 'invoice total' });
    expect(streamed.status).toBe(429);
    expect(streamed.headers.get('retry-after')).toBe('7');
    expect(JSON.parse(streamed.raw).error.code).toBe('rate_limited');
  });

  it('an overloaded model (529, retried by the SDK) is a 503', async () => {
    const before = fake.messages().length;
    script = () => apiError(529, 'overloaded_error', 'Overloaded', { 'retry-after': '0' });
    const started = Date.now();
    const res = await chat(withKey.url, { project_id: 'shop', message: 'invoice total' });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'dependency_unavailable' });
    expect(res.body.error.message).toMatch(/overloaded/);
    expect(fake.messages().length - before).toBe(3); // the first try and two retries
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('a model error mid-stream is an error event with the contract\'s body, then the end', async () => {
    script = () => ({ content: [text('Invoices are totalled by computeInvoiceTotal.')], streamError: { type: 'overloaded_error', message: 'Overloaded' } });
    const res = await chatStream(withKey.url, { project_id: 'shop', message: 'invoice total' });
    expect(res.status).toBe(200);
    expect(res.events.map((e) => e.event)).toEqual(['sources', 'delta', 'error']);
    expect(res.events[2]!.data.error).toMatchObject({ code: 'dependency_unavailable' });
  });

  it('a rejected key is a 503 that never echoes the key', async () => {
    script = () => apiError(401, 'authentication_error', 'invalid x-api-key');
    const res = await chat(withKey.url, { project_id: 'shop', message: 'invoice total' });
    expect(res.status).toBe(503);
    expect(res.body.error.message).toMatch(/rejected the API key/);
    expect(JSON.stringify(res.body)).not.toContain(KEY);
  });
});

describe('a model that hangs', () => {
  let app: HttpApp;
  let base: string;
  beforeAll(async () => {
    app = await createHttpApp({
      title: 'chat',
      version: 'test',
      description: 'chat with a short model timeout',
      logger: createLogger({ level: 'silent' }),
      apiToken: undefined,
      bodyLimitBytes: 1024 * 1024,
      publicPaths: [],
      registry: new Registry(),
    });
    const llm = createLlm({ apiKey: KEY, baseUrl: fake.url, model: MODEL }, { timeoutMs: 400, maxRetries: 1 });
    registerChatRoute(app, { search: withKey.memory.search, llm });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => app?.close());

  it('is a 503 within a bounded time, JSON and SSE alike', async () => {
    script = () => new Promise(() => undefined);
    const before = fake.messages().length;
    let started = Date.now();
    const res = await chat(base, { project_id: 'shop', message: 'invoice total' });
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'dependency_unavailable' });
    expect(res.body.error.message).toMatch(/did not answer within/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(fake.messages().length - before).toBe(2); // one retry, then give up

    started = Date.now();
    const streamed = await chatStream(base, { project_id: 'shop', message: 'invoice total' });
    expect(streamed.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('a stream that stalls mid-answer ends with an error event within the timeout', async () => {
    script = () => ({ content: [text('Invoices are totalled by computeInvoiceTotal.')], streamStall: true });
    const started = Date.now();
    const res = await chatStream(base, { project_id: 'shop', message: 'invoice total' });
    expect(res.status).toBe(200);
    expect(res.events.map((e) => e.event)).toEqual(['sources', 'delta', 'error']);
    expect(res.events[2]!.data.error).toMatchObject({ code: 'dependency_unavailable' });
    expect(res.events[2]!.data.error.message).toMatch(/stopped sending/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('without a key', () => {
  it('says plainly that no model is configured, then lists the passages; the model is never called', async () => {
    const before = fake.requests.length;
    const res = await chat(noKey.url, { project_id: 'shop', message: 'How is computeInvoiceTotal calculated?' });
    expect(res.status).toBe(200);
    expect(res.body.model).toBeNull();
    expect(res.body.response).toMatch(/^No language model is configured/);
    expect(res.body.response).toContain('ANTHROPIC_API_KEY');
    expect(res.body.response).toMatch(/src\/billing\/invoice\.ts:\d+-\d+/);
    expect(res.body.response).toContain('const discounted = subtotal * (1 - discountRate);');
    expect(res.body.sources[0]).toMatchObject({ path: 'src/billing/invoice.ts' });
    expect(fake.requests.length).toBe(before);
  });

  it('streams the same answer as SSE', async () => {
    const json = await chat(noKey.url, { project_id: 'shop', message: 'sessionExpired' });
    const res = await chatStream(noKey.url, { project_id: 'shop', message: 'sessionExpired' });
    expect(res.events.map((e) => e.event)).toEqual(['sources', 'delta', 'done']);
    expect(res.events[1]!.data.text).toBe(json.body.response);
    expect(res.events[0]!.data.sources).toEqual(json.body.sources);
    expect(res.events[2]!.data).toEqual({ model: null });
  });

  it('an empty index: an honest answer with no sources', async () => {
    const res = await chat(noKey.url, { project_id: 'empty', message: 'How are invoices totalled?' });
    expect(res.status).toBe(200);
    expect(res.body.sources).toEqual([]);
    expect(res.body.response).toMatch(/^No language model is configured/);
    expect(res.body.response).toMatch(/no passages matching/);
  });
});

describe('bad input and unknown projects', () => {
  const cases: Array<[string, unknown, string]> = [
    ['no message', { project_id: 'shop' }, 'message'],
    ['a blank message', { project_id: 'shop', message: '   ' }, 'message'],
    ['a bad project id', { project_id: '../etc', message: 'hi' }, 'project_id'],
    ['an unknown role', { project_id: 'shop', message: 'hi', conversation_history: [{ role: 'system', content: 'x' }] }, 'conversation_history.0.role'],
    ['too long a history', { project_id: 'shop', message: 'hi', conversation_history: Array.from({ length: 51 }, () => ({ role: 'user', content: 'x' })) }, 'conversation_history'],
    ['an unknown field', { project_id: 'shop', message: 'hi', temperature: 2 }, 'temperature'],
    ['too long a message', { project_id: 'shop', message: 'x'.repeat(20_001) }, 'message'],
  ];
  for (const [name, body, field] of cases) {
    it(`${name} is a 400 naming ${field}`, async () => {
      const res = await chat(withKey.url, body as Record<string, unknown>);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    });
  }

  it('malformed JSON is a 400', async () => {
    const res = await chat(withKey.url, '{"project_id": ' as unknown as Record<string, unknown>);
    expect(res.status).toBe(400);
  });

  it('an unknown project is a 404, JSON and SSE, without calling the model', async () => {
    const before = fake.requests.length;
    const res = await chat(withKey.url, { project_id: 'nope', message: 'hi' });
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('project_not_found');
    const streamed = await chatStream(withKey.url, { project_id: 'nope', message: 'hi' });
    expect(streamed.status).toBe(404);
    expect(fake.requests.length).toBe(before);
  });
});

describe('conversation', () => {
  it('merges same-role turns and starts with the user', () => {
    expect(
      conversation(
        [
          { role: 'assistant', content: 'a' },
          { role: 'user', content: 'b' },
          { role: 'user', content: 'c' },
        ],
        'd',
      ),
    ).toEqual([
      { role: 'user', content: '(earlier in this conversation)' },
      { role: 'assistant', content: 'a' },
      { role: 'user', content: 'b\n\nc\n\nd' },
    ]);
  });
});

describe('/health llm check', () => {
  it('names the model with a key, "disabled" without; it does not call the API', async () => {
    const before = fake.requests.length;
    const on = await api(withKey.url, 'GET', '/health');
    expect(on.body.checks.llm).toContain(MODEL);
    const off = await api(noKey.url, 'GET', '/health');
    expect(off.body.checks.llm).toBe('disabled');
    expect(fake.requests.length).toBe(before);
  });
});

describe('autobuild chat', () => {
  async function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    let stdout = '';
    let stderr = '';
    const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
    try {
      await main(['node', 'autobuild', 'chat', ...args]);
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
    const code = typeof process.exitCode === 'number' ? process.exitCode : 0;
    process.exitCode = undefined;
    return { code, stdout, stderr };
  }

  it('streams the answer to stdout, then the sources', async () => {
    const answer = 'roundCents rounds half away from zero (src/billing/money.ts:1-4).';
    script = () => ({ content: [text(answer)] });
    const res = await runCli(['--project', 'shop', '--memory-url', withKey.url, 'what', 'does', 'roundCents', 'do?']);
    expect(res.code).toBe(0);
    expect(res.stdout.startsWith(`${answer}\n`)).toBe(true);
    expect(res.stdout).toMatch(/Sources:\n {2}src\/billing\/money\.ts:\d+-\d+/);
  });

  it('--json prints the JSON body', async () => {
    const res = await runCli(['--project', 'shop', '--memory-url', noKey.url, '--json', 'sessionExpired']);
    expect(res.code).toBe(0);
    const body = JSON.parse(res.stdout);
    expect(body.model).toBeNull();
    expect(body.response).toMatch(/^No language model is configured/);
  });

  it('a failed request exits non-zero with the API\'s message', async () => {
    const res = await runCli(['--project', 'nope', '--memory-url', withKey.url, 'hi']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/project "nope" has no index.*\[project_not_found, HTTP 404\]/);
  });
});
