// Benchmark: the orchestrator's API under C concurrent keep-alive clients — submitting, reading and
// listing jobs — against its health endpoint measured the same way in the same run. The service
// runs jobs off (runJobs: false), so the jobs stay queued and only the API is measured.
//
//   node dist/bench/apiThroughput.js
//   BENCH_REQUESTS (3000 per phase)  BENCH_CONCURRENCY (16)  BENCH_WARMUP (200 per phase)
//   BENCH_PROFILE=1: the SQL each phase ran, and its time
import { performance } from 'node:perf_hooks';
import { rmSync } from 'node:fs';
import { createRepo, envInt, percentile, round, startBenchOrchestrator, table } from './support/harness.js';
import { LoadGenerator, type LoadSpec } from './support/load.js';
import { SqlProfile, type Tally } from './support/profile.js';

const GOAL_GET_VS_HEALTH = 0.5;

interface PhaseFigures {
  requests: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of the phase the server's event loop was busy. */
  serverBusy: number;
}

interface Phase {
  name: string;
  label: string;
  spec: (first: number, count: number) => Omit<LoadSpec, 'concurrency'>;
}

async function main(): Promise<void> {
  const requests = envInt('BENCH_REQUESTS', 3000);
  const concurrency = envInt('BENCH_CONCURRENCY', 16);
  const warmup = envInt('BENCH_WARMUP', 200, 0);
  console.log(`orchestrator API throughput: ${requests} requests per phase, ${concurrency} keep-alive clients, ${warmup} warm-up requests first`);

  const repo = await createRepo('autobuild-bench-api-');
  const sqlProfile = process.env.BENCH_PROFILE === '1' ? new SqlProfile() : undefined;
  const bench = await startBenchOrchestrator({ maxParallel: 4, runJobs: false, wrapDb: sqlProfile && ((db) => sqlProfile.wrap(db)) });
  const sqlByPhase = new Map<string, Tally[]>();
  const load = new LoadGenerator();
  const jobIds: string[] = [];
  const base = bench.url;
  const submitBody = JSON.stringify({
    project_id: 'bench',
    prompt: 'benchmark job __N__',
    repo,
    base_branch: 'main',
    agent: { type: 'command', command: ['sh', '-c', 'echo $AUTOBUILD_JOB_ID > out.txt'] },
  });

  const phases: Phase[] = [
    // Not a phase of the brief: the framework's floor (routing, hooks, the contract's error body;
    // no database, no git), to show what the health baseline itself costs.
    {
      name: 'floor',
      label: '(reference) GET unknown path -> 404',
      spec: (firstIndex, count) => ({ method: 'GET', urls: [`${base}/api/v1/no-such-route`], firstIndex, count, expectStatus: 404, collectIds: false }),
    },
    { name: 'health', label: 'GET /api/v1/health (baseline)', spec: (firstIndex, count) => ({ method: 'GET', urls: [`${base}/api/v1/health`], firstIndex, count, expectStatus: 200, collectIds: false }) },
    {
      name: 'submit',
      label: 'POST /api/v1/jobs',
      spec: (firstIndex, count) => ({ method: 'POST', urls: [`${base}/api/v1/jobs`], bodyTemplate: submitBody, firstIndex, count, expectStatus: 201, collectIds: true }),
    },
    {
      name: 'get',
      label: 'GET /api/v1/jobs/:id',
      spec: (firstIndex, count) => ({ method: 'GET', urls: jobIds.map((id) => `${base}/api/v1/jobs/${id}`), firstIndex, count, expectStatus: 200, collectIds: false }),
    },
    { name: 'list', label: 'GET /api/v1/jobs?limit=50', spec: (firstIndex, count) => ({ method: 'GET', urls: [`${base}/api/v1/jobs?limit=50`], firstIndex, count, expectStatus: 200, collectIds: false }) },
  ];

  const figures = new Map<string, PhaseFigures>();
  const problems: string[] = [];
  try {
    let index = 0;
    for (const phase of phases) {
      if (warmup > 0) {
        const warm = await load.run({ ...phase.spec(index, warmup), concurrency });
        index += warmup;
        jobIds.push(...warm.ids);
        if (warm.errors > 0) problems.push(`${phase.name} warm-up: ${warm.errors} failed; first: ${warm.firstError}`);
      }
      sqlProfile?.tallies.reset();
      const elu = performance.eventLoopUtilization();
      const result = await load.run({ ...phase.spec(index, requests), concurrency });
      const serverBusy = performance.eventLoopUtilization(elu).utilization;
      if (sqlProfile) sqlByPhase.set(phase.name, sqlProfile.tallies.top(6));
      index += requests;
      jobIds.push(...result.ids);
      if (result.errors > 0) problems.push(`${phase.name}: ${result.errors} of ${requests} failed; first: ${result.firstError}`);
      const sorted = Array.from(result.latenciesMs).sort((a, b) => a - b);
      figures.set(phase.name, { requests, rps: requests / result.seconds, p50Ms: percentile(sorted, 50), p99Ms: percentile(sorted, 99), serverBusy });
    }
  } finally {
    await load.close();
    await bench.stop();
    rmSync(repo, { recursive: true, force: true });
  }

  const health = figures.get('health')!;
  console.log(
    '\n' +
      table(
        ['phase', 'req/s', 'p50 ms', 'p99 ms', 'req/s vs health', 'p99 vs health', 'server busy'],
        phases.map((phase) => {
          const f = figures.get(phase.name)!;
          return [phase.label, round(f.rps, 0), round(f.p50Ms), round(f.p99Ms), round(f.rps / health.rps), round(f.p99Ms / health.p99Ms), `${Math.round(f.serverBusy * 100)}%`];
        }),
      ),
  );
  const get = figures.get('get')!;
  const getRatio = get.rps / health.rps;
  console.log(
    `\njobs in the database while reading and listing: ${jobIds.length} (all queued)\n` +
      `reading a job: ${round(getRatio)} of health's throughput (goal ≥ ${GOAL_GET_VS_HEALTH}: ${getRatio >= GOAL_GET_VS_HEALTH ? 'met' : 'NOT met'})`,
  );
  for (const [name, tallies] of sqlByPhase) {
    console.log(`\nSQL during ${name} (call to answer, including waiting for PGlite's one connection)`);
    console.log(table(['statement', 'per request', 'ms/call'], tallies.map((t) => [t.key, round(t.count / requests, 2), round(t.totalMs / t.count, 2)])));
  }
  if (problems.length > 0) console.error(`\nFAILED:\n  ${problems.join('\n  ')}`);

  const phaseJson = Object.fromEntries(
    [...figures].map(([name, f]) => [
      name,
      { rps: round(f.rps, 1), p50_ms: round(f.p50Ms, 3), p99_ms: round(f.p99Ms, 3), rps_vs_health: round(f.rps / health.rps, 3), p99_vs_health: round(f.p99Ms / health.p99Ms, 3) },
    ]),
  );
  console.log(
    JSON.stringify({
      benchmark: 'api_throughput',
      requests_per_phase: requests,
      concurrency,
      jobs_in_database: jobIds.length,
      phases: phaseJson,
      get_vs_health_throughput: round(getRatio, 3),
      goal_get_vs_health_min: GOAL_GET_VS_HEALTH,
      goal_met: getRatio >= GOAL_GET_VS_HEALTH,
      ok: problems.length === 0,
    }),
  );
  if (problems.length > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exitCode = 1;
});
