// A job's life: cancel (queued and running, with the agent's children), timeouts, retries with
// backoff, idempotent submission, live logs, and the work kept on the branch whatever the outcome.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { processAlive, recordName, release, waitFor, waitForRelease } from '../support/agents.js';

let t: TestOrchestrator | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const submit = (body: Record<string, unknown>, headers: Record<string, string> = {}) => api(t!.url, 'POST', '/api/v1/jobs', body, headers);

/** An agent that starts a grandchild (sleep), records its pid, and waits. */
const sleeperWithChild = (pidFile: string) => ({
  type: 'command',
  command: ['sh', '-c', 'sleep 300 & echo $! > "$1"; echo started; wait', 'sh', pidFile],
});

describe('cancel', () => {
  it('cancels a queued job at once; it never runs; a second cancel is a 409', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_MAX_PARALLEL: '1' } });
    const repo = createTestRepo();
    const dir = tempDir();
    const gate = path.join(dir, 'gate');
    const order = path.join(dir, 'order');
    const blocker = await submit({ project_id: 'p', prompt: 'b', repo, agent: waitForRelease('blocker', gate, order) });
    const victim = await submit({ project_id: 'p', prompt: 'v', repo, agent: recordName('victim', order) });
    expect(victim.body.status).toBe('queued');
    const cancelled = await api(t.url, 'DELETE', `/api/v1/jobs/${victim.body.id}`);
    expect(cancelled.status).toBe(202);
    expect(cancelled.body.status).toBe('cancelled');
    expect(cancelled.body.queue_position).toBeNull();
    release(gate);
    await waitForJob(t.url, blocker.body.id, isDone);
    expect(readFileSync(order, 'utf8').trim()).toBe('blocker');
    const again = await api(t.url, 'DELETE', `/api/v1/jobs/${victim.body.id}`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('job_finished');
  });

  it("stops a running agent's whole process group and keeps what it wrote", async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const pidFile = path.join(tempDir(), 'pid');
    const job = await submit({
      project_id: 'p',
      prompt: 'c',
      repo,
      agent: { type: 'command', command: ['sh', '-c', 'echo partial > work.txt; sleep 300 & echo $! > "$1"; wait', 'sh', pidFile] },
    });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 10_000, 'agent start');
    const child = Number(readFileSync(pidFile, 'utf8'));
    expect(processAlive(child)).toBe(true);
    const res = await api(t.url, 'DELETE', `/api/v1/jobs/${job.body.id}`);
    expect(res.status).toBe(202);
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.status).toBe('cancelled');
    await waitFor(() => !processAlive(child), 5000, 'grandchild to die');
    expect(gitIn(repo, 'show', `${done.branch}:work.txt`)).toBe('partial');
    expect(done.result.files_changed).toEqual(['work.txt']);
  });

  it('stops a job whose cancel was asked for without its announcement (a NOTIFY lost), at its next lease renewal', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_LEASE_S: '3' } });
    const repo = createTestRepo();
    const started = path.join(tempDir(), 'started');
    const job = await submit({ project_id: 'p', prompt: 'c', repo, agent: { type: 'command', command: ['sh', '-c', 'touch "$1"; sleep 300', 'sh', started] } });
    await waitFor(() => existsSync(started), 10_000, 'agent start');
    await waitForJob(t.url, job.body.id, (j) => j.status === 'running');
    // What the cancel route writes, but no NOTIFY: as if the listening connection had been away.
    await t.db.query(`update orchestrator.jobs set cancel_requested_at = now() where id = $1`, [job.body.id]);
    const done = await waitForJob(t.url, job.body.id, isDone, 10_000);
    expect(done.status).toBe('cancelled');
  });
});

describe('timeouts and retries', () => {
  it('times out, kills the group, and records timed_out', async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const pidFile = path.join(tempDir(), 'pid');
    const job = await submit({ project_id: 'p', prompt: 't', repo, timeout_s: 1, agent: sleeperWithChild(pidFile) });
    const done = await waitForJob(t.url, job.body.id, isDone, 15_000);
    expect(done.status).toBe('timed_out');
    expect(done.error).toMatch(/timed out after 1s/);
    const child = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !processAlive(child), 5000, 'grandchild to die');
  });

  it('retries a failing job until it succeeds, within max_attempts', async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const counter = path.join(tempDir(), 'count');
    // Fails on attempts 1 and 2, succeeds on 3.
    const agent = { type: 'command', command: ['sh', '-c', 'echo x >> "$1"; [ "$(wc -l < "$1")" -ge 3 ]', 'sh', counter] };
    const job = await submit({ project_id: 'p', prompt: 'r', repo, max_attempts: 3, agent });
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.error).toBeNull();
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(3);
    expect(readFileSync(counter, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('gives up after max_attempts, waiting out the backoff between attempts', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_RETRY_BACKOFF_S: '1' } });
    const repo = createTestRepo();
    const stamps = path.join(tempDir(), 'stamps');
    const agent = { type: 'command', command: ['sh', '-c', 'date +%s%N >> "$1"; exit 3', 'sh', stamps] };
    const job = await submit({ project_id: 'p', prompt: 'f', repo, max_attempts: 2, agent });
    const queuedAgain = await waitForJob(t.url, job.body.id, (j) => j.attempt === 1 && j.status === 'queued');
    expect(queuedAgain.error).toMatch(/code 3/);
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.status).toBe('failed');
    expect(done.exit_code).toBe(3);
    expect(done.attempt).toBe(2);
    const [first, second] = readFileSync(stamps, 'utf8').trim().split('\n').map((n) => Number(n) / 1e6);
    expect(second! - first!).toBeGreaterThanOrEqual(950);
  });
});

