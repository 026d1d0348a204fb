// Benchmark: the whole platform as a user runs it (`npm start`: `autobuild up`, both services in one
// process over one embedded database) draining N one-file jobs, each fetching its memory context and
// writing its outcome, against the floor a shell gives: the same per-job git work — worktree add
// (serialised per repository, as git needs), write a file, add, commit, worktree remove (serialised)
// — driven by a generated bash script with the same parallelism. The orchestrator alone (`autobuild
// orchestrator`, no memory service) is measured too. Every side runs as its own process; this
// process only submits jobs over HTTP and waits. Platform times run from the first submission to
// the last job's finish as the orchestrator recorded it.
//
//   node dist/bench/platformVsShell.js
//   BENCH_JOBS (200)  BENCH_PARALLEL (12,4: each in turn)  BENCH_SUBMIT_CONCURRENCY (8)  BENCH_ROUNDS (1)
//   BENCH_PROFILE=1: CPU by thread and by child process of the platform, and the shell's, per job
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { api, createRepo, envInt, pool, readFilesOnBranches, round, seconds, table, tempDir } from './support/harness.js';
import { listJobs, waitUntilDrained } from './support/jobsOverHttp.js';
import { startUp, type Up } from './support/up.js';

const GOAL_RATIO = 1.3;
// The queue endpoint reads the queue: polled often, it would take database time from the jobs measured (their times come from finished_at).
const POLL_MS = 500;

// ---------------------------------------------------------------------------------------------
// the floor: a bash script

/**
 * Per job, as the orchestrator does it: `git worktree add` and `git worktree remove` under one
 * lock per repository (flock), the rest in parallel; at most `parallel` jobs at a time (wait -n).
 */
const FLOOR_SCRIPT = `#!/usr/bin/env bash
set -euo pipefail
repo=$1; worktrees=$2; jobs=$3; parallel=$4
lock="$repo/.git/bench-worktree.lock"
one() {
  local i=$1 id=$2
  local wt="$worktrees/$id" branch="bench/\${id:0:8}-job-$i"
  flock "$lock" git -C "$repo" worktree add --quiet -b "$branch" -- "$wt" main
  echo "$id" > "$wt/out.txt"
  git -C "$wt" add -A
  git -C "$wt" commit -q -m "job $i"
  flock "$lock" git -C "$repo" worktree remove --force -- "$wt"
}
i=0; running=0
while read -r id; do
  one "$i" "$id" &
  i=$((i + 1)); running=$((running + 1))
  if (( running >= parallel )); then wait -n; running=$((running - 1)); fi
done < "$worktrees/ids"
while (( running > 0 )); do wait -n; running=$((running - 1)); done
`;

/** The same variables the orchestrator's git helper sets. */
const GIT_ENV: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };

interface Side {
  seconds: number;
  problems: string[];
  dirs: string[];
  /** CPU seconds by where they went (profiling). */
  cpu: Array<[string, number]>;
}

function childCpuS(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / 100;
}

async function floor(jobs: number, parallel: number): Promise<Side> {
  const repo = await createRepo('autobuild-bench-floor-');
  const worktrees = tempDir('autobuild-bench-floor-worktrees-');
  const script = path.join(worktrees, 'floor.sh');
  writeFileSync(script, FLOOR_SCRIPT, { mode: 0o755 });
  const ids = Array.from({ length: jobs }, () => randomUUID());
  writeFileSync(path.join(worktrees, 'ids'), ids.map((id) => `${id}\n`).join(''));
  const started = performance.now();
  const { cpuS } = await new Promise<{ cpuS: number }>((resolve, reject) => {
    const child = spawn('bash', [script, repo, worktrees, String(jobs), String(parallel)], { env: GIT_ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    // The script's own CPU and all it reaped (git, flock, subshells), read just before it is reaped.
    let cpuS = 0;
    const sample = setInterval(() => {
      try {
        cpuS = childCpuS(child.pid!);
      } catch {
        // exited
      }
    }, 20);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearInterval(sample);
      if (code !== 0) reject(new Error(`the floor script exited with ${code}: ${stderr.slice(-2000)}`));
      else resolve({ cpuS });
    });
  });
  const elapsed = seconds(started, performance.now());
  const problems: string[] = [];
  const branch = (id: string, i: number) => `bench/${id.slice(0, 8)}-job-${i}`;
  const contents = await readFilesOnBranches(repo, ids.map(branch), 'out.txt');
  ids.forEach((id, i) => {
    if (contents.get(branch(id, i)) !== `${id}\n`) problems.push(`shell: branch ${branch(id, i)} does not hold out.txt = ${id}`);
  });
  return { seconds: elapsed, problems, dirs: [repo, worktrees], cpu: [['the script and all it started (bash, flock, git)', cpuS]] };
}

