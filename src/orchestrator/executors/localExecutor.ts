// Runs a claimed job on this machine: a worktree on the job's branch, the agent in it (its output
// parsed into events as it streams, its spend checked against the job's and the project's budget),
// then the leftovers committed on the branch, the result collected, and the worktree removed — in
// that order, whatever the outcome, so the branch always holds the work.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../platform/config.js';
import { retryWhileDatabaseUnavailable, type Database } from '../../platform/database/database.js';
import type { Logger } from '../../platform/logger.js';
import { agentInvocation, agentStreamParser } from '../agents/agentCommand.js';
import { agentEnvironment } from '../agents/agentEnvironment.js';
import { runAgentProcess, type StopReason } from '../agents/agentProcess.js';
import { decideOutcome, runSpend, type RunSpend, type RunVerdict } from '../agents/runOutcome.js';
import { emptyReport, type RunReport, type TokenUsage } from '../agents/runEvents.js';
import { getProject } from '../projects/projects.js';
import { getJobRow } from '../jobs/jobQueries.js';
import { MAX_SUMMARY, storableJson, storableText } from '../../platform/database/storable.js';
import { DEFAULT_QA_ROUNDS, qaChecks, type QaCheckSpec } from '../qa/detectChecks.js';
import { qaFeedback, runChecks } from '../qa/runChecks.js';
import { startCodexRun, type CodexRun } from '../agents/codexRun.js';
import { RunRecorder } from '../agents/runRecorder.js';
import { resumableSession } from '../agents/sessions.js';
import { BudgetGuard } from '../budgets/budgetGuard.js';
import { recordSpend } from '../budgets/spend.js';
import type { JobResult, JobRow } from '../jobs/job.js';
import { continuationPrompt } from '../jobs/threadContext.js';
import type { JobLogs, JobLogWriter } from '../logs/jobLogs.js';
import type { AttemptOutcome, Parking } from '../scheduler/finishJob.js';
import { collectBranchWork, saveWork } from '../worktrees/branchWork.js';
import type { WorktreeManager, WorktreeRow } from '../worktrees/worktreeManager.js';
import { followingController } from '../../platform/abort.js';

export type ContextProvider = (job: JobRow) => Promise<string>;

export interface LocalExecutorDeps {
  db: Database;
  config: Config;
  logger: Logger;
  logs: JobLogs;
  worktrees: WorktreeManager;
  workerId: string;
  context: ContextProvider;
  /** The parent environment agents start from (normally process.env, handed in by the CLI). */
  baseEnv: NodeJS.ProcessEnv;
  /** Told of each run's tokens and dollars (metrics). */
  onSpend?: (job: JobRow, spend: { costUsd: number; usage: JobResult['usage'] }) => void;
}

/**
 * The outcome to record; 'park' (a provider's limit: back to the queue until it lifts),
 * 'requeue' (shutdown) or 'abandon' (lease lost: someone else owns the job now).
 */
export type LocalRunOutcome = AttemptOutcome | ({ status: 'park' } & Parking) | { status: 'requeue' } | { status: 'abandon' };

/** A job parked this many times by a provider's limit fails instead: a limit that never lifts, or a misread one. */
const MAX_PARKS = 20;
/**
 * How long a run's own reads and writes (budget, marking it running, QA's settings) are tried again
 * while the database is unavailable, instead of failing the agent's work over a restart.
 */
const DATABASE_PATIENCE_MS = 5 * 60_000;

function patiently<T>(fn: () => Promise<T>, signal: AbortSignal, logger: Logger): Promise<T> {
  return retryWhileDatabaseUnavailable(fn, {
    forMs: DATABASE_PATIENCE_MS,
    signal,
    onRetry: (error, pauseMs) => logger.warn({ err: error.message, retryInMs: pauseMs }, 'the database is unavailable; trying again shortly'),
  });
}

interface AgentRunInput {
  worktree: WorktreeRow;
  contextFile: string;
  context: string;
  prompt: string;
  resumeSessionId: string | null;
  /** Aborted with a StopReason: cancel, the job's timeout, shutdown, a lost lease, over budget. */
  control: AbortController;
  /** When the job's time is up (epoch ms). */
  deadline: number;
  /** What the job had spent before this run. */
  base: { costUsd: number; usage: TokenUsage | null };
  log: JobLogWriter;
  scoped: Logger;
  /** The first run of this attempt marks the job running. */
  markRunning: boolean;
}

