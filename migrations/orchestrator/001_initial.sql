-- The orchestrator's tables: projects, jobs (the durable queue and the job record in one row), worktrees.

create table orchestrator.projects (
  id text primary key,
  repo text not null,
  default_branch text,
  max_parallel int,
  github jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table orchestrator.jobs (
  id uuid primary key,
  -- Submission order: FIFO within a priority, and the cursor of the newest-first list.
  seq bigint generated always as identity unique,
  project_id text not null,
  ticket_id text,
  title text not null,
  prompt text not null,
  -- 0 critical, 1 high, 2 normal, 3 low: claims order by (priority, seq).
  priority smallint not null check (priority between 0 and 3),
  status text not null check (status in ('queued','preparing','running','succeeded','failed','cancelled','timed_out')),
  executor text not null,
  agent jsonb not null,
  repo text not null,
  base_branch text not null,
  branch text not null,
  timeout_s int not null,
  attempt int not null default 0,
  max_attempts int not null,
  idempotency_key text unique,
  request_hash text,
  -- Not before this time (retry backoff).
  run_at timestamptz not null default now(),
  -- The lease of the replica running the job; renewed while it runs, recovered when it lapses.
  locked_by text,
  locked_at timestamptz,
  lease_expires_at timestamptz,
  cancel_requested_at timestamptz,
  agent_pid int,
  worktree_id uuid,
  worktree_path text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  updated_at timestamptz not null default now(),
  exit_code int,
  error text,
  result jsonb,
  external_run jsonb
);

create index jobs_queued_idx on orchestrator.jobs (priority, seq) where status = 'queued';
create index jobs_active_idx on orchestrator.jobs (project_id) where status in ('preparing','running');
create index jobs_project_seq_idx on orchestrator.jobs (project_id, seq);
create index jobs_status_seq_idx on orchestrator.jobs (status, seq);

create table orchestrator.worktrees (
  id uuid primary key,
  job_id uuid not null,
  project_id text not null,
  repo text not null,
  path text not null,
  branch text not null,
  base_branch text not null,
  status text not null check (status in ('active','cleanup','removed')),
  owner text,
  created_at timestamptz not null default now(),
  last_used_at timestamptz not null default now(),
  removed_at timestamptz
);

create index worktrees_status_idx on orchestrator.worktrees (status, created_at);
-- One live worktree per path; removed ones stay as history.
create unique index worktrees_live_path_idx on orchestrator.worktrees (path) where status <> 'removed';
create index worktrees_job_idx on orchestrator.worktrees (job_id);
