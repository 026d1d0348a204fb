// Runs jobs on GitHub's runners: dispatches the project's workflow with the job's coordinates,
// finds the run it started, cancels it on request, and reconciles runs that went quiet (ended
// without calling back, never started, or overran the job's timeout). A dispatched job is
// 'running' and holds its slot until its callback (or the reconciler) ends it.
import type { Config } from '../../platform/config.js';
import type { Database } from '../../platform/database/database.js';
import { describeGithubError, type GithubClient } from '../../platform/github.js';
import type { Logger } from '../../platform/logger.js';
import type { JobRow } from '../jobs/job.js';
import type { JobLogs } from '../logs/jobLogs.js';
import { getProject } from '../projects/projects.js';
import { finishAttempt, outcomePolicy, type AttemptOutcome } from '../scheduler/finishJob.js';

export interface ExternalRun {
  provider: 'github-actions';
  owner: string;
  repo: string;
  workflow: string;
  run_id: number | null;
  html_url: string | null;
  dispatched_at: string;
  started_at?: string | null;
  completed_at?: string | null;
  conclusion?: string | null;
  callback?: { digest: string; received_at: string };
}

/** Inputs above this size are left out; the runner fetches the prompt from the API instead. */
const MAX_PROMPT_INPUT = 20_000;

export interface GithubActionsDeps {
  db: Database;
  config: Config;
  logger: Logger;
  logs: JobLogs;
  github: GithubClient;
  workerId: string;
}

export class GithubActionsExecutor {
  constructor(private readonly deps: GithubActionsDeps) {}

  private policy() {
    return outcomePolicy(this.deps.config);
  }

  private async note(jobId: string, message: string): Promise<void> {
    const log = this.deps.logs.open(jobId);
    log.note(message);
    await log.close();
  }

