// Context for a task: the best chunks, adjacent ones merged, grouped by file, within max_tokens as
// counted by a real tokenizer (checked here with js-tiktoken's own cl100k_base encoder) at many
// budgets; and the project's memories and learned patterns that speak to the task, within the same
// budget, absent when they do not.
import fc from 'fast-check';
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MemoryView } from '../../src/memory/memories/memories.js';
import type { PatternView } from '../../src/memory/patterns/describe.js';
import { assembleContext, buildContext, KNOWLEDGE_SHARE } from '../../src/memory/retrieval/context.js';
import { memoryLine, MEMORIES_HEADING, patternLine, PATTERNS_HEADING } from '../../src/memory/retrieval/knowledge.js';
import type { SearchHit } from '../../src/memory/retrieval/search.js';
import { countTokens } from '../../src/memory/retrieval/tokenCount.js';
import { api } from '../support/orchestrator.js';
import { GO_SERVER, MD_GUIDE, PY_CLI, TS_CALLER, TS_SCHEDULER } from './fixtures.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';
import { outcome } from './outcomes.js';

const cl100k = getEncoding('cl100k_base');
const tokens = (text: string) => cl100k.encode(text).length;

const fn = (name: string, words: string) =>
  `export function ${name}(bucket: Bucket): number {\n${Array.from({ length: 8 }, (_, i) => `  const ${words}${i} = bucket.${words}(${i}); // quota bucket ${words}`).join('\n')}\n  return 0;\n}\n`;
// Two neighbouring functions about the same thing: their chunks merge into one span.
const QUOTA = `${fn('refillQuotaBucket', 'refill')}\n${fn('drainQuotaBucket', 'drain')}`;

let t: TestMemory;
beforeAll(async () => {
  t = await startTestMemory();
  const files = Object.entries({
    'src/jobs/claim.ts': TS_SCHEDULER,
    'src/jobs/loop.ts': TS_CALLER,
    'tools/cli.py': PY_CLI,
    'server/server.go': GO_SERVER,
    'docs/guide.md': MD_GUIDE,
    'src/quota/bucket.ts': QUOTA,
  }).map(([path, content]) => ({ path, content }));
  expect((await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'p', files })).status).toBe(200);
});
afterAll(async () => t?.stop());

const context = (body: Record<string, unknown>) => api(t.url, 'POST', '/api/v1/context', { project_id: 'p', ...body });

describe('POST /api/v1/context', () => {
  for (const max of [1, 5, 12, 20, 35, 50, 100, 200, 350, 500, 1000, 2000, 8000]) {
    it(`stays within max_tokens ${max}, counted with cl100k_base`, async () => {
      const res = await context({ task_description: 'refill the quota bucket and claim jobs from the scheduler', max_tokens: max });
      expect(res.status).toBe(200);
      const body = res.body;
      expect(body.tokens).toBeLessThanOrEqual(max);
      expect(body.tokens).toBe(tokens(body.context));
      expect(body.memories).toEqual([]);
      expect(body.patterns).toEqual([]);
      // Every source is shown under its file's heading, with its lines.
      for (const source of body.sources) {
        expect(body.context).toContain(`## ${source.path}`);
        expect(body.context).toContain(`Lines ${source.start_line}-${source.end_line}:`);
      }
      if (max >= 200) expect(body.sources.length).toBeGreaterThan(0);
      if (body.sources.length === 0) expect(body.context).toBe('');
    });
  }

  it('merges adjacent chunks of a file into one span and groups spans by file', async () => {
    const res = await context({ task_description: 'refillQuotaBucket drainQuotaBucket quota bucket', max_tokens: 4000 });
    const quota = res.body.sources.filter((s: any) => s.path === 'src/quota/bucket.ts');
    expect(quota).toEqual([{ path: 'src/quota/bucket.ts', start_line: 1, end_line: 23 }]);
    expect(res.body.context).toContain('export function refillQuotaBucket');
    expect(res.body.context).toContain('export function drainQuotaBucket');
    const headings = res.body.context.split('\n').filter((line: string) => line.startsWith('## '));
    expect(new Set(headings).size).toBe(headings.length);
    expect(headings[0]).toBe('## src/quota/bucket.ts');
    // Fenced code with the language, and the code itself unchanged.
    expect(res.body.context).toContain('```typescript\nexport function refillQuotaBucket(bucket: Bucket): number {');
  });

  it('defaults max_tokens to 2000', async () => {
    const res = await context({ task_description: 'everything about jobs, servers, the cli, quota buckets and the guide' });
    expect(res.status).toBe(200);
    expect(res.body.tokens).toBeLessThanOrEqual(2000);
    expect(res.body.tokens).toBeGreaterThan(500);
  });

  it('a project without an index has an empty context', async () => {
    const res = await context({ project_id: 'nobody', task_description: 'anything' });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ context: '', tokens: 0, sources: [], memories: [], patterns: [] });
  });
});

