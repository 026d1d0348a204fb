// Leases of running jobs: the owner renews them; a lease that lapses (its replica crashed or was
// cut off) is recovered by whichever replica notices: back to the queue while attempts remain,
// otherwise failed (or cancelled, if a cancel was asked for).
import type { Queryable } from '../../platform/database/database.js';
import type { JobRow } from '../jobs/job.js';

/**
 * Renews this worker's leases of the jobs it is running (`jobIds`); returns the ids it still holds
 * (a missing one was recovered elsewhere), and those of them whose cancel was asked for: the
 * cancel's NOTIFY may never have arrived (a listening connection that was away). Only those: a job
 * this worker claimed but no longer runs (its outcome could not be recorded) lets its lease lapse,
 * so recovery takes it back.
 */
export async function renewLeases(db: Queryable, workerId: string, leaseS: number, jobIds: readonly string[]): Promise<{ held: Set<string>; cancelled: Set<string> }> {
  const rows = await db.query<{ id: string; cancelled: boolean }>(
    `update orchestrator.jobs set lease_expires_at = now() + make_interval(secs => $2::int)
      where locked_by = $1 and id = any($3::uuid[]) and status in ('preparing', 'running')
      returning id, cancel_requested_at is not null as cancelled`,
    [workerId, leaseS, jobIds],
    { reusePlan: true },
  );
  return { held: new Set(rows.map((r) => r.id)), cancelled: new Set(rows.filter((r) => r.cancelled).map((r) => r.id)) };
}

export type RecoveredJob = Pick<JobRow, 'id' | 'status' | 'locked_by' | 'agent_pid' | 'worktree_id' | 'worktree_path' | 'repo' | 'project_id'>;

/**
 * Recover active jobs whose lease lapsed (this worker's own too: it renews only what it runs), or
 * (embedded database, where only one process can ever hold the data) every active job not owned by
 * the current worker. `running` are the jobs this worker still runs: never taken back here, even
 * when their lease lapsed because the event loop was blocked past it and this pass's timer fired
 * before the renewal's.
 */
export async function recoverJobs(db: Queryable, options: { expiredOnly: boolean; exceptWorker: string; running?: readonly string[]; serverGraceS?: number }): Promise<RecoveredJob[]> {
  return db.query<RecoveredJob>(
    `with lost as (
       select id, locked_by as previous_owner from orchestrator.jobs
        where status in ('preparing', 'running') and executor = 'local'
          and case when $1::boolean then lease_expires_at < now() else locked_by is distinct from $2 end
          -- A server that restarted less than a lease ago: every lease lapsed while it was down, the
          -- live replicas' too; they get a lease to renew before anything is taken from them.
          and (not $1::boolean or now() - pg_postmaster_start_time() > make_interval(secs => $4::int))
          and (locked_by is distinct from $2 or id <> all($3::uuid[]))
        for update skip locked
     )
     , updated as (
     update orchestrator.jobs j
        set status = case when j.cancel_requested_at is not null then 'cancelled'
                          when j.attempt < j.max_attempts then 'queued' else 'failed' end,
            finished_at = case when j.cancel_requested_at is null and j.attempt < j.max_attempts then null else now() end,
            run_at = now(),
            error = case when j.locked_by = $2
                         then 'the orchestrator could not record the outcome of attempt ' || j.attempt || ' of ' || j.max_attempts
                         else 'the orchestrator process running this job stopped before it finished (attempt ' || j.attempt || ' of ' || j.max_attempts || ')' end,
            -- The lost attempt is spent: the next one starts its QA rounds afresh.
            qa_rounds = 0,
            locked_by = null, locked_at = null, lease_expires_at = null, updated_at = now()
       from lost
      where j.id = lost.id
      returning j.id, j.status, lost.previous_owner as locked_by, j.agent_pid, j.worktree_id, j.worktree_path, j.repo, j.project_id
     ), notified as (
       select pg_notify('autobuild_jobs', 'recovered') from (select 1 from updated limit 1) any_row
     )
     select updated.* from updated left join notified on true`,
    [options.expiredOnly, options.exceptWorker, options.running ?? [], options.serverGraceS ?? 0],
  );
}
