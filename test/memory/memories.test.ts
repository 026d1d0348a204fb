// Memories over HTTP: create (text and JSON), list with filters and a cursor, near-duplicates
// merge, contradictions supersede (history kept), semantic recall, delete, and bad input refused
// with nothing stored.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { renderContent } from '../../src/memory/memories/render.js';
import { lexicalView, relate, stem, textView } from '../../src/memory/memories/similarity.js';
import { api } from '../support/orchestrator.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';
import { outcome } from './outcomes.js';

let t: TestMemory;
beforeAll(async () => {
  t = await startTestMemory();
});
afterAll(async () => t?.stop());
beforeEach(async () => {
  await t.db.query(`truncate memory.memories`);
});

async function post(body: unknown) {
  return api(t.url, 'POST', '/api/v1/memory', body);
}
async function list(project: string, query = '') {
  return api(t.url, 'GET', `/api/v1/memory/${project}${query}`);
}
async function count(): Promise<number> {
  const [row] = await t.db.query<{ n: number }>(`select count(*)::int as n from memory.memories`);
  return row!.n;
}

describe('rendering and relations', () => {
  it('renders JSON as dotted key: value lines with arrays joined', () => {
    expect(renderContent({ build: { tool: 'pnpm', flags: ['--frozen-lockfile', '-r'] }, steps: [{ name: 'lint' }, { name: 'test' }], ok: true })).toBe(
      'build.tool: pnpm\nbuild.flags: --frozen-lockfile, -r\nsteps.1.name: lint\nsteps.2.name: test\nok: true',
    );
    expect(renderContent('  plain text  ')).toBe('plain text');
  });

  it('stems and folds polarity', () => {
    expect(stem('installing')).toBe(stem('installed'));
    expect(stem('dependencies')).toBe('dependency');
    expect(textView('Do not use pnpm').polarity).toBe(-1);
    expect(textView("don't use pnpm").polarity).toBe(-1);
    expect(textView('The cache is disabled').polarity).toBe(-1);
    expect(textView('The cache is enabled').anchors).toEqual(textView('The cache is disabled').anchors);
    expect(stem('used')).toBe(stem('using'));
    expect(textView('The cache is turned off').polarity).toBe(-1);
    expect(textView('The tests no longer need Docker').polarity).toBe(-1);
    expect(textView('Stop using yarn').polarity).toBe(-1);
    expect(textView('The test is flaky on CI').polarity).toBe(-1); // "on" the preposition is not "on" the state
    // Two words for one failure do not cancel out; a negated failure is a pass.
    expect(textView('The export test is flaky on CI: it fails when the runner is slow').polarity).toBe(-1);
    expect(textView('The export test stopped failing on CI').polarity).toBe(1);
    // A failure that follows from a missing thing says the thing is needed.
    expect(textView('Without Redis running, the billing tests fail').polarity).toBe(1);
    expect(textView('Redis must be up or the billing tests break').polarity).toBe(1);
    expect(textView('The billing tests pass without Redis').polarity).toBe(-1);
    // A high cosine alone decides nothing: the lexical check must agree.
    expect(relate(textView('the integration tests need Docker running'), textView('the integration tests need Redis running'), 0.9)).toBe('distinct');
  });

  it('relates texts by what they are about: framing and word forms differ, anchors must not', () => {
    const rel = (a: string, b: string, cosine = 0.5) => relate(textView(b), textView(a), cosine);
    expect(rel('The billing tests need Redis running', 'Redis must be running before you run the billing tests')).toBe('duplicate');
    expect(rel('The billing tests need Redis running', 'The billing tests no longer need Redis')).toBe('contradiction');
    // One side adds a detail (the symptom); the other says the opposite of the whole.
    expect(rel('The CSV import test sometimes times out on CI', 'The CSV import test is no longer flaky on CI')).toBe('contradiction');
    expect(rel('Use pnpm for publishing packages', 'Package publishing should go through pnpm')).toBe('duplicate'); // publishing ↔ publish
    // A hyphenated compound is one word: "end-to-end tests" are not "tests" plus a framing word.
    expect(rel('Refresh the test fixtures first, then run the end-to-end tests', 'Refresh the test fixtures first, then merge to main')).toBe('distinct');
    // A statement of a change with a new value for the same subject.
    expect(rel('Coverage reports are written to the data lake', 'Coverage reports now go to Google Cloud Storage instead')).toBe('contradiction');
    expect(rel('Coverage reports are written to the data lake', 'Build logs now go to the data lake instead')).toBe('distinct');
    // Numbers: a new value, or another setting.
    expect(rel('The search request timeout is 30 seconds', 'The search request timeout is now 60 seconds')).toBe('contradiction');
    expect(rel('The search request timeout is 30 seconds', 'The search retry limit is 30 attempts')).toBe('distinct');
    // One shared word is a subject only when it is all both say; the cosine gate holds for anything but a verbatim repeat.
    expect(rel('Use pnpm', 'Always use pnpm')).toBe('duplicate');
    expect(rel('Use pnpm', 'Do not use pnpm')).toBe('contradiction');
    expect(rel('Use pnpm for the docs', 'Use yarn for the docs')).toBe('distinct');
    expect(rel('Use pnpm here', 'Always use pnpm', 0.1)).toBe('distinct');
    expect(rel('Always run it first', 'Always run it first', 0.1)).toBe('duplicate');
  });

  it('relates JSON by its fields: ids, one changed value, names, sentences', () => {
    const view = (content: Record<string, unknown>) => lexicalView(content, renderContent(content));
    const rel = (a: Record<string, unknown>, b: Record<string, unknown>) => relate(view(b), view(a), 0.5);
    const base = { module: 'fraud scoring', parameter: 'batch_size', value: 7 };
    expect(rel(base, { parameter: 'batch_size', module: 'fraud scoring', value: 7, owner: 'platform team' })).toBe('duplicate'); // a note added
    expect(rel(base, { ...base, value: 32 })).toBe('contradiction'); // the value changed
    expect(rel({ cache: 'enabled', region: 'eu' }, { cache: 'disabled', region: 'eu' })).toBe('contradiction'); // a flag
    // Whatever its key is called, a name that differs is another subject, not a new value.
    expect(rel(base, { ...base, parameter: 'token_expiry_min' })).toBe('distinct');
    expect(rel(base, { ...base, module: 'ledger' })).toBe('distinct');
    expect(rel(base, { module: 'ledger', parameter: 'idle_timeout_s', value: 7 })).toBe('distinct'); // several differ
    // Records with different ids are about different things, however alike the rest.
    expect(rel({ job_id: 'a', status: 'succeeded', agent: 'codex' }, { job_id: 'b', status: 'succeeded', agent: 'codex' })).toBe('distinct');
    expect(rel({ ticketId: 'T-1', status: 'open' }, { ticketId: 'T-2', status: 'open' })).toBe('distinct');
    // A sentence-long field is read with the text rules.
    const lesson = (text: string) => ({ component: 'auth', lesson: text });
    expect(rel(lesson('refresh tokens need the session middleware'), lesson('the session middleware is needed by refresh tokens'))).toBe('duplicate');
    expect(rel(lesson('refresh tokens need the session middleware'), lesson('refresh tokens no longer need the session middleware'))).toBe('contradiction');
    // Keys that say nothing in common: the values' words decide.
    expect(rel({ component: 'billing', setting: 'timeout_s', value: 30 }, { module: 'billing', parameter: 'timeout_s', value: 30 })).toBe('duplicate');
  });
});

