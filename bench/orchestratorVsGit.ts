// Benchmark: N trivial jobs drained through a real orchestrator (HTTP in, worktree, agent process,
// commit, worktree removed) against the same git work done directly with the same parallelism —
// the orchestrator's overhead over the git it cannot avoid.
//
//   node dist/bench/orchestratorVsGit.js
//   BENCH_JOBS (300)  BENCH_PARALLEL (4)  BENCH_SUBMIT_CONCURRENCY (8)  BENCH_PROFILE=1 (where time goes)
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  api,
  createRepo,
  envInt,
  git,
  Mutex,
  pool,
  readFilesOnBranches,
  round,
  seconds,
  startBenchOrchestrator,
  table,
  tempDir,
} from './support/harness.js';
import { listJobs, waitUntilDrained } from './support/jobsOverHttp.js';
import { cpuBreakdown, cpuBreakdownSince, gitTraceTallies, processTreeCpuS, SqlProfile, syncSpawnCostMs, type Tally } from './support/profile.js';

const GOAL_RATIO = 1.3;
const POLL_MS = 200;


interface Measured {
  seconds: number;
  meanJobS: number;
  problems: string[];
  /** CPU seconds of this process and every process under it during the measured run (Linux). */
  treeCpuS: number | undefined;
}

function cpuSince(start: number | undefined): number | undefined {
  const now = processTreeCpuS();
  return start === undefined || now === undefined ? undefined : now - start;
}

/** The baseline: per job, worktree add (serialised), write out.txt, add, commit, worktree remove (serialised). */
async function rawGit(jobs: number, parallel: number, profile = false): Promise<Measured & { dirs: string[]; cpu: Tally[] }> {
  const repo = await createRepo('autobuild-bench-raw-');
  const worktrees = tempDir('autobuild-bench-raw-worktrees-');
  const repoLock = new Mutex();
  const ids = Array.from({ length: jobs }, () => randomUUID());
  const branch = (i: number) => `bench/${ids[i]!.slice(0, 8)}-job-${i}`;
  let jobTimeMs = 0;

  const cpuAtStart = processTreeCpuS();
  const breakdownAtStart = profile ? cpuBreakdown() : undefined;
  const started = performance.now();
  await pool(jobs, parallel, async (i) => {
    const jobStarted = performance.now();
    const worktree = path.join(worktrees, ids[i]!);
    await repoLock.run(() => git(repo, ['worktree', 'add', '-b', branch(i), '--', worktree, 'main']));
    writeFileSync(path.join(worktree, 'out.txt'), `${ids[i]}\n`);
    await git(worktree, ['add', '-A']);
    await git(worktree, ['commit', '-q', '-m', `job ${i}`]);
    await repoLock.run(() => git(repo, ['worktree', 'remove', '--force', '--', worktree]));
    jobTimeMs += performance.now() - jobStarted;
  });
  const elapsed = seconds(started, performance.now());
  const treeCpuS = cpuSince(cpuAtStart);
  const cpu = breakdownAtStart ? cpuBreakdownSince(breakdownAtStart) : [];

  const problems: string[] = [];
  const contents = await readFilesOnBranches(repo, ids.map((_, i) => branch(i)), 'out.txt');
  ids.forEach((id, i) => {
    if (contents.get(branch(i)) !== `${id}\n`) problems.push(`raw git: branch ${branch(i)} does not hold out.txt = ${id}`);
  });
  return { seconds: elapsed, meanJobS: jobTimeMs / jobs / 1000, problems, treeCpuS, cpu, dirs: [repo, worktrees] };
}



async function submitJobs(url: string, repo: string, projectId: string, count: number, concurrency: number): Promise<void> {
  await pool(count, concurrency, async (i) => {
    const response = await api<{ id?: string }>(url, 'POST', '/api/v1/jobs', {
      project_id: projectId,
      prompt: `benchmark job ${i}`,
      repo,
      base_branch: 'main',
      agent: { type: 'command', command: ['sh', '-c', 'echo $AUTOBUILD_JOB_ID > out.txt'] },
    });
    if (response.status !== 201) throw new Error(`submitting a job answered ${response.status}: ${JSON.stringify(response.body)}`);
  });
}

