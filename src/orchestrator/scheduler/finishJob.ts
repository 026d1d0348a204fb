// Recording the outcome of an attempt: a terminal state, or back to the queue after a backoff when
// attempts remain. Guarded by the lease owner, so a replica that lost its lease writes nothing.
import type { Config } from '../../platform/config.js';
import type { Queryable } from '../../platform/database/database.js';
import type { JobResult, JobRow, JobStatus } from '../jobs/job.js';

export interface AttemptOutcome {
  status: Extract<JobStatus, 'succeeded' | 'failed' | 'cancelled' | 'timed_out'>;
  exitCode: number | null;
  error: string | null;
  result: JobResult | null;
  /** Never retried, whatever attempts remain (a stop over budget: another attempt would spend again). */
  final?: boolean;
  /** The run's spend, when not the result's (a result the database refused is dropped, its spend kept). */
  spend?: RunSpend | null;
}

/** What a run spent, as its result states it. */
export type RunSpend = Pick<JobResult, 'cost_usd' | 'usage' | 'session_id'>;

export function spendOf(result: JobResult | null): RunSpend | null {
  return result ? { cost_usd: result.cost_usd, usage: result.usage, session_id: result.session_id } : null;
}

/**
 * SET clauses that carry a run's spend ($n: a RunSpend as jsonb) into the job's columns with its
 * outcome: the write made as the run ended may have met a database outage (the outcome is tried
 * again; that write was not). Never takes recorded spend back; a JSON null changes nothing.
 */
function spendColumns(n: number): string {
  const spend = `$${n}::jsonb`;
  return `spent_at = case when (${spend}->>'cost_usd')::float8 > coalesce(cost_usd, 0) then now() else spent_at end,
              cost_usd = greatest(cost_usd, (${spend}->>'cost_usd')::float8),
              usage = coalesce(nullif(${spend}->'usage', 'null'::jsonb), usage)`;
}

export interface RetryPolicy {
  backoffS: number;
  backoffMaxS: number;
  /** Queue the outcome of a finished job for the memory service (when one is configured). */
  recordOutcome?: boolean;
}

/** The policy every path that finishes a job uses, from the configuration. */
export function outcomePolicy(config: Pick<Config, 'jobs' | 'memoryServiceUrl'>): RetryPolicy {
  return { backoffS: config.jobs.retryBackoffS, backoffMaxS: config.jobs.retryBackoffMaxS, recordOutcome: Boolean(config.memoryServiceUrl) };
}

/** Exponential backoff: base, 2x base, 4x base ... capped. */
export function retryDelayS(attempt: number, policy: RetryPolicy): number {
  return Math.min(policy.backoffMaxS, policy.backoffS * 2 ** Math.max(0, attempt - 1));
}

/**
 * Record an attempt's outcome. workerId guards local jobs (only the lease owner writes); remote
 * (GitHub Actions) jobs pass null and are guarded by their status alone. externalRun, when given,
 * replaces the job's record of its remote run.
 */
