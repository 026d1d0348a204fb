// The runner side for real: `autobuild runner` (the built CLI, as the workflow runs it) against a
// local bare repository as origin and the fake GitHub API, ending with a signed callback that
// completes the job on a real orchestrator. Plus the workflow file users copy.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { CLI, freePort } from '../support/processes.js';
import { startFakeGithub, type FakeGithub } from '../fakes/githubServer.js';
import { startTestMemory } from '../memory/memoryKit.js';
import { startFakeOidcIssuer } from '../fakes/oidcIssuer.js';
import { startFakeAnthropic, text, toolUse } from '../fakes/anthropicServer.js';
import { claudeBinary, claudeFakeEnv, cwdOf, hasWrite, stepOf } from '../support/claudeCode.js';

const run = promisify(execFile);
const SECRET = 'runner-callback-secret';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let gh: FakeGithub;
let t: TestOrchestrator | undefined;
beforeAll(async () => {
  gh = await startFakeGithub();
});
afterAll(async () => gh.close());
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

async function setup(files?: Record<string, string>, env: Record<string, string> = { AUTOBUILD_CALLBACK_SECRET: SECRET }) {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  t = await startTestOrchestrator({
    env: {
      ORCHESTRATOR_PORT: String(port),
      GITHUB_TOKEN: 'gh-test-token',
      GITHUB_API_URL: gh.url,
      AUTOBUILD_PUBLIC_URL: publicUrl,
      AUTOBUILD_API_TOKEN: 'orchestrator-token',
      AUTOBUILD_GITHUB_WRITE_INTERVAL_MS: '0',
      ...env,
    },
  });
  const auth = { authorization: 'Bearer orchestrator-token' };
  const source = createTestRepo(files);
  const origin = path.join(tempDir(), 'origin.git');
  gitIn(path.dirname(origin), 'clone', '-q', '--bare', source, origin);
  await api(t.url, 'POST', '/api/v1/projects', { id: 'gh', repo: source, github: { owner: 'acme', repo: 'widgets', workflow: 'autobuild-agent.yml' } }, auth);
  const workspace = path.join(tempDir(), 'workspace');
  gitIn(path.dirname(workspace), 'clone', '-q', origin, workspace);
  return { auth, origin, workspace, source };
}

/** Run the CLI the way the workflow's step does: inputs and secrets as environment variables. */
function runner(inputs: Record<string, string>, runId: number, workspace: string, extra: Record<string, string> = {}) {
  return run(process.execPath, [CLI, 'runner'], {
    cwd: workspace,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AUTOBUILD_JOB_ID: inputs.job_id!,
      AUTOBUILD_BRANCH: inputs.branch!,
      AUTOBUILD_BASE_BRANCH: inputs.base_branch!,
      AUTOBUILD_CALLBACK_URL: inputs.callback_url!,
      AUTOBUILD_URL: inputs.orchestrator_url!,
      AUTOBUILD_PROMPT: inputs.prompt!,
      AUTOBUILD_CALLBACK_SECRET: SECRET,
      AUTOBUILD_API_TOKEN: 'orchestrator-token',
      AUTOBUILD_CALLBACK_RETRY_MS: '100',
      AUTOBUILD_LOG_LEVEL: 'warn',
      GITHUB_TOKEN: 'gh-test-token',
      GITHUB_API_URL: gh.url,
      GITHUB_REPOSITORY: 'acme/widgets',
      GITHUB_RUN_ID: String(runId),
      GITHUB_WORKSPACE: workspace,
      ...extra,
    },
  });
}

