// Claiming: one transaction that picks the next jobs in queue order while holding the global cap
// and every project's cap, safe with any number of replicas.
//
// Why an advisory lock: counting the active jobs and claiming must be atomic across replicas, or
// two replicas that each see 11 of 12 slots busy would both take the twelfth. The transaction-level
// lock serialises claims only (a few milliseconds each); everything else runs concurrently. The
// UPDATE re-checks status = 'queued', so a job cancelled mid-claim is never started.
import type { Database } from '../../platform/database/database.js';
import type { JobRow } from '../jobs/job.js';

const CLAIM_SQL = `
with active as (
  select project_id, count(*)::int as n
    from orchestrator.jobs where status in ('preparing', 'running') group by project_id
),
free as (
  select greatest(0, $3::int - coalesce((select sum(n) from active), 0))::int as slots
),
candidates as (
  select j.id, j.priority, j.seq,
         row_number() over (partition by j.project_id order by j.priority, j.seq) as nth,
         coalesce(a.n, 0) as active_in_project,
         p.max_parallel as project_cap
    from orchestrator.jobs j
    left join active a on a.project_id = j.project_id
    left join orchestrator.projects p on p.id = j.project_id
   where j.status = 'queued' and j.run_at <= now()
),
chosen as (
  select id from candidates
   where project_cap is null or active_in_project + nth <= project_cap
   order by priority, seq
   limit least($2::int, (select slots from free))
),
claimed as (
update orchestrator.jobs j
   set status = 'preparing',
       attempt = j.attempt + 1,
       locked_by = $1,
       locked_at = now(),
       lease_expires_at = now() + make_interval(secs => $4::int),
       started_at = now(),
       finished_at = null,
       exit_code = null,
       error = null,
       result = null,
       updated_at = now()
  from chosen
 where j.id = chosen.id and j.status = 'queued'
returning j.*
),
-- Queue positions changed: every replica's snapshot is stale (this is not a wake-up).
notified as (
  select pg_notify('autobuild_jobs', 'claimed') from (select 1 from claimed limit 1) any_claimed
)
select claimed.* from claimed left join notified on true`;

export interface ClaimOptions {
  workerId: string;
  /** How many this replica will take now. */
  limit: number;
  /** The deployment-wide cap of preparing + running jobs. */
  maxParallel: number;
  leaseS: number;
}

export async function claimJobs(db: Database, options: ClaimOptions): Promise<JobRow[]> {
  if (options.limit <= 0) return [];
  const params = [options.workerId, options.limit, options.maxParallel, options.leaseS];
  // The embedded database is one connection in one process: nothing can claim concurrently, so
  // the claim is one statement. On a server, the lock comes first, in its own statement, so that
  // the claim's snapshot sees every claim committed before it.
  const rows =
    db.kind === 'pglite'
      ? await db.query<JobRow>(CLAIM_SQL, params)
      : await db.transaction(async (tx) => {
          await tx.query(`select pg_advisory_xact_lock(hashtext('autobuild:claim'))`);
          return tx.query<JobRow>(CLAIM_SQL, params);
        });
  return rows.sort((a, b) => a.priority - b.priority || Number(a.seq) - Number(b.seq));
}

/** When the earliest job waiting out a retry backoff becomes due, if any. */
export async function nextDueAt(db: Database): Promise<Date | null> {
  const rows = await db.query<{ at: Date | null }>(
    `select min(run_at) as at from orchestrator.jobs where status = 'queued' and run_at > now()`,
  );
  return rows[0]?.at ? new Date(rows[0].at) : null;
}
