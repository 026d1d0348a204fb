// Recording an attempt's outcome, against the database: what a write tried again after a database
// outage may and may not do. It never lands on a later attempt of the same job, and the run's
// spend lands with the outcome (or the park) even when the write made as the run ended was lost.
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/database/database.js';
import { migrate } from '../../src/platform/database/migrate.js';
import { claimJobs } from '../../src/orchestrator/scheduler/claimJobs.js';
import { finishAttempt, parkJob, spendOf } from '../../src/orchestrator/scheduler/finishJob.js';
import type { JobRow } from '../../src/orchestrator/jobs/job.js';
import { resetDb, sharedDb } from '../support/orchestrator.js';

let db: Database;
const policy = { backoffS: 0, backoffMaxS: 0, recordOutcome: false };

beforeEach(async () => {
  db = await sharedDb();
  await migrate(db, 'orchestrator');
  await resetDb(db);
});

async function claimedJob(maxAttempts = 1): Promise<JobRow> {
  await db.query(
    `insert into orchestrator.jobs (id, project_id, title, prompt, priority, status, executor, agent, repo, base_branch, branch, timeout_s, max_attempts, run_at)
     values ($1, 'p', 't', 'p', 2, 'queued', 'local', '{"type":"command","command":["true"]}', '/r', 'main', 'autobuild/x', 60, $2, now())`,
    [randomUUID(), maxAttempts],
  );
  const [job] = await claimJobs(db, { workerId: 'w', limit: 1, maxParallel: 4, leaseS: 30 });
  return job!;
}

const result = (costUsd: number | null) => ({
  commits: [],
  files_changed: [],
  diff_stat: { files: 0, insertions: 0, deletions: 0 },
  qa: null,
  pr_url: null,
  summary: null,
  cost_usd: costUsd,
  usage: costUsd === null ? null : { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
  session_id: costUsd === null ? null : 'session-1',
});

async function spend(id: string) {
  const [row] = await db.query<{ status: string; attempt: number; cost_usd: number; usage: unknown; session_id: string | null; spent: boolean }>(
    `select status, attempt, cost_usd, usage, session_id, spent_at is not null as spent from orchestrator.jobs where id = $1`,
    [id],
  );
  return row!;
}

describe('finishAttempt', () => {
  it("records the run's spend with the outcome when the write as the run ended was lost", async () => {
    const job = await claimedJob();
    const finished = await finishAttempt(db, job, 'w', { status: 'succeeded', exitCode: 0, error: null, result: result(0.42) }, policy);
    expect(finished?.status).toBe('succeeded');
    expect(await spend(job.id)).toMatchObject({ cost_usd: 0.42, usage: { input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, session_id: 'session-1', spent: true });
  });

  it('never takes recorded spend back, and leaves a run without any as it was', async () => {
    const job = await claimedJob();
    await db.query(`update orchestrator.jobs set cost_usd = 0.9, usage = '{"input_tokens":5}', spent_at = now() - interval '1 hour' where id = $1`, [job.id]);
    await finishAttempt(db, job, 'w', { status: 'succeeded', exitCode: 0, error: null, result: result(0.5) }, policy);
    const [row] = await db.query<{ cost_usd: number; earlier: boolean }>(`select cost_usd, spent_at < now() - interval '30 minutes' as earlier from orchestrator.jobs where id = $1`, [job.id]);
    expect(row).toEqual({ cost_usd: 0.9, earlier: true });

    const plain = await claimedJob();
    await finishAttempt(db, plain, 'w', { status: 'succeeded', exitCode: 0, error: null, result: result(null) }, policy);
    expect(await spend(plain.id)).toMatchObject({ cost_usd: 0, usage: null, session_id: null, spent: false });
  });

  it('keeps the spend of a result the database refused (recorded without it) and of a parked run', async () => {
    const refused = await claimedJob();
    await finishAttempt(db, refused, 'w', { status: 'succeeded', exitCode: 0, error: 'its result could not be recorded', result: null, spend: spendOf(result(0.3)) }, policy);
    expect(await spend(refused.id)).toMatchObject({ status: 'succeeded', cost_usd: 0.3, session_id: 'session-1', spent: true });

    const parked = await claimedJob();
    await parkJob(db, parked, 'w', { notBefore: new Date(Date.now() + 60_000), reason: 'rate limited', sessionId: 'session-1', result: result(0.2) });
    expect(await spend(parked.id)).toMatchObject({ status: 'queued', cost_usd: 0.2, session_id: 'session-1', spent: true });
  });

  it('does not land on a later attempt: a failure recorded, the job claimed again, then the same write tried again', async () => {
    const first = await claimedJob(2);
    const failed = { status: 'failed' as const, exitCode: 1, error: 'exit 1', result: null };
    expect((await finishAttempt(db, first, 'w', failed, policy))?.status).toBe('queued');
    const [second] = await claimJobs(db, { workerId: 'w', limit: 1, maxParallel: 4, leaseS: 30 });
    expect(second?.attempt).toBe(2);
    // The first write's answer was lost to a failing connection: it is tried again.
    expect(await finishAttempt(db, first, 'w', failed, policy)).toBeUndefined();
    expect(await spend(first.id)).toMatchObject({ status: 'preparing', attempt: 2 });
  });
});
