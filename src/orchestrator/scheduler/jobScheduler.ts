// The loop of one orchestrator replica: claim what the caps allow, run it, record the outcome,
// renew leases, recover jobs whose replica died, and wait for a wake-up — a NOTIFY (a job was
// submitted, finished or cancelled anywhere), a due retry, or its own finished job. Never a busy poll.
import type { Config } from '../../platform/config.js';
import { isConnectionLost, isDatabaseRefusal, retryWhileDatabaseUnavailable, type Database } from '../../platform/database/database.js';
import { startEmbeddedVacuum } from '../../platform/database/embeddedVacuum.js';
import type { Logger } from '../../platform/logger.js';
import type { JobRow } from '../jobs/job.js';
import { getJobRow } from '../jobs/jobQueries.js';
import type { JobLogs } from '../logs/jobLogs.js';
import type { StopReason } from '../agents/agentProcess.js';
import { killProcessGroup } from '../agents/agentProcess.js';
import type { LocalExecutor } from '../executors/localExecutor.js';
import type { GithubActionsExecutor } from '../executors/githubActionsExecutor.js';
import type { WorktreeJanitor } from '../worktrees/worktreeJanitor.js';
import { claimJobs, nextDueAt } from './claimJobs.js';
import { finishAttempt, outcomePolicy, parkJob, requeueWithoutAttempt, spendOf } from './finishJob.js';
import { recoverJobs, renewLeases, type RecoveredJob } from './leases.js';
import { isOrphanedAgent } from './orphanedAgents.js';
import type { JobMetrics } from '../metrics.js';

export const JOBS_CHANNEL = 'autobuild_jobs';
export const CANCEL_CHANNEL = 'autobuild_cancel';
/**
 * How long a finished job's outcome is tried again while the database is unavailable. Its lease
 * lapses meanwhile; another replica may then recover the job, and this one's late write is refused.
 */
const OUTCOME_PATIENCE_MS = 10 * 60_000;
/** A failed scheduling pass is tried again after this long. */
const RETRY_PASS_MS = 2_000;

export interface SchedulerDeps {
  db: Database;
  config: Config;
  logger: Logger;
  logs: JobLogs;
  executor: LocalExecutor;
  janitor: WorktreeJanitor;
  workerId: string;
  metrics: JobMetrics;
  /** Runs jobs whose executor is github-actions. */
  remote: GithubActionsExecutor;
  /** Called once a local job's success is recorded (its project may want a pull request). */
  afterSuccess?: (job: JobRow) => Promise<void>;
}

interface RunningJob {
  job: JobRow;
  controller: AbortController;
  done: Promise<void>;
}