interface OrchestratorMeasured extends Measured {
  submitS: number;
  detectedS: number;
  meanWaitS: number;
  dirs: string[];
  /** Share of the drain the orchestrator's event loop was busy (1 = saturated). */
  eventLoopBusy: number;
  /** CPU seconds of this process (all threads) per wall second during the drain. */
  cpuPerWallS: number;
  rssMb: number;
  spawnMs: number | null;
  sql: Tally[];
  git: Tally[];
  cpu: Tally[];
}

async function viaOrchestrator(jobs: number, parallel: number, warmup: number, submitConcurrency: number, profile: boolean): Promise<OrchestratorMeasured> {
  const repo = await createRepo('autobuild-bench-orch-');
  const sqlProfile = profile ? new SqlProfile() : undefined;
  const bench = await startBenchOrchestrator({ maxParallel: parallel, runJobs: true, wrapDb: sqlProfile && ((db) => sqlProfile.wrap(db)) });
  const traceFile = path.join(bench.home, 'git-trace2.json');
  const timeoutMs = Math.max(120_000, jobs * 2000);
  try {
    // Warm-up (JIT, PGlite's caches, the page cache for git), not measured.
    await submitJobs(bench.url, repo, 'bench-warmup', warmup, submitConcurrency);
    await waitUntilDrained(bench.url, timeoutMs, POLL_MS);
    const spawnMs = profile ? await syncSpawnCostMs() : null;
    if (profile) {
      sqlProfile!.tallies.reset();
      // The orchestrator's git helper passes process.env on to git at each call.
      process.env.GIT_TRACE2_EVENT = traceFile;
    }

    const elu = performance.eventLoopUtilization();
    const cpu = process.cpuUsage();
    const treeCpuAtStart = processTreeCpuS();
    const cpuAtStart = profile ? cpuBreakdown() : undefined;
    const startedAt = Date.now();
    await submitJobs(bench.url, repo, 'bench', jobs, submitConcurrency);
    const submittedAt = Date.now();
    await waitUntilDrained(bench.url, timeoutMs, POLL_MS);
    const detectedAt = Date.now();
    const eventLoopBusy = performance.eventLoopUtilization(elu).utilization;
    const cpuUsed = process.cpuUsage(cpu);
    const treeCpuS = cpuSince(treeCpuAtStart);
    const cpuTallies = cpuAtStart ? cpuBreakdownSince(cpuAtStart) : [];
    const rssMb = process.memoryUsage().rss / 1e6;
    delete process.env.GIT_TRACE2_EVENT;

    const listed = await listJobs(bench.url, 'bench');
    const problems: string[] = [];
    if (listed.length !== jobs) problems.push(`orchestrator: ${listed.length} jobs listed, ${jobs} submitted`);
    for (const job of listed) {
      if (job.status !== 'succeeded') problems.push(`orchestrator: job ${job.id} ${job.status}: ${job.error ?? ''}`);
    }
    const contents = await readFilesOnBranches(repo, listed.map((job) => job.branch), 'out.txt');
    for (const job of listed) {
      if (contents.get(job.branch) !== `${job.id}\n`) problems.push(`orchestrator: branch ${job.branch} does not hold out.txt = ${job.id}`);
    }
    // Spot checks the way a person would look: git show <branch>:out.txt.
    for (const job of listed.filter((_, i) => i % Math.max(1, Math.floor(listed.length / 5)) === 0).slice(0, 5)) {
      const shown = await git(repo, ['show', `${job.branch}:out.txt`]).catch((error: Error) => `(${error.message})`);
      if (shown !== job.id) problems.push(`orchestrator: git show ${job.branch}:out.txt gave ${shown}`);
    }

    const time = (iso: string | null) => (iso ? Date.parse(iso) : Number.NaN);
    const finishedAt = Math.max(...listed.map((job) => time(job.finished_at)));
    const done = listed.filter((job) => job.started_at && job.finished_at);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    return {
      // From the first submit to the last job's finish as recorded by the orchestrator (the poll
      // only notices it up to POLL_MS later); the detection time is reported too.
      seconds: seconds(startedAt, Number.isFinite(finishedAt) ? Math.min(finishedAt, detectedAt) : detectedAt),
      detectedS: seconds(startedAt, detectedAt),
      submitS: seconds(startedAt, submittedAt),
      meanJobS: mean(done.map((job) => seconds(time(job.started_at), time(job.finished_at)))),
      meanWaitS: mean(done.map((job) => seconds(time(job.created_at), time(job.started_at)))),
      problems,
      treeCpuS,
      dirs: [repo, bench.home],
      eventLoopBusy,
      cpuPerWallS: (cpuUsed.user + cpuUsed.system) / 1e6 / seconds(startedAt, detectedAt),
      rssMb,
      spawnMs,
      sql: sqlProfile?.tallies.top(15) ?? [],
      git: profile ? gitTraceTallies(traceFile) : [],
      cpu: cpuTallies,
    };
  } finally {
    delete process.env.GIT_TRACE2_EVENT;
    await bench.stop({ keep: true });
  }
}