describe('POST and GET /api/v1/memory', () => {
  it('creates text and JSON memories and lists them newest first, filtered by type and tag, page by page', async () => {
    const a = await post({ project_id: 'p1', type: 'insight', content: 'The integration tests need a running Docker daemon', tags: ['testing', 'docker'], ticket_id: 'T-1' });
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    expect(a.body).toMatchObject({ project_id: 'p1', type: 'insight', tags: ['testing', 'docker'], ticket_id: 'T-1', job_id: null, superseded_by: null });
    expect(a.body.id).toMatch(/^[0-9a-f-]{36}$/);
    const b = await post({ project_id: 'p1', type: 'decision', content: { topic: 'package manager', choice: 'pnpm', reason: 'workspaces' }, tags: ['tooling'] });
    expect(b.status).toBe(201);
    expect(b.body.content).toEqual({ topic: 'package manager', choice: 'pnpm', reason: 'workspaces' });
    const c = await post({ project_id: 'p1', type: 'execution_failure', content: 'Job failed: the Python CLI crashed on an empty config file', tags: ['testing'], job_id: '6f1e2c1a-0000-4000-8000-000000000001' });
    expect(c.status).toBe(201);
    await post({ project_id: 'other', type: 'insight', content: 'Another project entirely' });

    const all = await list('p1');
    expect(all.status).toBe(200);
    expect(all.body.memories.map((m: any) => m.id)).toEqual([c.body.id, b.body.id, a.body.id]);
    expect(all.body.next_cursor).toBeNull();
    expect((await list('p1', '?type=decision')).body.memories.map((m: any) => m.id)).toEqual([b.body.id]);
    expect((await list('p1', '?tag=testing')).body.memories.map((m: any) => m.id)).toEqual([c.body.id, a.body.id]);
    expect((await list('p1', '?tag=testing&type=insight')).body.memories.map((m: any) => m.id)).toEqual([a.body.id]);

    const first = await list('p1', '?limit=2');
    expect(first.body.memories.map((m: any) => m.id)).toEqual([c.body.id, b.body.id]);
    expect(typeof first.body.next_cursor).toBe('string');
    const second = await list('p1', `?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`);
    expect(second.body.memories.map((m: any) => m.id)).toEqual([a.body.id]);
    expect(second.body.next_cursor).toBeNull();
  });

  it('keeps the last 20 wordings that merges replaced, oldest first', async () => {
    const wordings = ['Use pnpm instead of npm for installing dependencies in this repo', 'In this repo, install dependencies with pnpm rather than npm'];
    const first = await post({ project_id: 'h', type: 'insight', content: wordings[0] });
    let last = first;
    for (let i = 1; i <= 23; i++) last = await post({ project_id: 'h', type: 'insight', content: wordings[i % 2] });
    expect([last.status, last.body.id, last.body.seen_count]).toEqual([200, first.body.id, 24]);
    expect(last.body.history).toHaveLength(20);
    // The 23 replaced wordings alternate, starting with wordings[0]; the last 20 of them remain.
    expect(last.body.history.map((v: any) => v.content)).toEqual(Array.from({ length: 20 }, (_, i) => wordings[(i + 3) % 2]));
    const stamps = last.body.history.map((v: any) => Date.parse(v.replaced_at));
    expect([...stamps].sort((x, y) => x - y)).toEqual(stamps);
    // Lists carry it only when asked (20 old wordings a memory would weigh down every page and context).
    const plain = await list('h');
    expect(plain.body.memories[0]).not.toHaveProperty('history');
    const withHistory = await list('h', '?include_history=true');
    expect(withHistory.body.memories[0].history).toEqual(last.body.history);
    const recallWithHistory = await list('h', '?include_history=true&query=pnpm');
    expect(recallWithHistory.status).toBe(400);
  });

  it('merges a paraphrase into the existing memory (200, same id) and keeps an unrelated one apart', async () => {
    const first = await post({ project_id: 'p', type: 'insight', content: 'Use pnpm instead of npm for installing dependencies in this repo', tags: ['tooling'] });
    expect(first.status).toBe(201);
    await new Promise((r) => setTimeout(r, 5));
    const again = await post({ project_id: 'p', type: 'insight', content: 'In this repo, install dependencies with pnpm rather than npm', tags: ['setup'] });
    expect(again.status, JSON.stringify(again.body)).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    expect(again.body.merged_into).toBe(first.body.id);
    expect(again.body.seen_count).toBe(2);
    expect(Date.parse(again.body.updated_at)).toBeGreaterThan(Date.parse(first.body.updated_at));
    expect(again.body.created_at).toBe(first.body.created_at);
    expect(again.body.tags.sort()).toEqual(['setup', 'tooling']);
    // The replaced wording is kept; a verbatim repeat replaces nothing.
    expect(first.body.history).toEqual([]);
    expect(again.body.content).toBe('In this repo, install dependencies with pnpm rather than npm');
    expect(again.body.history).toEqual([{ content: 'Use pnpm instead of npm for installing dependencies in this repo', replaced_at: again.body.updated_at }]);
    const repeat = await post({ project_id: 'p', type: 'insight', content: 'In this repo, install dependencies with pnpm rather than npm' });
    expect([repeat.status, repeat.body.seen_count, repeat.body.history]).toEqual([200, 3, again.body.history]);

    const other = await post({ project_id: 'p', type: 'insight', content: 'Run the linter before pushing commits' });
    expect(other.status).toBe(201);
    // Same subject, a different fact: not merged.
    const docker = await post({ project_id: 'p', type: 'insight', content: 'The integration tests need Docker running' });
    const redis = await post({ project_id: 'p', type: 'insight', content: 'The integration tests need Redis running' });
    expect([docker.status, redis.status]).toEqual([201, 201]);
    // Another type or project is never merged into.
    expect((await post({ project_id: 'p', type: 'decision', content: 'Use pnpm instead of npm for installing dependencies in this repo' })).status).toBe(201);
    expect((await post({ project_id: 'q', type: 'insight', content: 'Use pnpm instead of npm for installing dependencies in this repo' })).status).toBe(201);
    expect(await count()).toBe(6);
  });

  it('supersedes a contradicted memory: kept, marked, out of recall, listed with include_superseded', async () => {
    const old = await post({ project_id: 'p', type: 'decision', content: 'The response cache is enabled in production' });
    const keep = await post({ project_id: 'p', type: 'decision', content: 'Deploys happen on Tuesdays after the release review' });
    const now = await post({ project_id: 'p', type: 'decision', content: 'The response cache is disabled in production' });
    expect(now.status, JSON.stringify(now.body)).toBe(201);
    expect(now.body.id).not.toBe(old.body.id);
    expect(now.body.supersedes).toEqual([old.body.id]);

    const live = await list('p');
    expect(live.body.memories.map((m: any) => m.id)).toEqual([now.body.id, keep.body.id]);
    const recalled = await list('p', `?query=${encodeURIComponent('is the production response cache on')}`);
    expect(recalled.body.memories.map((m: any) => m.id)).not.toContain(old.body.id);
    expect(recalled.body.memories[0].id).toBe(now.body.id);

    const history = await list('p', '?include_superseded=true');
    const marked = history.body.memories.find((m: any) => m.id === old.body.id);
    expect(marked).toMatchObject({ superseded_by: now.body.id, content: 'The response cache is enabled in production' });
    expect(typeof marked.superseded_at).toBe('string');

    // JSON: same subject, a different value for the same key.
    const j1 = await post({ project_id: 'p', type: 'pattern', content: { setting: 'node_version', value: '18' } });
    const j2 = await post({ project_id: 'p', type: 'pattern', content: { setting: 'node_version', value: '20' } });
    expect(j2.status).toBe(201);
    expect(j2.body.supersedes).toEqual([j1.body.id]);
    // "Do not use X" supersedes "use X".
    const u1 = await post({ project_id: 'p', type: 'feedback', content: 'Use yarn for installing dependencies' });
    const u2 = await post({ project_id: 'p', type: 'feedback', content: 'Do not use yarn for installing dependencies' });
    expect(u2.body.supersedes).toEqual([u1.body.id]);
  });

  it('tells another wording from another fact: substitutions stay apart, new numbers and "turned off" supersede, JSON subjects count', async () => {
    const redis = await post({ project_id: 'k', type: 'insight', content: 'The billing tests need Redis running' });
    // One word differs on each side: a different fact that holds as well, however close the rest.
    const kafka = await post({ project_id: 'k', type: 'insight', content: 'The billing tests need Kafka running' });
    expect([kafka.status, kafka.body.supersedes]).toEqual([201, []]);
    // Another wording of the first, with framing words of its own: merged into it.
    const again = await post({ project_id: 'k', type: 'insight', content: 'Billing tests: Redis has to be running first' });
    expect([again.status, again.body.id]).toEqual([200, redis.body.id]);
    // "Don't X until Y" is "Y before X": the same lesson, not its negation.
    const before = await post({ project_id: 'k', type: 'insight', content: 'Run the database migrations before deploying' });
    const until = await post({ project_id: 'k', type: 'insight', content: "Don't deploy until you run the database migrations" });
    expect([until.status, until.body.id]).toEqual([200, before.body.id]);

    const timeout = await post({ project_id: 'k', type: 'decision', content: 'The search request timeout is 30 seconds' });
    const otherTimeout = await post({ project_id: 'k', type: 'decision', content: 'The billing request timeout is 30 seconds' });
    expect(otherTimeout.body.supersedes).toEqual([]);
    const raised = await post({ project_id: 'k', type: 'decision', content: 'The search request timeout is now 60 seconds' });
    expect([raised.status, raised.body.supersedes]).toEqual([201, [timeout.body.id]]);
    const tracing = await post({ project_id: 'k', type: 'decision', content: 'Request tracing is enabled in staging' });
    const off = await post({ project_id: 'k', type: 'decision', content: 'In staging, request tracing is turned off' });
    expect(off.body.supersedes).toEqual([tracing.body.id]);

    const billing = await post({ project_id: 'k', type: 'pattern', content: { component: 'billing', setting: 'timeout_s', value: 30 } });
    // Another component with the same setting and value: about something else, not a contradiction.
    const search = await post({ project_id: 'k', type: 'pattern', content: { component: 'search', setting: 'timeout_s', value: 30 } });
    expect([search.status, search.body.supersedes]).toEqual([201, []]);
    // The same fact with a note added: merged.
    const noted = await post({ project_id: 'k', type: 'pattern', content: { setting: 'timeout_s', component: 'billing', value: 30, source: 'config review' } });
    expect([noted.status, noted.body.id]).toEqual([200, billing.body.id]);
    expect(await count()).toBe(10); // superseded memories stay (history)
  });

  it("keeps the orchestrator's outcomes of different jobs apart and merges a redelivered one", async () => {
    // Two jobs alike in all but their id, title and task: same status, agent, executor, files.
    const first = outcome({ project: 'o', title: 'Add invoice footer', status: 'succeeded', files: ['src/invoice.ts'], qa: { lint: true } });
    const second = outcome({ project: 'o', title: 'Fix invoice rounding', status: 'succeeded', files: ['src/invoice.ts'], qa: { lint: true } });
    const twin = outcome({ project: 'o', title: 'Add invoice footer', status: 'succeeded', files: ['src/invoice.ts'], qa: { lint: true } }); // the same work again, another job
    const a = await post(first);
    const b = await post(second);
    const c = await post(twin);
    expect([a.status, b.status, c.status], JSON.stringify([a.body, b.body, c.body])).toEqual([201, 201, 201]);
    expect([a.body.supersedes, b.body.supersedes, c.body.supersedes]).toEqual([[], [], []]);
    // All three stay live and recallable.
    const live = await list('o');
    expect(live.body.memories.map((m: any) => m.id).sort()).toEqual([a.body.id, b.body.id, c.body.id].sort());
    const recalled = await list('o', `?limit=10&query=${encodeURIComponent('invoice footer')}`);
    expect(recalled.body.memories.map((m: any) => m.id)).toEqual(expect.arrayContaining([a.body.id, c.body.id]));

    // The outbox delivers again after a lost answer: the same memory (200, same id), nothing new.
    const again = await post(first);
    expect([again.status, again.body.id, again.body.seen_count, again.body.supersedes]).toEqual([200, a.body.id, 2, []]);
    expect(await count()).toBe(3);
    // Another job's failure is another type: never merged with a success.
    const failed = await post(outcome({ project: 'o', title: 'Add invoice footer', status: 'failed', files: ['src/invoice.ts'] }));
    expect(failed.status).toBe(201);
    expect(await count()).toBe(4);
  });

  it('recalls the relevant memory first for a query that shares few of its words, with scores', async () => {
    const contents = [
      'Database migrations must be applied before starting the API server',
      'The websocket reconnect test is flaky on CI and times out',
      'Use pnpm for installing dependencies',
      'Nightly database backups are written to the S3 bucket',
      { component: 'auth', lesson: 'refresh tokens expire after 7 days, renew them in the session middleware' },
    ];
    const ids: string[] = [];
    for (const content of contents) ids.push((await post({ project_id: 'r', type: 'insight', content })).body.id);
    const cases: Array<[string, number]> = [
      ['which step to run before the server starts: migrations?', 0],
      ['flaky websocket tests timing out in CI', 1],
      ['how long until a refresh token expires', 4],
      ['where do backups go', 3],
    ];
    for (const [query, expected] of cases) {
      const res = await list('r', `?limit=3&query=${encodeURIComponent(query)}`);
      expect(res.status).toBe(200);
      expect(res.body.memories[0].id, query).toBe(ids[expected]);
      const scores = res.body.memories.map((m: any) => m.score);
      expect(scores).toEqual([...scores].sort((a: number, b: number) => b - a));
      expect(res.body.memories.length).toBeLessThanOrEqual(3);
      expect(res.body.next_cursor).toBeNull();
    }
    expect((await list('r', `?type=decision&query=migrations`)).body.memories).toEqual([]);
  });

  it('deletes a memory, then answers 404', async () => {
    const m = await post({ project_id: 'p', type: 'insight', content: 'Short-lived memory' });
    const del = await api(t.url, 'DELETE', `/api/v1/memory/${m.body.id}`);
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ id: m.body.id, deleted: true });
    expect(await count()).toBe(0);
    const again = await api(t.url, 'DELETE', `/api/v1/memory/${m.body.id}`);
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('not_found');
    expect((await api(t.url, 'DELETE', '/api/v1/memory/not-a-uuid')).status).toBe(400);
  });

  it('keeps a superseded memory out of recall when the memory that superseded it is deleted', async () => {
    const old = await post({ project_id: 'p', type: 'decision', content: 'Feature flags are enabled in staging' });
    const now = await post({ project_id: 'p', type: 'decision', content: 'Feature flags are disabled in staging' });
    expect(now.body.supersedes).toEqual([old.body.id]);
    expect((await api(t.url, 'DELETE', `/api/v1/memory/${now.body.id}`)).status).toBe(200);
    expect((await list('p')).body.memories).toEqual([]);
    const history = await list('p', '?include_superseded=true');
    expect(history.body.memories).toHaveLength(1);
    expect(history.body.memories[0]).toMatchObject({ id: old.body.id, superseded_by: null });
    expect(typeof history.body.memories[0].superseded_at).toBe('string');
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = await api(t.url, 'GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/api/v1/memory', '/api/v1/memory/{project_id}', '/api/v1/memory/{id}']));
  });
});

