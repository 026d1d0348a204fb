// Patterns learned from execution outcomes: a series of outcomes built by the orchestrator's own
// outcomeMemory and posted over HTTP (with a redelivery, a re-sent different outcome of a counted
// job, a failure, QA failures and unverified outcomes) gives exact counts and confidences; the list
// is best first, filtered by type, paged by cursor; bad input is a 400 that changes nothing.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { learnFromOutcome } from '../../src/memory/patterns/learn.js';
import { verifiedOutcome } from '../../src/memory/patterns/outcome.js';
import { taskTerms } from '../../src/memory/patterns/taskTerms.js';
import { api } from '../support/orchestrator.js';
import { resetMemoryDb, startTestMemory, type TestMemory } from './memoryKit.js';
import { outcome } from './outcomes.js';

let t: TestMemory;
beforeAll(async () => {
  t = await startTestMemory();
});
afterAll(async () => t?.stop());
beforeEach(async () => resetMemoryDb(t.db));

/** The 95% Wilson lower bound, written out independently of the SQL function. */
function wilson(k: number, n: number): number {
  const z = 1.96;
  const p = k / n;
  return (p + (z * z) / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
}
const rounded = (x: number) => Math.round(x * 10_000) / 10_000;

async function post(body: unknown): Promise<void> {
  const res = await api(t.url, 'POST', '/api/v1/memory', body);
  expect([200, 201], JSON.stringify(res.body)).toContain(res.status);
}

async function patterns(query = 'project_id=shop&limit=500'): Promise<any[]> {
  const res = await api(t.url, 'GET', `/api/v1/insights/patterns?${query}`);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.patterns;
}

function find(list: any[], type: string, match: Record<string, unknown>): any {
  const found = list.filter((p) => p.type === type && Object.entries(match).every(([k, v]) => JSON.stringify(p.content[k]) === JSON.stringify(v)));
  expect(found, `${type} ${JSON.stringify(match)} in ${JSON.stringify(list.map((p) => p.description))}`).toHaveLength(1);
  return found[0];
}

const INVOICE = 'src/billing/invoice.ts';
const INVOICE_TEST = 'src/billing/invoice.test.ts';
const FOOTER = 'templates/footer.txt';

describe('learning from a series of execution outcomes', () => {
  it('counts each verified job once, and exactly', async () => {
    const j1 = outcome({ title: 'Add invoice footer', prompt: 'Add invoice footer with the company address', status: 'succeeded', durationS: 60, files: [INVOICE, INVOICE_TEST, FOOTER], qa: { lint: true, test: true } });
    const j2 = outcome({ title: 'Invoice totals in euros', status: 'succeeded', durationS: 120, files: [INVOICE, INVOICE_TEST], qa: { lint: false, test: true } });
    const j3 = outcome({ title: 'Migrate the billing tables', status: 'failed', agent: 'codex', durationS: 30, files: ['db/migrations/007_billing.sql'], qa: { lint: false, test: false } });
    const j4 = outcome({ title: 'Fix invoice rounding', status: 'succeeded', durationS: 90, files: [INVOICE] });
    await post(j1);
    await post(j2);

    // A redelivery of j1, and a different outcome re-sent for the counted job j1: nothing changes.
    const before = await patterns();
    await post(j1);
    await post({ ...j1, type: 'execution_failure', content: { ...j1.content, status: 'failed', files_changed: [FOOTER], qa: { passed: false, checks: [{ name: 'lint', passed: false }] } } });
    expect(await patterns()).toEqual(before);

    // Unverified: no job id, a status that contradicts the type, a job id the content disagrees
    // with, a cancelled job, a hand-written text lesson, another project's outcome is not this one's.
    const unverifiedJob = outcome({ title: 'Add invoice footer', status: 'succeeded', files: [INVOICE, FOOTER], qa: { lint: false } });
    const { job_id: _ignored, ...noJobId } = unverifiedJob;
    await post(noJobId);
    await post({ ...unverifiedJob, content: { ...unverifiedJob.content, status: 'failed' } });
    await post({ ...unverifiedJob, job_id: randomUUID() });
    await post(outcome({ title: 'Add invoice footer', status: 'cancelled', files: [INVOICE, FOOTER], qa: { lint: false } }));
    await post({ project_id: 'shop', type: 'execution_success', job_id: randomUUID(), content: 'Added the invoice footer; lint failed' });
    expect(await patterns()).toEqual(before);
    await post(outcome({ project: 'elsewhere', title: 'Add invoice footer', status: 'succeeded', files: [INVOICE, FOOTER] }));
    expect(await patterns()).toEqual(before);

    await post(j3);
    await post(j4);
    const all = await patterns();
    const [counted] = await t.db.query<{ n: number }>(`select count(*)::int as n from memory.pattern_jobs where project_id = 'shop'`);
    expect(counted!.n).toBe(4);

    // Agents: success rate and the median duration of successful runs.
    const claude = find(all, 'agent_stats', { agent: 'claude-code' });
    expect(claude).toMatchObject({ success_count: 3, failure_count: 0, confidence: rounded(wilson(3, 3)) });
    expect(claude.content).toMatchObject({ runs: 3, success_rate: 1, median_duration_s: 90, duration_samples: 3 });
    expect(claude.description).toBe('Agent claude-code succeeded in 3 of 3 verified runs (100%); a successful run typically takes 1 min 30 s (median of the last 3 runs).');
    const codex = find(all, 'agent_stats', { agent: 'codex' });
    expect(codex).toMatchObject({ success_count: 0, failure_count: 1, confidence: 0 });
    expect(codex.content.median_duration_s).toBeNull();

    // QA checks, from successful and failed jobs alike.
    const lint = find(all, 'qa_failure', { check: 'lint' });
    expect(lint).toMatchObject({ success_count: 1, failure_count: 2, confidence: rounded(wilson(2, 3)) });
    expect(lint.description).toBe('QA check "lint" failed in 2 of 3 verified runs.');
    expect(find(all, 'qa_failure', { check: 'test' })).toMatchObject({ success_count: 2, failure_count: 1, confidence: rounded(wilson(1, 3)) });

    // Files changed together by successful tasks (the failed j3's migration is in none).
    const coChange = all.filter((p) => p.type === 'co_change');
    expect(coChange.map((p) => p.content.paths).sort()).toEqual([
      ['src/billing', 'templates'],
      [INVOICE_TEST, INVOICE],
      [INVOICE_TEST, FOOTER],
      [INVOICE, FOOTER],
    ].sort());
    const pair = find(all, 'co_change', { paths: [INVOICE_TEST, INVOICE] });
    // Both in j1 and j2; j4 changed invoice.ts alone: 2 of the 3 tasks that changed either.
    expect(pair).toMatchObject({ success_count: 2, failure_count: 0, confidence: rounded(wilson(2, 3)), content: { scope: 'file', tasks_changing_either: 3 } });
    expect(pair.description).toBe(`${INVOICE_TEST} and ${INVOICE} change together: 2 successful tasks changed both, of 3 that changed either.`);
    expect(find(all, 'co_change', { paths: [INVOICE_TEST, FOOTER] })).toMatchObject({ success_count: 1, confidence: rounded(wilson(1, 2)) });
    expect(find(all, 'co_change', { paths: [INVOICE, FOOTER] })).toMatchObject({ success_count: 1, confidence: rounded(wilson(1, 3)) });
    const areas = find(all, 'co_change', { scope: 'directory' });
    expect(areas).toMatchObject({ success_count: 1, confidence: rounded(wilson(1, 3)) });
    expect(areas.description).toBe('Files in src/billing/ and templates/ change together: 1 successful task changed both, of 3 that changed either.');

    // Task words → files: "invoice" is in j1, j2 and j4, all of which changed invoice.ts.
    const taskFiles = all.filter((p) => p.type === 'task_files');
    expect(taskFiles.map((p) => `${p.content.term} → ${p.content.path}`).sort()).toEqual(
      [
        ...['invoice', 'footer', 'company', 'address'].flatMap((term) => [INVOICE, INVOICE_TEST, FOOTER].map((path) => `${term} → ${path}`)),
        ...['total', 'euro'].flatMap((term) => [INVOICE, INVOICE_TEST].map((path) => `${term} → ${path}`)),
        `rounding → ${INVOICE}`,
      ].sort(),
    );
    const invoice = find(all, 'task_files', { term: 'invoice', path: INVOICE });
    expect(invoice).toMatchObject({ success_count: 3, failure_count: 0, confidence: rounded(wilson(3, 3)), content: { tasks_with_term: 3 } });
    expect(invoice.description).toBe(`Tasks that mention "invoice" change ${INVOICE}: 3 of 3 successful tasks with that word did.`);
    expect(find(all, 'task_files', { term: 'invoice', path: INVOICE_TEST })).toMatchObject({ success_count: 2, confidence: rounded(wilson(2, 3)) });
    expect(find(all, 'task_files', { term: 'footer', path: FOOTER })).toMatchObject({ success_count: 1, confidence: rounded(wilson(1, 1)) });

    expect(all).toHaveLength(2 + 2 + 4 + 12 + 4 + 1);
    for (const p of all) {
      expect(Object.keys(p).sort()).toEqual(['confidence', 'content', 'description', 'failure_count', 'id', 'last_seen_at', 'success_count', 'type']);
      expect(Number.isNaN(Date.parse(p.last_seen_at))).toBe(false);
    }
  });

  it('takes a deleted outcome back: the counts are exactly those of the outcomes that remain', async () => {
    const jobs = (project: string) => [
      outcome({ project, title: 'Add invoice footer', status: 'succeeded', durationS: 60, files: [INVOICE, INVOICE_TEST, FOOTER], qa: { lint: true, test: true } }),
      outcome({ project, title: 'Invoice totals in euros', status: 'succeeded', durationS: 120, files: [INVOICE, INVOICE_TEST], qa: { lint: false, test: true } }),
      outcome({ project, title: 'Migrate the billing tables', status: 'failed', agent: 'codex', durationS: 30, files: ['db/migrations/007_billing.sql'], qa: { lint: false } }),
      outcome({ project, title: 'Fix invoice rounding', status: 'succeeded', durationS: 90, files: [INVOICE] }),
    ];
    const ids: string[] = [];
    for (const job of jobs('shop')) {
      const res = await api(t.url, 'POST', '/api/v1/memory', job);
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    // The twin project only ever saw the first and the last outcome.
    const twin = jobs('twin');
    await post(twin[0]);
    await post(twin[3]);
    const lesson = await api(t.url, 'POST', '/api/v1/memory', { project_id: 'shop', type: 'lesson', content: 'Invoices round half to even' });

    expect((await api(t.url, 'DELETE', `/api/v1/memory/${ids[1]}`)).status).toBe(200);
    expect((await api(t.url, 'DELETE', `/api/v1/memory/${ids[2]}`)).status).toBe(200);
    expect((await api(t.url, 'DELETE', `/api/v1/memory/${ids[2]}`)).status).toBe(404);
    expect((await api(t.url, 'DELETE', `/api/v1/memory/${lesson.body.id}`)).status).toBe(200);

    const comparable = (list: any[]) =>
      list.map((p) => ({ type: p.type, content: p.content, success_count: p.success_count, failure_count: p.failure_count, confidence: p.confidence, description: p.description })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const shop = comparable(await patterns());
    expect(shop).toEqual(comparable(await patterns('project_id=twin&limit=500')));
    expect(shop.find((p) => p.type === 'agent_stats')?.content).toMatchObject({ runs: 2, median_duration_s: 75, duration_samples: 2 });
    expect(shop.some((p) => p.type === 'agent_stats' && p.content.agent === 'codex')).toBe(false);
    const support = (project: string) => t.db.query(`select kind, item, tasks from memory.pattern_support where project_id = $1 order by kind, item`, [project]);
    expect(await support('shop')).toEqual(await support('twin'));

    // The deleted job's outcome, sent again, counts again: it is evidence no memory holds any more.
    await post(jobs('shop')[1]);
    const again = comparable(await patterns());
    expect(again.find((p) => p.type === 'agent_stats')?.content).toMatchObject({ runs: 3, median_duration_s: 90 });
  });

  it('takes back every job counted against a deleted memory, as each was counted', async () => {
    // An outcome written by hand, its job id only beside the content: the same report for two jobs
    // merges into one memory, and both jobs count.
    const report = outcome({ project: 'solo', title: 'Add invoice footer', status: 'succeeded', durationS: 60, files: [INVOICE, FOOTER], qa: { lint: false } });
    const { job_id: _first, ...content } = report.content as Record<string, unknown>;
    const first = await api(t.url, 'POST', '/api/v1/memory', { ...report, job_id: randomUUID(), content });
    const second = await api(t.url, 'POST', '/api/v1/memory', { ...report, job_id: randomUUID(), content });
    expect([first.status, second.status, second.body.id]).toEqual([201, 200, first.body.id]);
    const solo = await patterns('project_id=solo&limit=500');
    expect(solo.find((p) => p.type === 'agent_stats')).toMatchObject({ success_count: 2 });

    expect((await api(t.url, 'DELETE', `/api/v1/memory/${first.body.id}`)).status).toBe(200);
    expect(await patterns('project_id=solo&limit=500')).toEqual([]);
    expect(await t.db.query(`select * from memory.pattern_support where project_id = 'solo'`)).toEqual([]);
    expect(await t.db.query(`select * from memory.pattern_jobs where project_id = 'solo'`)).toEqual([]);
  });

  it('lists best first, filters by type, and pages with a cursor that visits each pattern once', async () => {
    await post(outcome({ title: 'Add invoice footer', status: 'succeeded', files: [INVOICE, INVOICE_TEST, FOOTER], qa: { lint: false } }));
    await post(outcome({ title: 'Invoice totals', status: 'succeeded', files: [INVOICE, INVOICE_TEST], qa: { lint: false } }));
    await post(outcome({ title: 'Export invoices', status: 'failed', agent: 'codex', qa: { lint: true } }));
    const all = await patterns();
    expect(all.length).toBeGreaterThan(10);
    const confidences = all.map((p) => p.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => b - a));
    // The strongest: two consistent observations (claude-code 2 of 2; invoice.ts and its test changed together twice).
    expect(all[0].confidence).toBe(rounded(wilson(2, 2)));

    const paged: any[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; body: any } = await api(t.url, 'GET', `/api/v1/insights/patterns?project_id=shop&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.patterns.length).toBeLessThanOrEqual(4);
      paged.push(...res.body.patterns);
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor && pages < 50);
    expect(paged.map((p) => p.id)).toEqual(all.map((p) => p.id));
    expect(new Set(paged.map((p) => p.id)).size).toBe(all.length);

    for (const type of ['co_change', 'task_files', 'qa_failure', 'agent_stats']) {
      const ofType = await patterns(`project_id=shop&type=${type}`);
      expect(ofType.length).toBeGreaterThan(0);
      expect(ofType.every((p) => p.type === type)).toBe(true);
      expect(ofType.map((p) => p.id)).toEqual(all.filter((p) => p.type === type).map((p) => p.id));
    }
    expect((await api(t.url, 'GET', '/api/v1/insights/patterns?project_id=shop')).body.next_cursor).toBeNull();
    expect(await patterns('project_id=nobody')).toEqual([]);
  });

  it('hides a QA check that never failed (it is only the denominator of one)', async () => {
    await post(outcome({ title: 'Add footer', status: 'succeeded', qa: { lint: true, test: true } }));
    expect(await patterns('project_id=shop&type=qa_failure')).toEqual([]);
    await post(outcome({ title: 'Add header', status: 'failed', qa: { test: false } }));
    const qa = await patterns('project_id=shop&type=qa_failure');
    expect(qa.map((p) => [p.content.check, p.success_count, p.failure_count])).toEqual([['test', 1, 1]]);
  });

  it('counts a job once when its outcome arrives several times at once', async () => {
    const job = outcome({ title: 'Add invoice footer', status: 'succeeded', files: [INVOICE, FOOTER] });
    await Promise.all([post(job), post(job), post(job)]);
    const stats = await patterns('project_id=shop&type=agent_stats');
    expect(stats.map((p) => p.success_count)).toEqual([1]);
    expect(find(await patterns(), 'co_change', { paths: [INVOICE, FOOTER] }).success_count).toBe(1);
  });

  it('keeps rows bounded: sweeping changes add no file pairs, and each type keeps its strongest rows', async () => {
    const many = Array.from({ length: 13 }, (_, i) => `src/area${i % 3}/file${i}.ts`);
    await post(outcome({ title: 'Rename the logger everywhere', status: 'succeeded', files: many }));
    const all = await patterns();
    // 13 files is past the 12-file cap: no file pairs, no task words → files; its 3 areas still pair.
    expect(all.filter((p) => p.type === 'task_files')).toEqual([]);
    expect(all.filter((p) => p.type === 'co_change').map((p) => p.content.paths)).toEqual(
      expect.arrayContaining([
        ['src/area0', 'src/area1'],
        ['src/area0', 'src/area2'],
        ['src/area1', 'src/area2'],
      ]),
    );
    expect(all.filter((p) => p.type === 'co_change')).toHaveLength(3);

    // A small cap, through the learner itself: the strongest rows stay.
    const limits = { maxFiles: 12, maxDirectories: 8, maxRowsPerType: 4 };
    const learn = (files: string[], title: string) =>
      t.db.transaction(async (tx) => {
        const memory = outcome({ title, status: 'succeeded', files });
        const verified = verifiedOutcome({ projectId: memory.project_id, type: memory.type, content: memory.content, jobId: memory.job_id })!;
        return learnFromOutcome(tx, verified, randomUUID(), limits);
      });
    expect(await learn(['a/x.ts', 'a/y.ts'], 'one')).toBe(true);
    expect(await learn(['a/x.ts', 'a/y.ts'], 'two')).toBe(true);
    expect(await learn(['b/p.ts', 'b/q.ts', 'b/r.ts', 'b/s.ts'], 'three')).toBe(true);
    const kept = await t.db.query<{ subject: string; object: string; success_count: number }>(
      `select subject, object, success_count from memory.patterns where project_id = 'shop' and type = 'co_change' order by success_count desc, subject, object`,
    );
    expect(kept).toHaveLength(4);
    expect(kept[0]).toEqual({ subject: 'a/x.ts', object: 'a/y.ts', success_count: 2 });
  });
});

describe('what counts as a verified outcome', () => {
  it('reads the orchestrator\'s outcome, and refuses anything it cannot verify', () => {
    const ok = outcome({ id: '11111111-1111-4111-8111-111111111111', title: 'Fix invoiceRounding', status: 'timed_out', files: ['b.ts', 'a.ts', 'a.ts', '../etc/passwd', '/abs'], qa: { lint: false } });
    expect(verifiedOutcome({ projectId: 'shop', type: ok.type, content: ok.content, jobId: ok.job_id })).toEqual({
      projectId: 'shop',
      jobId: '11111111-1111-4111-8111-111111111111',
      succeeded: false,
      agent: 'claude-code',
      durationS: 60,
      files: ['a.ts', 'b.ts'],
      terms: ['invoice', 'rounding'],
      qaChecks: [{ name: 'lint', passed: false }],
    });
    expect(verifiedOutcome({ projectId: 'shop', type: ok.type, content: ok.content })).toBeNull();
    expect(verifiedOutcome({ projectId: 'shop', type: 'execution_success', content: ok.content, jobId: ok.job_id })).toBeNull();
    expect(verifiedOutcome({ projectId: 'shop', type: 'insight', content: ok.content, jobId: ok.job_id })).toBeNull();
  });

  it('takes task words without stop words, generic verbs or plurals', () => {
    expect(taskTerms('Fix the flaky integration tests for the InvoiceExporter and add retries to queries')).toEqual(['flaky', 'integration', 'test', 'invoice', 'exporter', 'retry', 'query']);
    expect(taskTerms('a b c')).toEqual([]);
  });
});

describe('GET /api/v1/insights/patterns bad input', () => {
  const cases: Array<[string, string, string, string?]> = [
    ['no project_id', '', 'validation_failed', 'project_id'],
    ['a project_id with a slash', 'project_id=a/b', 'validation_failed', 'project_id'],
    ['an unknown type', 'project_id=shop&type=vibes', 'validation_failed', 'type'],
    ['limit 0', 'project_id=shop&limit=0', 'validation_failed', 'limit'],
    ['limit 501', 'project_id=shop&limit=501', 'validation_failed', 'limit'],
    ['a limit that is not a number', 'project_id=shop&limit=many', 'validation_failed', 'limit'],
    ['a cursor this service did not issue', 'project_id=shop&cursor=bm9wZQ', 'invalid_cursor', 'cursor'],
    ['an unknown parameter', 'project_id=shop&sort=asc', 'validation_failed'],
  ];
  for (const [name, query, code, field] of cases) {
    it(`answers 400 for ${name}`, async () => {
      const res = await api(t.url, 'GET', `/api/v1/insights/patterns?${query}`);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe(code);
      expect(typeof res.body.error.message).toBe('string');
      if (field) expect(JSON.stringify(res.body.error.details)).toContain(field);
    });
  }
});
