-- What a merge replaced. A near-duplicate updates the memory it matches (the contract's 200, same
-- id) with its own wording; the wording it replaced is kept here, newest last (the last 20), so a
-- merge never silently loses text, even a wrong one.
alter table memory.memories add column history jsonb not null default '[]'::jsonb;
