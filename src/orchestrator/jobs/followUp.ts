// Continuing a finished job: a new job on the same branch, project, repository and agent, in the same
// thread (parent_job_id, thread_id), carrying the agent's session so that it resumes the conversation.
// One job of a thread runs at a time: two at once would share the branch and the worktree path.
import { randomUUID } from 'node:crypto';
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { getJobRow } from './jobQueries.js';
import { isTerminal, priorityRank, type JobRow, type Priority } from './job.js';
import { insertJob } from './submitJob.js';

export interface FollowUpInput {
  prompt: string;
  priority?: Priority;
}

function followUpTitle(prompt: string): string {
  const line = prompt.trim().split('\n')[0] ?? '';
  const title = `Follow-up: ${line}`;
  return title.length > 80 ? `${title.slice(0, 77)}...` : title;
}

export async function submitFollowUp(db: Database, parentId: string, input: FollowUpInput): Promise<{ job: JobRow; queuePosition: number }> {
  const parent = await getJobRow(db, parentId);
  if (!isTerminal(parent.status)) {
    throw new AppError('state_conflict', `job ${parentId} is ${parent.status}; a follow-up can start once it has finished`);
  }
  const threadId = parent.thread_id ?? parent.id;
  // Check and insert under the thread's lock, so two follow-ups sent at once (to two replicas) cannot
  // both be queued; the claim also never starts a job while another of its thread is active.
  const rows = await db.transaction(async (tx) => {
    await tx.query(`select pg_advisory_xact_lock(hashtext('autobuild:thread:' || $1))`, [threadId]);
    const busy = await tx.query<{ id: string; status: string }>(
      `select id, status from orchestrator.jobs where (thread_id = $1 or id = $1) and status in ('queued', 'preparing', 'running') limit 1`,
      [threadId],
    );
    if (busy[0]) throw new AppError('state_conflict', `job ${busy[0].id} of this thread is ${busy[0].status}; follow up once it has finished`);
    return insertJob(tx, {
      id: randomUUID(),
      project_id: parent.project_id,
      ticket_id: parent.ticket_id,
      title: followUpTitle(input.prompt),
      prompt: input.prompt,
      priority: input.priority ? priorityRank(input.priority) : parent.priority,
      executor: parent.executor,
      agent: parent.agent,
      repo: parent.repo,
      base_branch: parent.base_branch,
      branch: parent.branch,
      timeout_s: parent.timeout_s,
      max_attempts: parent.max_attempts,
      idempotency_key: null,
      request_hash: null,
      max_cost_usd: parent.max_cost_usd,
      parent_job_id: parent.id,
      thread_id: threadId,
      session_id: parent.result?.session_id ?? parent.session_id,
    });
  });
  const { queue_position, ...job } = rows[0]!;
  return { job: job as JobRow, queuePosition: queue_position };
}
