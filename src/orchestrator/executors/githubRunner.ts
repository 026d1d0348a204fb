// The runner side of the GitHub Actions executor (`autobuild runner`, run by the workflow): check
// out the job's branch, run the agent with the same code as the local executor, commit what it
// left, push, open the pull request, and call back with the result, signed with the shared secret
// or carrying the run's GitHub OIDC token.
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OrchestratorClient } from '../../clients/orchestrator.js';
import type { Config } from '../../platform/config.js';
import { createGithubClient, describeGithubError } from '../../platform/github.js';
import { git } from '../../platform/git.js';
import type { Logger } from '../../platform/logger.js';
import { agentInvocation, agentStreamParser } from '../agents/agentCommand.js';
import { JobCostLimit } from '../budgets/budgetGuard.js';
import { DEFAULT_PRICES } from '../../platform/config.js';
import { agentEnvironment } from '../agents/agentEnvironment.js';
import { runAgentProcess, type StopReason } from '../agents/agentProcess.js';
import { RunRecorder } from '../agents/runRecorder.js';
import { renderEvent } from '../logs/renderEvent.js';
import { MAX_SUMMARY, storableText } from '../../platform/database/storable.js';
import type { AgentSpec } from '../jobs/job.js';
import type { JobLogWriter } from '../logs/jobLogs.js';
import { collectBranchWork, saveWork, type BranchWork } from '../worktrees/branchWork.js';
import { memoryContextProvider } from '../memoryContext.js';
import { followingController } from '../../platform/abort.js';

/** How the callback proves it comes from this run. */
export type CallbackAuth =
  | { kind: 'secret'; secret: string }
  /** GitHub's OIDC token, requested for each delivery (they live minutes) from the run's token service. */
  | { kind: 'oidc'; requestUrl: string; requestToken: string; audience: string };

/**
 * The runner's token-request variables, kept out of the agent's environment. Defence in depth
 * only, not a boundary: the agent runs as the same user as the runner (with passwordless sudo on
 * GitHub-hosted runners), so it can still read them from /proc/$PPID/environ and mint this run's
 * OIDC token, for the orchestrator's audience or any other. A workflow granting `id-token: write`
 * grants it to the agent; see examples/github/autobuild-agent.yml.
 */
const RUNNER_ONLY_ENV = ['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL'];

export interface RunnerSettings {
  jobId: string;
  branch: string;
  baseBranch: string;
  callbackUrl: string;
  callbackAuth: CallbackAuth;
  /** Where to fetch the job (prompt, agent, timeout); optional when the prompt came as an input. */
  orchestratorUrl: string | undefined;
  apiToken: string | undefined;
  promptFallback: string | undefined;
  agentFallback: AgentSpec | undefined;
  workdir: string;
  runId: string;
  github: { token: string | undefined; apiUrl: string; repository: string | undefined };
  agents: Config['agents'];
  /** The prices that turn tokens into dollars, and the limit of a job that names none (AUTOBUILD_MAX_COST_USD). */
  costs?: Config['costs'];
  defaultAgent: Config['jobs']['defaultAgent'];
  defaultTimeoutS: number;
  killGraceMs: number;
  baseEnv: NodeJS.ProcessEnv;
  /** Between callback delivery attempts (ms), doubling. */
  callbackRetryMs?: number;
  /** Where the agent's context comes from (MEMORY_SERVICE_URL in the workflow), if anywhere. */
  memoryServiceUrl?: string;
}

export interface RunnerOutcome {
  status: 'succeeded' | 'failed' | 'cancelled';
  delivered: boolean;
  body: Record<string, unknown>;
}

interface JobFacts {
  prompt: string;
  title: string;
  agent: AgentSpec;
  timeoutS: number;
  projectId: string;
  attempt: number;
  /** The job's max_cost_usd (null: unlimited), when the job came from the orchestrator. */
  maxCostUsd: number | null | undefined;
}

/** The Actions log: the run's events as readable lines (the raw agent output is not shown). */
const stdoutLog = (): JobLogWriter => {
  const event: JobLogWriter['event'] = (value) => {
    const line = renderEvent(value, new Date().toISOString());
    if (line !== null) process.stdout.write(`${line}\n`);
  };
  return {
    write: () => undefined,
    event,
    note: (message) => event({ kind: 'note', text: message }),
    close: async () => undefined,
  };
};

