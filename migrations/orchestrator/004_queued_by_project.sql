-- Queued jobs by project in queue order: the claim reads each project's first few queued jobs
-- through this index (and finds the projects with queued jobs by skipping along it), so a claim
-- costs O(projects + jobs claimed), not O(queued jobs).
create index jobs_queued_project_idx on orchestrator.jobs (project_id, priority, seq) where status = 'queued';
