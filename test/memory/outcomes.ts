// Execution outcomes as the orchestrator sends them: a finished job turned into a memory by the
// orchestrator's own outcomeMemory, so tests post exactly the wire format the memory outbox does.
import { randomUUID } from 'node:crypto';
import type { JobRow, JobStatus } from '../../src/orchestrator/jobs/job.js';
import { outcomeMemory } from '../../src/orchestrator/memoryOutbox.js';

export interface FinishedJob {
  id?: string;
  project?: string;
  title: string;
  prompt?: string;
  status: JobStatus;
  agent?: 'claude-code' | 'codex';
  durationS?: number;
  files?: string[];
  qa?: Record<string, boolean>;
}

/** A finished job as the orchestrator's memory outbox turns it into a memory. */
export function outcome(job: FinishedJob) {
  const started = new Date('2025-01-01T10:00:00Z');
  const row = {
    id: job.id ?? randomUUID(),
    project_id: job.project ?? 'shop',
    ticket_id: null,
    title: job.title,
    prompt: job.prompt ?? job.title,
    status: job.status,
    executor: 'local',
    agent: { type: job.agent ?? 'claude-code' },
    attempt: 1,
    started_at: started,
    finished_at: new Date(started.getTime() + (job.durationS ?? 60) * 1000),
    exit_code: job.status === 'succeeded' ? 0 : 2,
    error: job.status === 'succeeded' ? null : 'the agent exited with code 2',
    result: {
      commits: (job.files ?? []).length > 0 ? [{ sha: 'abc', message: job.title }] : [],
      files_changed: job.files ?? [],
      diff_stat: { files: 0, insertions: 0, deletions: 0 },
      qa: job.qa ? { passed: Object.values(job.qa).every(Boolean), checks: Object.entries(job.qa).map(([name, passed]) => ({ name, passed })) } : null,
      pr_url: null,
      summary: null,
    },
  } as unknown as JobRow;
  return outcomeMemory(row);
}
