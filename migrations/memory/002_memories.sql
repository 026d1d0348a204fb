-- Memories: what agents and people learnt about a project (execution outcomes, insights,
-- decisions, feedback, patterns), recalled by meaning. A memory is never silently lost: a newer
-- one that contradicts it marks it superseded (superseded_at, superseded_by) and it stays listable
-- with include_superseded; a near-duplicate updates it in place (seen_count, updated_at).
create table memory.memories (
  id uuid primary key default gen_random_uuid(),
  -- Insertion order: the list cursor (newest first) without timestamp-precision ties.
  seq bigint generated always as identity unique,
  project_id text not null,
  type text not null,
  -- The content as given: a JSON string for text, a JSON object otherwise.
  content jsonb not null,
  -- The readable rendering that was embedded (the text itself; "key: value" lines for JSON).
  content_text text not null,
  ticket_id text,
  job_id text,
  tags text[] not null default '{}',
  -- Of `dimension`, by the embedder named here; recall compares only vectors of one model.
  embedding vector not null,
  provider text not null,
  model text not null,
  dimension int not null check (dimension between 1 and 16000),
  superseded_at timestamptz,
  -- Set null when the superseding memory is deleted; superseded_at keeps the old one out of recall.
  superseded_by uuid references memory.memories (id) on delete set null,
  seen_count int not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

-- Vector search is exact, scoped to one project through the btree index below, not HNSW: a
-- project's memories are few (one per lesson, duplicates merged), exact search has perfect recall
-- and nothing to maintain per project or dimension. Measured on PGlite, 384-d hash vectors, top 10
-- by cosine, beside 5,000 memories of another project: 1,000 live memories of the project 1.7 ms
-- per query (bitmap scan of memories_project_idx, the other project untouched), 5,000 5.8 ms,
-- 20,000 22.5 ms (there the project is most of the table and the planner rightly scans it).
-- Past ~50,000 memories in one project, a per-project partial HNSW index like the code index's
-- would be the next step.
create index memories_project_idx on memory.memories (project_id, seq);
create index memories_project_type_idx on memory.memories (project_id, type, seq);
create index memories_tags_idx on memory.memories using gin (tags);
create index memories_superseded_by_idx on memory.memories (superseded_by) where superseded_by is not null;
