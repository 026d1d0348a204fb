// POST /api/v1/jobs/:id/pull-request: open (or return the open) pull request of a finished local
// job's branch, for a project with `github`.
import type { HttpApp } from '../../platform/http/app.js';
import type { Database } from '../../platform/database/database.js';
import type { GithubClient } from '../../platform/github.js';
import { getJobRow } from '../jobs/jobQueries.js';
import { getProject } from '../projects/projects.js';
import { openPullRequest, pullRequestBlocker } from '../pullRequests/pullRequests.js';
import type { JobLogs } from '../logs/jobLogs.js';
import { JobIdParams } from './schemas.js';

/** One retry: a passing GitHub hiccup is absorbed, a persisting one is a prompt 503. */
const ROUTE_RETRIES = 1;

export interface PullRequestRouteDeps {
  db: Database;
  github: GithubClient | null;
  publicUrl: string | undefined;
  logs: JobLogs;
}

export function registerPullRequestRoute(app: HttpApp, deps: PullRequestRouteDeps): void {
  app.post(
    '/api/v1/jobs/:id/pull-request',
    { schema: { summary: "Open (or return the open) pull request for a finished job's branch", tags: ['jobs'], params: JobIdParams } },
    async (request, reply) => {
      const job = await getJobRow(deps.db, request.params.id);
      const project = await getProject(deps.db, job.project_id);
      const blocker = pullRequestBlocker(job, project, deps.github);
      if (blocker) throw blocker;
      const pull = await openPullRequest(deps, job, project!, { retries: ROUTE_RETRIES });
      if (pull.created) {
        const log = deps.logs.open(job.id);
        log.note(`pull request opened: ${pull.pr_url}`);
        await log.close();
      }
      // 201 whether it was opened now or was already open (API.md: open or return the existing one).
      return reply.status(201).send({ pr_url: pull.pr_url, pr_number: pull.pr_number });
    },
  );
}
