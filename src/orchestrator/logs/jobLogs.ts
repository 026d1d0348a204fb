// Job logs: per job under $AUTOBUILD_HOME/logs, append-only: the run's events (`<id>.events.jsonl`,
// one JSON object per line with its seq and time, served by /events), the readable log rendered
// from them (`<id>.log`, served by /logs), and the agent's raw output (`<id>.agent.log`, for
// diagnosis). In-process events wake live followers (SSE) at once; followers in another process
// read the files.
import { EventEmitter } from 'node:events';
import { createWriteStream, existsSync, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
import type { RunEvent, StoredRunEvent } from '../agents/runEvents.js';
import { renderEvent } from './renderEvent.js';

export interface JobLogWriter {
  /** Raw agent output (stdout or stderr): kept for diagnosis, not shown in the readable log. */
  write(chunk: Buffer | string, stream?: 'stdout' | 'stderr'): void;
  /** One event of the run: stored, and rendered as a line of the readable log. */
  event(event: RunEvent): void;
  /** A line from the orchestrator itself (a `note` event). */
  note(message: string): void;
  close(): Promise<void>;
}

/** Where a reader of the events left off: the byte offset into the events file and the last seq read. */
export interface EventsPage {
  events: StoredRunEvent[];
  /** Byte offset after the last whole line read. */
  offset: number;
}

/** Lines already in a file (the next event's seq is this plus one), and whether its last line is torn (no newline: a crash mid-write). */
function countLines(file: string): { lines: number; torn: boolean } {
  if (!existsSync(file)) return { lines: 0, torn: false };
  const data = readFileSync(file);
  let lines = 0;
  for (const byte of data) if (byte === 10) lines++;
  return { lines, torn: data.length > 0 && data[data.length - 1] !== 10 };
}

/** Longest string kept in a stored event: a runaway line of output must not make one event megabytes long. */
const MAX_EVENT_TEXT = 64 * 1024;

function bounded(event: RunEvent): RunEvent {
  let cut: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(event)) {
    if (typeof value === 'string' && value.length > MAX_EVENT_TEXT) {
      cut ??= { ...event };
      cut[key] = `${value.slice(0, MAX_EVENT_TEXT)}… (${value.length - MAX_EVENT_TEXT} more characters cut)`;
    }
  }
  return (cut as RunEvent | undefined) ?? event;
}

export class JobLogs {
  private readonly events = new EventEmitter();
  /** The next seq of each job with an open writer in this process: two writers never reuse a number. */
  private readonly sequences = new Map<string, { seq: number; writers: number }>();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.events.setMaxListeners(0);
  }

  pathOf(jobId: string): string {
    return path.join(this.dir, `${jobId}.log`);
  }

  eventsPathOf(jobId: string): string {
    return path.join(this.dir, `${jobId}.events.jsonl`);
  }

  rawPathOf(jobId: string): string {
    return path.join(this.dir, `${jobId}.agent.log`);
  }

  open(jobId: string): JobLogWriter {
    const text: WriteStream = createWriteStream(this.pathOf(jobId), { flags: 'a' });
    const events: WriteStream = createWriteStream(this.eventsPathOf(jobId), { flags: 'a' });
    let raw: WriteStream | undefined;
    for (const stream of [text, events]) stream.on('error', () => undefined);
    // Seq continues across attempts, resumes and notes: the file's line count so far (a torn last
    // line is ended first, so it cannot swallow the next event), shared by this process's writers.
    let sequence = this.sequences.get(jobId);
    if (!sequence) {
      const existing = countLines(this.eventsPathOf(jobId));
      if (existing.torn) events.write('\n');
      sequence = { seq: existing.lines + (existing.torn ? 1 : 0), writers: 0 };
      this.sequences.set(jobId, sequence);
    }
    sequence.writers += 1;
    const state = sequence;
    const emit = () => this.events.emit(jobId);
    const event = (raw: RunEvent) => {
      const value = bounded(raw);
      const at = new Date().toISOString();
      state.seq += 1;
      events.write(`${JSON.stringify({ seq: state.seq, at, ...value })}\n`);
      const line = renderEvent(value, at);
      if (line === null) emit();
      else text.write(`${line}\n`, emit);
    };
    let closed = false;
    return {
      write: (chunk) => {
        if (!raw) {
          raw = createWriteStream(this.rawPathOf(jobId), { flags: 'a' });
          raw.on('error', () => undefined);
        }
        raw.write(chunk);
      },
      event,
      note: (message) => event({ kind: 'note', text: message }),
      close: async () => {
        // Once: a second close must not count this writer out again (another writer's seq would restart).
        if (closed) return;
        closed = true;
        state.writers -= 1;
        if (state.writers === 0) this.sequences.delete(jobId);
        const end = (stream: WriteStream | undefined) => new Promise<void>((resolve) => (stream ? stream.end(() => resolve()) : resolve()));
        await Promise.all([end(raw), end(events), end(text)]);
        emit();
      },
    };
  }

  /** Wake followers of a job (new output, or the job ended). */
  touch(jobId: string): void {
    this.events.emit(jobId);
  }

  /** Resolves on the next write to the job's log in this process, or after ms. */
  waitForChange(jobId: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off(jobId, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.events.on(jobId, done);
      signal?.addEventListener('abort', done);
    });
  }

  async size(jobId: string): Promise<number> {
    try {
      return (await stat(this.pathOf(jobId))).size;
    } catch {
      return 0;
    }
  }

  /** Bytes of the readable log from offset to the current end (empty when the log does not exist yet). */
  readFrom(jobId: string, offset: number, maxBytes = 1 << 20): Promise<Buffer> {
    return readBytes(this.pathOf(jobId), offset, maxBytes);
  }

  /**
   * Events with seq > afterSeq, at most limit, reading the events file from a byte offset known to
   * be at or before them (0 when unknown). A line still being written is left for the next read.
   */
  async readEvents(jobId: string, options: { afterSeq: number; limit: number; offset?: number }): Promise<EventsPage> {
    const out: StoredRunEvent[] = [];
    let offset = options.offset ?? 0;
    let window = 1 << 20;
    for (;;) {
      const chunk = await readBytes(this.eventsPathOf(jobId), offset, window);
      if (chunk.length === 0) return { events: out, offset };
      const lastNewline = chunk.lastIndexOf(10);
      if (lastNewline < 0) {
        // A line longer than the window (an old log's, before events were bounded): read a larger one.
        if (chunk.length < window) return { events: out, offset };
        window *= 4;
        continue;
      }
      window = 1 << 20;
      let start = 0;
      while (start <= lastNewline) {
        const end = chunk.indexOf(10, start);
        const line = chunk.subarray(start, end).toString('utf8');
        start = end + 1;
        try {
          const stored = JSON.parse(line) as StoredRunEvent;
          if (stored.seq > options.afterSeq) {
            out.push(stored);
            if (out.length >= options.limit) return { events: out, offset: offset + start };
          }
        } catch {
          // a torn line (a crash mid-write): skipped
        }
      }
      offset += lastNewline + 1;
    }
  }
}

async function readBytes(file: string, offset: number, maxBytes: number): Promise<Buffer> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await handle.stat();
    const length = Math.max(0, Math.min(size - offset, maxBytes));
    if (length === 0) return Buffer.alloc(0);
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
