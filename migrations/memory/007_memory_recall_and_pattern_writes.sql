-- Recall and a write's neighbours compute the cosine distance to every live memory of the project
-- (exact, see 002), so each of those rows' vectors is read on every recall. pgvector's type is
-- stored 'external': an outcome memory's row (~2.9 KB: its 384-d vector 1.5 KB, its content and
-- text the rest) is over PostgreSQL's 2 KB toast threshold, so the vector went out of line and
-- every distance fetched it from the toast table through its index. Measured on PGlite, 600 outcome
-- memories, the 10 nearest: 1,911 buffers read per query; with the vector kept in the row ('main':
-- the content and its text, 'extended', are compressed and moved out first) 189, and the
-- database thread's CPU per query 2.9 -> 2.2 ms (4.3 ms before, when the sort also carried every
-- row's columns; memories.ts now ranks ids alone). Vectors too large for a row (1536-d) still go
-- out of line.
alter table memory.memories alter column embedding set storage main;
-- Rows written before keep their out-of-line vectors until rewritten: rewrite them (a new value, not
-- the old toast pointer, so the new storage applies). Only vectors that can fit in a row: one of 512
-- dimensions or more is over 2 kB on its own, so the last resort of 'main' still moves it out of line,
-- and rewriting it would only hold the table's lock longer and leave a dead copy of every row.
update memory.memories set embedding = embedding::real[]::vector where dimension < 500;

-- The models a project's live memories were embedded with: recall checks the one it expects by
-- reading this index's first and last entries (two probes), instead of reading every live memory
-- for `select distinct provider, model, dimension` before each recall.
create index memories_live_model_idx on memory.memories (project_id, model, dimension, provider) where superseded_at is null;

-- Every outcome adds one to a few pattern rows (its agent, its file pairs, its words' files). An
-- index on the counts made each of those updates write a new entry into all six of the table's
-- indexes; without one on a column an update changes, PostgreSQL updates the row in its page (a
-- heap-only update) and no index at all. Pruning, the only reader of that order, sorts the type's
-- rows (at most ~2,200) once per maxRows/10 new rows; counting a type's rows uses the subject index.
-- Some room is left in each page for those in-page updates.
drop index memory.patterns_strength_idx;
alter table memory.patterns set (fillfactor = 80);
