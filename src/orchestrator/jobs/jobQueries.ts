// Reading and cancelling jobs.
import type { Queryable } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { isTerminal, type JobRow, type JobStatus } from './job.js';

export async function getJobRow(db: Queryable, id: string): Promise<JobRow> {
  const row = (await db.query<JobRow>(`select * from orchestrator.jobs where id = $1`, [id], { reusePlan: true }))[0];
  if (!row) throw new AppError('job_not_found', `no job with id ${id}`);
  return row;
}

export async function listJobRows(
  db: Queryable,
  options: { limit: number; beforeSeq?: string; status?: JobStatus; projectId?: string },
): Promise<JobRow[]> {
  return db.query<JobRow>(
    `select * from orchestrator.jobs
      where ($2::bigint is null or seq < $2::bigint)
        and ($3::text is null or status = $3)
        and ($4::text is null or project_id = $4)
      order by seq desc limit $1`,
    [options.limit, options.beforeSeq ?? null, options.status ?? null, options.projectId ?? null],
  );
}

/**
 * Cancel: a queued job is cancelled at once; an active one is marked, and its replica (told through
 * NOTIFY) stops the agent's process group and records 'cancelled'.
 */
export async function requestCancel(db: Queryable, id: string): Promise<{ job: JobRow; active: boolean }> {
  const rows = await db.query<JobRow>(
    `update orchestrator.jobs
        set status = case when status = 'queued' then 'cancelled' else status end,
            finished_at = case when status = 'queued' then now() else finished_at end,
            error = case when status = 'queued' then 'cancelled by request' else error end,
            cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
      where id = $1 and status in ('queued', 'preparing', 'running')
      returning *`,
    [id],
  );
  const job = rows[0];
  if (!job) {
    const existing = await getJobRow(db, id);
    if (isTerminal(existing.status)) throw new AppError('job_finished', `job ${id} already finished (${existing.status})`);
    throw new AppError('state_conflict', `job ${id} cannot be cancelled now`);
  }
  const active = job.status !== 'cancelled';
  await db.query(`select pg_notify($1, $2)`, [active ? 'autobuild_cancel' : 'autobuild_jobs', active ? id : 'cancelled']);
  return { job, active };
}
