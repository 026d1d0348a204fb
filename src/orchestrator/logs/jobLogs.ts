// Job logs: one append-only file per job under $AUTOBUILD_HOME/logs, plus in-process events so
// that live followers (SSE) see new output at once. Followers in another process read the file.
import { EventEmitter } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import path from 'node:path';

export interface JobLogWriter {
  /** Raw agent output. */
  write(chunk: Buffer | string): void;
  /** A line from the orchestrator itself, marked as such. */
  note(message: string): void;
  close(): Promise<void>;
}

export class JobLogs {
  private readonly events = new EventEmitter();

  constructor(private readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.events.setMaxListeners(0);
  }

  pathOf(jobId: string): string {
    return path.join(this.dir, `${jobId}.log`);
  }

  open(jobId: string): JobLogWriter {
    const stream: WriteStream = createWriteStream(this.pathOf(jobId), { flags: 'a' });
    stream.on('error', () => undefined);
    const emit = () => this.events.emit(jobId);
    return {
      write: (chunk) => {
        stream.write(chunk, emit);
      },
      note: (message) => {
        stream.write(`[autobuild ${new Date().toISOString()}] ${message}\n`, emit);
      },
      close: () => new Promise<void>((resolve) => stream.end(() => (emit(), resolve()))),
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

  /** Bytes from offset to the current end (empty when the log does not exist yet). */
  async readFrom(jobId: string, offset: number, maxBytes = 1 << 20): Promise<Buffer> {
    let handle;
    try {
      handle = await open(this.pathOf(jobId), 'r');
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
}