async function jobFacts(settings: RunnerSettings, log: JobLogWriter): Promise<JobFacts> {
  if (settings.orchestratorUrl) {
    try {
      const job = await new OrchestratorClient({ baseUrl: settings.orchestratorUrl, token: settings.apiToken }).getJob(settings.jobId);
      return {
        prompt: job.prompt,
        title: job.title,
        agent: job.agent as AgentSpec,
        timeoutS: job.timeout_s ?? settings.defaultTimeoutS,
        projectId: job.project_id,
        attempt: Math.max(1, job.attempt),
        maxCostUsd: job.max_cost_usd,
      };
    } catch (error) {
      if (!settings.promptFallback) throw new Error(`could not fetch job ${settings.jobId} from the orchestrator: ${(error as Error).message}`);
      log.note(`could not fetch the job from the orchestrator (${(error as Error).message}); using the prompt input`);
    }
  }
  if (!settings.promptFallback) throw new Error('no prompt: set AUTOBUILD_URL (to fetch the job) or pass the prompt input');
  const firstLine = settings.promptFallback.split('\n')[0] ?? '';
  return {
    prompt: settings.promptFallback,
    title: firstLine.slice(0, 80) || 'AutoBuild job',
    agent: settings.agentFallback ?? ({ type: settings.defaultAgent } as AgentSpec),
    timeoutS: settings.defaultTimeoutS,
    projectId: 'github',
    attempt: 1,
    maxCostUsd: undefined,
  };
}

/** Check out the job's branch: continue it if it exists on origin, else start it from the base. */
async function checkoutBranch(settings: RunnerSettings): Promise<string> {
  const cwd = settings.workdir;
  await git(['fetch', '--quiet', 'origin', `+refs/heads/${settings.baseBranch}:refs/remotes/origin/${settings.baseBranch}`], { cwd });
  const remote = await git(['ls-remote', '--heads', 'origin', settings.branch], { cwd });
  if (remote.trim()) {
    await git(['fetch', '--quiet', 'origin', `+refs/heads/${settings.branch}:refs/remotes/origin/${settings.branch}`], { cwd });
    await git(['checkout', '--quiet', '-B', settings.branch, `origin/${settings.branch}`], { cwd });
  } else {
    await git(['checkout', '--quiet', '-B', settings.branch, `origin/${settings.baseBranch}`], { cwd });
  }
  return `origin/${settings.baseBranch}`;
}

async function openPullRequest(settings: RunnerSettings, facts: JobFacts, summary: string | null, logger: Logger): Promise<{ url: string; number: number } | null> {
  const { token, apiUrl, repository } = settings.github;
  if (!token || !repository?.includes('/')) return null;
  const [owner = '', repo = ''] = repository.split('/');
  const github = createGithubClient({ token, apiUrl, logger, writeIntervalMs: 0 });
  const body = [summary ?? '', '', `AutoBuild job \`${settings.jobId}\`${settings.orchestratorUrl ? ` (${settings.orchestratorUrl}/api/v1/jobs/${settings.jobId})` : ''}.`].join('\n').trim();
  try {
    const { data } = await github.rest.pulls.create({ owner, repo, head: settings.branch, base: settings.baseBranch, title: facts.title, body });
    return { url: data.html_url, number: data.number };
  } catch (error) {
    const { status, message } = describeGithubError(error);
    if (status !== 422) throw new Error(`could not open the pull request: ${status ?? ''} ${message}`.trim());
    // Already open for this branch (an earlier attempt): report that one.
    const { data } = await github.rest.pulls.list({ owner, repo, head: `${owner}:${settings.branch}`, state: 'open' });
    const existing = data[0];
    return existing ? { url: existing.html_url, number: existing.number } : null;
  }
}

/** A failure retrying will not fix: the callback is given up with this message. */
class Refused extends Error {}

/**
 * This run's OIDC token for the audience, from the token service GitHub exposes to a job granted
 * `id-token: write` (the request URL already has a query; the audience is appended, as GitHub's
 * toolkit does).
 */