// ---------------------------------------------------------------------------------------------
// the platform (`up`) or the orchestrator alone, as their own processes




async function submit(url: string, repo: string, projectId: string, count: number, concurrency: number): Promise<void> {
  await pool(count, concurrency, async (i) => {
    const response = await api(url, 'POST', '/api/v1/jobs', {
      project_id: projectId,
      prompt: `benchmark job ${i}: write out.txt`,
      repo,
      base_branch: 'main',
      agent: { type: 'command', command: ['sh', '-c', 'echo $AUTOBUILD_JOB_ID > out.txt'] },
    });
    if (response.status !== 201) throw new Error(`submitting a job answered ${response.status}: ${JSON.stringify(response.body)}`);
  });
}

/** CPU seconds of a process's threads (by name) and of its children (with what they reaped), from /proc. */
function processCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, s: number) => out.set(key, (out.get(key) ?? 0) + s);
  const parse = (stat: string) => {
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const num = (i: number) => Number(fields[i - 3]);
    return { ppid: num(4), self: (num(14) + num(15)) / 100, reaped: (num(16) + num(17)) / 100 };
  };
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        add(`platform: thread ${name}${Number(tid) === pid ? ' (main)' : ''}`, parse(readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8')).self);
      } catch {
        // ended
      }
    }
    add('platform: children it reaped', parse(readFileSync(`/proc/${pid}/stat`, 'utf8')).reaped);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const ticks = parse(readFileSync(`/proc/${entry}/stat`, 'utf8'));
        if (ticks.ppid !== pid) continue;
        const name = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, 2).map((part) => part.split('/').pop()).join(' ');
        add(`child ${name}: itself`, ticks.self);
        add(`child ${name}: the git and agent processes it started`, ticks.reaped);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    // not Linux
  }
  return out;
}

