// Search over HTTP and its halves: identifiers find their definitions first, hybrid beats either
// half on a crafted case, BM25 in the full-text half (rare tokens over common ones, length
// normalised, document frequencies from the whole index whatever the filters), file-level
// aggregation that long files do not win by, filters, the result shape, overlapping chunks
// deduplicated, unknown and empty projects, and the statements use the HNSW and GIN indexes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findCodeIndex } from '../../src/memory/store/codeIndexes.js';
import { HashEmbedder } from '../../src/memory/embeddings/hashEmbedder.js';
import { nearestChunks, nearestChunksQuery, scoreTextAnswer, textMatches, textMatchesQuery, type CandidateFilters, type CandidateRow, type TextAnswer } from '../../src/memory/retrieval/candidates.js';
import { parseQuery } from '../../src/memory/retrieval/queryTerms.js';
import { rankCandidates } from '../../src/memory/retrieval/ranking.js';
import { textQueryPlan } from '../../src/memory/retrieval/termStats.js';
import type { Database, Queryable, QueryOptions } from '../../src/platform/database/database.js';
import { searchCode } from '../../src/memory/retrieval/search.js';
import { api } from '../support/orchestrator.js';
import { HYBRID_FILES, HYBRID_QUERY, HYBRID_RELEVANT, IDENTIFIER_FILES } from './searchCorpus.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';

let t: TestMemory;

const LONG_FUNCTION = `export function renderInvoiceTable(rows: Row[]): string {\n${Array.from({ length: 220 }, (_, i) => `  const invoiceCell${i} = formatInvoice(rows[${i}], 'invoice column ${i}');`).join('\n')}\n  return 'invoice';\n}\n`;

beforeAll(async () => {
  t = await startTestMemory();
  const files = Object.entries({ ...IDENTIFIER_FILES, ...HYBRID_FILES, 'src/billing/invoice.ts': LONG_FUNCTION }).map(([path, content]) => ({ path, content }));
  const res = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'p', files });
  expect(res.status).toBe(200);
  await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'empty', files: [] });
});
afterAll(async () => t?.stop());

type IndexRecord = NonNullable<Awaited<ReturnType<typeof findCodeIndex>>>;
type Plan = NonNullable<ReturnType<typeof textQueryPlan>>;

/** The oracle for textMatches: every match read in one statement and scored, the long way. */
async function allTextMatches(q: Queryable, record: IndexRecord, plan: Plan, tokens: string[], filters: CandidateFilters, limit: number) {
  const { sql, params } = textMatchesQuery(record.id, plan, tokens, filters);
  const [found] = await q.query<TextAnswer>(sql, params);
  return scoreTextAnswer(found, record, plan, limit).text;
}

const search = (body: Record<string, unknown>) => api(t.url, 'POST', '/api/v1/search', { project_id: 'p', ...body });

describe('identifiers', () => {
  for (const [query, path, symbol] of [
    ['claimJobs', 'src/scheduler/claim.ts', 'claimJobs'],
    ['where is claimJobs defined?', 'src/scheduler/claim.ts', 'claimJobs'],
    ['parse_args', 'tools/cli.py', 'parse_args'],
    ['how does `parse_args` read the flags', 'tools/cli.py', 'parse_args'],
  ]) {
    it(`"${query}" finds the definition first, before the chunks that mention it`, async () => {
      const res = await search({ query });
      expect(res.status).toBe(200);
      expect(res.body.results[0]).toMatchObject({ path, symbol });
      expect(res.body.results.length).toBeGreaterThan(1);
    });
  }
});

it('hybrid finds both relevant chunks in its top 3; each half alone finds only one', async () => {
  const top = async (mode: 'hybrid' | 'vector' | 'text') =>
    (await searchCode(t.memory.search, { projectId: 'p', query: HYBRID_QUERY, limit: 3 }, mode)).map((hit) => hit.path);
  const recall = (paths: string[]) => HYBRID_RELEVANT.filter((path) => paths.includes(path)).length;
  const [hybrid, vector, text] = [await top('hybrid'), await top('vector'), await top('text')];
  expect(recall(vector), `vector: ${vector}`).toBe(1);
  expect(recall(text), `text: ${text}`).toBe(1);
  expect(recall(hybrid), `hybrid: ${hybrid}`).toBe(2);
  const http = await search({ query: HYBRID_QUERY, limit: 3 });
  expect(http.body.results.map((r: any) => r.path)).toEqual(hybrid);
});

