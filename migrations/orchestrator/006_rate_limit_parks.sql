-- How many times a job was put back in the queue by a provider's rate or usage limit: a job parked
-- over and over (a limit that never lifts, or a misread one) fails instead of waiting forever.
alter table orchestrator.jobs add column parks int not null default 0;