describe('autobuild runner', () => {
  it('runs the agent, pushes the branch, opens the PR and completes the job with a signed callback', async () => {
    const { auth, origin, workspace } = await setup();
    const job = await api(t!.url, 'POST', '/api/v1/jobs', {
      project_id: 'gh', prompt: 'Add a fix', executor: 'github-actions',
      agent: { type: 'command', command: ['sh', '-c', 'echo "$AUTOBUILD_PROMPT" > fix.txt; echo \'{"type":"result","result":"Added fix.txt"}\''] },
    }, auth);
    expect(job.status).toBe(201);
    await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
    const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;

    const { stdout } = await runner(dispatched.inputs, dispatched.id, workspace);
    expect(stdout).toContain('reported succeeded');

    const done = await waitForJob(t!.url, job.body.id, isDone, 10_000, auth);
    expect(done.status).toBe('succeeded');
    const pull = gh.pulls.find((p) => p.head === done.branch)!;
    expect(pull).toMatchObject({ base: 'main', title: 'Add a fix', owner: 'acme', repo: 'widgets' });
    expect(pull.body).toContain('Added fix.txt');
    expect(done.result).toMatchObject({ pr_url: pull.html_url, files_changed: ['fix.txt'], summary: 'Added fix.txt' });
    expect(done.result.commits).toHaveLength(1);
    expect(gitIn(origin, 'show', `${done.branch}:fix.txt`)).toBe('Add a fix');
    const log = await api(t!.url, 'GET', `/api/v1/jobs/${done.id}/logs`, undefined, auth);
    expect(log.body).toContain(`run ${dispatched.id} reported succeeded: ${pull.html_url}`);
  });

  it('keeps a failed agent\'s work on the pushed branch and reports the failure, with the prompt input when the API is unreachable', async () => {
    const { auth, origin, workspace } = await setup();
    const job = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'gh', prompt: 'Try something', executor: 'github-actions', agent: { type: 'codex' } }, auth);
    await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
    const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;
    const failing = JSON.stringify({ type: 'command', command: ['sh', '-c', 'echo half > half.txt; exit 4'] });
    const result = await runner({ ...dispatched.inputs, orchestrator_url: 'http://127.0.0.1:1' }, dispatched.id, workspace, { AUTOBUILD_AGENT: failing }).catch((e) => e);
    expect(result.code).toBe(1);
    const done = await waitForJob(t!.url, job.body.id, isDone, 10_000, auth);
    expect(done.status).toBe('failed');
    expect(done.exit_code).toBe(4);
    expect(done.error).toMatch(/code 4/);
    expect(done.result.pr_url).toBeNull();
    expect(gitIn(origin, 'show', `${done.branch}:half.txt`)).toBe('half');
    expect(gh.pulls.some((p) => p.head === done.branch)).toBe(false);
  });
});

describe('autobuild runner with the real Claude Code CLI', () => {
  it("stops the agent at the job's max_cost_usd, as the local executor does, and reports why", async () => {
    // The first answer writes a large file: its output, priced as it is printed, passes $0.2. The next
    // answer is held mid-stream: the run must be stopped before it, never writing after.txt.
    const fake = await startFakeAnthropic((body) => {
      if (!hasWrite(body)) return { content: [text('Title')] };
      const cwd = cwdOf(body);
      if (stepOf(body) === 0) return { content: [text('Writing a large file.'), toolUse('Write', { file_path: path.join(cwd, 'big.txt'), content: 'x'.repeat(150_000) })], usage: { input_tokens: 1200, output_tokens: 50_000 } };
      return {
        content: [text('Now the second file, after a pause.'), toolUse('Write', { file_path: path.join(cwd, 'after.txt'), content: 'after\n' })],
        textPieces: (value) => [value.slice(0, 10), value.slice(10)],
        beforeTextDelta: () => new Promise((resolve) => setTimeout(resolve, 20_000)),
      };
    });
    try {
      const { auth, origin, workspace } = await setup();
      const job = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'gh', prompt: 'Write a large file', executor: 'github-actions', agent: { type: 'claude-code' }, max_cost_usd: 0.2 }, auth);
      expect(job.status).toBe(201);
      await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
      const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;
      const claude = { ...claudeFakeEnv(fake.url, tempDir('claude-home-')), AUTOBUILD_CLAUDE_COMMAND: claudeBinary() };
      const started = Date.now();
      const result = await runner(dispatched.inputs, dispatched.id, workspace, claude).catch((e) => e);
      expect(result.code, String(result.stdout)).toBe(1);
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(String(result.stdout)).toContain('stopping the agent: cost');
      const done = await waitForJob(t!.url, job.body.id, isDone, 10_000, auth);
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(/^stopped: cost \$\d+\.\d+ \(estimated from tokens at [\w.-]+'s price\) passed max_cost_usd \$0\.2/);
      expect(() => gitIn(origin, 'show', `${done.branch}:after.txt`)).toThrow();
    } finally {
      await fake.close();
    }
  });

  it('fails a run whose last report takes it over max_cost_usd, though it wrote little on the way', async () => {
    // A short answer whose real output count (known only at the end) costs far more than the limit.
    const fake = await startFakeAnthropic((body) => (hasWrite(body) ? { content: [text('Done.')], usage: { input_tokens: 1200, output_tokens: 2_000_000 } } : { content: [text('Title')] }));
    try {
      const { auth, workspace } = await setup();
      const job = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'gh', prompt: 'Say done', executor: 'github-actions', agent: { type: 'claude-code' }, max_cost_usd: 0.2 }, auth);
      await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
      const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;
      const claude = { ...claudeFakeEnv(fake.url, tempDir('claude-home-')), AUTOBUILD_CLAUDE_COMMAND: claudeBinary() };
      const result = await runner(dispatched.inputs, dispatched.id, workspace, claude).catch((e) => e);
      expect(result.code, String(result.stdout)).toBe(1);
      const done = await waitForJob(t!.url, job.body.id, isDone, 10_000, auth);
      expect(done.status).toBe('failed');
      expect(done.error).toMatch(/cost \$\d+\.\d+ passed max_cost_usd \$0\.2/);
    } finally {
      await fake.close();
    }
  });
});

