// Writes every finished job's outcome to the memory service as a memory (execution_success or
// execution_failure), from the outbox that finishing the job filled. Delivered with retries and
// backoff; a memory service that is down delays the memories, never loses them or stops a job.
import { ApiError, MemoryClient } from '../clients/memory.js';
import type { Config } from '../platform/config.js';
import type { Database } from '../platform/database/database.js';
import type { Logger } from '../platform/logger.js';
import type { JobRow } from './jobs/job.js';

interface OutboxRow {
  id: string | number;
  job_id: string;
  attempts: number;
}

/** A claimed outbox row with its job's columns (null when the job is gone). */
type ClaimedRow = (JobRow | { [K in keyof JobRow]: null }) & { outbox_id: string | number; outbox_job_id: string; outbox_attempts: number };

const BATCH = 20;
/** A claimed row is not handed to another replica for this long (the delivery is under way). */
const CLAIM_S = 120;
/** The longest pause between two tries of one outcome. */
const MAX_RETRY_S = 300;

export function outcomeMemory(job: JobRow) {
  const durationS = job.started_at && job.finished_at ? Math.round((new Date(job.finished_at).getTime() - new Date(job.started_at).getTime()) / 1000) : null;
  return {
    project_id: job.project_id,
    type: job.status === 'succeeded' ? 'execution_success' : 'execution_failure',
    content: {
      job_id: job.id,
      title: job.title,
      task: job.prompt.slice(0, 2000),
      status: job.status,
      agent: job.agent.type,
      executor: job.executor,
      attempt: job.attempt,
      duration_s: durationS,
      exit_code: job.exit_code,
      error: job.error,
      files_changed: job.result?.files_changed.slice(0, 100) ?? [],
      commits: job.result?.commits.length ?? 0,
      summary: job.result?.summary?.slice(0, 2000) ?? null,
      qa: job.result?.qa ?? null,
      usage: job.result?.usage ?? null,
      cost_usd: job.result?.cost_usd ?? null,
      num_turns: job.result?.num_turns ?? null,
      model: job.result?.model ?? null,
      session_id: job.result?.session_id ?? null,
      permission_denials: job.result?.permission_denials ?? 0,
      parent_job_id: job.parent_job_id ?? null,
    },
    job_id: job.id,
    ...(job.ticket_id ? { ticket_id: job.ticket_id } : {}),
    tags: [job.status, job.agent.type, job.executor],
  };
}

export class OutcomeOutbox {
  private readonly client: MemoryClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again = false;

  constructor(
    private readonly db: Database,
    config: Pick<Config, 'memoryServiceUrl' | 'apiToken'>,
    private readonly logger: Logger,
  ) {
    this.client = config.memoryServiceUrl ? new MemoryClient({ baseUrl: config.memoryServiceUrl, token: config.apiToken, timeoutMs: 15_000 }) : undefined;
  }

  start(intervalMs = 10_000): void {
    if (!this.client) return;
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** Deliver what is due now (a job just finished); passes never overlap. */
  kick(): void {
    if (!this.client) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.deliver()
      .catch((error: Error) => {
        this.logger.warn({ err: error.message }, 'memory outbox pass failed');
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again && this.timer) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** One pass: claim due rows, deliver each, delete what the service took. Returns how many. */
  async deliver(): Promise<number> {
    if (!this.client) return 0;
    // The claim reads each row's job with it: one statement per pass, not one more per outcome.
    const rows = await this.db.query<ClaimedRow>(
      `with claimed as (
         update orchestrator.memory_outbox o
            set next_attempt_at = now() + make_interval(secs => $2::int), attempts = o.attempts + 1
          where o.id in (select id from orchestrator.memory_outbox where next_attempt_at <= now()
                          order by id limit $1 for update skip locked)
          returning o.id, o.job_id, o.attempts)
       select j.*, c.id as outbox_id, c.job_id as outbox_job_id, c.attempts as outbox_attempts
         from claimed c left join orchestrator.jobs j on j.id = c.job_id
        order by c.id`,
      [BATCH, CLAIM_S],
      { reusePlan: true },
    );
    let delivered = 0;
    for (const claimed of rows) {
      const row: OutboxRow = { id: claimed.outbox_id, job_id: claimed.outbox_job_id, attempts: claimed.outbox_attempts };
      // A job deleted meanwhile (left join: its columns are null) has no outcome left to deliver.
      const job = claimed.id === null ? undefined : (claimed as JobRow);
      try {
        if (job) await this.client.remember(outcomeMemory(job));
        await this.db.query(`delete from orchestrator.memory_outbox where id = $1`, [row.id]);
        delivered++;
      } catch (error) {
        const permanent = error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 408 && error.status !== 429;
        if (permanent) {
          // The service will never take this one (it says why): keep the reason in the log, not a retry loop.
          this.logger.error({ jobId: row.job_id, err: (error as Error).message }, 'the memory service refused a job outcome');
          await this.db.query(`delete from orchestrator.memory_outbox where id = $1`, [row.id]);
        } else {
          // 5 s doubling to 5 minutes: outcomes arrive within minutes of the service's return,
          // however long it was away.
          const delayS = Math.min(MAX_RETRY_S, 5 * 2 ** Math.min(row.attempts, 10));
          await this.db.query(
            `update orchestrator.memory_outbox set next_attempt_at = now() + make_interval(secs => $2::int), last_error = $3 where id = $1`,
            [row.id, delayS, (error as Error).message.slice(0, 1000)],
          );
        }
      }
    }
    if (rows.length === BATCH) this.again = true;
    return delivered;
  }
}
