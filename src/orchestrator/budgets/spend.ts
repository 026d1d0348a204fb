// What projects and jobs have spent, and why a queued job waits: a project's budget is a rolling
// 24 h window over the jobs that spent in it (each job's cost counts while its last spend is in the
// window); a job's spend is written while it runs, so a budget sees running jobs too.
import type { Queryable } from '../../platform/database/database.js';
import type { TokenUsage } from '../agents/runEvents.js';
import type { JobRow } from '../jobs/job.js';

export const BUDGET_WINDOW_HOURS = 24;

/** Dollars a project spent in the window, except one job's (the one asking). */
export async function projectSpend(db: Queryable, projectId: string, exceptJobId: string | null = null): Promise<number> {
  const rows = await db.query<{ spent: number | null }>(
    `select sum(cost_usd)::float8 as spent from orchestrator.jobs
      where project_id = $1 and spent_at > now() - make_interval(hours => $3) and ($2::uuid is null or id <> $2::uuid)`,
    [projectId, exceptJobId, BUDGET_WINDOW_HOURS],
    { reusePlan: true },
  );
  return rows[0]?.spent ?? 0;
}

/** Record a job's spend so far (every run of it), while it runs or as it ends; only its runner writes. */
export async function recordSpend(db: Queryable, jobId: string, workerId: string, spend: { costUsd: number; usage: TokenUsage | null; sessionId: string | null }): Promise<void> {
  await db.query(
    // greatest: a late write of an earlier figure never takes spend back.
    `update orchestrator.jobs set cost_usd = greatest(cost_usd, $3), usage = coalesce($4::jsonb, usage), session_id = coalesce($5, session_id), spent_at = now()
      where id = $1 and locked_by = $2`,
    [jobId, workerId, spend.costUsd, spend.usage ? JSON.stringify(spend.usage) : null, spend.sessionId],
    { reusePlan: true },
  );
}

const money = (n: number) => `$${n.toFixed(2)}`;

interface ProjectQueueState {
  budget: number | null;
  spent: number | null;
  cap: number | null;
  active: number;
}

/** How long a project's budget, cap and activity are reused for waiting reasons (reads of queued jobs are a hot path). */
const STATE_TTL_MS = 1000;

/**
 * Why each queued, due job is not running yet, as the queue stands now: its project over budget,
 * its project at its cap, or every slot taken. Jobs waiting out a time have their own reason.
 * The projects' state is read again when the queue changes, else once a second at most (spend
 * written by a running agent may lag by that much; the claim, not this, decides what starts):
 * reading it on every job read cost a job read 3× its time.
 */
export class WaitingReasons {
  private readonly projects = new Map<string, { at: number; state: ProjectQueueState | undefined }>();
  private totalActive: { at: number; n: number } | undefined;
  private seenGeneration = -1;

  /** generation: changes whenever the queue does (a submit, claim, finish, cancel or project update anywhere). */
  constructor(
    private readonly db: Queryable,
    private readonly maxParallel: number,
    private readonly generation: () => number,
  ) {}

  async of(rows: JobRow[]): Promise<Map<string, string>> {
    const reasons = new Map<string, string>();
    const now = Date.now();
    const due = rows.filter((row) => row.status === 'queued' && new Date(row.run_at).getTime() <= now);
    if (due.length === 0) return reasons;
    await this.refresh([...new Set(due.map((row) => row.project_id))], now);
    const totalActive = this.totalActive?.n ?? 0;
    for (const row of due) {
      const project = this.projects.get(row.project_id)?.state;
      if (project?.budget != null && (project.spent ?? 0) >= project.budget) {
        reasons.set(row.id, `project budget reached (${money(project.spent ?? 0)} of ${money(project.budget)} in the last ${BUDGET_WINDOW_HOURS} h)`);
      } else if (project?.cap != null && project.active >= project.cap) {
        reasons.set(row.id, `project at its max_parallel (${project.active} of ${project.cap} running)`);
      } else if (totalActive >= this.maxParallel) {
        reasons.set(row.id, `waiting for a free slot (${totalActive} of ${this.maxParallel} running)`);
      }
    }
    return reasons;
  }

  private async refresh(projectIds: string[], now: number): Promise<void> {
    // A change to the queue makes every reading stale at once; otherwise they last STATE_TTL_MS.
    if (this.generation() !== this.seenGeneration) {
      this.seenGeneration = this.generation();
      this.projects.clear();
      this.totalActive = undefined;
    }
    const stale = projectIds.filter((id) => (this.projects.get(id)?.at ?? 0) + STATE_TTL_MS <= now);
    if (stale.length === 0 && this.totalActive && this.totalActive.at + STATE_TTL_MS > now) return;
    const rows = await this.db.query<{ id: string; budget: number | null; spent: number | null; cap: number | null; active: number; total_active: number; registered: boolean }>(
      `select ids.id, p.id is not null as registered, (p.budget->>'daily_cost_usd')::float8 as budget, p.max_parallel as cap,
              (select sum(cost_usd)::float8 from orchestrator.jobs s
                where s.project_id = ids.id and s.spent_at > now() - make_interval(hours => $2)) as spent,
              (select count(*)::int from orchestrator.jobs a where a.project_id = ids.id and a.status in ('preparing', 'running')) as active,
              (select count(*)::int from orchestrator.jobs g where g.status in ('preparing', 'running')) as total_active
         from unnest($1::text[]) as ids(id) left join orchestrator.projects p on p.id = ids.id`,
      [stale.length > 0 ? stale : projectIds.slice(0, 1), BUDGET_WINDOW_HOURS],
      { reusePlan: true },
    );
    for (const row of rows) this.projects.set(row.id, { at: now, state: row.registered ? row : undefined });
    this.totalActive = { at: now, n: rows[0]?.total_active ?? 0 };
    if (this.projects.size > 10_000) this.projects.clear();
  }
}

/** The agent's session, stored as soon as it starts: a job recovered after a crash can still resume it. */
export async function recordSession(db: Queryable, jobId: string, workerId: string, sessionId: string): Promise<void> {
  await db.query(`update orchestrator.jobs set session_id = $3 where id = $1 and locked_by = $2`, [jobId, workerId, sessionId], { reusePlan: true });
}