function printProfile(jobs: number, sql: Tally[], gitTallies: Tally[], cpu: { raw: Tally[]; orchestrator: Tally[] }, spawnMs: { fresh: number; loaded: number | null }): void {
  const sum = (tallies: Tally[], field: 'count' | 'totalMs') => tallies.reduce((total, t) => total + t[field], 0);
  console.log(
    `\nper job: ${round(sum(gitTallies, 'count') / jobs, 1)} git processes taking ${round(sum(gitTallies, 'totalMs') / jobs, 1)} ms ` +
      `(the baseline: 4), ${round(sum(sql.filter((t) => !t.key.startsWith('transaction')), 'count') / jobs, 1)} SQL statements taking ` +
      `${round(sum(sql.filter((t) => !t.key.startsWith('transaction')), 'totalMs') / jobs, 1)} ms`,
  );
  console.log(
    `event loop blocked per child process started: ${round(spawnMs.fresh, 2)} ms in a fresh process, ` +
      `${spawnMs.loaded === null ? '?' : round(spawnMs.loaded, 2)} ms with the orchestrator and its PGlite loaded`,
  );
  for (const [side, tallies] of [['raw git', cpu.raw], ['orchestrator', cpu.orchestrator]] as const) {
    if (tallies.length === 0) continue;
    console.log(`\nwhere the CPU goes, ${side} (from /proc; a launcher's children are git and the agents)`);
    console.log(table(['', 'CPU s', 'ms per job'], tallies.map((t) => [t.key, round(t.totalMs / 1000), round(t.totalMs / jobs, 1)])));
  }
  if (gitTallies.length > 0) {
    console.log('\nwhere the time goes: git processes (as git timed them), measured run');
    console.log(
      table(
        ['git subcommand', 'calls', 'calls/job', 'total s', 'ms/call'],
        gitTallies.map((t) => [t.key, t.count, round(t.count / jobs, 1), round(t.totalMs / 1000), round(t.totalMs / t.count, 1)]),
      ),
    );
  }
  if (sql.length > 0) {
    console.log('\nwhere the time goes: SQL (call to answer, including waiting for the PGlite connection), measured run');
    console.log(
      table(
        ['statement', 'calls', 'total s', 'ms/call'],
        sql.map((t) => [t.key, t.count, round(t.totalMs / 1000), round(t.totalMs / t.count, 2)]),
      ),
    );
  }
}

