// The load generator of the API benchmark, in a worker thread so that the clients' own work (fetch,
// JSON) does not run on the event loop of the server it measures. C keep-alive clients (fetch keeps
// connections alive) each send their next request as soon as the previous answer is read.
import { parentPort } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import type { LoadResult, LoadSpec } from './load.js';

async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latenciesMs = new Float64Array(spec.count);
  const ids: string[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;

  const client = async () => {
    for (let i = next++; i < spec.count; i = next++) {
      const url = spec.urls[Math.floor(Math.random() * spec.urls.length)]!;
      const body = spec.bodyTemplate === undefined ? undefined : spec.bodyTemplate.replaceAll('__N__', String(spec.firstIndex + i));
      const started = performance.now();
      try {
        const response = await fetch(url, {
          method: spec.method,
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          body,
        });
        const text = await response.text();
        latenciesMs[i] = performance.now() - started;
        if (response.status !== spec.expectStatus) {
          errors++;
          firstError ??= `${spec.method} ${url} answered ${response.status}: ${text.slice(0, 300)}`;
        } else if (spec.collectIds) {
          ids.push((JSON.parse(text) as { id: string }).id);
        }
      } catch (error) {
        latenciesMs[i] = performance.now() - started;
        errors++;
        firstError ??= `${spec.method} ${url} failed: ${(error as Error).message}`;
      }
    }
  };

  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(spec.concurrency, spec.count) }, client));
  const seconds = (performance.now() - started) / 1000;
  return { latenciesMs, seconds, errors, firstError, ids };
}

parentPort!.on('message', (spec: LoadSpec) => {
  runLoad(spec).then(
    (result) => parentPort!.postMessage(result),
    (error: Error) => parentPort!.postMessage({ latenciesMs: new Float64Array(0), seconds: 0, errors: spec.count, firstError: error.message, ids: [] } satisfies LoadResult),
  );
});
