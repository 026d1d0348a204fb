// What the memory service spends per orchestrator job, in process: each job asks for its task
// context (POST /api/v1/context) and then delivers its outcome (POST /api/v1/memory, an
// execution_success memory as the orchestrator's outbox sends it). Prints, per job, the time of each
// SQL statement (from the call to the answer, SqlProfile), and the CPU of the event loop and of the
// embedded database's thread. BENCH_PRIOR outcomes are learnt first (unmeasured), so the tables hold
// what a project that has run for a while holds.
//
//   node dist/bench/memoryPerJob.js            JOBS=200 PRIOR=300 PAR=1 VARIED=0
// VARIED=1: tasks with different words changing 1-3 files of a set of 40 (more patterns and
// memories per project); else every job is "benchmark job i: write out.txt" as in platformVsShell.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createRepo, envInt, git, pool, table } from './support/harness.js';
import { expectJson, startBenchMemory } from './support/memoryBench.js';
import { cpuBreakdown, cpuBreakdownSince, SqlProfile } from './support/profile.js';

const JOBS = envInt('JOBS', 200);
const PRIOR = envInt('PRIOR', 300, 0);
const PAR = envInt('PAR', 1);
const VARIED = process.env.VARIED === '1';
const PROJECT = 'bench';

const WORDS = ['invoice', 'billing', 'export', 'login', 'session', 'cache', 'report', 'upload', 'search', 'payment', 'email', 'schedule', 'profile', 'audit', 'webhook', 'token', 'timezone', 'currency', 'locale', 'retry'];
const FILES = Array.from({ length: 40 }, (_, i) => `src/${WORDS[i % WORDS.length]}/${['service', 'routes', 'model', 'view'][i % 4]}${i}.ts`);

/** A deterministic pseudo-random sequence, so runs compare. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

interface Job {
  id: string;
  title: string;
  prompt: string;
  files: string[];
}

function jobOf(i: number): Job {
  const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  if (!VARIED) return { id, title: `benchmark job ${i}: write out.txt`, prompt: `benchmark job ${i}: write out.txt`, files: ['out.txt'] };
  const next = random(i + 1);
  const pick = <T>(items: T[]) => items[Math.floor(next() * items.length)]!;
  const words = [pick(WORDS), pick(WORDS), pick(WORDS)];
  const title = `Fix the ${words[0]} ${words[1]} handling`;
  const prompt = `${title}\n\nThe ${words[2]} step fails when the ${words[0]} is empty; make it pass.`;
  const files = [...new Set(Array.from({ length: 1 + Math.floor(next() * 3) }, () => pick(FILES)))].sort();
  return { id, title, prompt, files };
}

/** The outcome memory the orchestrator's outbox posts for a succeeded job (memoryOutbox.ts). */
function outcomeBody(job: Job) {
  return {
    project_id: PROJECT,
    type: 'execution_success',
    content: {
      job_id: job.id,
      title: job.title,
      task: job.prompt,
      status: 'succeeded',
      agent: 'command',
      executor: 'local',
      attempt: 1,
      duration_s: 1,
      exit_code: 0,
      error: null,
      files_changed: job.files,
      commits: 1,
      summary: null,
      qa: null,
      usage: null,
      cost_usd: null,
      num_turns: null,
      model: null,
      session_id: null,
      permission_denials: 0,
      parent_job_id: null,
    },
    job_id: job.id,
    tags: ['succeeded', 'command', 'local'],
  };
}

async function runJob(url: string, job: Job): Promise<void> {
  const task = job.prompt.startsWith(job.title) ? job.prompt : `${job.title}\n\n${job.prompt}`;
  await expectJson(url, 'POST', '/api/v1/context', { project_id: PROJECT, task_description: task, max_tokens: 2000 });
  await expectJson(url, 'POST', '/api/v1/memory', outcomeBody(job), 201);
}

async function main(): Promise<void> {
  const profile = new SqlProfile();
  const service = await startBenchMemory({ wrapDb: (db) => profile.wrap(db) });
  try {
    const repo = await createRepo('autobuild-bench-perjob-');
    if (VARIED) {
      for (const file of FILES) {
        mkdirSync(path.join(repo, path.dirname(file)), { recursive: true });
        writeFileSync(path.join(repo, file), `export function ${path.basename(file, '.ts')}() {\n  return '${file}';\n}\n`);
      }
      await git(repo, ['add', '-A']);
      await git(repo, ['commit', '-q', '-m', 'sources']);
    }
    await expectJson(service.url, 'POST', '/api/v1/index/files', { project_id: PROJECT, root: repo, sync: true });
    for (let i = 0; i < PRIOR; i++) await runJob(service.url, jobOf(100_000 + i));
    profile.tallies.reset();
    const cpu = cpuBreakdown();
    const started = performance.now();
    await pool(JOBS, PAR, (i) => runJob(service.url, jobOf(i)));
    const wallMs = performance.now() - started;
    const threads = cpuBreakdownSince(cpu).filter((tally) => tally.key.includes('thread'));
    const statements = profile.tallies.top(40);
    const total = statements.filter((tally) => tally.key !== 'transaction (whole)').reduce((sum, tally) => sum + tally.totalMs, 0);
    const count = statements.filter((tally) => tally.key !== 'transaction (whole)').reduce((sum, tally) => sum + tally.count, 0);
    console.log(`${JOBS} jobs after ${PRIOR} (${VARIED ? 'varied' : 'one-file'}), parallelism ${PAR}: ${(wallMs / JOBS).toFixed(2)} ms wall per job`);
    console.log(`statements per job: ${(count / JOBS).toFixed(1)}, ${(total / JOBS).toFixed(2)} ms (call to answer)`);
    console.log(table(['CPU ms per job', 'thread'], threads.map((tally) => [(tally.totalMs / JOBS).toFixed(2), tally.key])));
    console.log(table(['n/job', 'ms/job', 'statement'], statements.map((tally) => [(tally.count / JOBS).toFixed(2), (tally.totalMs / JOBS).toFixed(3), tally.key])));
  } finally {
    // KEEP=1: the home stays for inspection (EXPLAIN on its database).
    if (process.env.KEEP === '1') console.log(`home kept: ${service.home}`);
    await service.stop({ keep: process.env.KEEP === '1' });
  }
}

await main();
