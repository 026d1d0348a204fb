// What a fresh agent session needs to carry on a task another session started (a follow-up whose
// session cannot be resumed, a run interrupted by a limit whose transcript is gone): the thread's
// earlier prompts and summaries, and the changes its branch holds so far.
import type { Queryable } from '../../platform/database/database.js';
import { git } from '../../platform/git.js';
import type { JobRow } from './job.js';

const MAX_DIFF_CHARS = 30_000;

/** The job's ancestors (parent, grandparent, ...), oldest first, then the job itself. */
export async function threadOf(db: Queryable, jobId: string): Promise<JobRow[]> {
  const rows = await db.query<JobRow & { depth: number }>(
    `with recursive chain as (
       select j.*, 0 as depth from orchestrator.jobs j where j.id = $1
       union all
       select p.*, c.depth + 1 from orchestrator.jobs p join chain c on p.id = c.parent_job_id where c.depth < 100
     )
     select * from chain order by depth desc`,
    [jobId],
  );
  return rows;
}

export async function branchDiff(worktreePath: string, baseBranch: string): Promise<string> {
  try {
    const diff = await git(['diff', `${baseBranch}...HEAD`, '--'], { cwd: worktreePath });
    return diff.length > MAX_DIFF_CHARS ? `${diff.slice(0, MAX_DIFF_CHARS)}\n… (diff cut at ${MAX_DIFF_CHARS} characters)` : diff;
  } catch {
    return '';
  }
}

/** The prompt of a fresh session that continues the thread's work with `request`. */
export async function continuationPrompt(db: Queryable, job: JobRow, worktreePath: string, request: string): Promise<string> {
  const earlier = (await threadOf(db, job.id)).filter((row) => row.id !== job.id || job.runs > 0);
  const diff = await branchDiff(worktreePath, job.base_branch);
  const parts = ['You are continuing work on this branch that an earlier session began. What was asked so far, and what it reported:'];
  earlier.forEach((row, i) => {
    parts.push(`\n### Request ${i + 1}${row.id === job.id ? ' (interrupted)' : ''}\n${row.prompt}`);
    if (row.result?.summary) parts.push(`\nOutcome: ${row.result.summary}`);
  });
  parts.push(diff.trim() ? `\n## The branch's changes so far\n\n\`\`\`diff\n${diff.trimEnd()}\n\`\`\`` : "\nThe branch holds no changes yet.");
  parts.push(`\n## Now\n\n${request}`);
  return parts.join('\n');
}
