// Claiming: one transaction that picks the next jobs in queue order while holding the global cap
// and every project's cap, safe with any number of replicas.
//
// Why an advisory lock: counting the active jobs and claiming must be atomic across replicas, or
// two replicas that each see 11 of 12 slots busy would both take the twelfth. The transaction-level
// lock serialises claims only (a few milliseconds each); everything else runs concurrently. The
// UPDATE re-checks status = 'queued', so a job cancelled mid-claim is never started.
//
// Cost: a claim reads each project's first few due jobs through an index, not the whole queue (the
// first version ranked every queued job: 2.5 ms per claim on PGlite with 300 queued, against
// ~0.4 ms now, its plan reused). Job k of a project may start while active + k <= its cap, so a
// project never offers more than cap - active candidates, nor more than the claim takes.
import type { Database } from '../../platform/database/database.js';
import type { JobRow } from '../jobs/job.js';

const CLAIM_SQL = `
with recursive active as (
  select project_id, count(*)::int as n
    from orchestrator.jobs where status in ('preparing', 'running') group by project_id
),
free as (
  select greatest(0, $3::int - coalesce((select sum(n) from active), 0))::int as slots
),
-- The projects with queued jobs: one probe of jobs_queued_project_idx each (a skip scan).
queued_projects as (
  (select project_id from orchestrator.jobs where status = 'queued' order by project_id limit 1)
  union all
  select (select j.project_id from orchestrator.jobs j
           where j.status = 'queued' and j.project_id > q.project_id order by j.project_id limit 1)
    from queued_projects q where q.project_id is not null
),
-- Each project's first due jobs, as many as its cap leaves room for and this claim takes.
candidates as (
  select c.id, c.priority, c.seq
    from queued_projects q
    left join active a on a.project_id = q.project_id
    left join orchestrator.projects p on p.id = q.project_id
    cross join lateral (
      select j.id, j.priority, j.seq from orchestrator.jobs j
       where j.status = 'queued' and j.project_id = q.project_id and j.run_at <= now()
         -- One job of a thread at a time: they share a branch and a worktree path.
         and (j.thread_id is null or not exists (
               select 1 from orchestrator.jobs t
                where (t.id = j.thread_id or t.thread_id = j.thread_id) and t.status in ('preparing', 'running')))
       order by j.priority, j.seq
       limit greatest(0, least($2::int, p.max_parallel - coalesce(a.n, 0)))
    ) c
   where q.project_id is not null
     -- A project over its daily budget starts nothing new until its window frees.
     and (p.budget is null or p.budget->>'daily_cost_usd' is null
          or coalesce((select sum(s.cost_usd) from orchestrator.jobs s
                        where s.project_id = q.project_id and s.spent_at > now() - interval '24 hours'), 0)
             < (p.budget->>'daily_cost_usd')::float8)
),
chosen as (
  select id from candidates order by priority, seq limit least($2::int, (select slots from free))
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
       waiting_reason = null,
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
  // the claim's snapshot sees every claim committed before it. Its plan does not depend on the
  // values (reusePlan): planning it would cost more than running it.
  const rows =
    db.kind === 'pglite'
      ? await db.query<JobRow>(CLAIM_SQL, params, { reusePlan: true })
      : await db.transaction(async (tx) => {
          await tx.query(`select pg_advisory_xact_lock(hashtext('autobuild:claim'))`);
          return tx.query<JobRow>(CLAIM_SQL, params, { reusePlan: true });
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
