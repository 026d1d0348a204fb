-- QA rounds an attempt has used, kept while a provider's limit parks the job: the run that resumes
-- the session goes on counting from there, so a job never gets more rounds than `qa.rounds` by
-- being parked in the middle of them (the claim clears the parked result that also says it). A new
-- attempt starts from 0.
alter table orchestrator.jobs add column qa_rounds int not null default 0;
