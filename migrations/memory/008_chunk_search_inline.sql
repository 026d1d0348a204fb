-- The full-text vectors stay in the chunk's row. The full-text half of search reads the vector of
-- every chunk that matches the query (BM25 needs each one's term frequencies), and in a small index
-- that is most of the chunks. A row over ~2 kB is toasted, the largest movable values first: the
-- vector (~1.3 kB at 1,366 chunks of this repository) was moved out of the row as often as the
-- embedding, and reading it then took a TOAST index lookup and page (~3.8 buffer reads a row
-- against ~0.3). Storage `main` moves the embedding and the content out first (search reads them
-- for a few rows only); the vector leaves the row only when nothing else is left to move.
-- bench/searchSmall's 265-file project: the full-text statement 3.45 -> 2.50 ms a search (mean of
-- 200 queries, ~400 matching chunks each), heap 2.2 -> 2.9 MB, TOAST 4.9 -> 4.2 MB.
--
-- Rows already stored keep their layout until they are written again (a re-index rewrites the
-- chunks of files that changed); rewriting every row here would also rewrite every HNSW graph.
alter table memory.chunks alter column search set storage main;
alter table memory.chunks alter column symbol_search set storage main;
