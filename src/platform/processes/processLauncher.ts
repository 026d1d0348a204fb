// Starting child processes, either in this process or through the launcher process
// (bin/process-launcher.js) so that a large process (the embedded database) does not block its
// event loop forking for every git call and agent. One launcher per process, shared, started on
// demand by whoever asks for it and stopped when the last user lets go.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { KeyedQueue } from '../keyedQueue.js';
import { packageRoot } from '../paths.js';

export interface SpawnOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Its own process group (agents). */
  detached?: boolean;
}

export interface RunOptions extends SpawnOptions {
  timeoutMs?: number;
  /**
   * Runs with the same key run one at a time, in call order (e.g. a repository's path: git's
   * worktree bookkeeping is not safe to run concurrently). The timeout counts from the start.
   */
  serialKey?: string;
}

/** A started process, wherever it was started. */
export interface StartedProcess extends EventEmitter {
  /** Resolves with the pid once known (undefined if it could not start). */
  readonly pid: Promise<number | undefined>;
  // events: 'stdout' (Buffer), 'stderr' (Buffer), 'error' (Error), 'exit' (code, signal), 'close' (code, signal)
}

export interface RunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Why it failed to run at all (not found, timed out). */
  error: string | null;
}

export interface ProcessStarter {
  start(file: string, args: string[], options: SpawnOptions): StartedProcess;
  /** Run to completion, collecting output. */
  run(file: string, args: string[], options: RunOptions): Promise<RunResult>;
}

const localQueues = new KeyedQueue();

/** Starting processes from this process. */
export const localStarter: ProcessStarter = {
  start(file, args, options) {
    const events = new EventEmitter() as StartedProcess;
    let child: ChildProcess;
    let resolvePid!: (pid: number | undefined) => void;
    Object.defineProperty(events, 'pid', { value: new Promise<number | undefined>((r) => (resolvePid = r)) });
    try {
      child = spawn(file, args, { cwd: options.cwd, env: options.env, detached: Boolean(options.detached), stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (error) {
      queueMicrotask(() => {
        resolvePid(undefined);
        events.emit('error', error);
        events.emit('close', null, null);
      });
      return events;
    }
    resolvePid(child.pid);
    child.stdout!.on('data', (d: Buffer) => events.emit('stdout', d));
    child.stderr!.on('data', (d: Buffer) => events.emit('stderr', d));
    child.on('error', (e) => events.emit('error', e));
    child.on('exit', (code, signal) => events.emit('exit', code, signal));
    child.on('close', (code, signal) => events.emit('close', code, signal));
    return events;
  },
  run(file, args, options) {
    const once = () => collect(this.start(file, args, options), options.timeoutMs);
    return options.serialKey ? localQueues.run(options.serialKey, once) : once();
  },
};

function collect(started: StartedProcess, timeoutMs: number | undefined): Promise<RunResult> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let error: string | null = null;
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs) {
      timer = setTimeout(() => {
        error = `timed out after ${timeoutMs} ms`;
        void started.pid.then((pid) => pid && killQuietly(pid, 'SIGKILL'));
      }, timeoutMs);
    }
    started.on('stdout', (d: Buffer) => out.push(d));
    started.on('stderr', (d: Buffer) => err.push(d));
    started.on('error', (e: Error) => (error ??= e.message));
    started.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      resolve({ exitCode: code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), error });
    });
  });
}