export async function requestActionsIdToken(auth: Extract<CallbackAuth, { kind: 'oidc' }>): Promise<string> {
  const url = `${auth.requestUrl}${auth.requestUrl.includes('?') ? '&' : '?'}audience=${encodeURIComponent(auth.audience)}`;
  const response = await fetch(url, { headers: { authorization: `bearer ${auth.requestToken}`, accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
  if (response.status >= 400 && response.status < 500 && response.status !== 429) {
    throw new Refused(`GitHub refused the OIDC token request: HTTP ${response.status} (does the workflow grant \`permissions: id-token: write\`?)`);
  }
  if (!response.ok) throw new Error(`the OIDC token request failed: HTTP ${response.status}`);
  const value = ((await response.json()) as { value?: unknown }).value;
  if (typeof value !== 'string' || !value) throw new Refused('the OIDC token service answered without a token');
  return value;
}

/** The header that authenticates the callback: the body's HMAC signature, or a fresh OIDC token. */
async function authHeader(auth: CallbackAuth, raw: string): Promise<Record<string, string>> {
  if (auth.kind === 'secret') return { 'x-autobuild-signature-256': `sha256=${createHmac('sha256', auth.secret).update(raw).digest('hex')}` };
  return { 'x-autobuild-oidc-token': await requestActionsIdToken(auth) };
}

/** POST the authenticated result, retrying network failures and 5xx with backoff. */
export async function deliverCallback(url: string, auth: CallbackAuth, body: Record<string, unknown>, apiToken: string | undefined, retryMs = 2000, tries = 6): Promise<boolean> {
  const raw = JSON.stringify(body);
  for (let attempt = 1; attempt <= tries; attempt++) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(await authHeader(auth, raw)), ...(apiToken ? { authorization: `Bearer ${apiToken}` } : {}) },
        body: raw,
        signal: AbortSignal.timeout(30_000),
      });
      if (response.ok) return true;
      if (response.status < 500 && response.status !== 429) {
        throw new Refused(`the orchestrator refused the callback: HTTP ${response.status} ${await response.text()}`);
      }
    } catch (error) {
      if (error instanceof Refused) throw error;
    }
    if (attempt < tries) await new Promise((resolve) => setTimeout(resolve, retryMs * 2 ** (attempt - 1)));
  }
  return false;
}