describe('an outcome that cannot be recorded', () => {
  it('does not leave the job running: its lease lapses and recovery runs it again', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_LEASE_S: '2' } });
    const repo = createTestRepo();
    // The database refuses the first two writes of a finished outcome (the outcome, then the
    // outcome without its result: as a lost connection would), then takes the next.
    // (A sequence counts the refusals: it is not rolled back with the refused write.)
    await t.db.exec(`
      create sequence if not exists public.outcome_writes;
      create or replace function public.refuse_first_outcome() returns trigger language plpgsql as $$
      begin
        if old.status = 'running' and new.status in ('succeeded', 'failed') and nextval('public.outcome_writes') <= 2 then
          raise exception 'outcome refused (test)';
        end if;
        return new;
      end $$;
      create trigger refuse_first_outcome before update on orchestrator.jobs for each row execute function public.refuse_first_outcome();`);
    try {
      const job = await submit({ project_id: 'p', prompt: 'x', repo, max_attempts: 2, agent: { type: 'command', command: ['true'] } });
      const done = await waitForJob(t.url, job.body.id, isDone, 30_000);
      expect(done.status).toBe('succeeded');
      // The first attempt's outcome was refused; the job went back to the queue and ran again.
      expect(done.attempt).toBe(2);
      const log = await fetch(`${t.url}/api/v1/jobs/${job.body.id}/logs`).then((r) => r.text());
      expect(log).toMatch(/recovered as queued[\s\S]*attempt 2 of 2/);
    } finally {
      await t.db.exec(`drop trigger if exists refuse_first_outcome on orchestrator.jobs; drop function if exists public.refuse_first_outcome(); drop sequence if exists public.outcome_writes;`);
    }
  });
});

describe('idempotency', () => {
  it('returns the same job for the same key, and refuses the key for a different request', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_MAX_PARALLEL: '1' } });
    const repo = createTestRepo();
    const body = { project_id: 'p', prompt: 'once', repo, agent: { type: 'command', command: ['true'] } };
    const results = await Promise.all(Array.from({ length: 5 }, () => submit(body, { 'idempotency-key': 'key-1' })));
    const ids = new Set(results.map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(4);
    const viaBody = await submit({ ...body, idempotency_key: 'key-1' });
    expect(viaBody.body.id).toBe(results[0]!.body.id);
    const different = await submit({ ...body, prompt: 'something else' }, { 'idempotency-key': 'key-1' });
    expect(different.status).toBe(422);
    expect(different.body.error.code).toBe('idempotency_key_reused');
    const list = await api(t.url, 'GET', '/api/v1/jobs?project_id=p');
    expect(list.body.jobs).toHaveLength(1);
  });
});