async function viaService(mode: 'up' | 'orchestrator', jobs: number, parallel: number, submitConcurrency: number): Promise<Side & { submitS: number }> {
  const repo = await createRepo(`autobuild-bench-${mode}-`);
  const up: Up = await startUp({ AUTOBUILD_MAX_PARALLEL: String(parallel), AUTOBUILD_DEFAULT_AGENT: 'command' }, mode);
  try {
    const url = up.orchestratorUrl;
    if (mode === 'up') {
      // As a user's project would be: its code indexed, so that each job's context is a real search.
      const indexed = await api(up.memoryUrl, 'POST', '/api/v1/index/files', { project_id: 'bench', root: repo, sync: true });
      if (indexed.status !== 200) throw new Error(`indexing the repository answered ${indexed.status}`);
    }
    // Warm-up (JIT, the database's caches, git's page cache), not measured.
    await submit(url, repo, 'bench-warmup', Math.max(2 * parallel, 8), submitConcurrency);
    await waitUntilDrained(url, 120_000, POLL_MS);

    const cpuAtStart = processCpu(up.child.pid!);
    const startedAt = Date.now();
    await submit(url, repo, 'bench', jobs, submitConcurrency);
    const submitS = seconds(startedAt, Date.now());
    await waitUntilDrained(url, Math.max(120_000, jobs * 2000), POLL_MS);
    const detectedAt = Date.now();
    const cpuAtEnd = processCpu(up.child.pid!);

    const listed = await listJobs(url, 'bench');
    const problems: string[] = [];
    if (listed.length !== jobs) problems.push(`${mode}: ${listed.length} jobs listed, ${jobs} submitted`);
    for (const job of listed) if (job.status !== 'succeeded') problems.push(`${mode}: job ${job.id} ${job.status}: ${job.error ?? ''}`);
    const contents = await readFilesOnBranches(repo, listed.map((job) => job.branch), 'out.txt');
    for (const job of listed) if (contents.get(job.branch) !== `${job.id}\n`) problems.push(`${mode}: branch ${job.branch} does not hold out.txt = ${job.id}`);
    if (mode === 'up') {
      // Each job's outcome reached the memory service (the outbox delivers it shortly after the finish).
      const deadline = Date.now() + 30_000;
      let outcomes = 0;
      for (;;) {
        const page = await api<{ memories: unknown[]; next_cursor?: string | null }>(up.memoryUrl, 'GET', '/api/v1/memory/bench?type=execution_success&limit=100');
        outcomes = page.status === 200 ? page.body.memories.length : 0;
        if (outcomes >= Math.min(100, jobs) || Date.now() > deadline) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      if (outcomes < Math.min(100, jobs)) problems.push(`up: ${outcomes} outcomes stored in the memory service, expected ${Math.min(100, jobs)} on the first page`);
    }
    const finishedAt = Math.max(...listed.map((job) => (job.finished_at ? Date.parse(job.finished_at) : Number.NaN)));
    const cpu = [...cpuAtEnd].map(([key, value]): [string, number] => [key, value - (cpuAtStart.get(key) ?? 0)]).filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]);
    return {
      seconds: seconds(startedAt, Number.isFinite(finishedAt) ? Math.min(finishedAt, detectedAt) : detectedAt),
      submitS,
      problems,
      dirs: [repo],
      cpu,
    };
  } finally {
    await up.stop();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const jobs = envInt('BENCH_JOBS', 200);
  const rounds = envInt('BENCH_ROUNDS', 1);
  const submitConcurrency = envInt('BENCH_SUBMIT_CONCURRENCY', 8);
  const parallels = (process.env.BENCH_PARALLEL ?? '12,4').split(',').map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_PARALLEL: "${v}" is not a whole number ≥ 1`);
    return n;
  });
  const profile = process.env.BENCH_PROFILE === '1';
  console.log(`platform vs the shell floor: ${jobs} one-file jobs, parallelism ${parallels.join(' and ')}, ${rounds} round(s)`);

  const results: Array<{ parallel: number; round: number; floorS: number; upS: number; orchS: number; upSubmitS: number }> = [];
  const problems: string[] = [];
  const dirs: string[] = [];
  // A throwaway floor round warms git's page cache.
  const warm = await floor(Math.min(jobs, 24), parallels[0]!);
  for (const dir of warm.dirs) rmSync(dir, { recursive: true, force: true });
  for (let r = 1; r <= rounds; r++) {
    for (const parallel of parallels) {
      const shell = await floor(jobs, parallel);
      const upSide = await viaService('up', jobs, parallel, submitConcurrency);
      const orch = await viaService('orchestrator', jobs, parallel, submitConcurrency);
      problems.push(...shell.problems, ...upSide.problems, ...orch.problems);
      dirs.push(...shell.dirs, ...upSide.dirs, ...orch.dirs);
      results.push({ parallel, round: r, floorS: shell.seconds, upS: upSide.seconds, orchS: orch.seconds, upSubmitS: upSide.submitS });
      console.log(
        `\nparallelism ${parallel}, round ${r}: shell ${round(shell.seconds)} s, platform (up) ${round(upSide.seconds)} s ` +
          `(${round(upSide.seconds / shell.seconds)}×; all submitted in ${round(upSide.submitS)} s), orchestrator alone ${round(orch.seconds)} s (${round(orch.seconds / shell.seconds)}×)`,
      );
      if (profile) {
        for (const [name, side] of [['shell', shell], ['platform (up)', upSide], ['orchestrator alone', orch]] as const) {
          const total = side.cpu.reduce((sum, [, v]) => sum + v, 0);
          console.log(`  CPU, ${name}: ${round((total / jobs) * 1000, 1)} ms per job`);
          for (const [key, value] of side.cpu.slice(0, 8)) console.log(`    ${key}: ${round((value / jobs) * 1000, 1)} ms per job`);
        }
      }
    }
  }

  console.log(
    '\n' +
      table(
        ['parallelism', 'round', 'shell s', 'platform s', 'platform / shell', 'orchestrator s', 'orchestrator / shell'],
        results.map((r) => [r.parallel, r.round, round(r.floorS), round(r.upS), round(r.upS / r.floorS), round(r.orchS), round(r.orchS / r.floorS)]),
      ),
  );
  const worst = Math.max(...results.map((r) => r.upS / r.floorS));
  console.log(`\nworst platform / shell: ${round(worst)} (goal ≤ ${GOAL_RATIO}: ${worst <= GOAL_RATIO ? 'met' : 'NOT met'})`);
  if (problems.length > 0) {
    console.error(`\nFAILED: ${problems.length} problem(s); first ones:\n  ${problems.slice(0, 10).join('\n  ')}`);
    console.error(`kept for inspection: ${dirs.join(' ')}`);
  } else {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    console.log(`verified: every job succeeded and every branch holds its out.txt`);
  }
  console.log(
    JSON.stringify({
      benchmark: 'platform_vs_shell',
      jobs,
      runs: results.map((r) => ({
        parallelism: r.parallel,
        shell_s: round(r.floorS, 3),
        platform_s: round(r.upS, 3),
        platform_ratio: round(r.upS / r.floorS, 3),
        orchestrator_s: round(r.orchS, 3),
        orchestrator_ratio: round(r.orchS / r.floorS, 3),
      })),
      goal_ratio_max: GOAL_RATIO,
      goal_met: worst <= GOAL_RATIO,
      verified: problems.length === 0,
    }),
  );
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exitCode = 1;
});
