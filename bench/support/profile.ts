// Optional profiling for the benchmarks (BENCH_PROFILE=1): time spent per SQL statement, measured by
// wrapping the database handle the orchestrator is given, and per git subcommand, read from git's
// own trace2 event stream. Neither changes the code under test.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Database, Queryable, QueryOptions } from '../../src/platform/database/database.js';

export interface Tally {
  key: string;
  count: number;
  totalMs: number;
}

class Tallies {
  private readonly byKey = new Map<string, Tally>();

  add(key: string, ms: number): void {
    const tally = this.byKey.get(key) ?? { key, count: 0, totalMs: 0 };
    tally.count += 1;
    tally.totalMs += ms;
    this.byKey.set(key, tally);
  }

  reset(): void {
    this.byKey.clear();
  }

  top(n: number): Tally[] {
    return [...this.byKey.values()].sort((a, b) => b.totalMs - a.totalMs).slice(0, n);
  }
}

function sqlKey(sql: string): string {
  const flat = sql.replace(/\s+/g, ' ').trim();
  return flat.length > 90 ? `${flat.slice(0, 87)}...` : flat;
}

/**
 * Times every query made through the handle (from the call to the answer, so waiting for PGlite's
 * single connection counts too). Statements inside a transaction are tallied one by one, and the
 * whole transaction once more under "transaction".
 */
export class SqlProfile {
  readonly tallies = new Tallies();

  wrap(db: Database): Database {
    const timeQueries = (q: Queryable): Queryable => ({
      query: async <Row>(sql: string, params?: readonly unknown[], options?: QueryOptions) => {
        const started = performance.now();
        try {
          return await q.query<Row>(sql, params, options);
        } finally {
          this.tallies.add(sqlKey(sql), performance.now() - started);
        }
      },
      exec: (sql: string) => q.exec(sql),
    });
    const root = timeQueries(db);
    return {
      kind: db.kind,
      query: root.query,
      exec: root.exec,
      transaction: async (fn) => {
        const started = performance.now();
        try {
          return await db.transaction((tx) => fn(timeQueries(tx)));
        } finally {
          this.tallies.add('transaction (whole)', performance.now() - started);
        }
      },
      listen: (channel, onNotify) => db.listen(channel, onNotify),
      close: () => db.close(),
    };
  }
}

interface TraceEvent {
  event?: string;
  sid?: string;
  argv?: string[];
  t_abs?: number;
}

/** The git subcommand of an argv, skipping `-c name=value` and other leading options. */
function subcommand(argv: string[]): string {
  const words: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '-C') {
      i++;
      continue;
    }
    if (arg.startsWith('-') && words.length === 0) {
      if (arg === '--version') return arg;
      continue;
    }
    words.push(arg);
    if (words[0] !== 'worktree' || words.length === 2) break;
  }
  return words.join(' ') || '(none)';
}

/**
 * Per-subcommand time of the top-level git processes recorded in a GIT_TRACE2_EVENT file
 * (the time each process took from its start to its exit, as git measures it; process spawn
 * overhead on the caller's side is not included).
 */
export function gitTraceTallies(file: string): Tally[] {
  const tallies = new Tallies();
  const starts = new Map<string, string>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  for (const line of text.split('\n')) {
    if (!line) continue;
    let event: TraceEvent;
    try {
      event = JSON.parse(line) as TraceEvent;
    } catch {
      continue;
    }
    if (!event.sid || event.sid.includes('/')) continue; // children of a git process are part of its time
    if (event.event === 'start' && event.argv) starts.set(event.sid, subcommand(event.argv));
    if (event.event === 'exit' && typeof event.t_abs === 'number') {
      tallies.add(starts.get(event.sid) ?? '(unknown)', event.t_abs * 1000);
    }
  }
  return tallies.top(50);
}

/**
 * How long the event loop is blocked by starting one child process (spawn's synchronous part:
 * libuv forks the calling process, which costs more the more memory the process holds).
 */
export async function syncSpawnCostMs(samples = 30): Promise<number> {
  let total = 0;
  const exits: Array<Promise<void>> = [];
  for (let i = 0; i < samples; i++) {
    const started = performance.now();
    const child = spawn('git', ['--version'], { stdio: 'ignore' });
    total += performance.now() - started;
    exits.push(new Promise((resolve) => child.on('close', () => resolve())));
  }
  await Promise.all(exits);
  return total / samples;
}

/**
 * CPU seconds used so far by this process, its children and everything they started and reaped
 * (the process launchers count with the git and agent processes they started). Read from
 * /proc: utime + stime + cutime + cstime of this process and of each live direct child. Linux
 * only; undefined elsewhere. Clock ticks are 10 ms, so compare runs of seconds, not single jobs.
 */
export function processTreeCpuS(): number | undefined {
  const TICKS_PER_S = 100;
  const ticks = (stat: string): { ppid: number; cpu: number } => {
    // The fields after "(comm)"; comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const num = (i: number) => Number(fields[i - 3]);
    return { ppid: num(4), cpu: num(14) + num(15) + num(16) + num(17) };
  };
  try {
    let total = ticks(readFileSync('/proc/self/stat', 'utf8')).cpu;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      const child = ticks(stat);
      if (child.ppid === process.pid) total += child.cpu;
    }
    return total / TICKS_PER_S;
  } catch {
    return undefined;
  }
}

/** CPU seconds by where they were spent: this process's threads by name, and each child process with what it reaped. */
export type CpuBreakdown = Map<string, number>;

function statCpuTicks(stat: string): { ppid: number; self: number; reaped: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const num = (i: number) => Number(fields[i - 3]);
  return { ppid: num(4), self: num(14) + num(15), reaped: num(16) + num(17) };
}

/**
 * A snapshot for cpuBreakdownSince: threads of this process (by their name, e.g. the main thread
 * "node", the database worker, libuv's thread pool) and direct children (e.g. the process
 * launchers) split into their own CPU and that of the processes they started and reaped.
 */
export function cpuBreakdown(): CpuBreakdown {
  const out: CpuBreakdown = new Map();
  const add = (key: string, ticks: number) => out.set(key, (out.get(key) ?? 0) + ticks / 100);
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
        const ticks = statCpuTicks(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8'));
        add(`this process: thread ${name}${Number(tid) === process.pid ? ' (main)' : ''}`, ticks.self);
      } catch {
        // the thread ended
      }
    }
    add('this process: children it reaped', statCpuTicks(readFileSync('/proc/self/stat', 'utf8')).reaped);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const ticks = statCpuTicks(readFileSync(`/proc/${entry}/stat`, 'utf8'));
        if (ticks.ppid !== process.pid) continue;
        const name = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, 2).map((part) => part.split('/').pop()).join(' ');
        add(`child ${name}: itself`, ticks.self);
        add(`child ${name}: processes it started`, ticks.reaped);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    // not Linux
  }
  return out;
}

export function cpuBreakdownSince(start: CpuBreakdown): Tally[] {
  const now = cpuBreakdown();
  return [...now]
    .map(([key, value]) => ({ key, count: 1, totalMs: (value - (start.get(key) ?? 0)) * 1000 }))
    .filter((tally) => tally.totalMs > 0)
    .sort((a, b) => b.totalMs - a.totalMs);
}
