-- Patterns learned from verified execution outcomes (execution_success / execution_failure
-- memories that carry their job id and agree with their job's status; see src/memory/patterns/).
-- A pattern is an aggregate of counts. Its confidence (a Wilson lower bound, so it grows with
-- evidence), its readable description and its public content are derived when it is read
-- (memory.pattern_scores below, src/memory/patterns/describe.ts), so they are never stale: one
-- outcome changes the evidence of every pair of a file it touched, and rewriting those rows on
-- every write cost 10x the memory insert itself (measured: 36 ms vs 3.5 ms per outcome at 3,300 rows).
create table memory.patterns (
  id uuid primary key default gen_random_uuid(),
  -- Creation order: the tiebreak of the list order and of its cursor.
  seq bigint generated always as identity unique,
  project_id text not null,
  -- co_change | task_files | qa_failure | agent_stats
  type text not null,
  -- co_change: 'file' or 'directory'; '' otherwise.
  scope text not null default '',
  -- co_change: the smaller path and the larger one; task_files: the task word and the file;
  -- qa_failure: the check's name; agent_stats: the agent type.
  subject text not null,
  object text not null default '',
  success_count int not null default 0,
  failure_count int not null default 0,
  -- agent_stats: durations in seconds of the most recent successful runs (the typical duration).
  samples double precision[] not null default '{}',
  first_seen_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  unique (project_id, type, scope, subject, object)
);

-- The look-ups by word or path that context makes, and pruning (weakest first).
create index patterns_subject_idx on memory.patterns (project_id, type, subject);
create index patterns_object_idx on memory.patterns (project_id, type, object);
create index patterns_strength_idx on memory.patterns (project_id, type, success_count, last_seen_at);

-- How many counted successful tasks touched a file or a directory, or had a word in their task:
-- the denominators of the co_change and task_files confidences.
create table memory.pattern_support (
  project_id text not null,
  -- file | directory | term
  kind text not null,
  item text not null,
  tasks int not null default 0,
  primary key (project_id, kind, item)
);

-- Every job whose outcome was counted, once: a redelivered or re-sent outcome of the same job
-- changes no count.
create table memory.pattern_jobs (
  project_id text not null,
  job_id text not null,
  -- success | failure
  outcome text not null,
  memory_id uuid,
  counted_at timestamptz not null default now(),
  primary key (project_id, job_id)
);

-- Lower bound of the 95% Wilson score interval of k successes in n trials: 0 without evidence,
-- 0.21 for 1 of 1, 0.34 for 2 of 2, 0.72 for 10 of 10 — a proportion that earns its confidence.
create function memory.wilson_lower_bound(k double precision, n double precision) returns double precision
language sql immutable as $$
  select case when n <= 0 then 0::double precision
    else greatest(0::double precision,
      (least(1, k / n) + 3.8416 / (2 * n) - 1.96 * sqrt(greatest(0::double precision, least(1, k / n) * (1 - least(1, k / n)) / n + 3.8416 / (4 * n * n)))) / (1 + 3.8416 / n))
  end
$$;

-- Patterns with their evidence (the number of outcomes the confidence is a proportion of) and
-- confidence: co_change, pairs changed together of the successful tasks that changed either;
-- task_files, tasks with the word that changed the file of those with the word; qa_failure, runs
-- where the check failed of all its runs; agent_stats, successes of all runs.
create view memory.pattern_scores as
select p.id, p.seq, p.project_id, p.type, p.scope, p.subject, p.object, p.success_count, p.failure_count,
       p.samples, p.first_seen_at, p.last_seen_at, e.evidence,
       memory.wilson_lower_bound(case when p.type = 'qa_failure' then p.failure_count else p.success_count end, e.evidence) as confidence
  from memory.patterns p
  left join memory.pattern_support sa
    on p.type in ('co_change', 'task_files') and sa.project_id = p.project_id
   and sa.kind = (case when p.type = 'task_files' then 'term' else p.scope end) and sa.item = p.subject
  left join memory.pattern_support sb
    on p.type = 'co_change' and sb.project_id = p.project_id and sb.kind = p.scope and sb.item = p.object
  cross join lateral (
    select case p.type
             when 'co_change' then coalesce(sa.tasks, 0) + coalesce(sb.tasks, 0) - p.success_count
             when 'task_files' then coalesce(sa.tasks, 0)
             else p.success_count + p.failure_count
           end as evidence) e;