interface AgentRunOutcome {
  verdict: RunVerdict;
  report: RunReport;
  spend: RunSpend;
  /** The agent's environment (QA checks run with it). */
  env: NodeJS.ProcessEnv;
}

/** A check stopped by the job's end: the job's outcome, as an agent stopped the same way. */
function stopVerdict(reason: StopReason, job: JobRow, overBudget: string | null): RunVerdict {
  return decideOutcome(job, { exitCode: null, signal: null, stoppedFor: reason, spawnError: null }, emptyReport(), { overBudget, rateLimitBackoffS: 0 });
}

/**
 * What a resumed session is told when the job runs again after its run was interrupted: a provider's
 * limit that has lifted, a restart of the orchestrator, a crash recovered, or a failed attempt retried.
 */
const CONTINUE_INTERRUPTED =
  'Your previous run on this task was interrupted before it finished (a usage limit that has now lifted, a restart, or a failure). Continue the task where you left off and finish it.';

export class LocalExecutor {
  constructor(private readonly deps: LocalExecutorDeps) {}

  async run(job: JobRow, signal: AbortSignal): Promise<LocalRunOutcome> {
    const { db, logs, worktrees, workerId, config, logger } = this.deps;
    const log = logs.open(job.id);
    const scoped = logger.child({ jobId: job.id });
    log.note(`attempt ${job.attempt} of ${job.max_attempts} on ${workerId}`);
    if (job.max_cost_usd !== null && (job.cost_usd ?? 0) >= job.max_cost_usd) {
      // Spent up to its limit by earlier runs (a run parked by a limit, an interrupted one): nothing more.
      const message = `already spent $${(job.cost_usd ?? 0).toFixed(4)} of max_cost_usd $${job.max_cost_usd}; not run again`;
      log.note(message);
      await log.close();
      return { status: 'failed', exitCode: null, error: message, result: job.result, final: true };
    }
    let worktree;
    try {
      worktree = await worktrees.create(job, workerId);
    } catch (error) {
      const message = `could not create the worktree: ${(error as Error).message}`;
      log.note(message);
      await log.close();
      return { status: 'failed', exitCode: null, error: message, result: null };
    }

    let verdict: RunVerdict | undefined;
    let result: JobResult | null = null;
    // What the job has spent so far (earlier runs included) and what its runs reported.
    let spent = { costUsd: job.cost_usd ?? 0, usage: job.usage ?? null, source: null as RunSpend['source'], model: null as string | null };
    const runs: AgentRunOutcome[] = [];
    let qa: NonNullable<JobResult['qa']> | null = null;
    // The job's time limit covers the agent's runs and its QA rounds.
    const { controller: control, release } = followingController(signal);
    const deadline = Date.now() + job.timeout_s * 1000;
    const timeout = setTimeout(() => control.abort('timed_out' satisfies StopReason), job.timeout_s * 1000);
    try {
      log.note(`worktree ${worktree.path} on branch ${job.branch} (from ${job.base_branch})`);
      const contextFile = path.join(config.home, 'jobs', job.id, 'context.md');
      await mkdir(path.dirname(contextFile), { recursive: true });
      const context = await this.deps.context(job).catch((error: Error) => {
        log.note(`memory context unavailable: ${error.message}`);
        return '';
      });
      await writeFile(contextFile, context);
      const baseEnv = agentEnvironment(this.deps.baseEnv, job.agent.type === 'command' ? (job.agent.env ?? {}) : {}, job, contextFile);
      let { prompt, resumeSessionId } = await this.promptFor(job, worktree.path, baseEnv, log);
      let specs: QaCheckSpec[] | undefined;
      // A run resuming a parked attempt goes on counting its QA rounds (0 for a new attempt).
      let qaRound = job.qa_rounds ?? 0;
      let qaSettings = { rounds: DEFAULT_QA_ROUNDS, required: true };
      for (;;) {
        const first = runs.length === 0;
        const outcome = await this.runAgentOnce(job, {
          worktree,
          contextFile,
          context,
          prompt,
          resumeSessionId,
          control,
          deadline,
          base: spent,
          log,
          scoped,
          markRunning: first,
        });
        runs.push(outcome);
        spent = { costUsd: outcome.spend.costUsd, usage: outcome.spend.usage, source: outcome.spend.source ?? spent.source, model: outcome.spend.model ?? spent.model };
        verdict = outcome.verdict;
        if (verdict.status !== 'succeeded') break;

        // QA: the project's checks in the worktree; failing ones go back to the agent's session.
        if (!specs) {
          // Read after the agent's run: a database restarting meanwhile must not fail its work.
          const project = await patiently(() => getProject(db, job.project_id), control.signal, scoped);
          specs = qaChecks(worktree.path, project?.qa);
          qaSettings = { rounds: project?.qa?.rounds ?? DEFAULT_QA_ROUNDS, required: project?.qa?.required ?? true };
          if (specs.length === 0) break;
          log.note(`QA: ${specs.map((c) => c.name).join(', ')}${project?.qa?.commands ? '' : ' (detected from the repository)'}`);
        }
        qaRound += 1;
        const checked = await runChecks(specs, { cwd: worktree.path, env: outcome.env, log, killGraceMs: config.jobs.killGraceMs, signal: control.signal });
        qa = { passed: checked.passed, rounds: qaRound, checks: checked.checks };
        if (checked.stoppedFor) {
          verdict = stopVerdict(checked.stoppedFor, job, null);
          break;
        }
        const failed = checked.checks.filter((c) => !c.passed).map((c) => c.name);
        if (checked.passed) {
          log.note(`QA passed (round ${qaRound})`);
          break;
        }
        if (qaRound > qaSettings.rounds) {
          const message = `QA failed: ${failed.join(', ')} after ${qaRound} round(s)`;
          log.note(message);
          if (qaSettings.required) verdict = { status: 'failed', exitCode: verdict.exitCode, error: message };
          break;
        }
        log.note(`QA failed: ${failed.join(', ')}; sending the output back to the agent (try ${qaRound} of ${qaSettings.rounds})`);
        const feedback = qaFeedback(checked.checks, qaRound, qaSettings.rounds);
        const session = resumableSession(job.agent, baseEnv, worktree.path, outcome.report.sessionId);
        resumeSessionId = session;
        prompt = session || job.agent.type === 'command' ? feedback : `${job.prompt}\n\n${feedback}`;
      }
    } catch (error) {
      if (control.signal.aborted) {
        // Stopped (cancel, timeout, budget, shutdown) while it waited, e.g. for the database: the
        // outcome is the stop's, not the error the wait ended with.
        verdict = stopVerdict(control.signal.reason as StopReason, job, null);
      } else {
        scoped.error({ err: (error as Error).message }, 'job run failed');
        verdict = { status: 'failed', exitCode: null, error: (error as Error).message };
      }
    } finally {
      clearTimeout(timeout);
      release();
      // Never lose work: save, collect, then remove — whatever happened above.
      try {
        const label = verdict?.status ?? 'interrupted';
        const sha = await saveWork(worktree.path, `autobuild: ${job.title}\n\nUncommitted work left by the agent (${label}).\nJob: ${job.id}`);
        if (sha) log.note(`committed the agent's uncommitted changes on ${job.branch}: ${sha}`);
        const collected = await collectBranchWork(worktree.path, job.base_branch);
        const last = runs.at(-1)?.report;
        const denials = runs.flatMap((r) => r.report.permissionDenials);
        const turns = runs.map((r) => r.report.numTurns).filter((n): n is number => n !== null);
        result = {
          ...collected,
          qa,
          pr_url: null,
          summary: storableText(last?.finalText?.trim() ?? '', MAX_SUMMARY) || null,
          usage: spent.usage,
          // Null when nothing was ever priced or reported (a command agent), not a misleading $0.
          cost_usd: spent.costUsd > 0 || (runs.length > 0 && spent.usage) ? spent.costUsd : null,
          cost_source: spent.source,
          num_turns: turns.length > 0 ? turns.reduce((a, b) => a + b, 0) : null,
          model: spent.model ?? last?.model ?? null,
          session_id: runs.map((r) => r.report.sessionId).filter(Boolean).at(-1) ?? job.session_id,
          permission_denials: denials.length,
          denied_tools: denials.map((d) => `${d.tool}${d.summary ? ` ${d.summary}` : ''}`),
        };
        if (config.worktrees.retainFinished === 0) await worktrees.removeOwn(worktree);
        log.note(`branch ${job.branch}: ${collected.commits.length} commit(s), ${collected.files_changed.length} file(s) changed`);
      } catch (error) {
        // The janitor retries later; the worktree stays until its work is saved.
        log.note(`could not save or remove the worktree: ${(error as Error).message}`);
        scoped.error({ err: (error as Error).message }, 'worktree cleanup failed');
      }
    }
    if (result) result = storableJson(result);
    // A run that denied tools and changed nothing fails now that the branch's work is known (its
    // own work: a follow-up's branch already holds its parent's commits).
    if (verdict.status === 'succeeded' && result && (result.permission_denials ?? 0) > 0 && !(await this.changedAnything(job, result))) {
      verdict = { status: 'failed', exitCode: verdict.exitCode, error: `the agent was denied ${result.denied_tools!.join(', ')} and changed nothing` };
    }
    // The agent's last report can take the job over its limit after the process exited: fail closed.
    if (verdict.status === 'succeeded' && job.max_cost_usd !== null && (result?.cost_usd ?? 0) > job.max_cost_usd) {
      verdict = { status: 'failed', exitCode: verdict.exitCode, error: `spent $${result!.cost_usd!.toFixed(4)}, over max_cost_usd $${job.max_cost_usd}`, final: true };
    }
    if (verdict.status === 'park' && job.parks + 1 > MAX_PARKS) {
      verdict = { status: 'failed', exitCode: null, error: `rate limited by the model provider ${job.parks + 1} times; giving up (${verdict.reason})` };
    }
    if (verdict.status === 'park') {
      log.note(`${verdict.reason}; the job goes back to the queue and resumes its session then`);
      await log.close();
      return { status: 'park', notBefore: verdict.notBefore, reason: verdict.reason, sessionId: result?.session_id ?? job.session_id, result };
    }
    if (verdict.status !== 'requeue' && verdict.status !== 'abandon' && verdict.error) log.note(verdict.error);
    await log.close();
    if (verdict.status === 'requeue' || verdict.status === 'abandon') return { status: verdict.status };
    return { status: verdict.status, exitCode: verdict.exitCode, error: verdict.error, result, final: verdict.final };
  }