describe('buildContext', () => {
  const hit = (path: string, start: number, lines: string[], prefix: string[] = []): SearchHit => ({
    path,
    start_line: start,
    end_line: start + lines.length - 1,
    language: 'typescript',
    kind: 'function',
    content: [...prefix, ...lines].join('\n'),
    score: 1,
  });
  const body = (n: number, word: string) => Array.from({ length: n }, (_, i) => `  ${word}(${i}); // ${word} line ${i}`);

  it('cuts the best chunk to the lines that fit when nothing fits whole', () => {
    const big = hit('a.ts', 10, body(200, 'step'));
    for (const max of [30, 60, 120]) {
      const built = buildContext([big], max);
      expect(built.tokens).toBeLessThanOrEqual(max);
      expect(built.tokens).toBe(tokens(built.context));
      expect(built.sources).toHaveLength(1);
      expect(built.sources[0]!.start_line).toBe(10);
      expect(built.sources[0]!.end_line).toBeLessThan(209);
    }
    expect(buildContext([big], 3)).toEqual({ context: '', tokens: 0, sources: [] });
  });

  it('merges overlapping windows (keeping the first one\'s header lines) and skips chunks that do not fit for smaller ones', () => {
    const first = hit('a.ts', 1, body(20, 'alpha'), ['class Holder {']);
    const overlapping = hit('a.ts', 15, body(20, 'alpha').slice(14).concat(body(14, 'beta')), ['class Holder {']);
    const huge = hit('b.ts', 1, body(400, 'gamma'));
    const small = hit('c.ts', 1, body(3, 'delta'));
    const built = buildContext([first, overlapping, huge, small], 700);
    expect(built.sources).toEqual([
      { path: 'a.ts', start_line: 1, end_line: 34 },
      { path: 'c.ts', start_line: 1, end_line: 3 },
    ]);
    expect(built.context.match(/class Holder \{/g)).toHaveLength(1);
    expect(built.tokens).toBeLessThanOrEqual(700);
  });

  it('assembles a large budget from many hits quickly, never over it', () => {
    const hits = Array.from({ length: 100 }, (_, i) => hit(`src/file${i % 40}.ts`, 1 + Math.floor(i / 40) * 90, body(80, `word${i}`)));
    const started = performance.now();
    const built = buildContext(hits, 100_000);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(built.tokens).toBe(tokens(built.context));
    expect(built.tokens).toBeLessThanOrEqual(100_000);
    expect(built.sources.length).toBeGreaterThan(80); // 100 hits of 80 lines are more than 100k tokens
    expect(built.tokens).toBeGreaterThan(95_000);
    for (const max of [1000, 4321, 20_000]) expect(buildContext(hits, max).tokens).toBeLessThanOrEqual(max);
  });

  it('chooses a fence longer than any backtick run in the code', () => {
    const built = buildContext([hit('doc.ts', 1, ['const md = "```js";', 'const x = 1;'])], 200);
    expect(built.context).toContain('````typescript\nconst md = "```js";');
  });
});

describe('memories and patterns in the context', () => {
  const INVOICE = 'src/billing/invoice.ts';
  const INVOICE_TEST = 'src/billing/invoice.test.ts';
  const shop = (body: Record<string, unknown>) => context({ project_id: 'shop', ...body });
  const remember = async (body: Record<string, unknown>) => {
    const res = await api(t.url, 'POST', '/api/v1/memory', { project_id: 'shop', ...body });
    expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
    return res.body;
  };
  let invoiceLesson: any;
  let deployLesson: any;
  let passwordLesson: any;

  beforeAll(async () => {
    const files = {
      [INVOICE]: 'export function renderInvoice(lines: InvoiceLine[]): string {\n  const total = lines.reduce((sum, line) => sum + line.amount, 0);\n  return [...lines.map(formatLine), `Total: ${total}`].join("\\n");\n}\n',
      [INVOICE_TEST]: 'import { renderInvoice } from "./invoice.js";\n\ntest("renders the total", () => {\n  expect(renderInvoice([{ amount: 2 }])).toContain("Total: 2");\n});\n',
      'src/auth/password.ts': 'export function verifyPassword(hash: string, candidate: string): boolean {\n  // constant-time comparison of the derived password key\n  return timingSafeCompare(hash, derivePassword(candidate));\n}\n',
      'src/auth/hash.ts': 'export function derivePassword(password: string): string {\n  return scryptSync(password, salt, 64).toString("hex");\n}\n',
      'src/auth/session.ts': 'export function login(user: string, password: string): Session {\n  if (!verifyPassword(lookup(user), password)) throw new Error("bad password");\n  return newSession(user);\n}\n',
      'templates/footer.txt': 'Acme Ltd, 1 Main Street\n',
    };
    const indexed = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'shop', files: Object.entries(files).map(([path, content]) => ({ path, content })) });
    expect(indexed.status).toBe(200);
    invoiceLesson = await remember({ type: 'insight', content: 'Invoice amounts are integer cents; format an invoice total with formatCents, never toFixed' });
    deployLesson = await remember({ type: 'decision', content: 'Deploys go out on Tuesdays after the release meeting' });
    passwordLesson = await remember({ type: 'insight', content: 'Password hashes use scrypt; compare a password hash with timingSafeEqual, never ===' });
    // Two successful invoice tasks that changed the invoice and its test (lint failed both times), a failed one.
    await remember(outcome({ project: 'shop', title: 'Add invoice footer', status: 'succeeded', files: [INVOICE, INVOICE_TEST, 'templates/footer.txt'], qa: { lint: false, test: true } }));
    await remember(outcome({ project: 'shop', title: 'Invoice totals in euros', status: 'succeeded', files: [INVOICE, INVOICE_TEST], qa: { lint: false, test: true } }));
    await remember(outcome({ project: 'shop', title: 'Migrate the billing tables', status: 'failed', agent: 'codex', files: ['db/007.sql'] }));
  });

  const describeOf = (patterns: any[]) => patterns.map((p) => `${p.type} ${JSON.stringify(p.type === 'co_change' ? p.content.paths : p.type === 'task_files' ? [p.content.term, p.content.path] : p.content.check)}`).sort();

  it('brings the memories and patterns a task needs, rendered within the budget', async () => {
    const res = await shop({ task_description: 'Add a VAT line to every invoice', max_tokens: 2000 });
    expect(res.status).toBe(200);
    const body = res.body;
    expect(body.tokens).toBeLessThanOrEqual(2000);
    expect(body.tokens).toBe(tokens(body.context));
    const ids = body.memories.map((m: any) => m.id);
    expect(ids).toContain(invoiceLesson.id);
    expect(ids).not.toContain(deployLesson.id);
    expect(ids).not.toContain(passwordLesson.id);
    // Files that tasks about invoices changed, the test changed with it, and the check that keeps failing;
    // nothing seen only once (the footer), and no agent statistics.
    expect(describeOf(body.patterns)).toEqual([
      `co_change ${JSON.stringify([INVOICE_TEST, INVOICE])}`,
      'qa_failure "lint"',
      `task_files ${JSON.stringify(['invoice', INVOICE_TEST])}`,
      `task_files ${JSON.stringify(['invoice', INVOICE])}`,
    ]);
    expect(body.patterns.every((p: any) => p.confidence >= 0.3)).toBe(true);
    // What is listed is what the agent reads.
    expect(body.context.startsWith(`${MEMORIES_HEADING}\n\n`)).toBe(true);
    expect(body.context).toContain(`${PATTERNS_HEADING}\n\n`);
    expect(body.context).toContain('- insight: Invoice amounts are integer cents; format an invoice total with formatCents, never toFixed');
    for (const pattern of body.patterns) expect(body.context).toContain(pattern.description);
    expect(body.context).toContain(`## ${INVOICE}`);
    expect(body.sources.length).toBeGreaterThan(0);
  });

  it('embeds the task once for its code search and its memories, with the same memories found', async () => {
    const task = 'Change how an invoice total is rounded';
    t.stats.texts = 0;
    const first = await shop({ task_description: task, max_tokens: 2000 });
    expect(first.status).toBe(200);
    expect(first.body.memories.map((m: any) => m.id)).toContain(invoiceLesson.id);
    expect(first.body.sources.length).toBeGreaterThan(0);
    // One embedding of the task, though the code search and the recall each need its vector.
    expect(t.stats.texts).toBe(1);
    // Asked again, the same answer.
    const again = await shop({ task_description: task, max_tokens: 2000 });
    expect(again.body).toEqual(first.body);
  });

  it('leaves out what does not speak to the task', async () => {
    const res = await shop({ task_description: 'verifyPassword must reject an empty password', max_tokens: 2000 });
    expect(res.status).toBe(200);
    expect(res.body.memories.map((m: any) => m.id)).toEqual([passwordLesson.id]);
    // Only the project-wide QA lesson: no invoice file or word pattern.
    expect(describeOf(res.body.patterns)).toEqual(['qa_failure "lint"']);
    expect(res.body.context).not.toContain('invoice.test.ts and');
    expect(res.body.context).not.toContain('integer cents');
  });

  it('never recalls a superseded memory', async () => {
    const old = await remember({ type: 'decision', content: 'Invoice PDFs are rendered with wkhtmltopdf' });
    const newer = await remember({ type: 'decision', content: 'Invoice PDFs are not rendered with wkhtmltopdf' });
    expect(newer.supersedes).toEqual([old.id]);
    const res = await shop({ task_description: 'render invoice PDFs with wkhtmltopdf', max_tokens: 2000 });
    const ids = res.body.memories.map((m: any) => m.id);
    expect(ids).toContain(newer.id);
    expect(ids).not.toContain(old.id);
    await api(t.url, 'DELETE', `/api/v1/memory/${newer.id}`);
    await api(t.url, 'DELETE', `/api/v1/memory/${old.id}`);
  });

  for (const max of [1, 3, 8, 15, 30, 60, 100, 150, 250, 400, 700, 1200]) {
    it(`keeps memories, patterns and code within max_tokens ${max}`, async () => {
      const res = await shop({ task_description: 'Add a VAT line to every invoice', max_tokens: max });
      expect(res.status).toBe(200);
      const body = res.body;
      expect(body.tokens).toBeLessThanOrEqual(max);
      expect(body.tokens).toBe(tokens(body.context));
      for (const pattern of body.patterns) expect(body.context).toContain(pattern.description);
      for (const memory of body.memories) expect(body.context).toContain(memoryLine(memory));
      if (body.memories.length + body.patterns.length === 0) expect(body.context).not.toContain('## Memories');
      // Code first: once a chunk fits, the code is there.
      if (max >= 250) expect(body.sources.length).toBeGreaterThan(0);
      if (max >= 1200) expect(body.memories.length + body.patterns.length).toBeGreaterThanOrEqual(5);
    });
  }

  it('gives a project without an index its memories and patterns alone', async () => {
    const res = await api(t.url, 'POST', '/api/v1/memory', { project_id: 'unindexed', type: 'insight', content: 'The invoice exporter needs the EXPORT_TOKEN variable' });
    expect(res.status).toBe(201);
    const built = await context({ project_id: 'unindexed', task_description: 'fix the invoice exporter', max_tokens: 500 });
    expect(built.status).toBe(200);
    expect(built.body.sources).toEqual([]);
    expect(built.body.memories.map((m: any) => m.id)).toEqual([res.body.id]);
    expect(built.body.context).toBe(`${MEMORIES_HEADING}\n\n- insight: The invoice exporter needs the EXPORT_TOKEN variable`);
    expect(built.body.tokens).toBe(tokens(built.body.context));
  });
});