describe('bad input', () => {
  const cases: Array<[string, unknown, string]> = [
    ['no content', { project_id: 'p', type: 'insight' }, 'content'],
    ['empty content', { project_id: 'p', type: 'insight', content: '' }, 'content'],
    ['blank content', { project_id: 'p', type: 'insight', content: '   ' }, 'content'],
    ['an empty object', { project_id: 'p', type: 'insight', content: {} }, 'content'],
    ['an array', { project_id: 'p', type: 'insight', content: ['a'] }, 'content'],
    ['content over 64 KB', { project_id: 'p', type: 'insight', content: 'x '.repeat(33_000) }, 'content'],
    ['JSON content over 64 KB', { project_id: 'p', type: 'insight', content: { note: 'y'.repeat(70_000) } }, 'content'],
    ['tags not strings', { project_id: 'p', type: 'insight', content: 'ok', tags: [1, 2] }, 'tags.0'],
    ['tags not an array', { project_id: 'p', type: 'insight', content: 'ok', tags: 'a' }, 'tags'],
    ['no type', { project_id: 'p', content: 'ok' }, 'type'],
    ['a bad type', { project_id: 'p', type: 'has space', content: 'ok' }, 'type'],
    ['a bad project', { project_id: 'a/b', type: 'insight', content: 'ok' }, 'project_id'],
    ['an unknown field', { project_id: 'p', type: 'insight', content: 'ok', extra: 1 }, 'extra'],
  ];
  it.each(cases)('POST with %s is a 400 naming the field, and stores nothing', async (_name, body, field) => {
    const res = await post(body);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(typeof res.body.error.message).toBe('string');
    expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
    expect(await count()).toBe(0);
  });

  it.each([
    ['?limit=0', 'limit'],
    ['?limit=501', 'limit'],
    ['?limit=abc', 'limit'],
    ['?cursor=garbage', 'cursor'],
    ['?query=x&cursor=eyJzZXEiOiIxIn0', 'cursor'],
    ['?include_superseded=maybe', 'include_superseded'],
  ])('GET %s is a 400 naming %s', async (query, field) => {
    const res = await list('p', query);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(['validation_failed', 'invalid_cursor']).toContain(res.body.error.code);
    expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
  });
});