describe('BM25 in the full-text half', () => {
  const body = (n: number, line: (j: number) => string) => Array.from({ length: n }, (_, j) => `  ${line(j)}`).join('\n');
  // `widget` is in every chunk but one, repeated; `frobnicate` in one chunk, once.
  const files = {
    ...Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [`src/ui/panel${i}.ts`, `export function drawPanel${i}(widget: Widget): void {\n${body(6, (j) => `widget.draw(widget, ${10 + j}); // widget`)}\n}\n`]),
    ),
    'src/tools/tidy.ts': `export function tidyGadget(gadget: Gadget): number {\n  return frobnicate(gadget);\n}\n`,
    // `quuxify` once in a short chunk; three times in a long one among many other tokens.
    'src/short/quux.ts': `export function shortQuux(): number {\n  return quuxify(1);\n}\n`,
    'src/long/quux.ts': `export function longQuux(): number {\n${body(50, (j) => `const alpha${10 + j} = beta${10 + j}(gamma${10 + j}, quux${j % 17 === 0 ? 'ify' : 'Other'});`)}\n  return 0;\n}\n`,
  };
  beforeAll(async () => {
    const res = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'bm25', files: Object.entries(files).map(([path, content]) => ({ path, content })) });
    expect(res.status).toBe(200);
  });
  const text = (query: string, filters?: { pathPrefix?: string }) => searchCode(t.memory.search, { projectId: 'bm25', query, limit: 10, ...(filters ? { filters } : {}) }, 'text');

  it('a rare token outweighs a common one repeated many times', async () => {
    const hits = await text('frobnicate widget');
    expect(hits[0]).toMatchObject({ path: 'src/tools/tidy.ts', symbol: 'tidyGadget' });
    expect(hits.length).toBeGreaterThan(5); // the widget chunks match too, below it
  });

  it('a long chunk does not win by length: three mentions among 150 other tokens rank below one in a short chunk', async () => {
    const hits = await text('quuxify');
    expect(hits.map((h) => h.path)).toEqual(['src/short/quux.ts', 'src/long/quux.ts']);
  });

  it('a path filter keeps document frequencies of the whole index: the same chunk scores the same', async () => {
    const all = await text('frobnicate widget');
    const filtered = await text('frobnicate widget', { pathPrefix: 'src/ui/' });
    expect(filtered.length).toBeGreaterThan(0);
    for (const hit of filtered) {
      expect(hit.path.startsWith('src/ui/')).toBe(true);
      expect(hit.score).toBe(all.find((other) => other.path === hit.path && other.start_line === hit.start_line)?.score);
    }
  });
});

describe('file-level aggregation', () => {
  const row = (id: number, path: string, fileChunks: number): CandidateRow => ({
    id,
    path,
    start_line: id * 10,
    end_line: id * 10 + 5,
    language: 'typescript',
    symbol: `fn${id}`,
    kind: 'function',
    content: '',
    symbol_tokens: `fn${id}`,
    path_tokens: '',
    file_chunks: fileChunks,
    score: 0,
  });
  // The first chunk of `a.ts` is followed in both lists by three more chunks of its file.
  const rankOf = (fileChunks: number) => {
    const rows = [row(1, 'a.ts', fileChunks), row(2, 'b.ts', 1), row(3, 'a.ts', fileChunks), row(4, 'a.ts', fileChunks), row(5, 'a.ts', fileChunks)];
    const lists = [
      { name: 'vector' as const, rows: [rows[1]!, rows[0]!, rows[2]!, rows[3]!, rows[4]!] },
      { name: 'text' as const, rows: [rows[1]!, rows[0]!, rows[2]!, rows[3]!, rows[4]!] },
    ];
    return rankCandidates(lists, parseQuery('how does it work')).map((r) => r.path);
  };

  it("a file's other candidates lift its chunks, less the longer the file is", () => {
    expect(rankOf(4)[0]).toBe('a.ts'); // four of its four chunks answer: it goes first
    expect(rankOf(40)[0]).toBe('b.ts'); // four of forty: the better chunk of b.ts stays first
  });
});