export async function finishAttempt(
  db: Queryable,
  job: Pick<JobRow, 'id' | 'attempt' | 'max_attempts'>,
  workerId: string | null,
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  externalRun?: Record<string, unknown>,
): Promise<JobRow | undefined> {
  const retry = (outcome.status === 'failed' || outcome.status === 'timed_out') && job.attempt < job.max_attempts && !outcome.final;
  // The NOTIFY tells every replica a slot is free, or when the retry becomes due.
  const rows = await db.query<JobRow>(
    `with updated as (
       update orchestrator.jobs
          set status = case when $3::boolean and cancel_requested_at is null then 'queued' else $4 end,
              run_at = now() + make_interval(secs => $5::double precision),
              finished_at = case when $3::boolean and cancel_requested_at is null then null else now() end,
              exit_code = $6, error = $7, result = $8::jsonb, qa_rounds = 0,
              ${spendColumns(12)},
              session_id = coalesce($12::jsonb->>'session_id', session_id),
              waiting_reason = case when $3::boolean and cancel_requested_at is null
                                    then 'retry backoff after attempt ' || attempt || ' ' || $4 else null end,
              external_run = coalesce($9::jsonb, external_run),
              locked_by = null, locked_at = null, lease_expires_at = null, agent_pid = null, updated_at = now()
        where id = $1 and ($2::text is null or locked_by = $2) and status in ('preparing', 'running') and attempt = $11
          -- (attempt: a write tried again after its reply was lost never lands on a later attempt)
        returning *
     ), notified as (
       select pg_notify('autobuild_jobs', case when status = 'queued'
                 then 'retry:' || (extract(epoch from run_at) * 1000)::bigint else 'finished' end)
         from updated
     ), outboxed as (
       -- Verified outcomes only (a cancel is not one), written with the job's end: never lost.
       insert into orchestrator.memory_outbox (job_id, project_id)
       select id, project_id from updated where $10::boolean and status in ('succeeded', 'failed', 'timed_out')
     )
     -- A data-modifying CTE (outboxed) always runs; a plain SELECT one (notified) only when referenced.
     select updated.* from updated left join notified on true`,
    [
      job.id,
      workerId,
      retry,
      outcome.status,
      retry ? retryDelayS(job.attempt, policy) : 0,
      outcome.exitCode,
      outcome.error,
      jsonOrNull(outcome.result),
      jsonOrNull(externalRun),
      Boolean(policy.recordOutcome),
      job.attempt,
      jsonOrNull(outcome.spend === undefined ? spendOf(outcome.result) : outcome.spend),
    ],
    { reusePlan: true },
  );
  return rows[0];
}

/** A graceful shutdown puts the job back without spending an attempt; its work is on its branch. */
export async function requeueWithoutAttempt(db: Queryable, jobId: string, workerId: string, note: string): Promise<boolean> {
  const rows = await db.query(
    `with updated as (
       update orchestrator.jobs
          set status = case when cancel_requested_at is null then 'queued' else 'cancelled' end,
              finished_at = case when cancel_requested_at is null then null else now() end,
              attempt = greatest(0, attempt - 1), run_at = now(), error = $3,
              locked_by = null, locked_at = null, lease_expires_at = null, agent_pid = null, updated_at = now()
        where id = $1 and locked_by = $2 and status in ('preparing', 'running')
        returning id
     ), notified as (
       select pg_notify('autobuild_jobs', 'requeued') from updated
     )
     select updated.id from updated left join notified on true`,
    [jobId, workerId, note],
  );
  return rows.length > 0;
}

export interface Parking {
  /** When the provider's limit lifts. */
  notBefore: Date;
  /** Why, for waiting_reason ("rate limited by the model provider until …"). */
  reason: string;
  /** The agent's session, resumed when the job runs again. */
  sessionId: string | null;
  /** What the interrupted run left (its branch's work, usage so far). */
  result: JobResult | null;
}

/**
 * A run stopped by the provider's rate or usage limit goes back to the queue until the limit lifts,
 * without spending an attempt; its slot is freed and its session is resumed when it runs again.
 */
export async function parkJob(db: Queryable, job: Pick<JobRow, 'id'>, workerId: string, parking: Parking): Promise<JobRow | undefined> {
  const rows = await db.query<JobRow>(
    `with updated as (
       update orchestrator.jobs
          set status = case when cancel_requested_at is null then 'queued' else 'cancelled' end,
              finished_at = case when cancel_requested_at is null then null else now() end,
              attempt = case when cancel_requested_at is null then greatest(0, attempt - 1) else attempt end,
              run_at = $3, waiting_reason = $4, session_id = coalesce($5, session_id), result = $6::jsonb, error = null, parks = parks + 1,
              ${spendColumns(6)},
              qa_rounds = coalesce(($6::jsonb #>> '{qa,rounds}')::int, qa_rounds),
              locked_by = null, locked_at = null, lease_expires_at = null, agent_pid = null, updated_at = now()
        where id = $1 and locked_by = $2 and status in ('preparing', 'running')
        returning *
     ), notified as (
       select pg_notify('autobuild_jobs', case when status = 'queued'
                 then 'retry:' || (extract(epoch from run_at) * 1000)::bigint else 'finished' end)
         from updated
     )
     select updated.* from updated left join notified on true`,
    [job.id, workerId, parking.notBefore, parking.reason, parking.sessionId, jsonOrNull(parking.result)],
  );
  return rows[0];
}

/** A JSON parameter: null (SQL NULL) for null or undefined. */
function jsonOrNull(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}