describe('autobuild runner with GitHub OIDC instead of the callback secret', () => {
  // The agent's environment lacks the token-request variables (defence in depth only: as the same
  // user it could still read them from the runner's /proc/<pid>/environ).
  it('completes the job with the run\'s OIDC token for the orchestrator\'s audience, keeping the token-request variables out of the agent\'s environment', async () => {
    const issuer = await startFakeOidcIssuer();
    try {
      // The orchestrator has no callback secret at all.
      const { auth, origin, workspace } = await setup(undefined, { AUTOBUILD_GITHUB_OIDC: 'true', AUTOBUILD_GITHUB_OIDC_ISSUER: issuer.url });
      const job = await api(t!.url, 'POST', '/api/v1/jobs', {
        project_id: 'gh', prompt: 'Note the environment', executor: 'github-actions',
        agent: { type: 'command', command: ['sh', '-c', 'env > agent-env.txt'] },
      }, auth);
      expect(job.status).toBe(201);
      await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
      const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;
      issuer.runClaims = { repository: 'acme/widgets', repository_owner: 'acme', run_id: String(dispatched.id) };

      const oidcEnv = { AUTOBUILD_CALLBACK_SECRET: '', ACTIONS_ID_TOKEN_REQUEST_URL: issuer.tokenRequestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.requestToken };
      const { stdout } = await runner(dispatched.inputs, dispatched.id, workspace, oidcEnv);
      expect(stdout).toContain('reported succeeded');
      const done = await waitForJob(t!.url, job.body.id, isDone, 10_000, auth);
      expect(done.status).toBe('succeeded');
      // The audience is the orchestrator's public URL, derived from the callback URL.
      expect(issuer.audiences).toEqual([dispatched.inputs.orchestrator_url]);
      const agentEnv = gitIn(origin, 'show', `${done.branch}:agent-env.txt`);
      expect(agentEnv).toContain('AUTOBUILD_JOB_ID=');
      expect(agentEnv).not.toContain('ACTIONS_ID_TOKEN_REQUEST');
      expect(agentEnv).not.toContain(issuer.requestToken);
    } finally {
      await issuer.close();
    }
  });

  it('asks for the orchestrator\'s custom audience when the workflow passes AUTOBUILD_GITHUB_OIDC_AUDIENCE', async () => {
    const issuer = await startFakeOidcIssuer();
    try {
      const audience = 'autobuild-callbacks.example';
      const { auth, workspace } = await setup(undefined, { AUTOBUILD_GITHUB_OIDC: 'true', AUTOBUILD_GITHUB_OIDC_ISSUER: issuer.url, AUTOBUILD_GITHUB_OIDC_AUDIENCE: audience });
      const job = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'gh', prompt: 'Touch a file', executor: 'github-actions', agent: { type: 'command', command: ['sh', '-c', 'echo x > x.txt'] } }, auth);
      await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
      const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;
      issuer.runClaims = { repository: 'acme/widgets', repository_owner: 'acme', run_id: String(dispatched.id) };

      const oidcEnv = { AUTOBUILD_CALLBACK_SECRET: '', ACTIONS_ID_TOKEN_REQUEST_URL: issuer.tokenRequestUrl, ACTIONS_ID_TOKEN_REQUEST_TOKEN: issuer.requestToken, AUTOBUILD_GITHUB_OIDC_AUDIENCE: audience };
      const { stdout } = await runner(dispatched.inputs, dispatched.id, workspace, oidcEnv);
      expect(stdout).toContain('reported succeeded');
      expect(issuer.audiences).toEqual([audience]);
      expect((await waitForJob(t!.url, job.body.id, isDone, 10_000, auth)).status).toBe('succeeded');
    } finally {
      await issuer.close();
    }
  });

  it('refuses to start without a callback secret or the OIDC token service', async () => {
    const result = await runner({ job_id: '00000000-0000-4000-8000-000000000000', branch: 'b', base_branch: 'main', callback_url: 'http://127.0.0.1:1/api/v1/callback', orchestrator_url: '', prompt: 'x' }, 1, tempDir(), { AUTOBUILD_CALLBACK_SECRET: '' }).catch((e) => e);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/AUTOBUILD_CALLBACK_SECRET is required, unless the workflow grants `permissions: id-token: write`/);
  });
});

