// `npm run bench`: the benchmarks one after the other, each in its own Node process (so that one's
// memory and database do not weigh on the other's figures), then one JSON line with all results.
// Fails when any benchmark fails; the BENCH_* settings pass through to each.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BENCHMARKS = ['orchestratorVsGit', 'platformVsShell', 'apiThroughput', 'retrievalQuality', 'searchSmall', 'memoryQuality', 'memoryScale'];

function runOne(name: string): Promise<{ code: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(new URL(`./${name}.js`, import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const last = output.trimEnd().split('\n').pop() ?? '';
      let json: unknown = null;
      try {
        json = JSON.parse(last);
      } catch {
        // the benchmark failed before printing its figures
      }
      resolve({ code: code ?? 1, json });
    });
  });
}

async function main(): Promise<void> {
  const results: Record<string, unknown> = {};
  let failed = 0;
  for (const [i, name] of BENCHMARKS.entries()) {
    if (i > 0) process.stdout.write('\n');
    process.stdout.write(`=== ${name} ===\n`);
    const { code, json } = await runOne(name);
    results[name] = json;
    if (code !== 0) {
      failed++;
      process.stderr.write(`${name} failed (exit code ${code})\n`);
    }
  }
  process.stdout.write(`\n${JSON.stringify({ benchmarks: results, ok: failed === 0 })}\n`);
  if (failed > 0) process.exitCode = 1;
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exitCode = 1;
});