describe('filters', () => {
  it('path_prefix keeps results under it', async () => {
    const res = await search({ query: 'claimJobs scheduler', filters: { path_prefix: 'src/scheduler/' } });
    expect(res.body.results.length).toBe(2);
    for (const r of res.body.results) expect(r.path.startsWith('src/scheduler/')).toBe(true);
  });

  it('language keeps results of that language', async () => {
    const res = await search({ query: 'claimJobs parse_args', filters: { language: 'python' } });
    expect(res.body.results.length).toBeGreaterThan(0);
    for (const r of res.body.results) expect(r.language).toBe('python');
    expect(res.body.results[0].path).toBe('tools/cli.py');
  });

  it('both together, and a prefix that matches nothing', async () => {
    const res = await search({ query: 'args', filters: { path_prefix: 'tools/', language: 'python' } });
    expect(new Set(res.body.results.map((r: any) => r.path))).toEqual(new Set(['tools/cli.py', 'tools/main.py']));
    const none = await search({ query: 'args', filters: { path_prefix: 'nowhere/' } });
    expect(none.body.results).toEqual([]);
  });
});

describe('results', () => {
  it('have the contract fields, best first, within the limit (default 10)', async () => {
    const res = await search({ query: 'scheduler jobs claim priority' });
    expect(res.status).toBe(200);
    const results = res.body.results;
    expect(results).toHaveLength(10);
    for (const r of results) {
      expect(Object.keys(r).sort()).toEqual(expect.arrayContaining(['content', 'end_line', 'language', 'path', 'score', 'start_line']));
      expect(typeof r.score).toBe('number');
      expect(r.start_line).toBeLessThanOrEqual(r.end_line);
      if ('symbol' in r) expect(typeof r.symbol).toBe('string');
    }
    const scores = results.map((r: any) => r.score);
    expect([...scores].sort((a, b) => b - a)).toEqual(scores);
    expect((await search({ query: 'scheduler', limit: 3 })).body.results).toHaveLength(3);
    // A chunk without a symbol has no symbol field (the test's top-level `it(...)` call).
    const test = (await search({ query: 'claimJobs claims in priority order', filters: { path_prefix: 'test/' } })).body.results[0];
    expect(test.path).toBe('test/scheduler/claim.test.ts');
    expect('symbol' in test).toBe(false);
  });

  it('never holds two chunks that share lines (windows of a long function overlap)', async () => {
    const res = await search({ query: 'renderInvoiceTable invoice cell format', limit: 20 });
    const invoice = res.body.results.filter((r: any) => r.path === 'src/billing/invoice.ts');
    expect(invoice.length).toBeGreaterThan(1);
    for (const a of invoice) for (const b of invoice) if (a !== b) expect(a.start_line > b.end_line || b.start_line > a.end_line).toBe(true);
  });

  it('unknown project → 404; an empty index → no results', async () => {
    const unknown = await api(t.url, 'POST', '/api/v1/search', { project_id: 'nobody', query: 'x' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('project_not_found');
    const empty = await api(t.url, 'POST', '/api/v1/search', { project_id: 'empty', query: 'claimJobs' });
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ results: [] });
  });
});

