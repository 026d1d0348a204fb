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

/**
 * A file appended to through one write stream (opened on the first write): writes reach the file in
 * the order they were made. Errors (a full disk) end the stream and are dropped: the log must never
 * fail the job.
 */
class AppendStream {
  private stream: WriteStream | undefined;
  private last: Promise<void> = Promise.resolve();

  constructor(private readonly file: string) {}

  /** Resolves once this chunk (and every one before it) is written, or failed. */
  write(chunk: Buffer | string): Promise<void> {
    if (!this.stream) {
      this.stream = createWriteStream(this.file, { flags: 'a' });
      this.stream.on('error', () => undefined);
    }
    const stream = this.stream;
    this.last = new Promise<void>((resolve) => stream.write(chunk, () => resolve()));
    return this.last;
  }

  flushed(): Promise<void> {
    return this.last;
  }

  /** Ends the stream; resolves once the file is closed (at once if it never opened or failed). */
  end(): Promise<void> {
    const stream = this.stream;
    if (!stream || stream.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.end();
    });
  }
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
  /**
   * Each job with an open writer in this process: its next seq (two writers never reuse a number) and
   * its files, shared by its writers. Why shared: a recovery's note and the next attempt's lines are
   * written by two writers at once; with a stream each, the two streams' writes reached the file in
   * either order, so lines could stand out of seq order (a reader paging by seq would skip one).
   * One stream per file keeps the file in the order the lines were written.
   */
  private readonly open_ = new Map<string, { seq: number; writers: number; text: AppendStream; events: AppendStream; raw: AppendStream }>();

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
    let state = this.open_.get(jobId);
    if (!state) {
      // Seq continues across attempts, resumes and notes: the file's line count so far (a torn last
      // line is ended first, so it cannot swallow the next event).
      const existing = countLines(this.eventsPathOf(jobId));
      state = {
        seq: existing.lines + (existing.torn ? 1 : 0),
        writers: 0,
        text: new AppendStream(this.pathOf(jobId)),
        events: new AppendStream(this.eventsPathOf(jobId)),
        raw: new AppendStream(this.rawPathOf(jobId)),
      };
      if (existing.torn) state.events.write('\n');
      this.open_.set(jobId, state);
    }
    state.writers += 1;
    const files = state;
    const emit = () => this.events.emit(jobId);
    const event = (raw: RunEvent) => {
      const value = bounded(raw);
      const at = new Date().toISOString();
      files.seq += 1;
      files.events.write(`${JSON.stringify({ seq: files.seq, at, ...value })}\n`);
      const line = renderEvent(value, at);
      if (line === null) emit();
      else files.text.write(`${line}\n`).then(emit);
    };
    let closed = false;
    return {
      write: (chunk) => void files.raw.write(chunk),
      event,
      note: (message) => event({ kind: 'note', text: message }),
      close: async () => {
        // Once: a second close must not count this writer out again (another writer's seq would restart).
        if (closed) return;
        closed = true;
        files.writers -= 1;
        const last = files.writers === 0;
        if (last && this.open_.get(jobId) === files) this.open_.delete(jobId);
        // What this writer wrote is on disk when close resolves; the last writer also ends the files.
        await Promise.all([files.raw, files.events, files.text].map((file) => (last ? file.end() : file.flushed())));
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