  /** Whether the job made commits of its own (beyond its parent's last commit, for a follow-up). */
  private async changedAnything(job: JobRow, result: JobResult): Promise<boolean> {
    if (!job.parent_job_id) return result.commits.length > 0;
    const parent = await getJobRow(this.deps.db, job.parent_job_id).catch(() => undefined);
    const from = parent?.result?.commits.at(-1)?.sha;
    if (!from) return result.commits.length > 0;
    const at = result.commits.findIndex((commit) => commit.sha === from);
    return at < 0 ? result.commits.length > 0 : at < result.commits.length - 1;
  }

  /**
   * One run of the agent in the worktree: its output parsed into events as it streams, its spend
   * watched by the budget guard and recorded when it ends, its outcome decided.
   */
  private async runAgentOnce(job: JobRow, run: AgentRunInput): Promise<AgentRunOutcome> {
    const { db, config, workerId } = this.deps;
    const { worktree, log, scoped, control } = run;
    let guard: BudgetGuard | undefined;
    let overBudget: string | null = null;
    // A Codex run's parser is made once the run is set up (below): it depends on the thread resumed.
    let parser = agentStreamParser(job.agent, { cwd: worktree.path });
    let codex: CodexRun | undefined;
    const recorder = new RunRecorder({ line: (line) => parser.line(line), report: () => parser.report() }, log, (event) => guard?.observe(event));
    // A command agent sees the round's prompt (QA feedback) in AUTOBUILD_PROMPT.
    const facts = { ...job, prompt: run.prompt };
    const invocation = agentInvocation(job.agent, { prompt: run.prompt, context: run.context, resumeSessionId: run.resumeSessionId ?? undefined }, config.agents);
    const env = agentEnvironment(this.deps.baseEnv, invocation.env, facts, run.contextFile);
    try {
      if (job.agent.type === 'codex') {
        const model = job.agent.model ?? config.agents.codexModel ?? null;
        codex = await startCodexRun({ db, job, env, cwd: worktree.path, resumeSessionId: run.resumeSessionId, model, emit: (event) => recorder.writer().event(event) });
        parser = codex.parser;
      }
      log.note(`starting ${job.agent.type} agent: ${invocation.file}${run.resumeSessionId ? ` (resuming session ${run.resumeSessionId})` : ''}`);
      guard = new BudgetGuard({
        db,
        job,
        workerId,
        prices: config.costs.prices,
        maxCostUsd: job.max_cost_usd,
        base: run.base,
        onOver: (reason) => {
          overBudget = reason;
          log.note(`stopping the agent: ${reason}`);
          control.abort('over_budget' satisfies StopReason);
        },
        logger: scoped,
      });
      await patiently(() => guard!.start(), control.signal, scoped);
      const result = await runAgentProcess(invocation, {
        cwd: worktree.path,
        env,
        log: recorder.writer(),
        timeoutMs: Math.max(1, run.deadline - Date.now()),
        killGraceMs: config.jobs.killGraceMs,
        signal: control.signal,
        // The job becomes 'running' (with the agent's pid, for recovery after a crash) in one
        // statement once its first agent has started; a cancel or a lost lease meanwhile stops it.
        onStart: run.markRunning
          ? (pid) => {
              const markRunning = () =>
                db.query(
                  `update orchestrator.jobs set status = 'running', worktree_id = $3, worktree_path = $4, agent_pid = $5, runs = runs + 1, updated_at = now()
                    where id = $1 and locked_by = $2 and status = 'preparing' and cancel_requested_at is null and attempt = $6 returning id`,
                  [job.id, workerId, worktree.id, worktree.path, pid, job.attempt],
                  { reusePlan: true },
                );
              void patiently(markRunning, control.signal, scoped)
                .then(async (rows) => {
                  if (rows.length > 0) return;
                  // Cancelled while preparing (still ours: record it), recovered by another replica, or
                  // marked already (a try whose answer was lost to a failing connection).
                  const [now] = await db.query<{ status: string; mine: boolean }>(`select status, locked_by = $2 and attempt = $3 as mine from orchestrator.jobs where id = $1`, [job.id, workerId, job.attempt]);
                  if (now?.mine && now.status === 'running') return;
                  control.abort(now?.mine ? 'cancelled' : 'lease_lost');
                })
                .catch((error: Error) => scoped.error({ err: error.message }, 'could not mark the job running'));
            }
          : (pid) => {
              void db.query(`update orchestrator.jobs set agent_pid = $3 where id = $1 and locked_by = $2`, [job.id, workerId, pid]).catch(() => undefined);
            },
      });
      recorder.flush();
      codex?.finish();
      await guard.stop();
      log.note(`agent exited: ${result.exitCode !== null ? `code ${result.exitCode}` : `signal ${result.signal ?? 'none'}`}`);
      const report = recorder.report();
      const spend = runSpend({ cost_usd: run.base.costUsd, usage: run.base.usage }, report, guard.model(), config.costs.prices);
      if (spend.runCostUsd > 0 || spend.runUsage) {
        // Recorded as each run ends: budgets, a resumed Codex thread and the metrics see it at once.
        await recordSpend(db, job.id, workerId, { costUsd: spend.costUsd, usage: spend.usage, sessionId: report.sessionId }).catch((error: Error) =>
          scoped.warn({ err: error.message }, "could not record the run's spend"),
        );
        this.deps.onSpend?.(job, { costUsd: spend.runCostUsd, usage: spend.runUsage });
      }
      const verdict = decideOutcome(job, result, report, { overBudget, rateLimitBackoffS: config.jobs.rateLimitBackoffS });
      return { verdict, report, spend, env };
    } finally {
      codex?.finish();
      guard?.stop();
    }
  }

  /**
   * What to tell the agent: the job's prompt; or, when the job continues a session (a follow-up, a
   * run interrupted by a limit), that session resumed — or, when its transcript is gone, a fresh one
   * given the thread's earlier prompts, summaries and the branch's diff.
   */
  private async promptFor(job: JobRow, cwd: string, env: NodeJS.ProcessEnv, log: { note(m: string): void }): Promise<{ prompt: string; resumeSessionId: string | null }> {
    const continuing = job.runs > 0;
    const request = continuing ? CONTINUE_INTERRUPTED : job.prompt;
    if (job.agent.type === 'command' || (!continuing && !job.parent_job_id)) return { prompt: job.prompt, resumeSessionId: null };
    const session = resumableSession(job.agent, env, cwd, job.session_id);
    if (session) return { prompt: request, resumeSessionId: session };
    if (job.session_id) log.note(`session ${job.session_id} cannot be resumed here (no transcript); starting a fresh session with the thread's history`);
    return { prompt: await continuationPrompt(this.deps.db, job, cwd, continuing ? `${job.prompt}\n\n(${CONTINUE_INTERRUPTED})` : job.prompt), resumeSessionId: null };
  }
}