function killQuietly(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

type LauncherEvent =
  | { id: number; type: 'done'; pid: number | null; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; error: string | null }
  | { id: number; type: 'started'; pid: number | null }
  | { id: number; type: 'out'; fd: 1 | 2; data: string }
  | { id: number; type: 'error'; message: string }
  | { id: number; type: 'exit' | 'close'; code: number | null; signal: NodeJS.Signals | null };

/** Starting processes through the launcher process. */
class LauncherStarter implements ProcessStarter {
  private nextId = 1;
  private readonly pending = new Map<number, { events: StartedProcess; resolvePid: (pid: number | undefined) => void }>();
  /** Buffered runs: one 'done' message answers each. */
  private readonly runs = new Map<number, (result: RunResult) => void>();
  private alive = true;

  constructor(private readonly child: ChildProcess) {
    child.on('message', (message: LauncherEvent) => this.dispatch(message));
    child.on('exit', () => this.fail('the process launcher exited'));
    child.on('error', () => this.fail('the process launcher failed'));
  }

  get isAlive(): boolean {
    return this.alive && this.child.connected;
  }

  private dispatch(message: LauncherEvent): void {
    if (message.type === 'done') {
      const resolve = this.runs.get(message.id);
      this.runs.delete(message.id);
      resolve?.({ exitCode: message.code, signal: message.signal, stdout: message.stdout, stderr: message.stderr, error: message.error });
      return;
    }
    const entry = this.pending.get(message.id);
    if (!entry) return;
    switch (message.type) {
      case 'started':
        entry.resolvePid(message.pid ?? undefined);
        break;
      case 'out':
        entry.events.emit(message.fd === 1 ? 'stdout' : 'stderr', Buffer.from(message.data, 'base64'));
        break;
      case 'error':
        entry.events.emit('error', new Error(message.message));
        break;
      case 'exit':
        entry.events.emit('exit', message.code, message.signal);
        break;
      case 'close':
        this.pending.delete(message.id);
        entry.resolvePid(undefined);
        entry.events.emit('close', message.code, message.signal);
        break;
    }
  }

  /** The launcher died: every process it was watching is reported as ended, with the reason. */
  private fail(reason: string): void {
    this.alive = false;
    for (const [id, resolve] of this.runs) {
      this.runs.delete(id);
      resolve({ exitCode: null, signal: null, stdout: '', stderr: '', error: reason });
    }
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      entry.resolvePid(undefined);
      entry.events.emit('error', new Error(reason));
      entry.events.emit('close', null, null);
    }
  }

  start(file: string, args: string[], options: SpawnOptions): StartedProcess {
    if (!this.isAlive) return localStarter.start(file, args, options);
    const id = this.nextId++;
    const events = new EventEmitter() as StartedProcess;
    let resolvePid!: (pid: number | undefined) => void;
    Object.defineProperty(events, 'pid', { value: new Promise<number | undefined>((r) => (resolvePid = r)) });
    this.pending.set(id, { events, resolvePid });
    this.child.send({ op: 'spawn', id, file, args, cwd: options.cwd, env: options.env, detached: options.detached });
    return events;
  }

  run(file: string, args: string[], options: RunOptions): Promise<RunResult> {
    if (!this.isAlive) return localStarter.run(file, args, options);
    // The output comes back in one message at the end; the launcher enforces the timeout and
    // queues runs that share a serialKey.
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.runs.set(id, resolve);
      const { cwd, env, detached, timeoutMs, serialKey } = options;
      this.child.send({ op: 'spawn', id, file, args, cwd, env, detached, buffer: true, timeoutMs, serialKey });
    });
  }

  close(): void {
    if (this.child.connected) this.child.disconnect();
  }
}

// Process-wide on purpose: forking is a property of the process, and every module that starts
// processes (git helpers, the agent runner) should use the launchers while they are held.
let shared: { starters: LauncherStarter[]; users: number; next: number } | undefined;

/** Two launchers: a fork costs CPU in the launcher, so two spread it over two cores. */
const LAUNCHERS = 2;

/**
 * Round-robin over the live launchers, or this process when none is held. Runs with a serialKey
 * always go to the same launcher (by a hash of the key), whose queue keeps them in order.
 */
const pooled: ProcessStarter = {
  start(file, args, options) {
    return pick().start(file, args, options);
  },
  run(file, args, options) {
    return pick(options.serialKey).run(file, args, options);
  },
};

function pick(serialKey?: string): ProcessStarter {
  const live = shared?.starters.filter((s) => s.isAlive) ?? [];
  if (!shared || live.length === 0) return localStarter;
  if (serialKey !== undefined) {
    let hash = 0;
    for (let i = 0; i < serialKey.length; i++) hash = (hash * 31 + serialKey.charCodeAt(i)) | 0;
    return live[Math.abs(hash) % live.length]!;
  }
  shared.next = (shared.next + 1) % live.length;
  return live[shared.next]!;
}

/** The starter in use: the launchers while someone holds them, else this process. */
export function processStarter(): ProcessStarter {
  return shared ? pooled : localStarter;
}

async function forkLauncher(): Promise<LauncherStarter> {
  const child = fork(path.join(packageRoot(), 'bin', 'process-launcher.js'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    execArgv: [],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  return new LauncherStarter(child);
}

/**
 * Start (or share) the launcher processes; returns the function that lets go of them.
 * Used by the orchestrator, whose process holds the embedded database.
 */
export async function acquireProcessLauncher(): Promise<() => void> {
  if (!shared || !shared.starters.some((s) => s.isAlive)) {
    shared = { starters: await Promise.all(Array.from({ length: LAUNCHERS }, forkLauncher)), users: 0, next: 0 };
  }
  const held = shared;
  held.users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    held.users--;
    if (held.users === 0) {
      for (const starter of held.starters) starter.close();
      if (shared === held) shared = undefined;
    }
  };
}