describe('assembleContext', () => {
  const codeHit = (path: string, n: number): SearchHit => ({
    path,
    start_line: 1,
    end_line: n,
    language: 'typescript',
    kind: 'function',
    content: Array.from({ length: n }, (_, i) => `  total += line${i}.amount; // invoice line ${i}`).join('\n'),
    score: 1,
  });
  const memory = (i: number): MemoryView => ({
    id: `m${i}`,
    project_id: 'p',
    type: 'insight',
    content: `Lesson ${i}: invoice amounts are integer cents, and rounding happens once at the end of rendering the invoice total`,
    tags: [],
    ticket_id: null,
    job_id: null,
    seen_count: 1,
    created_at: '2025-01-01T00:00:00.000Z',
    updated_at: '2025-01-01T00:00:00.000Z',
    superseded_by: null,
    superseded_at: null,
    score: 0.5,
  });
  const pattern = (i: number): PatternView => ({
    id: `p${i}`,
    type: 'task_files',
    description: `Tasks that mention "invoice" change src/file${i}.ts: 3 of 3 successful tasks with that word did.`,
    content: {},
    success_count: 3,
    failure_count: 0,
    confidence: 0.4385,
    last_seen_at: '2025-01-01T00:00:00.000Z',
  });
  const hits = [codeHit('a.ts', 40), codeHit('b.ts', 40), codeHit('c.ts', 40)];
  const memories = [1, 2, 3, 4, 5].map(memory);
  const patterns = [1, 2, 3, 4, 5, 6, 7, 8].map(pattern);

  it('never exceeds the budget, from 0 to 1500 tokens, and lists exactly what it rendered', () => {
    for (let max = 0; max <= 1500; max += max < 60 ? 1 : 37) {
      const built = assembleContext(hits, memories, patterns, max);
      expect(built.tokens, `max ${max}`).toBeLessThanOrEqual(max);
      expect(built.tokens).toBe(tokens(built.context));
      for (const m of built.memories) expect(built.context).toContain(memoryLine(m));
      for (const p of built.patterns) expect(built.context).toContain(patternLine(p));
      expect(built.context.match(/^- /gm)?.length ?? 0).toBe(built.memories.length + built.patterns.length);
    }
  });

  it('gives code the budget first, memories and patterns at most their share while code wants more, and the rest back', () => {
    const tight = assembleContext(hits, memories, patterns, 400);
    const knowledge = tokens(tight.context.split('\n\n## a.ts')[0]!);
    expect(tight.sources.length).toBeGreaterThan(0);
    expect(knowledge).toBeLessThanOrEqual(Math.floor(400 * KNOWLEDGE_SHARE));
    expect(tight.memories.length).toBeGreaterThan(0);
    expect(tight.patterns.length).toBeGreaterThan(0);
    // No knowledge: code takes the whole budget.
    expect(assembleContext(hits, [], [], 400)).toEqual({ ...buildContext(hits, 400), memories: [], patterns: [] });
    // Little code: memories and patterns grow into what it left.
    const roomy = assembleContext([codeHit('a.ts', 3)], memories, patterns, 1500);
    expect(roomy.memories).toHaveLength(5);
    expect(roomy.patterns).toHaveLength(8);
    expect(tokens(roomy.context)).toBeGreaterThan(1500 * KNOWLEDGE_SHARE);
  });
});

describe('countTokens', () => {
  // Counted by parts (cut after a line break, before a character that is not white space): always
  // the whole text's count, whatever the lines hold and however they end.
  const pieces = [
    '\n', '\n\n', '\r\n', ' ', '  ', '\t', '\u00a0', '\u2028', '-', '- ', '#', '## ', ')', '."', '…', "'s", "'LL", 'a', 'Ab', 'invoice',
    'ünïcödé', '日本語', '1', '123', '4567', '💥', '\u200d', '🧨', '`', '```ts', '  total += x;', '(confidence 0.85)', '{', '}',
  ];
  it('equals the tokenizer on the whole text, for any text', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 60 }), (parts) => {
        const text = parts.join('');
        expect(countTokens(text)).toBe(tokens(text));
        // Again, now that its parts are known.
        expect(countTokens(text)).toBe(tokens(text));
      }),
      { numRuns: 3000, seed: 7 },
    );
    for (const text of [GO_SERVER, MD_GUIDE, PY_CLI, TS_CALLER, TS_SCHEDULER]) expect(countTokens(text)).toBe(tokens(text));
  });
});
