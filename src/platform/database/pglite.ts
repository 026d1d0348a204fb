// The embedded database: PGlite in a directory under AUTOBUILD_HOME (or in memory for tests), always
// with pgvector loaded (`up` shares one handle between the orchestrator and the memory service).
//
// PGlite runs in a worker thread (bin/pglite-worker.js). Why: it is PostgreSQL compiled to WASM and
// runs synchronously; on the service's own thread every statement stalled HTTP handling and the
// process launchers' I/O for its whole duration. In the worker it runs on another core while this
// thread goes on. The worker holds the one connection, so statements still run one at a time, and
// a transaction still holds the database until it ends.
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import { packageRoot } from '../paths.js';
import { KeyedQueue } from '../keyedQueue.js';
import { assertChannelName, type Database, type Queryable, type QueryOptions } from './database.js';

type Request =
  | { op: 'query'; sql: string; params: readonly unknown[]; tx?: number; reusePlan?: boolean }
  | { op: 'exec'; sql: string; tx?: number }
  | { op: 'begin' }
  | { op: 'commit' | 'rollback'; tx: number }
  | { op: 'listen' | 'unlisten'; channel: string }
  | { op: 'close' };

type Reply = { ready: true } | { failed: ErrorData } | { id: number; result?: unknown; error?: ErrorData } | { notify: string; payload: string };

interface ErrorData {
  name?: string;
  message: string;
  [field: string]: unknown;
}

/** The database's error with its fields (code, detail, constraint ...), as callers expect them. */
function toError(data: ErrorData): Error {
  const error = new Error(data.message);
  Object.assign(error, data);
  return error;
}

class PgliteWorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  /** LISTEN/UNLISTEN per channel, one at a time, so that they reach the worker in order. */
  private channelWork = Promise.resolve();
  private failure: Error | undefined;
  closed = false;

  constructor(private readonly worker: Worker) {
    worker.on('message', (reply: Reply) => this.dispatch(reply));
    worker.on('error', (error) => this.fail(error));
    worker.on('exit', (code) => this.fail(new Error(`the database thread exited (code ${code})`)));
    // Idle, the worker does not keep the process alive (an open PGlite in this thread would not).
    worker.unref();
  }

  private dispatch(reply: Reply): void {
    if ('notify' in reply) {
      for (const handler of this.listeners.get(reply.notify) ?? []) handler(reply.payload);
      return;
    }
    if (!('id' in reply)) return;
    const entry = this.pending.get(reply.id);
    if (!entry) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker.unref();
    if (reply.error) entry.reject(toError(reply.error));
    else entry.resolve(reply.result);
  }

  private fail(error: Error): void {
    this.failure ??= this.closed ? new Error('the database is closed') : error;
    for (const entry of this.pending.values()) entry.reject(this.failure);
    this.pending.clear();
  }

  call<T>(request: Request): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    // While an answer is awaited, the worker keeps the process alive.
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, ...request });
    });
  }

  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => Promise<void>> {
    let handlers = this.listeners.get(channel);
    if (!handlers) this.listeners.set(channel, (handlers = new Set()));
    handlers.add(onNotify);
    // Every caller waits until the worker listens (LISTEN there is idempotent), so that no
    // notification sent after this resolves is missed.
    await this.onChannel(() => this.call({ op: 'listen', channel }));
    return async () => {
      if (!handlers.delete(onNotify) || handlers.size > 0 || this.closed) return;
      await this.onChannel(() => (handlers.size === 0 ? this.call({ op: 'unlisten', channel }) : Promise.resolve()));
    };
  }

  private onChannel(work: () => Promise<unknown>): Promise<void> {
    const next = this.channelWork.then(work).then(() => undefined);
    this.channelWork = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.call({ op: 'close' }).catch(() => undefined);
    this.closed = true;
    await this.worker.terminate();
  }
}

function queryable(client: PgliteWorkerClient, tx?: number): Queryable {
  return {
    query<Row>(sql: string, params: readonly unknown[] = [], options?: QueryOptions) {
      return client.call<Row[]>({ op: 'query', sql, params, tx, reusePlan: options?.reusePlan });
    },
    async exec(sql: string) {
      await client.call({ op: 'exec', sql, tx });
    },
  };
}

export interface PgliteOptions {
  /** PostgreSQL's shared_buffers in MB; PGlite's default (128 MB) when absent. */
  sharedBuffersMb?: number | undefined;
}

export async function openPglite(dataDir: string | undefined, options: PgliteOptions = {}): Promise<Database> {
  const worker = new Worker(path.join(packageRoot(), 'bin', 'pglite-worker.js'), { workerData: { dataDir, sharedBuffersMb: options.sharedBuffersMb } });
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the database thread exited while opening (code ${code})`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (reply: Reply) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if ('failed' in reply) {
        void worker.terminate();
        const error = toError(reply.failed);
        // PGlite says only that it "failed to initialize": name the setting that can cause it.
        if (options.sharedBuffersMb !== undefined && options.sharedBuffersMb > 128) {
          error.message += ` (with a ${options.sharedBuffersMb} MB buffer cache: try a smaller AUTOBUILD_PGLITE_SHARED_BUFFERS_MB)`;
        }
        reject(error);
      } else resolve();
    });
  });
  const client = new PgliteWorkerClient(worker);
  const root = queryable(client);
  // One process holds the embedded database (its pid file refuses a second): a lock is this process's.
  const locks = new KeyedQueue();
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    // One connection: a transaction holds it exclusively, so there are no serialization failures
    // to retry. Statements outside it wait in the worker until it ends.
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const tx = await client.call<number>({ op: 'begin' });
      let result: T;
      try {
        result = await fn(queryable(client, tx));
      } catch (error) {
        await client.call({ op: 'rollback', tx }).catch(() => undefined);
        throw error;
      }
      await client.call({ op: 'commit', tx });
      return result;
    },
    exclusive: (key, fn) => locks.run(key, fn),
    async listen(channel, onNotify) {
      assertChannelName(channel);
      return client.listen(channel, onNotify);
    },
    close: () => client.close(),
  };
}