describe('work is never lost', () => {
  it("commits a failed agent's leftovers on its branch, beside its own commits, and removes the worktree", async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const agent = {
      type: 'command',
      command: ['sh', '-c', 'echo one > a.txt && git add a.txt && git -c user.name=A -c user.email=a@b commit -qm "agent commit" && echo two > b.txt && exit 1'],
    };
    const job = await submit({ project_id: 'p', prompt: 'keep', repo, agent });
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.status).toBe('failed');
    expect(done.result.commits.map((c: any) => c.message)).toEqual(['agent commit', 'autobuild: keep']);
    expect(done.result.files_changed.sort()).toEqual(['a.txt', 'b.txt']);
    expect(done.result.diff_stat).toEqual({ files: 2, insertions: 2, deletions: 0 });
    expect(gitIn(repo, 'show', `${done.branch}:b.txt`)).toBe('two');
    expect(existsSync(done.worktree.path)).toBe(false);
    expect(gitIn(repo, 'worktree', 'list')).not.toContain(done.worktree.path);
    const worktrees = await api(t.url, 'GET', '/api/v1/worktrees');
    expect(worktrees.body.worktrees).toEqual([]);
    const history = await api(t.url, 'GET', '/api/v1/worktrees?include_removed=true');
    expect(history.body.worktrees[0]).toMatchObject({ job_id: done.id, status: 'removed', branch: done.branch });
    // The user's checkout is untouched.
    expect(gitIn(repo, 'status', '--porcelain')).toBe('');
    expect(gitIn(repo, 'rev-parse', '--abbrev-ref', 'HEAD')).toBe('main');
  });

  it('gives the agent the contract environment and never the orchestrator secrets', async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const out = path.join(tempDir(), 'env');
    process.env.AUTOBUILD_CALLBACK_SECRET = 'do-not-leak-me';
    try {
      const agent = { type: 'command', command: ['sh', '-c', 'env > "$1"; pwd >> "$1"; test -f "$AUTOBUILD_CONTEXT_FILE"', 'sh', out], env: { EXTRA: 'yes' } };
      const job = await submit({ project_id: 'p', prompt: 'the prompt', repo, agent });
      const done = await waitForJob(t.url, job.body.id, isDone);
      expect(done.status).toBe('succeeded');
      expect(done.agent.env).toEqual({ EXTRA: '[REDACTED]' });
      const env = readFileSync(out, 'utf8');
      expect(env).toContain(`AUTOBUILD_JOB_ID=${done.id}`);
      expect(env).toContain('AUTOBUILD_PROMPT=the prompt');
      expect(env).toContain(`AUTOBUILD_BRANCH=${done.branch}`);
      expect(env).toContain('EXTRA=yes');
      expect(env).toContain(done.worktree.path);
      expect(env).not.toContain('do-not-leak-me');
    } finally {
      delete process.env.AUTOBUILD_CALLBACK_SECRET;
    }
  });
});

describe('logs', () => {
  it('streams a running job live over SSE until it ends', async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const gate = path.join(tempDir(), 'gate');
    const agent = { type: 'command', command: ['sh', '-c', 'echo first line; while [ ! -f "$1" ]; do sleep 0.02; done; echo second line', 'sh', gate] };
    const job = await submit({ project_id: 'p', prompt: 'l', repo, agent });
    const response = await fetch(`${t.url}/api/v1/jobs/${job.body.id}/logs`, { headers: { accept: 'text/event-stream' } });
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = response.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('first line')) text += decoder.decode((await reader.read()).value);
    expect(text).not.toContain('second line');
    release(gate);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    expect(text).toContain('data: second line');
    expect(text).toMatch(/event: end\ndata: \{"status":"succeeded"\}/);
    const plain = await api(t.url, 'GET', `/api/v1/jobs/${job.body.id}/logs`);
    expect(plain.headers.get('content-type')).toMatch(/text\/plain/);
    expect(plain.body).toContain('first line\n');
    expect(plain.body).toContain('second line\n');
  });

  it('keeps a character whose bytes arrive in two writes whole, and splits \\r into lines', async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const agent = { type: 'command', command: ['sh', '-c', 'printf "caf\\303"; sleep 0.3; printf "\\251\\n50%%\\r100%%\\n"'] };
    const job = await submit({ project_id: 'p', prompt: 'utf8', repo, agent });
    const response = await fetch(`${t.url}/api/v1/jobs/${job.body.id}/logs`, { headers: { accept: 'text/event-stream' } });
    const text = await response.text();
    expect(text).toContain('data: café');
    expect(text).not.toContain('\uFFFD');
    expect(text).toContain('data: 50%\ndata: 100%');
  });
});

describe('a result the database refuses', () => {
  it('is dropped, and the outcome recorded with a note, so the job does not stay running', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_LEASE_S: '30' } });
    const repo = createTestRepo();
    await t.db.exec(`
      create or replace function public.refuse_results() returns trigger language plpgsql as $$
      begin
        if old.status = 'running' and new.result is not null and new.status = 'succeeded' then
          raise exception 'result refused (test)';
        end if;
        return new;
      end $$;
      create trigger refuse_results before update on orchestrator.jobs for each row execute function public.refuse_results();`);
    try {
      const job = await submit({ project_id: 'p', prompt: 'x', repo, agent: { type: 'command', command: ['sh', '-c', 'echo hi > a.txt'] } });
      const done = await waitForJob(t.url, job.body.id, isDone, 20_000);
      expect(done.status).toBe('succeeded');
      expect(done.attempt).toBe(1);
      expect(done.result).toBeNull();
      expect(done.error).toMatch(/^its result could not be recorded \(.*result refused \(test\)/);
    } finally {
      await t.db.exec(`drop trigger if exists refuse_results on orchestrator.jobs; drop function if exists public.refuse_results();`);
    }
  });
});
