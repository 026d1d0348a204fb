// Runs a claimed job on this machine: a worktree on the job's branch, the agent in it, then the
// leftovers committed on the branch, the result collected, and the worktree removed — in that
// order, whatever the outcome, so the branch always holds the work.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../../platform/config.js';
import type { Database } from '../../platform/database/database.js';
import type { Logger } from '../../platform/logger.js';
import { agentInvocation } from '../agents/agentCommand.js';
import { agentEnvironment } from '../agents/agentEnvironment.js';
import { OutputTail } from '../agents/agentSummary.js';
import { runAgentProcess, type StopReason } from '../agents/agentProcess.js';
import type { JobResult, JobRow } from '../jobs/job.js';
import type { JobLogs } from '../logs/jobLogs.js';
import type { AttemptOutcome } from '../scheduler/finishJob.js';
import { collectBranchWork, saveWork } from '../worktrees/branchWork.js';
import type { WorktreeManager } from '../worktrees/worktreeManager.js';

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
}

/** The outcome to record, or 'requeue' (shutdown) / 'abandon' (lease lost: someone else owns the job now). */
export type LocalRunOutcome = AttemptOutcome | { status: 'requeue' } | { status: 'abandon' };

const OUTCOME_BY_STOP: Record<StopReason, LocalRunOutcome['status']> = {
  cancelled: 'cancelled',
  timed_out: 'timed_out',
  shutdown: 'requeue',
  lease_lost: 'abandon',
};

export class LocalExecutor {
  constructor(private readonly deps: LocalExecutorDeps) {}

  async run(job: JobRow, signal: AbortSignal): Promise<LocalRunOutcome> {
    const { db, logs, worktrees, workerId, config, logger } = this.deps;
    const log = logs.open(job.id);
    const scoped = logger.child({ jobId: job.id });
    log.note(`attempt ${job.attempt} of ${job.max_attempts} on ${workerId}`);
    let worktree;
    try {
      worktree = await worktrees.create(job, workerId);
    } catch (error) {
      const message = `could not create the worktree: ${(error as Error).message}`;
      log.note(message);
      await log.close();
      return { status: 'failed', exitCode: null, error: message, result: null };
    }

    let outcome: LocalRunOutcome;
    let result: JobResult | null = null;
    const tail = new OutputTail();
    try {
      log.note(`worktree ${worktree.path} on branch ${job.branch} (from ${job.base_branch})`);
      const contextFile = path.join(config.home, 'jobs', job.id, 'context.md');
      await mkdir(path.dirname(contextFile), { recursive: true });
      const context = await this.deps.context(job).catch((error: Error) => {
        log.note(`memory context unavailable: ${error.message}`);
        return '';
      });
      await writeFile(contextFile, context);

      const invocation = agentInvocation(job.agent, { prompt: job.prompt, context }, config.agents);
      const env = agentEnvironment(this.deps.baseEnv, invocation.env, job, contextFile);
      log.note(`starting ${job.agent.type} agent: ${invocation.file}`);
      // The job becomes 'running' (with the agent's pid, for recovery after a crash) in one
      // statement once the agent has started; a cancel or a lost lease meanwhile stops it again.
      const control = new AbortController();
      const forward = () => control.abort(signal.reason);
      signal.addEventListener('abort', forward, { once: true });
      const run = await runAgentProcess(invocation, {
        cwd: worktree.path,
        env,
        log: { ...log, write: (chunk) => (tail.push(chunk), log.write(chunk)) },
        timeoutMs: job.timeout_s * 1000,
        killGraceMs: config.jobs.killGraceMs,
        signal: control.signal,
        onStart: (pid) => {
          void db
            .query(
              `update orchestrator.jobs set status = 'running', worktree_id = $3, worktree_path = $4, agent_pid = $5, updated_at = now()
                where id = $1 and locked_by = $2 and status = 'preparing' and cancel_requested_at is null returning id`,
              [job.id, workerId, worktree.id, worktree.path, pid],
              { reusePlan: true },
            )
            .then(async (rows) => {
              if (rows.length > 0) return;
              // Cancelled while preparing (still ours: record it), or recovered by another replica.
              const mine = await db.query(`select 1 from orchestrator.jobs where id = $1 and locked_by = $2`, [job.id, workerId]);
              control.abort(mine.length > 0 ? 'cancelled' : 'lease_lost');
            })
            .catch((error: Error) => scoped.error({ err: error.message }, 'could not mark the job running'));
        },
      });
      signal.removeEventListener('abort', forward);
      log.note(`agent exited: ${run.exitCode !== null ? `code ${run.exitCode}` : `signal ${run.signal ?? 'none'}`}`);
      if (run.stoppedFor) {
        const status = OUTCOME_BY_STOP[run.stoppedFor];
        outcome =
          status === 'cancelled' || status === 'timed_out'
            ? { status, exitCode: run.exitCode, error: status === 'timed_out' ? `timed out after ${job.timeout_s}s` : 'cancelled by request', result: null }
            : ({ status } as LocalRunOutcome);
      } else if (run.spawnError) {
        outcome = { status: 'failed', exitCode: null, error: `could not start the agent: ${run.spawnError}`, result: null };
      } else if (run.exitCode === 0) {
        outcome = { status: 'succeeded', exitCode: 0, error: null, result: null };
      } else {
        outcome = { status: 'failed', exitCode: run.exitCode, error: run.exitCode === null ? `agent killed by ${run.signal}` : `agent exited with code ${run.exitCode}`, result: null };
      }
    } catch (error) {
      scoped.error({ err: (error as Error).message }, 'job run failed');
      outcome = { status: 'failed', exitCode: null, error: (error as Error).message, result: null };
    } finally {
      // Never lose work: save, collect, then remove — whatever happened above.
      try {
        const label = 'status' in (outcome! ?? {}) ? outcome!.status : 'interrupted';
        const sha = await saveWork(worktree.path, `autobuild: ${job.title}\n\nUncommitted work left by the agent (${label}).\nJob: ${job.id}`);
        if (sha) log.note(`committed the agent's uncommitted changes on ${job.branch}: ${sha}`);
        const collected = await collectBranchWork(worktree.path, job.base_branch);
        result = { ...collected, qa: null, pr_url: null, summary: tail.summary() };
        if (config.worktrees.retainFinished === 0) await worktrees.removeOwn(worktree);
        log.note(`branch ${job.branch}: ${collected.commits.length} commit(s), ${collected.files_changed.length} file(s) changed`);
      } catch (error) {
        // The janitor retries later; the worktree stays until its work is saved.
        log.note(`could not save or remove the worktree: ${(error as Error).message}`);
        scoped.error({ err: (error as Error).message }, 'worktree cleanup failed');
      }
      await log.close();
    }
    if ('result' in outcome) outcome = { ...outcome, result };
    return outcome;
  }
}
