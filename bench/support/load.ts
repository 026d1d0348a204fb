// The API benchmark's side of the load generator: hands a phase to the worker thread and gets the
// latencies back. One worker for all phases, so its keep-alive connections carry over.
import { Worker } from 'node:worker_threads';

export interface LoadSpec {
  method: 'GET' | 'POST';
  /** Each request goes to one of these, chosen at random. */
  urls: string[];
  /** A JSON body; every "__N__" is replaced by the request's number (firstIndex + i). */
  bodyTemplate?: string;
  firstIndex: number;
  count: number;
  concurrency: number;
  expectStatus: number;
  /** Collect the `id` of each answer (submitted jobs). */
  collectIds: boolean;
}

export interface LoadResult {
  /** Per request, in request order. */
  latenciesMs: Float64Array;
  /** Wall time of the whole phase. */
  seconds: number;
  errors: number;
  firstError: string | undefined;
  ids: string[];
}

export class LoadGenerator {
  private readonly worker = new Worker(new URL('./loadWorker.js', import.meta.url));

  run(spec: LoadSpec): Promise<LoadResult> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        this.worker.off('message', onMessage);
        reject(error);
      };
      const onMessage = (result: LoadResult) => {
        this.worker.off('error', onError);
        resolve(result);
      };
      this.worker.once('message', onMessage);
      this.worker.once('error', onError);
      this.worker.postMessage(spec);
    });
  }

  async close(): Promise<void> {
    await this.worker.terminate();
  }
}
