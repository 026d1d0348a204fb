// Registered projects: the repository, default branch, per-project cap and GitHub coordinates
// that jobs of the project inherit.
import type { Queryable } from '../../platform/database/database.js';

export interface ProjectRow {
  id: string;
  repo: string;
  default_branch: string | null;
  max_parallel: number | null;
  github: { owner: string; repo: string; workflow: string } | null;
  qa: ProjectQa | null;
  budget: { daily_cost_usd: number } | null;
  pull_requests: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface ProjectQa {
  commands?: Array<{ name: string; command: string[]; timeout_s?: number }>;
  rounds?: number;
  required?: boolean;
}

export interface Project {
  id: string;
  repo: string;
  default_branch: string | null;
  max_parallel: number | null;
  github: ProjectRow['github'];
  qa: ProjectQa | null;
  budget: ProjectRow['budget'];
  pull_requests: boolean;
  created_at: string;
  updated_at: string;
}

export const toProject = (row: ProjectRow): Project => ({
  id: row.id,
  repo: row.repo,
  default_branch: row.default_branch,
  max_parallel: row.max_parallel,
  github: row.github,
  qa: row.qa,
  budget: row.budget,
  pull_requests: row.pull_requests,
  created_at: new Date(row.created_at).toISOString(),
  updated_at: new Date(row.updated_at).toISOString(),
});

export async function getProject(db: Queryable, id: string): Promise<ProjectRow | undefined> {
  return (await db.query<ProjectRow>(`select * from orchestrator.projects where id = $1`, [id], { reusePlan: true }))[0];
}

/** Register or update a project; returns the row and whether it is new. */
export async function upsertProject(
  db: Queryable,
  project: {
    id: string;
    repo: string;
    default_branch?: string | null;
    max_parallel?: number | null;
    github?: ProjectRow['github'];
    qa?: ProjectQa | null;
    budget?: ProjectRow['budget'];
    pull_requests?: boolean;
  },
): Promise<{ project: ProjectRow; created: boolean }> {
  // The NOTIFY wakes every scheduler: a raised cap or budget may let queued jobs start.
  const rows = await db.query<ProjectRow & { created: boolean; notified: boolean }>(
    `insert into orchestrator.projects (id, repo, default_branch, max_parallel, github, qa, budget, pull_requests)
     values ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7::jsonb, $8)
     on conflict (id) do update set repo = excluded.repo, default_branch = excluded.default_branch,
       max_parallel = excluded.max_parallel, github = excluded.github, qa = excluded.qa, budget = excluded.budget,
       pull_requests = excluded.pull_requests, updated_at = now()
     returning *, (xmax = 0) as created, pg_notify('autobuild_jobs', 'project') is not null as notified`,
    [
      project.id,
      project.repo,
      project.default_branch ?? null,
      project.max_parallel ?? null,
      project.github ? JSON.stringify(project.github) : null,
      project.qa ? JSON.stringify(project.qa) : null,
      project.budget ? JSON.stringify(project.budget) : null,
      project.pull_requests ?? false,
    ],
  );
  const { created, notified: _notified, ...row } = rows[0]!;
  return { project: row, created };
}

export async function listProjects(db: Queryable, limit: number, afterId?: string): Promise<ProjectRow[]> {
  return db.query<ProjectRow>(
    `select * from orchestrator.projects where ($2::text is null or id > $2) order by id limit $1`,
    [limit, afterId ?? null],
  );
}