describe('an index that changes between searches', () => {
  const index = (files: Record<string, string>) =>
    api(t.url, 'POST', '/api/v1/index/files', { project_id: 'changing', files: Object.entries(files).map(([path, content]) => ({ path, content })) });
  const first = async (query: string) => {
    const res = await api(t.url, 'POST', '/api/v1/search', { project_id: 'changing', query });
    return { status: res.status, top: res.body.results?.[0] };
  };

  it('is searched as it is now: new chunks and counts, a dropped index, one made again with other files', async () => {
    expect((await index({ 'src/alpha.ts': 'export function alphaWidget(size: number) {\n  return size * 2;\n}\n' })).status).toBe(200);
    expect((await first('alphaWidget')).top).toMatchObject({ path: 'src/alpha.ts', symbol: 'alphaWidget' });
    // More chunks (the search's record of the index is older): the new one is found and ranked with the new counts.
    await index({ 'src/beta.ts': 'export function betaGadget(name: string) {\n  return name.trim();\n}\n' });
    expect((await first('betaGadget')).top).toMatchObject({ path: 'src/beta.ts', symbol: 'betaGadget' });
    const text = await searchCode(t.memory.search, { projectId: 'changing', query: 'betaGadget trim name', limit: 5 }, 'text');
    expect(text[0]?.path).toBe('src/beta.ts');
    // Dropped: not found. Made again (another index id) with other files: those.
    expect((await api(t.url, 'DELETE', '/api/v1/index/changing')).status).toBe(200);
    expect((await first('alphaWidget')).status).toBe(404);
    await index({ 'lib/gamma.ts': 'export function gammaThing() {\n  return 3;\n}\n' });
    expect((await first('gammaThing')).top).toMatchObject({ path: 'lib/gamma.ts', symbol: 'gammaThing' });
    expect((await first('alphaWidget')).top?.path).not.toBe('src/alpha.ts');
  });
});

