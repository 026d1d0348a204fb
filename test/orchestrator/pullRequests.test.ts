// Pull requests for local jobs, with real git and the real Octokit against the local GitHub REST
// server: the job's repository has a bare repository as `origin`; the branch is pushed there and the
// pull request found or opened once, on demand (POST /api/v1/jobs/:id/pull-request) and for projects
// with `pull_requests: true`. Push and API failures are 502/503 with messages free of credentials,
// and the job's branch is never touched.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { startFakeGithub, type FakeGithub } from '../fakes/githubServer.js';

const GITHUB = { owner: 'acme', repo: 'widgets', workflow: 'autobuild-agent.yml' };
const QA = { commands: [{ name: 'test', command: ['sh', '-c', 'exit 0'] }] };
const SUMMARY = 'Added greeting.txt saying hello';
/** A command agent that writes a file (the orchestrator commits it) and reports a summary. */
const WRITES_A_FILE = {
  type: 'command',
  command: ['sh', '-c', `echo hello > greeting.txt && echo '{"type":"result","result":"${SUMMARY}"}'`],
};

let gh: FakeGithub;
let t: TestOrchestrator | undefined;
beforeAll(async () => {
  gh = await startFakeGithub();
});
afterAll(async () => gh.close());
afterEach(async () => {
  await t?.stop();
  t = undefined;
  gh.pulls.length = 0;
  gh.requests.length = 0;
  gh.clearFailures();
});

async function start(): Promise<TestOrchestrator> {
  t = await startTestOrchestrator({
    env: {
      GITHUB_TOKEN: 'gh-test-token',
      GITHUB_API_URL: gh.url,
      AUTOBUILD_GITHUB_WRITE_INTERVAL_MS: '0',
      AUTOBUILD_PUBLIC_URL: 'https://autobuild.example',
    },
  });
  return t;
}

/** A repository whose `origin` is a fresh bare repository holding its main branch. */
function repoWithOrigin(): { repo: string; origin: string } {
  const repo = createTestRepo();
  const origin = path.join(tempDir('autobuild-origin-'), 'widgets.git');
  gitIn(path.dirname(origin), 'init', '-q', '--bare', origin);
  gitIn(repo, 'remote', 'add', 'origin', origin);
  gitIn(repo, 'push', '-q', 'origin', 'main');
  return { repo, origin };
}

async function register(id: string, repo: string, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await api(t!.url, 'POST', '/api/v1/projects', { id, repo, github: GITHUB, qa: QA, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
}

async function runJob(projectId: string, agent: Record<string, unknown> = WRITES_A_FILE, body: Record<string, unknown> = {}): Promise<any> {
  const submitted = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: projectId, title: 'Add a greeting', prompt: 'Add greeting.txt that says hello', agent, ...body });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return waitForJob(t!.url, submitted.body.id, isDone);
}

const openPr = (id: string) => api(t!.url, 'POST', `/api/v1/jobs/${id}/pull-request`);
const branchSha = (repo: string, branch: string) => gitIn(repo, 'rev-parse', `refs/heads/${branch}`);

