// A job's run over HTTP: its events (JSON pages and live SSE), the readable log, the branch's diff,
// follow-ups on the same branch, budgets that hold a project, and bodyless requests whatever their
// content type.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';

let t: TestOrchestrator;
let repo: string;
beforeAll(async () => {
  t = await startTestOrchestrator({ env: { AUTOBUILD_MAX_COST_USD: '7.5' } });
  repo = createTestRepo({ 'README.md': '# test\n', 'old.txt': 'old\n', 'gone.txt': 'gone\n', 'keep.txt': 'one\n' });
});
afterAll(async () => t.stop());

const sh = (script: string) => ({ type: 'command', command: ['sh', '-c', script] });
async function run(script: string, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'runs', prompt: 'do it', repo, agent: sh(script), ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return waitForJob(t.url, res.body.id, isDone);
}

describe('events', () => {
  it('pages through a finished run oldest first; the cursor ends once everything is read', async () => {
    const job = await run('echo one; echo two >&2; echo three; echo \'{"type":"result","result":"all done"}\'');
    expect(job.status).toBe('succeeded');
    expect(job.result.summary).toBe('all done');
    const all = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/events?limit=500`)).body;
    expect(all.next_cursor).toBeNull();
    expect(all.events.map((e: any) => e.seq)).toEqual(all.events.map((_: unknown, i: number) => i + 1));
    expect(all.events.filter((e: any) => e.kind === 'output').map((e: any) => e.text).sort()).toEqual(['one', 'three', 'two']);
    expect(all.events).toContainEqual(expect.objectContaining({ kind: 'result', text: 'all done', is_error: false }));
    expect(all.events[0]).toMatchObject({ kind: 'note', text: expect.stringMatching(/^attempt 1 of 1/) });
    for (const event of all.events) expect(Date.parse(event.at)).not.toBeNaN();

    const pages: any[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const page: any = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/events?limit=3${cursor ? `&cursor=${cursor}` : ''}`)).body;
      pages.push(...page.events);
      cursor = page.next_cursor;
      expect(pages.length).toBeLessThanOrEqual(all.events.length + 3);
    }
    expect(pages).toEqual(all.events);

    // The readable log is the same run as lines.
    const log = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/logs`)).body as string;
    expect(log).toMatch(/^\[autobuild [^\]]+\] attempt 1 of 1/);
    expect(log).toContain('\none\n');
    expect(log).toContain('result: all done');
  });

  it('streams a running job live over SSE until it ends, and resumes after Last-Event-ID', async () => {
    const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'runs', prompt: 'slow', repo, agent: sh('echo first; sleep 1; echo second') });
    const id = res.body.id;
    const read = async (headers: Record<string, string> = {}) => {
      const response = await fetch(`${t.url}/api/v1/jobs/${id}/events`, { headers: { accept: 'text/event-stream', ...headers } });
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      return response.text();
    };
    const stream = await read();
    const frames = stream.split('\n\n').filter(Boolean);
    const data = frames.filter((f) => f.startsWith('id: ')).map((f) => JSON.parse(f.split('\ndata: ')[1]!));
    expect(data.filter((e) => e.kind === 'output').map((e) => e.text)).toEqual(['first', 'second']);
    expect(frames.at(-1)).toBe('event: end\ndata: {"status":"succeeded"}');
    // A client reconnecting after seq 3 gets the rest only.
    const resumed = (await read({ 'last-event-id': '3' })).split('\n\n').filter((f) => f.startsWith('id: '));
    expect(resumed.map((f) => Number(/^id: (\d+)/.exec(f)![1]))).toEqual(data.filter((e) => e.seq > 3).map((e) => e.seq));
  });

  it('bounds a runaway line of output, and every event after it is still served', async () => {
    const job = await run(`head -c 1500000 /dev/zero | tr '\\0' x; echo; echo AFTER`);
    const events = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/events?limit=500`)).body.events as any[];
    const output = events.filter((e) => e.kind === 'output');
    expect(output.map((e) => e.text.length)).toEqual([64 * 1024 + '… (1434464 more characters cut)'.length, 5]);
    expect(output[1].text).toBe('AFTER');
    expect(events.at(-1).kind).toBe('note');
  });

  it('answers 404 for an unknown job and 400 for a cursor it did not issue', async () => {
    expect((await api(t.url, 'GET', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/events')).status).toBe(404);
    const job = await run('true');
    expect((await api(t.url, 'GET', `/api/v1/jobs/${job.id}/events?cursor=nope`)).body.error.code).toBe('invalid_cursor');
  });
});

describe('diff', () => {
  it('shows the branch against its merge base: text, and per file with status and counts', async () => {
    const job = await run('echo new > new.txt && git mv old.txt moved.txt && git rm -q gone.txt && echo two >> keep.txt');
    // main moves on meanwhile: the diff is still the branch's own work (merge base).
    gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'main moves on');
    const text = await api(t.url, 'GET', `/api/v1/jobs/${job.id}/diff`);
    expect(text.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(text.body).toContain('+new');
    // It applies as it is (its last newline kept) onto the base.
    const check = tempDir('diff-apply-');
    gitIn(check, 'clone', '-q', repo, '.');
    writeFileSync(path.join(check, 'job.patch'), text.body);
    gitIn(check, 'checkout', '-q', `${gitIn(repo, 'merge-base', 'main', job.branch)}`);
    gitIn(check, 'apply', '--check', 'job.patch');
    const files = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/diff?format=json`)).body.files;
    expect(files.map((f: any) => [f.path, f.status, f.insertions, f.deletions])).toEqual([
      ['gone.txt', 'deleted', 0, 1],
      ['keep.txt', 'modified', 1, 0],
      ['moved.txt', 'renamed', 0, 0],
      ['new.txt', 'added', 1, 0],
    ]);
    expect(files.find((f: any) => f.path === 'moved.txt').old_path).toBe('old.txt');
    expect(files.find((f: any) => f.path === 'keep.txt').patch).toMatch(/^diff --git a\/keep.txt b\/keep.txt\n[\s\S]*\+two\n$/);
  });

  it('is a 404 while the branch does not exist, and 400 for an unknown format', async () => {
    const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'held', prompt: 'x', repo, agent: sh('true'), executor: 'local' });
    await api(t.url, 'POST', '/api/v1/projects', { id: 'held', repo, max_parallel: 1, budget: { daily_cost_usd: 0 } });
    const queued = (await api(t.url, 'GET', `/api/v1/jobs/${res.body.id}`)).body;
    if (queued.status === 'queued') expect((await api(t.url, 'GET', `/api/v1/jobs/${queued.id}/diff`)).body.error.code).toBe('branch_not_found');
    expect((await api(t.url, 'GET', `/api/v1/jobs/${queued.id}/diff?format=xml`)).status).toBe(400);
    await api(t.url, 'DELETE', `/api/v1/jobs/${queued.id}`);
  });
});

describe('follow-ups', () => {
  it('continue a finished job on the same branch, one job of a thread at a time', async () => {
    // The command agent runs again with the follow-up's prompt.
    const first = await run('echo "$AUTOBUILD_PROMPT" >> notes.txt');
    const res = await api(t.url, 'POST', `/api/v1/jobs/${first.id}/follow-ups`, { prompt: 'now b', priority: 'high' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ parent_job_id: first.id, branch: first.branch, base_branch: first.base_branch, priority: 'high', title: 'Follow-up: now b', agent: first.agent, max_cost_usd: 7.5 });
    expect((await api(t.url, 'POST', `/api/v1/jobs/${first.id}/follow-ups`, { prompt: 'twice' })).status).toBe(409);
    // While it is queued or running, the follow-up itself cannot be followed up.
    expect((await api(t.url, 'POST', `/api/v1/jobs/${res.body.id}/follow-ups`, { prompt: 'too soon' })).body.error.code).toBe('state_conflict');
    const second = await waitForJob(t.url, res.body.id, isDone);
    expect(second.status).toBe('succeeded');
    // Same thread, same worktree path: an agent's session (tied to its working directory) can resume there.
    expect(second.worktree.path).toBe(first.worktree.path);
    expect(gitIn(repo, 'log', '--format=%s', `main..${first.branch}`).split('\n')).toHaveLength(2);
    expect(gitIn(repo, 'show', `${first.branch}:notes.txt`)).toBe('do it\nnow b');
    expect(second.result.commits).toHaveLength(2);
    // The branch's diff holds the thread's work; scope=job only this job's own commit.
    const own = (await api(t.url, 'GET', `/api/v1/jobs/${first.id}/diff?scope=job`)).body as string;
    expect(own).toContain('+do it');
    expect(own).not.toContain('+now b');
    const ownJson = (await api(t.url, 'GET', `/api/v1/jobs/${second.id}/diff?scope=job&format=json`)).body.files;
    expect(ownJson.map((f: any) => [f.path, f.insertions])).toEqual([['notes.txt', 1]]);
    expect((await api(t.url, 'GET', `/api/v1/jobs/${second.id}/diff`)).body).toContain('+do it');
  });

  it('are 404 for an unknown job, 409 while the job runs, 400 without a prompt', async () => {
    expect((await api(t.url, 'POST', '/api/v1/jobs/00000000-0000-4000-8000-000000000000/follow-ups', { prompt: 'x' })).status).toBe(404);
    const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'runs', prompt: 'slow', repo, agent: sh('sleep 2') });
    expect((await api(t.url, 'POST', `/api/v1/jobs/${res.body.id}/follow-ups`, { prompt: 'x' })).status).toBe(409);
    const finished = await waitForJob(t.url, res.body.id, isDone);
    expect((await api(t.url, 'POST', `/api/v1/jobs/${finished.id}/follow-ups`, {})).body.error.details[0].field).toBe('prompt');
    expect((await api(t.url, 'POST', `/api/v1/jobs/${finished.id}/follow-ups`, { prompt: '  ' })).status).toBe(400);
  });
});

describe('budgets', () => {
  it('a project over its daily budget starts nothing new and says why; raising it lets the job start', async () => {
    const reg = await api(t.url, 'POST', '/api/v1/projects', { id: 'budgeted', repo, budget: { daily_cost_usd: 2 } });
    expect(reg.body.budget).toEqual({ daily_cost_usd: 2 });
    const spender = await run('true', { project_id: 'budgeted' });
    // It spent $3 within the window (as an agent's run would record it).
    await t.db.query(`update orchestrator.jobs set cost_usd = 3, spent_at = now() where id = $1`, [spender.id]);
    const held = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'budgeted', prompt: 'next', agent: sh('true') });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const waiting = (await api(t.url, 'GET', `/api/v1/jobs/${held.body.id}`)).body;
    expect(waiting.status).toBe('queued');
    expect(waiting.waiting_reason).toBe('project budget reached ($3.00 of $2.00 in the last 24 h)');
    const listed = (await api(t.url, 'GET', '/api/v1/jobs?project_id=budgeted&status=queued')).body.jobs[0];
    expect(listed.waiting_reason).toBe(waiting.waiting_reason);
    // Raising the budget wakes the schedulers.
    await api(t.url, 'POST', '/api/v1/projects', { id: 'budgeted', repo, budget: { daily_cost_usd: 10 } });
    expect((await waitForJob(t.url, held.body.id, isDone, 10_000)).status).toBe('succeeded');
  });

  it('takes max_cost_usd per job (default from the configuration) and refuses a negative one', async () => {
    const own = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'runs', prompt: 'x', repo, agent: sh('true'), max_cost_usd: 0.25 });
    expect(own.body.max_cost_usd).toBe(0.25);
    await waitForJob(t.url, own.body.id, isDone);
    const bad = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'runs', prompt: 'x', repo, agent: sh('true'), max_cost_usd: -1 });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details[0].field).toBe('max_cost_usd');
  });
});

describe('requests without a body', () => {
  it('are accepted whatever content type a client labels them with', async () => {
    const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'runs', prompt: 'slow', repo, agent: sh('sleep 5') });
    const cancel = await fetch(`${t.url}/api/v1/jobs/${res.body.id}`, { method: 'DELETE', headers: { 'content-type': 'application/json' } });
    expect(cancel.status).toBe(202);
    expect(((await cancel.json()) as any).status).toMatch(/cancelled|running|preparing/);
    // A bodiless POST to a route that needs a body names what is missing, not the content type.
    const empty = await fetch(`${t.url}/api/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' } });
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as any).error.code).toBe('validation_failed');
  });
});