describe('query plans, on a project of 3,000 chunks', () => {
  /** Letters-only names, so that each file has tokens of its own: 0 → "qxa", 27 → "qxbb". */
  const word = (n: number): string => {
    let out = '';
    do {
      out = String.fromCharCode(97 + (n % 26)) + out;
      n = Math.floor(n / 26);
    } while (n > 0);
    return `qx${out}`;
  };
  const fn = (name: string, topic: string) =>
    `export function ${name}(input: Input): Output {\n${Array.from({ length: 8 }, (_, i) => `  const ${topic}Part${i} = transform(input, '${topic}', ${i});`).join('\n')}\n  return ${topic}Part0;\n}\n`;
  beforeAll(async () => {
    const files = Array.from({ length: 1000 }, (_, i) => ({
      path: `pkg${i % 10}/module${i}.ts`,
      content: [fn(`${word(i)}Load`, word(i)), fn(`${word(i)}Store`, `${word(i)}store`), fn(`${word(i)}Check`, `${word(i)}check`)].join('\n'),
    }));
    const python = Array.from({ length: 20 }, (_, i) => ({
      path: `scripts/tool${i}.py`,
      content: `def ${word(i)}_load(data):\n${Array.from({ length: 8 }, (_, j) => `    part${j} = transform(data, "${word(i)}", ${j})`).join('\n')}\n    return part0\n`,
    }));
    const res = await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'big', files: [...files, ...python] });
    expect(res.body.chunks_added).toBe(3020);
  }, 120_000);

  const plan = async (sql: string, params: unknown[]): Promise<string> =>
    (await t.db.query<{ 'QUERY PLAN': string }>(`explain ${sql}`, params)).map((row) => row['QUERY PLAN']).join('\n');

  it('nearest chunks come from the project HNSW index (or an exact look at the few rows a narrow filter leaves); never a scan of all vectors', async () => {
    const record = (await findCodeIndex(t.db, 'big'))!;
    const [vector] = await new HashEmbedder().embed(['load the input and transform it']);
    for (const filters of [{}, { language: 'typescript' }, { pathPrefix: 'pkg' }]) {
      const { sql, params } = nearestChunksQuery(record, vector!, filters, 40);
      const text = await plan(sql, params);
      expect(text).toContain(`Index Scan using chunks_embedding_${record.id}`);
      expect(text).not.toMatch(/Seq Scan/);
    }
    // A prefix that keeps 10% of the rows: the planner ranks those few exactly, found through the path index.
    const narrow = nearestChunksQuery(record, vector!, { pathPrefix: 'pkg3/' }, 40);
    expect(await plan(narrow.sql, narrow.params)).not.toMatch(/Seq Scan/);
    const hits = await searchCode(t.memory.search, { projectId: 'big', query: 'load the input', limit: 10, filters: { pathPrefix: 'pkg3/' } }, 'vector');
    expect(hits).toHaveLength(10); // the filter keeps 10% of the rows: iterative scans still fill the page
    for (const hit of hits) expect(hit.path.startsWith('pkg3/')).toBe(true);
  });

  it('a filter that keeps few rows is answered exactly through its index, never by reading every vector', async () => {
    const record = (await findCodeIndex(t.db, 'big'))!;
    const [vector] = await new HashEmbedder().embed(['load the input and transform it']);
    const { sql, params } = nearestChunksQuery(record, vector!, { language: 'python' }, 40);
    expect(await plan(sql, params)).not.toMatch(/Seq Scan/);
    const hits = await searchCode(t.memory.search, { projectId: 'big', query: 'load the input and transform it', limit: 10, filters: { language: 'python' } }, 'vector');
    expect(hits).toHaveLength(10);
    for (const hit of hits) expect(hit.language).toBe('python');
  });

  it('vector queries ask for iterative scans and an ef_search of at least the rows wanted', async () => {
    const record = (await findCodeIndex(t.db, 'big'))!;
    const seen: string[] = [];
    const spy = {
      ...t.db,
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
        t.db.transaction((tx) => fn({ query: (sql: string, params?: readonly unknown[], options?: QueryOptions) => (seen.push(`${sql} ${JSON.stringify(params?.[0] instanceof Uint8Array ? [] : params ?? [])}`), tx.query(sql, params, options)), exec: tx.exec })),
    } as Database;
    const [vector] = await new HashEmbedder().embed(['load']);
    await nearestChunks(spy, record, vector!, {}, 300, { iterativeScan: true, efSearch: 100 });
    expect(seen.some((sql) => sql.includes(`'hnsw.iterative_scan', 'relaxed_order'`))).toBe(true);
    expect(seen.some((sql) => sql.includes(`'hnsw.ef_search'`) && sql.includes('["300"]'))).toBe(true);
  });

  it('the full-text half reads the chunks of its rare tokens first, and only those when no chunk of common tokens alone can rank among the best: the same list as reading every match', async () => {
    const record = (await findCodeIndex(t.db, 'big'))!;
    const tokens = [word(123), 'load'];
    // `load` in a third of the chunks (each file's Load function): common, its alternative still selective enough to be read.
    const plan = textQueryPlan(tokens, { shares: new Map([['load', 1000 / 3020]]), unlisted: 0.0001 }, record.chunkCount)!;
    expect(plan.rareQuery).toBe(word(123));
    expect(plan.tsquery).toBe(`${word(123)} | load`);
    for (const limit of [2, 40]) {
      const sent: unknown[] = [];
      const spy: Queryable = { query: (sql, params, options) => (sent.push(params?.[1]), t.db.query(sql, params, options)), exec: (sql) => t.db.exec(sql) };
      const found = await textMatches(spy, record, plan, tokens, {}, limit);
      expect(found.text).toEqual(await allTextMatches(t.db, record, plan, tokens, {}, limit));
      // Two of module123's chunks outscore any chunk of `load` alone; forty cannot come from its
      // three: then the chunks of `load` alone are read too (not those read already).
      expect(sent).toEqual(limit === 2 ? [word(123)] : [word(123), `load & !(${word(123)})`]);
    }
  });

  it('full-text and symbol-name matches use their GIN indexes', async () => {
    const record = (await findCodeIndex(t.db, 'big'))!;
    const tokens = [word(123), `${word(456)}store`];
    const textPlan = textQueryPlan(tokens, { shares: new Map(), unlisted: 0 }, record.chunkCount)!;
    const text = textMatchesQuery(record.id, textPlan, tokens, { language: 'typescript' });
    expect(await plan(text.sql, text.params)).toContain('Bitmap Index Scan on chunks_search_idx');
    // Search asks both in one statement: each half still through its own index.
    const both = textMatchesQuery(record.id, textPlan, tokens, { language: 'typescript' }, { tsquery: `${word(123)}load`, limit: 20 });
    const bothPlan = await plan(both.sql, both.params);
    expect(bothPlan).toContain('Bitmap Index Scan on chunks_search_idx');
    expect(bothPlan).toContain('Bitmap Index Scan on chunks_symbol_search_idx');
    const hits = await search({ project_id: 'big', query: `${word(123)}Store` });
    expect(hits.body.results[0]).toMatchObject({ path: 'pkg3/module123.ts', symbol: `${word(123)}Store` });
  });
});