describe('POST /api/v1/jobs/:id/pull-request', () => {
  it('pushes the branch and opens one pull request with the task, summary, QA report and files; a second call returns it', async () => {
    await start();
    const { repo, origin } = repoWithOrigin();
    await register('web', repo);
    const job = await runJob('web');
    expect(job.status).toBe('succeeded');
    expect(job.result.commits.length).toBeGreaterThan(0);
    expect(job.result.qa).toMatchObject({ passed: true, checks: [{ name: 'test', passed: true }] });

    const first = await openPr(job.id);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(gh.pulls).toHaveLength(1);
    const pull = gh.pulls[0]!;
    expect(first.body).toEqual({ pr_url: pull.html_url, pr_number: pull.number });
    expect(pull.html_url).toBe(`https://github.example/acme/widgets/pull/${pull.number}`);

    // The branch is on origin at the local branch's commit.
    expect(gitIn(origin, 'rev-parse', `refs/heads/${job.branch}`)).toBe(branchSha(repo, job.branch));

    expect(pull).toMatchObject({ owner: 'acme', repo: 'widgets', head: job.branch, base: 'main', title: 'Add a greeting', state: 'open' });
    expect(pull.body).toContain('## Task');
    expect(pull.body).toContain('Add greeting.txt that says hello');
    expect(pull.body).toContain('## Summary');
    expect(pull.body).toContain(SUMMARY);
    expect(pull.body).toContain('## QA');
    expect(pull.body).toMatch(/\| test \| `sh -c exit 0` \| passed \|/);
    expect(pull.body).toContain('## Files changed');
    expect(pull.body).toContain('`greeting.txt`');
    expect(pull.body).toContain(`https://autobuild.example/api/v1/jobs/${job.id}`);
    // Through the configured token.
    expect(gh.requests.filter((r) => r.path.startsWith('/repos/acme/widgets/pulls')).every((r) => r.authorization === 'token gh-test-token')).toBe(true);

    const after = (await api(t!.url, 'GET', `/api/v1/jobs/${job.id}`)).body;
    expect(after.result.pr_url).toBe(first.body.pr_url);
    expect(after.result.pr_number).toBe(pull.number);
    expect(after.result.commits).toEqual(job.result.commits);
    expect(after.status).toBe('succeeded');

    const second = await openPr(job.id);
    expect(second.status).toBe(201);
    expect(second.body).toEqual(first.body);
    expect(gh.pulls).toHaveLength(1);

    const log = await api(t!.url, 'GET', `/api/v1/jobs/${job.id}/logs`);
    expect(log.body).toContain(`pull request opened: ${first.body.pr_url}`);

    // A closed pull request is not the branch's open one: asking again opens a new one.
    gh.setPull(pull.number, { state: 'closed' });
    const reopened = await openPr(job.id);
    expect(reopened.status).toBe(201);
    expect(reopened.body.pr_number).not.toBe(pull.number);
    expect(gh.pulls.filter((p) => p.state === 'open')).toHaveLength(1);
  });

  it('answers 422 without github, 409 without commits or while running, 404 for an unknown job', async () => {
    await start();
    const { repo } = repoWithOrigin();
    const plain = await api(t!.url, 'POST', '/api/v1/projects', { id: 'plain', repo, qa: QA });
    expect(plain.status).toBe(201);
    const noGithub = await runJob('plain');
    expect(noGithub.status).toBe('succeeded');
    const unprocessable = await openPr(noGithub.id);
    expect(unprocessable.status).toBe(422);
    expect(unprocessable.body.error.code).toBe('unprocessable');
    expect(unprocessable.body.error.message).toMatch(/github/);

    await register('web', repo);
    const nothing = await runJob('web', { type: 'command', command: ['sh', '-c', 'true'] });
    expect(nothing.status).toBe('succeeded');
    expect(nothing.result.commits).toEqual([]);
    const noCommits = await openPr(nothing.id);
    expect(noCommits.status).toBe(409);
    expect(noCommits.body.error.message).toMatch(/no commits/);

    const submitted = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'web', prompt: 'wait', agent: { type: 'command', command: ['sleep', '30'] } });
    await waitForJob(t!.url, submitted.body.id, (j) => j.status === 'running');
    const running = await openPr(submitted.body.id);
    expect(running.status).toBe(409);
    expect(running.body.error.message).toMatch(/running/);
    expect((await api(t!.url, 'DELETE', `/api/v1/jobs/${submitted.body.id}`)).status).toBe(202);

    const unknown = await openPr(randomUUID());
    expect(unknown.status).toBe(404);
    expect((await openPr('not-a-uuid')).status).toBe(400);
    expect(gh.pulls).toHaveLength(0);
  });

  it('a push failure is a 502 without credentials and leaves the branch; the push succeeds once origin is reachable', async () => {
    await start();
    const { repo, origin } = repoWithOrigin();
    await register('web', repo);
    const job = await runJob('web');
    expect(job.status).toBe('succeeded');
    const before = branchSha(repo, job.branch);

    gitIn(repo, 'remote', 'set-url', 'origin', path.join(tempDir(), 'does-not-exist.git'));
    const missing = await openPr(job.id);
    expect(missing.status).toBe(502);
    expect(missing.body.error.code).toBe('upstream_failed');
    expect(missing.body.error.message).toMatch(new RegExp(`could not push ${job.branch} to origin: .+`));

    gitIn(repo, 'remote', 'set-url', 'origin', 'https://autobuild:secret-token-123@127.0.0.1:1/acme/widgets.git');
    const unreachable = await openPr(job.id);
    expect(unreachable.status).toBe(502);
    expect(unreachable.body.error.message).toMatch(/could not push/);
    expect(JSON.stringify(unreachable.body)).not.toContain('secret');

    expect(branchSha(repo, job.branch)).toBe(before);
    expect(gh.pulls).toHaveLength(0);
    expect((await api(t!.url, 'GET', `/api/v1/jobs/${job.id}`)).body.result.pr_url).toBeNull();

    gitIn(repo, 'remote', 'set-url', 'origin', origin);
    const opened = await openPr(job.id);
    expect(opened.status).toBe(201);
    expect(gitIn(origin, 'rev-parse', `refs/heads/${job.branch}`)).toBe(before);
  });

  it('a GitHub API failure is a 502 or 503, never a 500, and the branch stays pushed for the next try', async () => {
    await start();
    const { repo, origin } = repoWithOrigin();
    await register('web', repo);
    const job = await runJob('web');

    // Two 422s: the client as configured today also retries a 4xx once on this route (request.retries
    // is set for every request, which plugin-retry honours whatever the status).
    gh.failNext(2, 422, {}, 'POST /repos/acme/widgets/pulls');
    const refused = await openPr(job.id);
    expect(refused.status).toBe(502);
    expect(refused.body.error.code).toBe('upstream_failed');
    expect(refused.body.error.message).toMatch(/GitHub answered 422 opening the pull request on acme\/widgets/);
    expect(gitIn(origin, 'rev-parse', `refs/heads/${job.branch}`)).toBe(branchSha(repo, job.branch));
    gh.clearFailures();

    // A 5xx that persists is a prompt 503 (the route retries once); a passing one is absorbed.
    gh.failNext(2, 500, {}, 'GET /repos/acme/widgets/pulls');
    const started = Date.now();
    const down = await openPr(job.id);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(down.status).toBe(503);
    expect(down.body.error.code).toBe('dependency_unavailable');
    expect(down.body.error.message).toMatch(/GitHub answered 500/);
    expect(gh.pulls).toHaveLength(0);

    gh.failNext(1, 503, {}, 'GET /repos/acme/widgets/pulls');
    expect((await openPr(job.id)).status).toBe(201);
    expect(gh.pulls).toHaveLength(1);
  });
});