describe('autobuild runner with the memory service', () => {
  it("writes the memory service's context for the job where the agent reads it", async () => {
    const memory = await startTestMemory();
    try {
      const { auth, origin, workspace, source } = await setup({ 'lib/rates.ts': 'export function convertCurrency(amount: number, rate: number): number {\n  return Math.round(amount * rate * 100) / 100;\n}\n' });
      expect((await api(memory.url, 'POST', '/api/v1/index/files', { project_id: 'gh', root: source })).status).toBe(200);
      const job = await api(t!.url, 'POST', '/api/v1/jobs', {
        project_id: 'gh', prompt: 'convertCurrency rounds wrongly for negative amounts', executor: 'github-actions',
        agent: { type: 'command', command: ['sh', '-c', 'cp "$AUTOBUILD_CONTEXT_FILE" context-seen.md'] },
      }, auth);
      await waitForJob(t!.url, job.body.id, (j) => j.status === 'running', 10_000, auth);
      const dispatched = gh.runs.find((r) => r.inputs.job_id === job.body.id)!;
      await runner(dispatched.inputs, dispatched.id, workspace, { MEMORY_SERVICE_URL: memory.url });
      const done = await waitForJob(t!.url, job.body.id, isDone, 10_000, auth);
      expect(done.status).toBe('succeeded');
      const seen = gitIn(origin, 'show', `${done.branch}:context-seen.md`);
      expect(seen).toContain('lib/rates.ts');
      expect(seen).toContain('export function convertCurrency');
    } finally {
      await memory.stop();
    }
  });
});

describe('the workflow users copy', () => {
  const workflow = parse(readFileSync(path.join(ROOT, 'examples/github/autobuild-agent.yml'), 'utf8'));

  it('declares every input the executor dispatches and names runs by job id', () => {
    expect(Object.keys(workflow.on.workflow_dispatch.inputs).sort()).toEqual(['base_branch', 'branch', 'callback_url', 'job_id', 'orchestrator_url', 'prompt']);
    expect(workflow['run-name']).toContain('${{ inputs.job_id }}');
  });

  it('grants the run its OIDC token, so the callback needs no shared secret', () => {
    expect(workflow.permissions['id-token']).toBe('write');
  });

  it('never interpolates an expression inside a run: script', () => {
    const steps = Object.values(workflow.jobs).flatMap((job: any) => job.steps);
    const scripts = steps.filter((s: any) => s.run).map((s: any) => s.run as string);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) expect(script).not.toContain('${{');
    const runStep = steps.find((s: any) => s.run === 'autobuild runner');
    expect(runStep.env.AUTOBUILD_PROMPT).toBe('${{ inputs.prompt }}');
    // An orchestrator with a custom OIDC audience gets tokens for it only if the runner knows it.
    expect(runStep.env.AUTOBUILD_GITHUB_OIDC_AUDIENCE).toBe('${{ vars.AUTOBUILD_GITHUB_OIDC_AUDIENCE }}');
  });
});
