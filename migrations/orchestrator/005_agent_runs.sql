-- What agent runs report and spend, and how a task continues (API.md "Agents").
alter table orchestrator.jobs
  -- A follow-up's parent, and the first job of its thread (whose worktree path the thread keeps,
  -- so that an agent's session, keyed by its working directory, can be resumed).
  add column parent_job_id uuid,
  add column thread_id uuid,
  -- The agent's own session: continued by a resume after a rate limit, QA rounds and follow-ups.
  add column session_id text,
  -- Agent runs started for this job (a resume after a provider's limit continues rather than starts over).
  add column runs int not null default 0,
  -- Why a queued job is not started yet (rate limit, retry backoff); budgets and caps are read live.
  add column waiting_reason text,
  add column max_cost_usd double precision,
  -- Spent by every run of the job so far (live while one runs), and when it last spent:
  -- a project's budget window sums the jobs that spent within it.
  add column cost_usd double precision not null default 0,
  add column usage jsonb,
  add column spent_at timestamptz;

create index jobs_project_spent_idx on orchestrator.jobs (project_id, spent_at) where spent_at is not null;
create index jobs_parent_idx on orchestrator.jobs (parent_job_id) where parent_job_id is not null;
create index jobs_thread_idx on orchestrator.jobs (thread_id) where thread_id is not null;

alter table orchestrator.projects
  add column qa jsonb,
  add column budget jsonb,
  add column pull_requests boolean not null default false;
