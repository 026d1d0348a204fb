// Context for a task: the best chunks, adjacent ones merged, grouped by file, within max_tokens as
// counted by a real tokenizer (checked here with js-tiktoken's own cl100k_base encoder) at many budgets.
import { getEncoding } from 'js-tiktoken';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContext } from '../../src/memory/retrieval/context.js';
import type { SearchHit } from '../../src/memory/retrieval/search.js';
import { api } from '../support/orchestrator.js';
import { GO_SERVER, MD_GUIDE, PY_CLI, TS_CALLER, TS_SCHEDULER } from './fixtures.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';

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