  /** Dispatch a claimed job's workflow. Never throws: a failure is recorded on the job. */
  async dispatch(job: JobRow): Promise<void> {
    const { db, config, github, workerId } = this.deps;
    const project = await getProject(db, job.project_id);
    const target = project?.github;
    if (!target || !config.publicUrl) {
      await this.fail(job, workerId, `cannot dispatch: ${!target ? `project ${job.project_id} has no github settings` : 'AUTOBUILD_PUBLIC_URL is not set'}`);
      return;
    }
    const inputs: Record<string, string> = {
      job_id: job.id,
      branch: job.branch,
      base_branch: job.base_branch,
      callback_url: `${config.publicUrl}/api/v1/callback`,
      orchestrator_url: config.publicUrl,
      prompt: job.prompt.length <= MAX_PROMPT_INPUT ? job.prompt : '',
    };
    const dispatchedAt = new Date().toISOString();
    let runId: number | null = null;
    let htmlUrl: string | null = null;
    try {
      const response = await github.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
        owner: target.owner,
        repo: target.repo,
        workflow_id: target.workflow,
        ref: job.base_branch,
        inputs,
        return_run_details: true,
      });
      // GitHub answers 200 with the run when it can; older servers (GHES) answer 204 and the
      // reconciler finds the run by the job id in its name.
      const data = response.data as { workflow_run_id?: number; html_url?: string } | undefined;
      if (response.status === 200 && data?.workflow_run_id) {
        runId = Number(data.workflow_run_id);
        htmlUrl = data.html_url ?? null;
      }
    } catch (error) {
      const { status, message } = describeGithubError(error);
      await this.fail(job, workerId, `could not dispatch workflow ${target.workflow} on ${target.owner}/${target.repo}: ${status ?? ''} ${message}`.trim());
      return;
    }
    const externalRun: ExternalRun = {
      provider: 'github-actions',
      owner: target.owner,
      repo: target.repo,
      workflow: target.workflow,
      run_id: runId,
      html_url: htmlUrl,
      dispatched_at: dispatchedAt,
    };
    const rows = await db.query(
      `update orchestrator.jobs set status = 'running', external_run = $3::jsonb,
              locked_by = null, locked_at = null, lease_expires_at = null, updated_at = now()
        where id = $1 and locked_by = $2 and status = 'preparing' and cancel_requested_at is null returning id`,
      [job.id, workerId, JSON.stringify(externalRun)],
    );
    await this.note(job.id, `dispatched workflow ${target.workflow} on ${target.owner}/${target.repo}${htmlUrl ? `: ${htmlUrl}` : ''}`);
    if (rows.length === 0) {
      // Cancelled while we dispatched: stop the run we just started, then record the cancel.
      const cancelling = { ...job, external_run: externalRun as unknown as Record<string, unknown> };
      await this.cancelRun(cancelling).catch(() => undefined);
      await finishAttempt(db, job, workerId, { status: 'cancelled', exitCode: null, error: 'cancelled by request', result: null }, this.policy(), externalRun as unknown as Record<string, unknown>);
    }
  }

  private async fail(job: JobRow, owner: string | null, error: string): Promise<void> {
    await this.note(job.id, error);
    await finishAttempt(this.deps.db, job, owner, { status: 'failed', exitCode: null, error, result: null }, this.policy());
  }

  /** Stop the job's run on GitHub (if it has one we know of). */
  async cancelRun(job: Pick<JobRow, 'id' | 'external_run'>): Promise<boolean> {
    let run = job.external_run as unknown as ExternalRun | null;
    if (!run) return false;
    if (!run.run_id) run = (await this.findRun(job.id, run)) ?? run;
    if (!run.run_id) return false;
    try {
      await this.deps.github.request('POST /repos/{owner}/{repo}/actions/runs/{run_id}/cancel', { owner: run.owner, repo: run.repo, run_id: run.run_id });
      await this.note(job.id, `cancelled workflow run ${run.html_url ?? run.run_id}`);
      return true;
    } catch (error) {
      const { status, message } = describeGithubError(error);
      // 409: the run already finished; nothing to stop.
      if (status !== 409) this.deps.logger.warn({ jobId: job.id, status, message }, 'could not cancel the workflow run');
      return false;
    }
  }

  /** Cancel a running remote job: stop its run, then record 'cancelled'. */
  async cancel(job: JobRow): Promise<void> {
    await this.cancelRun(job);
    await finishAttempt(this.deps.db, job, null, { status: 'cancelled', exitCode: null, error: 'cancelled by request', result: null }, this.policy());
  }

  /** The run a dispatch started, found by the job id in its name (run-name in the workflow). */
  private async findRun(jobId: string, run: ExternalRun): Promise<ExternalRun | undefined> {
    const since = new Date(new Date(run.dispatched_at).getTime() - 60_000).toISOString();
    const response = await this.deps.github.request('GET /repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', {
      owner: run.owner,
      repo: run.repo,
      workflow_id: run.workflow,
      event: 'workflow_dispatch',
      created: `>=${since}`,
      per_page: 100,
    });
    const found = response.data.workflow_runs.find((r) => (r.name ?? '').includes(jobId) || (r.display_title ?? '').includes(jobId));
    return found ? { ...run, run_id: Number(found.id), html_url: found.html_url } : undefined;
  }

  /** Take the reconciler's turn if no other replica holds it. */
  private async leadReconciler(): Promise<boolean> {
    const holdS = Math.max(5, this.deps.config.github.pollS * 3);
    const rows = await this.deps.db.query(
      `insert into orchestrator.singletons (name, owner, expires_at) values ('github-reconciler', $1, now() + make_interval(secs => $2::int))
       on conflict (name) do update set owner = excluded.owner, expires_at = excluded.expires_at
        where orchestrator.singletons.owner = excluded.owner or orchestrator.singletons.expires_at < now()
       returning owner`,
      [this.deps.workerId, holdS],
    );
    return rows.length > 0;
  }

  /** One reconciliation pass over running remote jobs. */
  async reconcile(): Promise<void> {
    if (!(await this.leadReconciler())) return;
    const jobs = await this.deps.db.query<JobRow>(`select * from orchestrator.jobs where executor = 'github-actions' and status = 'running'`);
    for (const job of jobs) {
      try {
        await this.reconcileJob(job);
      } catch (error) {
        const { status, message } = describeGithubError(error);
        this.deps.logger.warn({ jobId: job.id, status, message }, 'reconciling a GitHub Actions job failed; will retry');
      }
    }
  }

  private async reconcileJob(job: JobRow): Promise<void> {
    const { config, github, db } = this.deps;
    let run = job.external_run as unknown as ExternalRun | null;
    if (!run) return;
    const now = Date.now();
    const sinceDispatchS = (now - new Date(run.dispatched_at).getTime()) / 1000;
    if (!run.run_id) {
      run = (await this.findRun(job.id, run)) ?? run;
      if (run.run_id) {
        await db.query(`update orchestrator.jobs set external_run = $2::jsonb where id = $1 and status = 'running'`, [job.id, JSON.stringify(run)]);
      } else {
        if (sinceDispatchS > config.github.startTimeoutS) await this.end(job, run, 'timed_out', `the workflow run never appeared within ${config.github.startTimeoutS}s of dispatch`);
        return;
      }
    }
    const { data } = await github.request('GET /repos/{owner}/{repo}/actions/runs/{run_id}', { owner: run.owner, repo: run.repo, run_id: run.run_id! });
    const htmlUrl = data.html_url ?? run.html_url;
    run = { ...run, html_url: htmlUrl, started_at: data.run_started_at ?? null, conclusion: data.conclusion ?? null };
    if (data.status === 'completed') {
      const completedAt = run.completed_at ?? data.updated_at ?? new Date().toISOString();
      run.completed_at = completedAt;
      if ((now - new Date(completedAt).getTime()) / 1000 >= config.github.callbackGraceS) {
        await this.end(job, run, 'failed', `the workflow run ended (${data.conclusion ?? 'unknown'}) without calling back: ${htmlUrl}`);
      } else {
        await db.query(`update orchestrator.jobs set external_run = $2::jsonb where id = $1 and status = 'running'`, [job.id, JSON.stringify(run)]);
      }
      return;
    }
    const started = data.status === 'in_progress' && data.run_started_at;
    if (!started && sinceDispatchS > config.github.startTimeoutS) {
      await this.cancelRun({ id: job.id, external_run: run as unknown as Record<string, unknown> });
      await this.end(job, run, 'timed_out', `the workflow run did not start within ${config.github.startTimeoutS}s: ${htmlUrl}`);
      return;
    }
    const runningS = started ? (now - new Date(data.run_started_at!).getTime()) / 1000 : 0;
    if (runningS > job.timeout_s) {
      await this.cancelRun({ id: job.id, external_run: run as unknown as Record<string, unknown> });
      await this.end(job, run, 'timed_out', `timed out after ${job.timeout_s}s: ${htmlUrl}`);
    }
  }

  private async end(job: JobRow, run: ExternalRun, status: AttemptOutcome['status'], error: string): Promise<void> {
    await this.note(job.id, error);
    await finishAttempt(this.deps.db, job, null, { status, exitCode: null, error, result: null }, this.policy(), run as unknown as Record<string, unknown>);
  }
}
