-- The memory service's code index: one index per project (with the embedding model it was built
-- with), its files with content hashes for incremental re-indexing, and their chunks with a
-- full-text vector of code tokens and an embedding. pgvector is required.
create extension if not exists vector;

create table memory.indexes (
  id int generated always as identity primary key,
  project_id text not null unique,
  -- The embedder the index was built with; queries embed with the same one, models never mix.
  provider text not null,
  model text not null,
  dimension int not null check (dimension between 1 and 16000),
  file_count int not null default 0,
  chunk_count int not null default 0,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table memory.files (
  index_id int not null references memory.indexes (id) on delete cascade,
  path text not null,
  language text not null,
  content_hash text not null,
  size_bytes int not null,
  chunk_count int not null,
  indexed_at timestamptz not null default now(),
  primary key (index_id, path)
);

create table memory.chunks (
  id bigint generated always as identity primary key,
  index_id int not null,
  path text not null,
  start_line int not null,
  end_line int not null,
  language text not null,
  symbol text,
  kind text not null,
  content text not null,
  content_hash text not null,
  -- Code-aware tokens (camelCase/snake_case split, stemmed; see codeTokens) of the symbol, the
  -- path and the content, weighted A, B and D in the full-text vector.
  symbol_tokens text not null,
  path_tokens text not null,
  content_tokens text not null,
  search tsvector generated always as (
    setweight(to_tsvector('simple', symbol_tokens), 'A') ||
    setweight(to_tsvector('simple', path_tokens), 'B') ||
    to_tsvector('simple', content_tokens)
  ) stored,
  -- Symbol names alone, for identifier lookups (`claimJobs` → its definition) without rechecking weights.
  symbol_search tsvector generated always as (to_tsvector('simple', symbol_tokens)) stored,
  -- Of the index's dimension. The HNSW index is per project (a partial expression index named
  -- chunks_embedding_<index id>, over embedding::vector(<dimension>)), created by the indexer.
  embedding vector not null,
  foreign key (index_id, path) references memory.files (index_id, path) on delete cascade
);

-- The path and language filters of search: a narrow filter is answered exactly through these, a
-- broad one through the HNSW index with iterative scans.
create index chunks_file_idx on memory.chunks (index_id, path);
create index chunks_language_idx on memory.chunks (index_id, language);
create index chunks_search_idx on memory.chunks using gin (search);
create index chunks_symbol_search_idx on memory.chunks using gin (symbol_search);
