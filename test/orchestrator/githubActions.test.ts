// The GitHub Actions executor against a local server speaking GitHub's REST API, driven by the
// real Octokit: dispatch, the signed callback (every status code), reconciliation of quiet runs,
// cancel, rate limits and 5xx retried.
import { createHmac } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo } from '../support/repo.js';
import { waitFor } from '../support/agents.js';
import { startFakeGithub, type FakeGithub } from '../fakes/githubServer.js';

const SECRET = 'callback-secret-for-tests';
const sign = (raw: string, secret = SECRET) => `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;

let gh: FakeGithub;
let t: TestOrchestrator | undefined;
let repo: string;
beforeAll(async () => {
  gh = await startFakeGithub();
  repo = createTestRepo();
});
afterAll(async () => gh.close());
afterEach(async () => {
  await t?.stop();
  t = undefined;
  gh.runs.length = 0;
  gh.requests.length = 0;
  gh.returnRunDetails = true;
  gh.createRuns = true;
});

async function start(env: Record<string, string> = {}) {
  t = await startTestOrchestrator({
    env: {
      GITHUB_TOKEN: 'gh-test-token',
      GITHUB_API_URL: gh.url,
      AUTOBUILD_PUBLIC_URL: 'https://autobuild.example',
      AUTOBUILD_CALLBACK_SECRET: SECRET,
      AUTOBUILD_GITHUB_POLL_S: '1',
      AUTOBUILD_GITHUB_WRITE_INTERVAL_MS: '0',
      AUTOBUILD_GITHUB_CALLBACK_GRACE_S: '1',
      ...env,
    },
  });
  const project = await api(t.url, 'POST', '/api/v1/projects', { id: 'remote', repo, github: { owner: 'acme', repo: 'widgets', workflow: 'autobuild-agent.yml' } });
  expect(project.status).toBe(201);
  return t;
}

const submitRemote = (body: Record<string, unknown> = {}) =>
  api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'remote', prompt: 'Fix the flaky test; $(rm -rf /)', executor: 'github-actions', agent: { type: 'claude-code' }, ...body });

const postCallback = (raw: string, signature?: string) =>
  api(t!.url, 'POST', '/api/v1/callback', raw, { 'content-type': 'application/json', ...(signature ? { 'x-autobuild-signature-256': signature } : {}) });

describe('dispatch', () => {
  it('dispatches the workflow with the job coordinates, and the remote job holds its slot', async () => {
    await start({ AUTOBUILD_MAX_PARALLEL: '1' });
    const first = await submitRemote();
    expect(first.status).toBe(201);
    const running = await waitForJob(t!.url, first.body.id, (j) => j.status === 'running');
    const run = gh.runs[0]!;
    expect(run.inputs).toEqual({
      job_id: running.id,
      branch: running.branch,
      base_branch: 'main',
      callback_url: 'https://autobuild.example/api/v1/callback',
      orchestrator_url: 'https://autobuild.example',
      prompt: 'Fix the flaky test; $(rm -rf /)',
    });
    expect(run.ref).toBe('main');
    const dispatch = gh.requests.find((r) => r.method === 'POST')!;
    expect(dispatch.authorization).toBe('token gh-test-token');

    const second = await submitRemote({ prompt: 'second' });
    await new Promise((r) => setTimeout(r, 300));
    expect((await api(t!.url, 'GET', `/api/v1/jobs/${second.body.id}`)).body.status).toBe('queued');
    const queue = (await api(t!.url, 'GET', '/api/v1/queue')).body;
    expect(queue.running).toBe(1);

    // Its callback frees the slot; the next job is dispatched.
    const raw = JSON.stringify({ job_id: running.id, status: 'succeeded', run_id: run.id, exit_code: 0, pr_url: 'https://github.example/acme/widgets/pull/1', pr_number: 1, commits: [{ sha: 'a'.repeat(40), message: 'fix' }], files_changed: ['x.ts'], summary: 'fixed it' });
    expect((await postCallback(raw, sign(raw))).status).toBe(200);
    await waitForJob(t!.url, second.body.id, (j) => j.status === 'running');
  });

  it('refuses github-actions jobs that cannot be dispatched, and records dispatch failures', async () => {
    await start();
    await api(t!.url, 'POST', '/api/v1/projects', { id: 'plain', repo });
    const noGithub = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'plain', prompt: 'x', executor: 'github-actions', agent: { type: 'codex' } });
    expect(noGithub.status).toBe(422);
    expect(noGithub.body.error.message).toMatch(/github \{owner, repo, workflow\}/);
    await api(t!.url, 'POST', '/api/v1/projects', { id: 'broken', repo, github: { owner: 'acme', repo: 'widgets', workflow: 'missing.yml' } });
    const job = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'broken', prompt: 'x', executor: 'github-actions', agent: { type: 'codex' } });
    const done = await waitForJob(t!.url, job.body.id, isDone);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/could not dispatch workflow missing\.yml on acme\/widgets: 404/);
  });

  it('waits out rate limits and retries server errors', async () => {
    await start();
    const reset = String(Math.floor(Date.now() / 1000) + 1);
    gh.failNext(1, 403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset, 'retry-after': '1' }, 'POST /repos');
    gh.failNext(1, 502, {}, 'POST /repos');
    const job = await submitRemote();
    const running = await waitForJob(t!.url, job.body.id, (j) => j.status === 'running' || isDone(j), 30_000);
    expect(running.status).toBe('running');
    const dispatches = gh.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/dispatches'));
    expect(dispatches.length).toBe(3);
    expect(gh.runs).toHaveLength(1);
  });
});

describe('callback', () => {
  it('answers every case of the contract', async () => {
    await start();
    const job = await submitRemote();
    const running = await waitForJob(t!.url, job.body.id, (j) => j.status === 'running');
    const runId = gh.runs[0]!.id;
    const body = { job_id: running.id, status: 'succeeded', run_id: runId, exit_code: 0, pr_url: 'https://github.example/acme/widgets/pull/7', pr_number: 7, files_changed: ['a.ts', 'b.ts'], commits: [{ sha: 'b'.repeat(40), message: 'change' }], qa: { passed: true, checks: [{ name: 'test', passed: true }] }, summary: 'done' };
    const raw = JSON.stringify(body);

    // Missing, malformed and wrong signatures; a body altered after signing.
    expect((await postCallback(raw)).status).toBe(401);
    expect((await postCallback(raw, 'sha256=nothex')).status).toBe(401);
    expect((await postCallback(raw, sign(raw, 'wrong-secret'))).status).toBe(401);
    const altered = raw.replace('"succeeded"', '"failed"');
    const alteredRes = await postCallback(altered, sign(raw));
    expect(alteredRes.status).toBe(401);
    expect(alteredRes.body.error.code).toBe('unauthorized');
    expect((await api(t!.url, 'GET', `/api/v1/jobs/${running.id}`)).body.status).toBe('running');

    // Unknown job (signed), invalid body (signed).
    const unknown = JSON.stringify({ ...body, job_id: '00000000-0000-4000-8000-000000000000' });
    expect((await postCallback(unknown, sign(unknown))).status).toBe(404);
    const invalid = JSON.stringify({ ...body, status: 'exploded' });
    expect((await postCallback(invalid, sign(invalid))).status).toBe(400);
    const malformed = '{"job_id": ';
    expect((await postCallback(malformed, sign(malformed))).status).toBe(400);
    // Nested objects are as strict as the top level: nothing unasked-for lands in the job's result.
    for (const extra of [{ commits: [{ ...body.commits[0], author: 'x' }] }, { qa: { ...body.qa, note: 'x' } }, { qa: { passed: true, checks: [{ name: 't', passed: true, log: 'x' }] } }, { diff_stat: { files: 1, insertions: 1, deletions: 0, binary: 1 } }]) {
      const nested = JSON.stringify({ ...body, ...extra });
      const res = await postCallback(nested, sign(nested));
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    expect((await api(t!.url, 'GET', `/api/v1/jobs/${running.id}`)).body.status).toBe('running');

    // Accepted; the result lands on the job.
    const accepted = await postCallback(raw, sign(raw));
    expect(accepted.status).toBe(200);
    expect(accepted.body.changed).toBe(true);
    const done = (await api(t!.url, 'GET', `/api/v1/jobs/${running.id}`)).body;
    expect(done.status).toBe('succeeded');
    expect(done.exit_code).toBe(0);
    expect(done.result).toMatchObject({ pr_url: body.pr_url, files_changed: ['a.ts', 'b.ts'], commits: body.commits, qa: body.qa, summary: 'done' });

    // A replay is 200 and changes nothing; a different outcome is 409.
    const replay = await postCallback(raw, sign(raw));
    expect(replay.status).toBe(200);
    expect(replay.body.changed).toBe(false);
    const conflicting = JSON.stringify({ ...body, status: 'failed', error: 'boom' });
    const conflict = await postCallback(conflicting, sign(conflicting));
    expect(conflict.status).toBe(409);
    expect((await api(t!.url, 'GET', `/api/v1/jobs/${running.id}`)).body.status).toBe('succeeded');
  });

  it('matches by job id only: a callback from another run is a conflict', async () => {
    await start();
    const job = await submitRemote();
    const running = await waitForJob(t!.url, job.body.id, (j) => j.status === 'running');
    const raw = JSON.stringify({ job_id: running.id, status: 'succeeded', run_id: 99999 });
    expect((await postCallback(raw, sign(raw))).status).toBe(409);
  });
});

describe('reconciliation and cancel', () => {
  it('fails a job whose run ended without calling back, naming the run', async () => {
    await start();
    const job = await submitRemote();
    const running = await waitForJob(t!.url, job.body.id, (j) => j.status === 'running');
    gh.setRun(gh.runs[0]!.id, { status: 'completed', conclusion: 'failure', run_started_at: new Date().toISOString() });
    const done = await waitForJob(t!.url, running.id, isDone, 15_000);
    expect(done.status).toBe('failed');
    expect(done.error).toContain(`without calling back: ${gh.runs[0]!.html_url}`);
  });

  it('finds the run by name when dispatch returns no run id, and times out a run that never starts', async () => {
    await start({ AUTOBUILD_GITHUB_START_TIMEOUT_S: '2' });
    gh.returnRunDetails = false;
    const job = await submitRemote();
    await waitFor(() => gh.runs.length === 1, 5000, 'dispatch');
    const withRun = await waitForJob(t!.url, job.body.id, (j) => j.status === 'running');
    expect(withRun.status).toBe('running');
    // The run stays queued past the start timeout: cancelled on GitHub, timed_out here.
    const done = await waitForJob(t!.url, job.body.id, isDone, 15_000);
    expect(done.status).toBe('timed_out');
    expect(done.error).toMatch(/did not start within 2s/);
    expect(gh.runs[0]!.conclusion).toBe('cancelled');

    gh.createRuns = false;
    const lost = await submitRemote({ prompt: 'lost' });
    const lostDone = await waitForJob(t!.url, lost.body.id, isDone, 15_000);
    expect(lostDone.status).toBe('timed_out');
    expect(lostDone.error).toMatch(/never appeared/);
  });

  it('cancels the run through the API when the job is cancelled', async () => {
    await start();
    const job = await submitRemote();
    const running = await waitForJob(t!.url, job.body.id, (j) => j.status === 'running');
    const res = await api(t!.url, 'DELETE', `/api/v1/jobs/${running.id}`);
    expect(res.status).toBe(202);
    expect(res.body.status).toBe('cancelled');
    expect(gh.requests.some((r) => r.method === 'POST' && r.path === `/repos/acme/widgets/actions/runs/${gh.runs[0]!.id}/cancel`)).toBe(true);
    expect(gh.runs[0]!.conclusion).toBe('cancelled');
  });
});
