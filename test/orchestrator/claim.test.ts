// The claim itself, against the database: which queued jobs one claim takes under the global cap,
// project caps, priorities and retry backoffs — many projects at once, since the claim finds the
// projects with queued jobs by skipping along an index.
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/platform/database/database.js';
import { migrate } from '../../src/platform/database/migrate.js';
import { claimJobs } from '../../src/orchestrator/scheduler/claimJobs.js';
import { recoverJobs } from '../../src/orchestrator/scheduler/leases.js';
import { resetDb, sharedDb } from '../support/orchestrator.js';

let db: Database;
let seq = 0;

beforeEach(async () => {
  db = await sharedDb();
  await migrate(db, 'orchestrator');
  await resetDb(db);
});

/** A job row as submit stores it; returns its title (the tests' name for it). */
async function job(title: string, project: string, options: { priority?: number; status?: string; runInS?: number } = {}): Promise<string> {
  seq++;
  await db.query(
    `insert into orchestrator.jobs (id, project_id, title, prompt, priority, status, executor, agent, repo, base_branch, branch,
                                    timeout_s, max_attempts, run_at)
     values ($1, $2, $3, 'p', $4, $5, 'local', '{"type":"command","command":["true"]}', '/r', 'main', $6, 60, 3,
             now() + make_interval(secs => $7::int))`,
    [randomUUID(), project, title, options.priority ?? 2, options.status ?? 'queued', `autobuild/${seq}`, options.runInS ?? 0],
  );
  return title;
}

async function project(id: string, maxParallel: number): Promise<void> {
  await db.query(`insert into orchestrator.projects (id, repo, max_parallel) values ($1, '/r', $2)`, [id, maxParallel]);
}

async function claim(limit: number, maxParallel: number): Promise<string[]> {
  return (await claimJobs(db, { workerId: 'w', limit, maxParallel, leaseS: 30 })).map((row) => row.title);
}

describe('claiming', () => {
  it('takes jobs by priority then submission order, up to the free global slots', async () => {
    await job('running', 'a', { status: 'running' });
    await job('normal-1', 'a');
    await job('low-1', 'b', { priority: 3 });
    await job('critical-1', 'c', { priority: 0 });
    await job('normal-2', 'b');
    await job('high-1', 'a', { priority: 1 });
    expect(await claim(12, 4)).toEqual(['critical-1', 'high-1', 'normal-1']);
    expect(await claim(12, 4)).toEqual([]);
    expect(await claim(12, 6)).toEqual(['normal-2', 'low-1']);
  });

  it("holds each project's cap, counting its active jobs, while other projects take the free slots", async () => {
    await project('capped', 2);
    await job('capped-running', 'capped', { status: 'preparing' });
    for (let i = 1; i <= 5; i++) await job(`capped-${i}`, 'capped', { priority: 0 });
    for (let i = 1; i <= 3; i++) await job(`free-${i}`, 'free');
    expect(await claim(12, 12)).toEqual(['capped-1', 'free-1', 'free-2', 'free-3']);
    expect(await claim(12, 12)).toEqual([]);
  });

  it('skips a job waiting out its retry backoff without letting it hold a slot of its project', async () => {
    await project('one-at-a-time', 1);
    await job('backing-off', 'one-at-a-time', { priority: 0, runInS: 3600 });
    await job('due', 'one-at-a-time');
    expect(await claim(12, 12)).toEqual(['due']);
  });

  it('finds every project with queued jobs, in any order of their ids, and stops at the limit', async () => {
    const projects = ['m', 'a', 'z', 'b-1', 'b', 'q'];
    for (const [i, id] of projects.entries()) await job(`${id}-job`, id, { priority: i % 2 });
    await project('b', 1);
    await job('b-second', 'b', { priority: 0 });
    expect(await claim(3, 100)).toEqual(['m-job', 'z-job', 'b-job']);
    expect(await claim(100, 100)).toEqual(['a-job', 'b-1-job', 'q-job']);
  });
});

describe('recovering lapsed leases', () => {
  it("takes back this worker's own lapsed job only when it no longer runs it", async () => {
    await job('stalled', 'a');
    await job('unrecorded', 'a');
    const claimed = await claimJobs(db, { workerId: 'w', limit: 2, maxParallel: 2, leaseS: 30 });
    const id = (title: string) => claimed.find((row) => row.title === title)!.id;
    // Both leases lapsed (the process stalled past them); 'stalled' is still running here.
    await db.query(`update orchestrator.jobs set lease_expires_at = now() - interval '1 second'`);
    const recovered = await recoverJobs(db, { expiredOnly: true, exceptWorker: 'w', running: [id('stalled')] });
    expect(recovered.map((row) => row.id)).toEqual([id('unrecorded')]);
    const rows = await db.query<{ title: string; status: string }>(`select title, status from orchestrator.jobs order by title`);
    expect(rows).toEqual([
      { title: 'stalled', status: 'preparing' },
      { title: 'unrecorded', status: 'queued' },
    ]);
  });
});