async function main(): Promise<void> {
  const jobs = envInt('BENCH_JOBS', 300);
  const parallel = envInt('BENCH_PARALLEL', 4);
  const submitConcurrency = envInt('BENCH_SUBMIT_CONCURRENCY', 8);
  const profile = process.env.BENCH_PROFILE === '1';
  const warmup = Math.min(jobs, Math.max(parallel * 2, 8));
  const freshSpawnMs = profile ? await syncSpawnCostMs() : 0;
  console.log(`orchestrator vs raw git: ${jobs} trivial jobs, parallelism ${parallel}${profile ? ' (profiling: figures are slower than usual)' : ''}`);

  // Warm the baseline the same way (a throwaway round), then measure each side once.
  const warm = await rawGit(warmup, parallel);
  for (const dir of warm.dirs) rmSync(dir, { recursive: true, force: true });
  const raw = await rawGit(jobs, parallel, profile);
  const orch = await viaOrchestrator(jobs, parallel, warmup, submitConcurrency, profile);

  const ratio = orch.seconds / raw.seconds;
  console.log(
    '\n' +
      table(
        ['', 'seconds', 'jobs/s', 'mean s per job'],
        [
          ['raw git (baseline)', round(raw.seconds), round(jobs / raw.seconds, 1), round(raw.meanJobS, 3)],
          ['orchestrator', round(orch.seconds), round(jobs / orch.seconds, 1), round(orch.meanJobS, 3)],
        ],
      ),
  );
  console.log(
    `\norchestrator: all ${jobs} submitted in ${round(orch.submitS)} s; mean wait in queue ${round(orch.meanWaitS)} s; ` +
      `drain noticed at ${round(orch.detectedS)} s (poll every ${POLL_MS} ms)`,
  );
  console.log(`ratio orchestrator / raw git: ${round(ratio)} (goal ≤ ${GOAL_RATIO}: ${ratio <= GOAL_RATIO ? 'met' : 'NOT met'})`);
  console.log(
    `orchestrator process during the drain: event loop busy ${Math.round(orch.eventLoopBusy * 100)}% of the time, ` +
      `${round(orch.cpuPerWallS)} CPU-s per second, RSS ${Math.round(orch.rssMb)} MB`,
  );
  if (raw.treeCpuS !== undefined && orch.treeCpuS !== undefined) {
    console.log(
      `CPU of all processes (this one, launchers, git, agents): raw git ${round((raw.treeCpuS / jobs) * 1000, 1)} ms per job, ` +
        `orchestrator ${round((orch.treeCpuS / jobs) * 1000, 1)} ms per job (includes this process's HTTP client and polling)`,
    );
  }
  if (profile) printProfile(jobs, orch.sql, orch.git, { raw: raw.cpu, orchestrator: orch.cpu }, { fresh: freshSpawnMs, loaded: orch.spawnMs });

  const problems = [...raw.problems, ...orch.problems];
  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.length} problem(s); first ones:\n  ${problems.slice(0, 10).join('\n  ')}`);
    console.error(`kept for inspection: ${[...raw.dirs, ...orch.dirs].join(' ')}`);
  } else {
    for (const dir of [...raw.dirs, ...orch.dirs]) rmSync(dir, { recursive: true, force: true });
    console.log(`verified: every job succeeded and every branch holds its out.txt (${jobs * 2} branches checked)`);
  }
  console.log(
    JSON.stringify({
      benchmark: 'orchestrator_vs_git',
      jobs,
      parallelism: parallel,
      orchestrator_s: round(orch.seconds, 3),
      raw_git_s: round(raw.seconds, 3),
      ratio: round(ratio, 3),
      goal_ratio_max: GOAL_RATIO,
      goal_met: ratio <= GOAL_RATIO,
      orchestrator_jobs_per_s: round(jobs / orch.seconds, 2),
      raw_git_jobs_per_s: round(jobs / raw.seconds, 2),
      orchestrator_mean_job_s: round(orch.meanJobS, 4),
      raw_git_mean_job_s: round(raw.meanJobS, 4),
      submit_s: round(orch.submitS, 3),
      orchestrator_event_loop_busy: round(orch.eventLoopBusy, 3),
      raw_git_cpu_ms_per_job: raw.treeCpuS === undefined ? null : round((raw.treeCpuS / jobs) * 1000, 1),
      orchestrator_cpu_ms_per_job: orch.treeCpuS === undefined ? null : round((orch.treeCpuS / jobs) * 1000, 1),
      verified: problems.length === 0,
    }),
  );
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exitCode = 1;
});
