// The outcome a GitHub Actions run reports for its job, applied once: matched by job id only, an
// identical repeat changes nothing, a different outcome for a finished job is a conflict.
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import type { ExternalRun } from '../executors/githubActionsExecutor.js';
import { finishAttempt, type RetryPolicy } from '../scheduler/finishJob.js';
import { isTerminal, type JobResult, type JobRow } from './job.js';
import { getJobRow } from './jobQueries.js';

export interface CallbackBody {
  job_id: string;
  status: 'succeeded' | 'failed' | 'cancelled';
  run_id: number | string;
  exit_code?: number | null;
  commits?: Array<{ sha: string; message: string }>;
  files_changed?: string[];
  diff_stat?: { files: number; insertions: number; deletions: number };
  pr_url?: string | null;
  pr_number?: number | null;
  qa?: JobResult['qa'];
  summary?: string | null;
  error?: string | null;
}

export async function applyCallback(db: Database, body: CallbackBody, digest: string, policy: RetryPolicy): Promise<{ job: JobRow; changed: boolean }> {
  const job = await getJobRow(db, body.job_id);
  if (job.executor !== 'github-actions') {
    throw new AppError('callback_conflict', `job ${job.id} runs on the ${job.executor} executor, not GitHub Actions`);
  }
  const run = (job.external_run ?? null) as ExternalRun | null;
  if (run?.callback?.digest === digest) return { job, changed: false };
  if (isTerminal(job.status)) {
    throw new AppError('callback_conflict', `job ${job.id} already finished (${job.status}) with a different outcome`);
  }
  if (job.status !== 'running' || !run) {
    throw new AppError('callback_conflict', `job ${job.id} is ${job.status}, not running on GitHub Actions`);
  }
  if (run.run_id && String(run.run_id) !== String(body.run_id)) {
    throw new AppError('callback_conflict', `the callback comes from run ${body.run_id}, but job ${job.id} runs as run ${run.run_id}`);
  }
  const files = body.files_changed ?? [];
  const result: JobResult = {
    commits: body.commits ?? [],
    files_changed: files,
    diff_stat: body.diff_stat ?? { files: files.length, insertions: 0, deletions: 0 },
    qa: body.qa ?? null,
    pr_url: body.pr_url ?? null,
    summary: body.summary ?? null,
  };
  const externalRun: ExternalRun = {
    ...run,
    run_id: run.run_id ?? Number(body.run_id),
    callback: { digest, received_at: new Date().toISOString() },
  };
  const updated = await finishAttempt(
    db,
    job,
    null,
    { status: body.status, exitCode: body.exit_code ?? null, error: body.status === 'succeeded' ? null : (body.error ?? `the run reported ${body.status}`), result },
    policy,
    externalRun as unknown as Record<string, unknown>,
  );
  if (!updated) {
    // Ended by someone else between our read and write (cancel, reconciler): report the conflict.
    const current = await getJobRow(db, job.id);
    if ((current.external_run as ExternalRun | null)?.callback?.digest === digest) return { job: current, changed: false };
    throw new AppError('callback_conflict', `job ${job.id} already finished (${current.status}) with a different outcome`);
  }
  return { job: updated, changed: true };
}
