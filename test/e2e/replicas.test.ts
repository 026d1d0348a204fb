// Two orchestrator processes sharing one PostgreSQL server (a throwaway cluster started here):
// every job runs exactly once, the global and per-project caps hold across both, and a replica
// killed with -9 has its jobs recovered by the other when their leases lapse.
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, waitForJob } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { interval, maxOverlap, readIntervals, processAlive, waitFor } from '../support/agents.js';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { pgClusterSkipReason, requirePg, startPgCluster, type PgCluster } from '../support/pgCluster.js';

const skipReason = requirePg ? undefined : pgClusterSkipReason();
if (skipReason) console.warn(`skipping replica tests: ${skipReason}`);

describe.skipIf(skipReason !== undefined)('several orchestrator replicas on one PostgreSQL server', () => {
  let cluster: PgCluster;
  const servers: ServerProcess[] = [];
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
    await cluster?.stop();
  });

  async function replicas(database: string, env: Record<string, string>): Promise<ServerProcess[]> {
    const url = await cluster.createDatabase(database);
    const home = tempDir('autobuild-replica-');
    const started: ServerProcess[] = [];
    for (let i = 0; i < 2; i++) {
      // Both share one AUTOBUILD_HOME, as replicas on one machine with shared storage would.
      const s = await startServerProcess({ DATABASE_URL: url, AUTOBUILD_HOME: home, AUTOBUILD_RETRY_BACKOFF_S: '0', ...env });
      servers.push(s);
      started.push(s);
    }
    return started;
  }

  it('runs each job exactly once and holds the caps across replicas', async () => {
    const [one, two] = await replicas('race', { AUTOBUILD_MAX_PARALLEL: '3' });
    const repo = createTestRepo();
    const dir = tempDir();
    const registered = await api(one!.url, 'POST', '/api/v1/projects', { id: 'solo', repo, max_parallel: 1 });
    expect(registered.status).toBe(201);
    const ids: string[] = [];
    const solo: string[] = [];
    const submissions = Array.from({ length: 24 }, (_, i) => {
      const target = i % 2 === 0 ? one! : two!;
      const project = i % 4 === 0 ? 'solo' : 'shared';
      return api(target.url, 'POST', '/api/v1/jobs', { project_id: project, prompt: `job ${i}`, repo, agent: interval(dir, 0.2) }).then((res) => {
        expect(res.status).toBe(201);
        ids.push(res.body.id);
        if (project === 'solo') solo.push(res.body.id);
      });
    });
    await Promise.all(submissions);
    for (const id of ids) expect((await waitForJob(one!.url, id, isDone, 60_000)).status).toBe('succeeded');

    const intervals = readIntervals(dir, ids); // throws if any job ran twice
    expect(intervals).toHaveLength(24);
    expect(maxOverlap(intervals)).toBeLessThanOrEqual(3);
    expect(maxOverlap(readIntervals(dir, solo))).toBe(1);

    // Both replicas did work: the log names the worker of each attempt.
    const workers = new Set<string>();
    for (const id of ids) {
      const log = (await api(two!.url, 'GET', `/api/v1/jobs/${id}/logs`)).body as string;
      const match = /attempt 1 of 1 on (\S+)/.exec(log);
      if (match) workers.add(match[1]!);
    }
    expect(workers.size).toBe(2);
    // Branches: one per job, each holding its work.
    const branches = gitIn(repo, 'branch', '--list', 'autobuild/*').split('\n').filter(Boolean);
    expect(branches).toHaveLength(24);
  });

  it('recovers the jobs of a replica killed with -9 once their leases lapse', async () => {
    const [one, two] = await replicas('lease', { AUTOBUILD_MAX_PARALLEL: '4', AUTOBUILD_LEASE_S: '2' });
    const repo = createTestRepo();
    const scratch = tempDir();
    const pidFile = path.join(scratch, 'pid');
    const marker = path.join(scratch, 'marker');
    // First attempt hangs (wherever it runs); the second finishes.
    const job = await api(one!.url, 'POST', '/api/v1/jobs', {
      project_id: 'lease', prompt: 'x', repo, max_attempts: 2,
      agent: { type: 'command', command: ['sh', '-c', 'if [ -f "$1" ]; then echo ok > done.txt; else touch "$1"; echo $$ > "$2"; sleep 300; fi', 'sh', marker, pidFile] },
    });
    await waitFor(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 15_000, 'first attempt to start');
    const running = await waitForJob(one!.url, job.body.id, (j) => j.status === 'running');
    // Kill whichever replica runs it.
    const log = (await api(one!.url, 'GET', `/api/v1/jobs/${job.body.id}/logs`)).body as string;
    const owner = [one!, two!].find((s) => log.includes(`:${s.child.pid}:`))!;
    const survivor = owner === one ? two! : one!;
    await owner.kill9();
    const done = await waitForJob(survivor.url, running.id, isDone, 30_000);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(2);
    expect(gitIn(repo, 'show', `${done.branch}:done.txt`)).toBe('ok');
    const agentPid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !processAlive(agentPid), 5000, 'the orphaned agent to die');
    const root = path.join(path.dirname(path.dirname(done.worktree.path)));
    await waitFor(() => !existsSync(root) || readdirSync(root).every((p) => readdirSync(path.join(root, p)).length === 0), 10_000, 'worktrees removed');
  });

  it('catches up on a cancel announced while its listening connection was away', async () => {
    const [one] = await replicas('gap', {});
    const repo = createTestRepo();
    const scratch = tempDir();
    const started = path.join(scratch, 'started');
    const job = await api(one!.url, 'POST', '/api/v1/jobs', {
      project_id: 'gap', prompt: 'x', repo,
      agent: { type: 'command', command: ['sh', '-c', 'touch "$1"; sleep 60', 'sh', started] },
    });
    await waitFor(() => existsSync(started), 15_000, 'the agent to start');
    const admin = new pg.Client({ connectionString: cluster.url.replace(/\/postgres$/, '/gap') });
    await admin.connect();
    try {
      // Both replicas' listening connections go (as in a network cut); each is back about a second later.
      const { rows } = await admin.query(`select pg_terminate_backend(pid) as gone from pg_stat_activity where datname = 'gap' and query ilike 'LISTEN%'`);
      expect(rows).toEqual([{ gone: true }, { gone: true }]);
    } finally {
      await admin.end();
    }
    const cancel = await api(one!.url, 'DELETE', `/api/v1/jobs/${job.body.id}`);
    expect(cancel.status).toBe(202);
    const done = await waitForJob(one!.url, job.body.id, isDone, 10_000);
    expect(done.status).toBe('cancelled');
  });

  it("after an outage, gives a lease's owner one lease to renew it before recovering the job", async () => {
    const url = await cluster.createDatabase('grace');
    const servers2 = [await startServerProcess({ DATABASE_URL: url, AUTOBUILD_HOME: tempDir('autobuild-replica-'), AUTOBUILD_LEASE_S: '2' })];
    servers.push(...servers2);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const id = randomUUID();
    try {
      // A job another replica runs: its lease runs out during the outage, as every lease does.
      await admin.query(
        `insert into orchestrator.jobs (id, project_id, title, prompt, priority, status, executor, agent, repo, base_branch, branch, timeout_s,
                                        max_attempts, attempt, run_at, locked_by, locked_at, lease_expires_at)
         values ($1, 'grace', 't', 'p', 2, 'running', 'local', '{"type":"command","command":["true"]}', '/nowhere', 'main', 'autobuild/grace', 60,
                 1, 1, now(), 'elsewhere:1:x', now(), now() + interval '2 seconds')`,
        [id],
      );
    } finally {
      await admin.end();
    }
    await cluster.pause();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await cluster.resume();
    // Recovery passes run every second; none takes the job within a lease of the database's return.
    const backAt = Date.now();
    while (Date.now() - backAt < 1500) {
      const job = await api(servers2[0]!.url, 'GET', `/api/v1/jobs/${id}`);
      if (job.status === 200) expect(job.body.status).toBe('running');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // Its owner never renewed it: then it is recovered.
    const recovered = await waitForJob(servers2[0]!.url, id, isDone, 10_000);
    expect(recovered.status).toBe('failed');
    expect(recovered.error).toMatch(/stopped before it finished/);
  });

  it('rides out a database restart: requests meanwhile answer 503, and a job that finished during it is recorded once the database is back', async () => {
    const [one, two] = await replicas('outage', {});
    const repo = createTestRepo();
    const scratch = tempDir();
    const started = path.join(scratch, 'started');
    const finished = path.join(scratch, 'finished');
    const job = await api(one!.url, 'POST', '/api/v1/jobs', {
      project_id: 'outage', prompt: 'x', repo,
      agent: { type: 'command', command: ['sh', '-c', 'touch "$1"; while [ ! -f "$2" ]; do sleep 0.05; done; echo ok > out.txt', 'sh', started, finished] },
    });
    expect(job.status).toBe(201);
    await waitFor(() => existsSync(started), 15_000, 'the agent to start');
    await cluster.pause();
    try {
      const refused = await api(one!.url, 'POST', '/api/v1/jobs', { project_id: 'outage', prompt: 'y', repo, agent: { type: 'command', command: ['true'] } });
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('dependency_unavailable');
      const health = await api(one!.url, 'GET', '/api/v1/health');
      expect(health.status).toBe(503);
      expect(health.body.checks.database).not.toBe('ok');
      // The agent ends while the database is down: what follows its run waits for the database.
      writeFileSync(finished, '');
      const retrying = /the database is unavailable; (trying|recording the job outcome) again shortly/;
      await waitFor(() => [one!, two!].some((server) => retrying.test(server.output())), 20_000, 'a retry while the database is down');
    } finally {
      await cluster.resume();
    }
    const done = await waitForJob(one!.url, job.body.id, isDone, 30_000);
    expect(done).toMatchObject({ status: 'succeeded', attempt: 1, error: null });
    expect(gitIn(repo, 'show', `${done.branch}:out.txt`)).toBe('ok');
    const after = await api(one!.url, 'POST', '/api/v1/jobs', { project_id: 'outage', prompt: 'z', repo, agent: { type: 'command', command: ['sh', '-c', 'echo z > z.txt'] } });
    expect(after.status).toBe(201);
    // Announced on a listening connection that is back: it starts at once, not at the next minute's look.
    expect((await waitForJob(one!.url, after.body.id, isDone, 10_000)).status).toBe('succeeded');
  });
});
