-- What each counted job added to the patterns, as it was counted: deleting its memory takes exactly
-- that back, whatever the limits or the task-word rules are by then, and every job counted against
-- the memory (not only the one its content names now). Null for jobs counted before this column.
alter table memory.pattern_jobs add column counted jsonb;