export async function runRemoteJob(settings: RunnerSettings, logger: Logger, signal: AbortSignal): Promise<RunnerOutcome> {
  const log = stdoutLog();
  let recorder: RunRecorder | undefined;
  const summary = () => storableText(recorder?.report().finalText?.trim() ?? '', MAX_SUMMARY) || null;
  let status: RunnerOutcome['status'] = 'failed';
  let exitCode: number | null = null;
  let error: string | null = null;
  let work: BranchWork = { commits: [], files_changed: [], diff_stat: { files: 0, insertions: 0, deletions: 0 } };
  let pull: { url: string; number: number } | null = null;
  let facts: JobFacts | undefined;
  try {
    facts = await jobFacts(settings, log);
    const baseRef = await checkoutBranch(settings);
    log.note(`job ${settings.jobId}: ${facts.agent.type} agent on branch ${settings.branch} (from ${settings.baseBranch})`);
    const contextFile = path.join(mkdtempSync(path.join(tmpdir(), 'autobuild-')), 'context.md');
    const context = await memoryContextProvider({ memoryServiceUrl: settings.memoryServiceUrl, apiToken: settings.apiToken })({
      project_id: facts.projectId,
      title: facts.title,
      prompt: facts.prompt,
    }).catch((error: Error) => {
      log.note(`memory context unavailable: ${error.message}`);
      return '';
    });
    writeFileSync(contextFile, context);
    if (context) log.note(`memory context: ${context.length} characters in ${contextFile}`);
    const invocation = agentInvocation(facts.agent, { prompt: facts.prompt, context }, settings.agents);
    const baseEnv = { ...settings.baseEnv };
    for (const name of RUNNER_ONLY_ENV) delete baseEnv[name];
    const env = agentEnvironment(baseEnv, invocation.env, { id: settings.jobId, prompt: facts.prompt, branch: settings.branch, project_id: facts.projectId, attempt: facts.attempt }, contextFile);
    // The job's own spending limit holds here too (its project's daily budget needs the database: the
    // orchestrator applies that when it dispatches). This run's spend is all the runner knows of.
    const maxCostUsd = facts.maxCostUsd === undefined ? (settings.costs?.maxCostUsd ?? null) : facts.maxCostUsd;
    const { controller: control, release } = followingController(signal);
    let overBudget: string | null = null;
    const limit = new JobCostLimit({
      maxCostUsd,
      spentUsd: 0,
      prices: settings.costs?.prices ?? DEFAULT_PRICES,
      onOver: (reason) => {
        overBudget = reason;
        log.note(`stopping the agent: ${reason}`);
        control.abort('over_budget' satisfies StopReason);
      },
    });
    recorder = new RunRecorder(agentStreamParser(facts.agent, { cwd: settings.workdir }), log, (event) => limit.observe(event));
    const run = await runAgentProcess(invocation, {
      cwd: settings.workdir,
      env,
      log: recorder.writer(),
      timeoutMs: facts.timeoutS * 1000,
      killGraceMs: settings.killGraceMs,
      signal: control.signal,
    }).finally(release);
    recorder.flush();
    const report = recorder.report();
    exitCode = run.exitCode;
    const stopped: StopReason | null = run.stoppedFor;
    if (stopped === 'cancelled' || stopped === 'shutdown') {
      status = 'cancelled';
      error = 'the workflow run was cancelled';
    } else if (overBudget) {
      // Stopped for it, or taken over it by the agent's last report as it ended: failed either way.
      error = stopped === 'over_budget' ? `stopped: ${overBudget}` : `over its limit when the agent ended: ${overBudget}`;
    } else if (stopped === 'timed_out') {
      error = `timed out after ${facts.timeoutS}s`;
    } else if (run.spawnError) {
      error = `could not start the agent: ${run.spawnError}`;
    } else if (report.rateLimited) {
      // A runner cannot wait for the limit to lift: the job fails with the reason (its work is pushed).
      error = `rate limited by the model provider: ${report.rateLimited.message}`;
    } else if (report.isError) {
      error = `the agent reported ${report.finalText ?? 'an error'}${report.apiErrorStatus ? ` (API status ${report.apiErrorStatus})` : ''}`;
    } else if (run.exitCode === 0) {
      status = 'succeeded';
    } else {
      error = `agent exited with code ${run.exitCode ?? `signal ${run.signal}`}`;
    }
    // Never lose work: commit, push, and only then report.
    const sha = await saveWork(settings.workdir, `autobuild: ${facts.title}\n\nUncommitted work left by the agent (${status}).\nJob: ${settings.jobId}`);
    if (sha) log.note(`committed the agent's uncommitted changes: ${sha}`);
    work = await collectBranchWork(settings.workdir, baseRef);
    if (work.commits.length > 0) {
      await git(['push', '--quiet', 'origin', `HEAD:refs/heads/${settings.branch}`], { cwd: settings.workdir });
      log.note(`pushed ${work.commits.length} commit(s) to ${settings.branch}`);
      if (status === 'succeeded') {
        pull = await openPullRequest(settings, facts, summary(), logger);
        if (pull) log.note(`pull request: ${pull.url}`);
      }
    }
  } catch (caught) {
    status = 'failed';
    error = (caught as Error).message;
    log.note(error);
  }
  const body: Record<string, unknown> = {
    job_id: settings.jobId,
    status,
    run_id: settings.runId,
    exit_code: exitCode,
    commits: work.commits,
    files_changed: work.files_changed,
    diff_stat: work.diff_stat,
    pr_url: pull?.url ?? null,
    pr_number: pull?.number ?? null,
    summary: summary(),
    error,
  };
  const delivered = await deliverCallback(settings.callbackUrl, settings.callbackAuth, body, settings.apiToken, settings.callbackRetryMs);
  log.note(delivered ? `reported ${status} to the orchestrator` : 'could not deliver the callback; the orchestrator will notice the run ended');
  return { status, delivered, body };
}