export class JobScheduler {
  private readonly running = new Map<string, RunningJob>();
  private stopped = true;
  private ticking = false;
  private tickAgain = false;
  private dueTimer: NodeJS.Timeout | undefined;
  private dueAt: number | undefined;
  private intervals: NodeJS.Timeout[] = [];
  private stopVacuum: () => Promise<void> = async () => undefined;
  private unlisten: Array<() => Promise<void>> = [];
  private stopping = new AbortController();
  /** When this replica last found the database unavailable (0: never). */
  private databaseLostAt = 0;
  /** When this replica first found it back after that. */
  private databaseBackAt = 0;
  private retryPassTimer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: SchedulerDeps) {}

  get runningCount(): number {
    return this.running.size;
  }

  async start(): Promise<void> {
    const { db, config, janitor, logger } = this.deps;
    this.stopped = false;
    this.stopping = new AbortController();
    this.unlisten.push(
      await db.listen(
        JOBS_CHANNEL,
        (payload) => {
          // 'retry:<epoch ms>': a job waits out a backoff until then; anything else: claim now.
          const due = /^retry:(\d+)$/.exec(payload);
          if (due) this.wakeAt(Number(due[1]));
          else if (payload !== 'claimed') this.wake();
        },
        // Announcements missed while the server was away: look at the queue (and its due times) again.
        () => void this.catchUp(),
      ),
    );
    // Cancels missed meanwhile: a lease renewal says which running jobs have one (see renew).
    this.unlisten.push(await db.listen(CANCEL_CHANNEL, (jobId) => this.abortJob(jobId, 'cancelled'), () => void this.renew()));
    // The embedded database belongs to this process alone: whatever was active belonged to a
    // process that is gone. On a server, only lapsed leases are someone else's to recover.
    await this.recover(db.kind === 'postgres');
    const due = await nextDueAt(db);
    if (due) this.wakeAt(due.getTime());
    await janitor.sweep().catch((error: Error) => logger.error({ err: error.message }, 'janitor sweep failed'));
    const leaseMs = config.jobs.leaseS * 1000;
    // PGlite has no autovacuum: lease renewals leave dead rows, and the queue-position count's
    // index-only scan relies on the visibility map a vacuum keeps current.
    this.stopVacuum = startEmbeddedVacuum(db, 'orchestrator', logger);
    this.intervals.push(
      setInterval(() => void this.renew(), Math.max(500, leaseMs / 3)),
      setInterval(() => void this.recover(true), Math.max(1000, leaseMs / 2)),
      setInterval(() => void janitor.sweep().catch(() => undefined), config.worktrees.janitorIntervalS * 1000),
      // A project over its daily budget starts again when its 24 h window frees: no event says when.
      setInterval(() => this.wake(), 60_000),
      setInterval(() => void this.deps.remote.reconcile().catch((error: Error) => logger.warn({ err: error.message }, 'reconcile failed')), config.github.pollS * 1000),
    );
    this.wake();
  }

  /** Stop claiming; running agents are stopped, their work saved, their jobs put back in the queue. */
  async stop(): Promise<void> {
    this.stopped = true;
    // Outcomes are tried once more, not waited for: a job left running is recovered at the next start.
    this.stopping.abort();
    clearTimeout(this.retryPassTimer);
    for (const timer of this.intervals) clearInterval(timer);
    this.intervals = [];
    const vacuumStopped = this.stopVacuum();
    clearTimeout(this.dueTimer);
    for (const off of this.unlisten) await off().catch(() => undefined);
    this.unlisten = [];
    for (const entry of this.running.values()) entry.controller.abort('shutdown' satisfies StopReason);
    await Promise.allSettled([...this.running.values()].map((entry) => entry.done));
    await vacuumStopped;
  }

  /** A lost connection to the database (not a busy server's refusal) starts the recovery grace. */
  private noteFailure(error: unknown): void {
    if (isConnectionLost(error)) this.databaseLostAt = Date.now();
  }

  /** Whether the database has answered for a whole lease since this replica last found it away. */
  private async databaseBackForALease(): Promise<boolean> {
    if (this.databaseLostAt === 0) return true;
    if (this.databaseBackAt < this.databaseLostAt) {
      try {
        await this.deps.db.query('select 1');
      } catch (error) {
        this.noteFailure(error);
        return false;
      }
      this.databaseBackAt = Date.now();
    }
    return Date.now() - this.databaseBackAt >= this.deps.config.jobs.leaseS * 1000;
  }

  /** After missed announcements: a scheduling pass now, and one when the next backoff ends. */
  private async catchUp(): Promise<void> {
    this.wake();
    const due = await nextDueAt(this.deps.db).catch(() => undefined);
    if (due) this.wakeAt(due.getTime());
  }

  /** Ask for a scheduling pass; passes never overlap, and a wake during one causes another. */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.tickAgain = true;
      return;
    }
    this.ticking = true;
    void this.tick()
      .catch((error: Error) => {
        this.deps.logger.error({ err: error.message }, 'scheduling pass failed');
        this.noteFailure(error);
        if (this.stopped) return;
        // Nothing may announce the queued jobs again (a database that was away): look again soon,
        // due times included (this pass may have been the one to set the next).
        clearTimeout(this.retryPassTimer);
        this.retryPassTimer = setTimeout(() => void this.catchUp(), RETRY_PASS_MS);
      })
      .finally(() => {
        this.ticking = false;
        if (this.tickAgain) {
          this.tickAgain = false;
          this.wake();
        }
      });
  }

  /** Stop a job this replica runs (cancel from any replica arrives here through NOTIFY). */
  abortJob(jobId: string, reason: StopReason): boolean {
    const entry = this.running.get(jobId);
    if (!entry) return false;
    entry.controller.abort(reason);
    return true;
  }

  private async tick(): Promise<void> {
    const { db, config, workerId } = this.deps;
    // The deployment cannot have a free slot while this replica alone fills them all.
    if (this.running.size >= config.maxParallel) return;
    const claimed = await claimJobs(db, {
      workerId,
      limit: config.maxParallel,
      maxParallel: config.maxParallel,
      leaseS: config.jobs.leaseS,
    });
    for (const job of claimed) this.launch(job);
  }

  /** Wake at a due time (a retry's backoff ends), keeping the earliest one pending. */
  private wakeAt(epochMs: number): void {
    if (this.stopped) return;
    if (this.dueTimer && this.dueAt !== undefined && this.dueAt <= epochMs) return;
    clearTimeout(this.dueTimer);
    this.dueAt = epochMs;
    const delay = Math.max(10, Math.min(epochMs - Date.now() + 10, 2 ** 31 - 1));
    this.dueTimer = setTimeout(() => {
      this.dueTimer = undefined;
      this.dueAt = undefined;
      this.wake();
    }, delay);
  }

  private launch(job: JobRow): void {
    const { db, config, logger, workerId, metrics, logs } = this.deps;
    if (job.executor === 'github-actions') {
      // Dispatching is quick; the job then runs on GitHub and holds its slot until it ends.
      void this.deps.remote
        .dispatch(job)
        .catch((error: Error) => logger.error({ jobId: job.id, err: error.message }, 'dispatch failed'))
        .finally(() => this.wake());
      return;
    }
    const controller = new AbortController();
    const startedAt = Date.now();
    // The outcome of a job that ran is not given up to a database restart: tried again meanwhile.
    const durably = <T>(fn: () => Promise<T>) =>
      retryWhileDatabaseUnavailable(fn, {
        forMs: OUTCOME_PATIENCE_MS,
        signal: this.stopping.signal,
        onRetry: (error, pauseMs) => {
          this.noteFailure(error);
          logger.warn({ jobId: job.id, err: error.message, retryInMs: pauseMs }, 'the database is unavailable; recording the job outcome again shortly');
        },
      });
    const done = (async () => {
      let recorded = false;
      try {
        const outcome = await this.deps.executor.run(job, controller.signal);
        if (outcome.status === 'abandon') return;
        if (outcome.status === 'requeue') {
          await durably(() => requeueWithoutAttempt(db, job.id, workerId, 'the orchestrator shut down while the job ran; its work is on its branch'));
          return;
        }
        if (outcome.status === 'park') {
          // A provider's limit: back in the queue until it lifts; the NOTIFY wakes every replica then.
          // Not 'recorded': the 'finished' NOTIFY below tells every replica the slot is free.
          await durably(() => parkJob(db, job, workerId, outcome));
          return;
        }
        const finished = await durably(() => finishAttempt(db, job, workerId, outcome, outcomePolicy(config))).catch(async (error: Error) => {
          // A result the database refuses must not keep the job running: record the outcome without
          // it. Anything else (a connection that failed in some other way) is left to lease recovery.
          if (!isDatabaseRefusal(error)) throw error;
          logger.warn({ jobId: job.id, err: error.message }, 'could not record the job result; recording the outcome without it');
          const note = `its result could not be recorded (${error.message})`;
          const without = { ...outcome, result: null, spend: spendOf(outcome.result), error: outcome.error ? `${outcome.error}; ${note}` : note };
          return durably(() => finishAttempt(db, job, workerId, without, outcomePolicy(config)));
        });
        // A success recorded by a try whose answer was lost (the retry then matched nothing): it is
        // still this attempt's, and its after-success step (a pull request) still due.
        const ended = finished ?? (outcome.status === 'succeeded' ? await recordedSuccess(db, job) : undefined);
        if (ended) {
          recorded = true;
          metrics.jobFinished(ended.status, (Date.now() - startedAt) / 1000);
          if (ended.status === 'succeeded') await this.deps.afterSuccess?.(ended).catch((error: Error) => logger.error({ jobId: job.id, err: error.message }, 'after-success step failed'));
        }
      } catch (error) {
        // Its lease is no longer renewed: once it lapses, recovery puts the job back in the queue (or fails it).
        logger.error({ jobId: job.id, err: (error as Error).message }, 'could not record the job outcome');
      } finally {
        this.running.delete(job.id);
        logs.touch(job.id);
        // A slot is free: this replica and the others may start the next job (finishAttempt
        // already told the others when it recorded the outcome).
        if (!recorded) await db.query(`select pg_notify($1, 'finished')`, [JOBS_CHANNEL]).catch(() => undefined);
        // The NOTIFY's own wake-up may have come while this job still held its local slot.
        this.wake();
      }
    })();
    this.running.set(job.id, { job, controller, done });
  }

  private async renew(): Promise<void> {
    if (this.running.size === 0) return;
    try {
      const { held, cancelled } = await renewLeases(this.deps.db, this.deps.workerId, this.deps.config.jobs.leaseS, [...this.running.keys()]);
      for (const [jobId, entry] of this.running) {
        if (entry.controller.signal.aborted) continue;
        // Recovered elsewhere while we were cut off: stop our copy and write nothing.
        if (!held.has(jobId)) {
          this.deps.logger.warn({ jobId }, 'lost the lease of a running job; stopping it here');
          entry.controller.abort('lease_lost' satisfies StopReason);
        } else if (cancelled.has(jobId)) {
          // A cancel whose announcement never came: the renewal is the second way it arrives.
          this.abortJob(jobId, 'cancelled');
        }
      }
    } catch (error) {
      this.noteFailure(error);
      this.deps.logger.warn({ err: (error as Error).message }, 'lease renewal failed');
    }
  }

  private async recover(expiredOnly: boolean): Promise<void> {
    // Back from a database outage: every lease lapsed during it, the live replicas' too. Their
    // owners get one lease period from the database's return to renew (and to record outcomes they
    // held) before any is taken.
    if (expiredOnly && !(await this.databaseBackForALease())) return;
    let recovered: RecoveredJob[];
    try {
      recovered = await recoverJobs(this.deps.db, {
        expiredOnly,
        exceptWorker: this.deps.workerId,
        running: [...this.running.keys()],
        // A server restarted less than a lease ago: also seen by replicas that started after it.
        serverGraceS: this.deps.db.kind === 'postgres' ? this.deps.config.jobs.leaseS : 0,
      });
    } catch (error) {
      this.noteFailure(error);
      this.deps.logger.warn({ err: (error as Error).message }, 'recovery pass failed');
      return;
    }
    if (recovered.length === 0) return;
    // Each job's note first, before anything is awaited: a recovered job is queued again, and the
    // next attempt (in this process, as soon as the claim runs) must find it already in its log.
    const notes = recovered.map((job) => {
      const own = job.locked_by === this.deps.workerId;
      this.deps.logger.warn({ jobId: job.id, status: job.status, previousOwner: job.locked_by }, own ? 'recovered a job whose outcome could not be recorded' : 'recovered a job whose orchestrator stopped');
      const log = this.deps.logs.open(job.id);
      log.note(`${own ? 'its outcome could not be recorded' : 'the orchestrator running this job stopped'}; recovered as ${job.status}`);
      return log.close();
    });
    // An agent that outlived its orchestrator (kill -9) is stopped before its worktree is saved.
    for (const job of recovered) {
      if (job.agent_pid && (await isOrphanedAgent(job.agent_pid, job.id))) killProcessGroup(job.agent_pid, 'SIGKILL');
    }
    await Promise.all(notes);
    await this.deps.janitor.sweep().catch(() => undefined);
    if (recovered.some((job) => job.status === 'queued')) this.wake();
  }
}

/** The job as this attempt's success recorded it, if that is what the database holds. */
async function recordedSuccess(db: Database, job: JobRow): Promise<JobRow | undefined> {
  const row = await getJobRow(db, job.id).catch(() => undefined);
  return row && row.attempt === job.attempt && row.status === 'succeeded' ? row : undefined;
}
