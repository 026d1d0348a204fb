// Opening a local job's pull request: its branch pushed to the repository's `origin`, then the pull
// request found (an open one for the branch is returned, never a second) or created through the same
// Octokit client as the GitHub Actions executor, and its address stored on the job's result.
// A push or API failure is an error that names what failed; the branch is never touched.
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { git, GitError } from '../../platform/git.js';
import { describeGithubError, type GithubClient } from '../../platform/github.js';
import type { JobResult, JobRow } from '../jobs/job.js';
import { getProject, type ProjectRow } from '../projects/projects.js';
import type { JobLogs } from '../logs/jobLogs.js';
import { pullRequestBody, pullRequestTitle } from './pullRequestBody.js';

export interface PullRequest {
  pr_url: string;
  pr_number: number;
  /** False when an open pull request for the branch already existed. */
  created: boolean;
}

export interface PullRequestDeps {
  db: Database;
  github: GithubClient | null;
  /** The orchestrator's public base URL, for a link back to the job. */
  publicUrl: string | undefined;
}

/** Why a job cannot have a pull request (422/409), or null when it can. */
export function pullRequestBlocker(job: JobRow, project: ProjectRow | undefined, github: GithubClient | null): AppError | null {
  if (!project?.github) return new AppError('unprocessable', `project ${job.project_id} has no github {owner, repo}: register it with one to open pull requests`);
  if (!github) return new AppError('unprocessable', 'pull requests need GITHUB_TOKEN');
  if (!['succeeded', 'failed', 'cancelled', 'timed_out'].includes(job.status)) return new AppError('state_conflict', `job ${job.id} is ${job.status}; open its pull request once it has finished`);
  if (job.executor !== 'local') return new AppError('unprocessable', 'a github-actions job opens its own pull request on the runner');
  return null;
}

export interface OpenOptions {
  /**
   * Retries of a failing GitHub request (the client's own count when not given). Someone waiting on
   * the route gets an answer within seconds (a 503 to retry) rather than after the client's full
   * backoff, which exceeds a minute for a 5xx that persists.
   */
  retries?: number;
}

export async function openPullRequest(deps: PullRequestDeps, job: JobRow, project: ProjectRow, options: OpenOptions = {}): Promise<PullRequest> {
  const github = deps.github!;
  const request = options.retries === undefined ? {} : { request: { retries: options.retries } };
  const { owner, repo } = project.github!;
  const ahead = await git(['rev-list', '--count', `${job.base_branch}..refs/heads/${job.branch}`], { cwd: job.repo }).catch(() => '0');
  if (Number(ahead.trim()) === 0) throw new AppError('state_conflict', `branch ${job.branch} has no commits beyond ${job.base_branch}`);
  try {
    await git(['push', '--quiet', 'origin', `refs/heads/${job.branch}:refs/heads/${job.branch}`], { cwd: job.repo });
  } catch (error) {
    const stderr = error instanceof GitError ? error.stderr.trim().split('\n').slice(-3).join(' ') : '';
    const detail = stderr || (error as Error).message;
    throw new AppError('upstream_failed', `could not push ${job.branch} to origin: ${redactUrls(detail)}`);
  }
  let pull: { html_url: string; number: number } | undefined;
  let created = false;
  const findOpen = async () => (await github.rest.pulls.list({ owner, repo, head: `${owner}:${job.branch}`, base: job.base_branch, state: 'open', ...request })).data[0];
  try {
    pull = await findOpen();
    if (!pull) {
      const jobUrl = deps.publicUrl ? `${deps.publicUrl}/api/v1/jobs/${job.id}` : null;
      try {
        pull = (await github.rest.pulls.create({ owner, repo, head: job.branch, base: job.base_branch, title: pullRequestTitle(job), body: pullRequestBody(job, jobUrl), ...request })).data;
        created = true;
      } catch (error) {
        // Opened meanwhile (another call, another replica): GitHub refuses a second one; return that one.
        if (describeGithubError(error).status !== 422) throw error;
        pull = await findOpen();
        if (!pull) throw error;
      }
    }
  } catch (error) {
    const { status, message } = describeGithubError(error);
    const unreachable = status === undefined || status >= 500;
    throw new AppError(unreachable ? 'dependency_unavailable' : 'upstream_failed', `GitHub ${status ? `answered ${status}` : 'could not be reached'} opening the pull request on ${owner}/${repo}: ${message}`);
  }
  await deps.db.query(
    // A job without a result (its run never got as far) gets an empty one: the result's shape holds.
    // An earlier automatic attempt's failure, now resolved, leaves the job's error.
    `update orchestrator.jobs set result = coalesce(result, $4::jsonb) || jsonb_build_object('pr_url', $2::text, 'pr_number', $3::int),
       error = case when error like 'pull request not opened:%' then null else error end, updated_at = now() where id = $1`,
    [job.id, pull.html_url, pull.number, JSON.stringify(EMPTY_RESULT)],
  );
  return { pr_url: pull.html_url, pr_number: pull.number, created };
}

const EMPTY_RESULT: JobResult = { commits: [], files_changed: [], diff_stat: { files: 0, insertions: 0, deletions: 0 }, qa: null, pr_url: null, summary: null };

/** Credentials in a remote's URL never reach a response. */
function redactUrls(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1[REDACTED]@');
}

/**
 * For a project with `pull_requests: true` and `github`: open the pull request of a job that just
 * succeeded with commits. A failure is written on the job (its `error`, the log) and never changes
 * its outcome or its branch.
 */
export async function openPullRequestAfterSuccess(deps: PullRequestDeps & { logs: JobLogs }, job: JobRow): Promise<void> {
  if (job.executor !== 'local' || !job.result || job.result.commits.length === 0) return;
  const project = await getProject(deps.db, job.project_id);
  if (!project?.pull_requests || !project.github) return;
  const log = deps.logs.open(job.id);
  try {
    if (!deps.github) throw new AppError('unprocessable', 'pull requests need GITHUB_TOKEN');
    const pull = await openPullRequest(deps, job, project);
    log.note(`pull request ${pull.created ? 'opened' : 'already open'}: ${pull.pr_url}`);
  } catch (error) {
    const message = `pull request not opened: ${(error as Error).message}`;
    log.note(message);
    await deps.db.query(`update orchestrator.jobs set error = $2, updated_at = now() where id = $1`, [job.id, message]);
  } finally {
    await log.close();
  }
}
