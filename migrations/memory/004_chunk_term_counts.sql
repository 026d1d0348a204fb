-- Lengths for BM25 scoring of the full-text half of search (src/memory/retrieval/bm25.ts). A chunk's
-- length is its number of distinct code tokens, `length(search)`, read from the full-text vector
-- at query time at no cost; what is stored is each file's sum of it over its chunks and each
-- index's total, from which search takes the average chunk length.
--
-- Nothing is added to memory.chunks: a column there would rewrite the table and every index on it,
-- the HNSW graphs included (measured: 203 s for 100k chunks on PGlite).
alter table memory.files add column term_count bigint not null default 0;
alter table memory.indexes add column term_count bigint not null default 0;

update memory.files f set term_count = coalesce(
  (select sum(length(c.search)) from memory.chunks c where c.index_id = f.index_id and c.path = f.path), 0);
update memory.indexes i set term_count = coalesce(
  (select sum(f.term_count) from memory.files f where f.index_id = i.id), 0);
