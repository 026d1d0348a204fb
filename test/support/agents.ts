// Command agents for tests: small sh scripts passed as argv (never through a shell string of ours).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Appends its name to file, then exits 0. */
export const recordName = (name: string, file: string) => ({ type: 'command', command: ['sh', '-c', 'echo "$1" >> "$2"', 'sh', name, file] });

/** Waits until the release file exists, then records its name. */
export const waitForRelease = (name: string, release: string, file: string) => ({
  type: 'command',
  command: ['sh', '-c', 'while [ ! -f "$1" ]; do sleep 0.02; done; echo "$2" >> "$3"', 'sh', release, name, file],
});

/** Records "start <ns>" and "end <ns>" lines in dir/<job id>, sleeping in between. */
export const interval = (dir: string, sleepS = 0.3) => ({
  type: 'command',
  command: ['sh', '-c', 'f="$1/$AUTOBUILD_JOB_ID"; echo "start $(date +%s%N)" >> "$f"; sleep "$2"; echo "end $(date +%s%N)" >> "$f"', 'sh', dir, String(sleepS)],
});

export function readIntervals(dir: string, ids: string[]): Array<{ id: string; start: number; end: number }> {
  return ids.map((id) => {
    const lines = readFileSync(path.join(dir, id), 'utf8').trim().split('\n');
    expectOneRun(lines, id);
    const start = Number(lines[0]!.split(' ')[1]) / 1e6;
    const end = Number(lines[1]!.split(' ')[1]) / 1e6;
    return { id, start, end };
  });
}

function expectOneRun(lines: string[], id: string): void {
  if (lines.length !== 2) throw new Error(`job ${id} ran ${lines.length / 2} times: ${lines.join(' | ')}`);
}

/** The largest number of intervals open at one moment. */
export function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const events = intervals.flatMap((i) => [
    { t: i.start, d: 1 },
    { t: i.end, d: -1 },
  ]);
  events.sort((a, b) => a.t - b.t || a.d - b.d);
  let open = 0;
  let max = 0;
  for (const e of events) {
    open += e.d;
    max = Math.max(max, open);
  }
  return max;
}

export function release(file: string): void {
  writeFileSync(file, 'go');
}

export const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

export async function waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
