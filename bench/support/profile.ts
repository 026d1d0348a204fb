// Optional profiling for the benchmarks (BENCH_PROFILE=1): time spent per SQL statement, measured by
// wrapping the database handle the orchestrator is given, and per git subcommand, read from git's
// own trace2 event stream. Neither changes the code under test.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Database, Queryable } from '../../src/platform/database/database.js';

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
      query: async <Row>(sql: string, params?: readonly unknown[]) => {
        const started = performance.now();
        try {
          return await q.query<Row>(sql, params);
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