describe('projects with pull_requests: true', () => {
  it('opens the pull request of every succeeded job without being asked', async () => {
    await start();
    const { repo, origin } = repoWithOrigin();
    await register('auto', repo, { pull_requests: true });
    const submitted = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'auto', title: 'Add a greeting', prompt: 'Add greeting.txt that says hello', agent: WRITES_A_FILE });
    const job = await waitForJob(t!.url, submitted.body.id, (j) => !!j.result?.pr_url || (isDone(j) && !!j.error));
    expect(job.status).toBe('succeeded');
    expect(job.error).toBeNull();
    expect(gh.pulls).toHaveLength(1);
    expect(gh.pulls[0]).toMatchObject({ head: job.branch, base: 'main', title: 'Add a greeting' });
    expect(job.result.pr_url).toBe(gh.pulls[0]!.html_url);
    expect(job.result.pr_number).toBe(gh.pulls[0]!.number);
    expect(gitIn(origin, 'rev-parse', `refs/heads/${job.branch}`)).toBe(branchSha(repo, job.branch));
    const log = await api(t!.url, 'GET', `/api/v1/jobs/${job.id}/logs`);
    expect(log.body).toContain('pull request opened');

    // Asking afterwards returns that one.
    const again = await openPr(job.id);
    expect(again.status).toBe(201);
    expect(again.body).toEqual({ pr_url: job.result.pr_url, pr_number: job.result.pr_number });
    expect(gh.pulls).toHaveLength(1);

    // A job that changes nothing gets none.
    const nothing = await runJob('auto', { type: 'command', command: ['sh', '-c', 'true'] });
    expect(nothing.status).toBe('succeeded');
    await new Promise((r) => setTimeout(r, 300));
    expect((await api(t!.url, 'GET', `/api/v1/jobs/${nothing.id}`)).body.result.pr_url).toBeNull();
    expect(gh.pulls).toHaveLength(1);
  });

  it('a job whose push fails still succeeds, with the reason as its error', async () => {
    await start();
    const { repo } = repoWithOrigin();
    gitIn(repo, 'remote', 'set-url', 'origin', path.join(tempDir(), 'does-not-exist.git'));
    await register('auto', repo, { pull_requests: true });
    const submitted = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'auto', prompt: 'Add greeting.txt that says hello', agent: WRITES_A_FILE });
    const job = await waitForJob(t!.url, submitted.body.id, (j) => isDone(j) && !!j.error);
    expect(job.status).toBe('succeeded');
    expect(job.error).toMatch(/^pull request not opened: could not push/);
    expect(job.result.pr_url).toBeNull();
    expect(job.result.commits.length).toBeGreaterThan(0);
    expect(gitIn(repo, 'rev-parse', '--verify', `refs/heads/${job.branch}`)).toBe(job.result.commits[0].sha);
    const log = await api(t!.url, 'GET', `/api/v1/jobs/${job.id}/logs`);
    expect(log.body).toContain('pull request not opened');
    expect(gh.pulls).toHaveLength(0);
  });
});
