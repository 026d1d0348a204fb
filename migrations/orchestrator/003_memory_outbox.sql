-- Outcomes of finished jobs waiting to be written to the memory service. Filled in the same
-- statement that finishes a job, so an outcome is never lost when the memory service is down or
-- the orchestrator stops; delivered with retries and deleted once the service has it.
create table orchestrator.memory_outbox (
  id bigint generated always as identity primary key,
  job_id uuid not null,
  project_id text not null,
  attempts int not null default 0,
  next_attempt_at timestamptz not null default now(),
  last_error text,
  created_at timestamptz not null default now()
);

create index memory_outbox_due_idx on orchestrator.memory_outbox (next_attempt_at);
