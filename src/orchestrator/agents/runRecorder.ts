// Between an agent process and its job log: the raw output is kept as it comes, cut into lines per
// stream (stdout and stderr separately, so their partial lines never mix), each line parsed by the
// agent's stream parser, and the resulting events stored, rendered and handed to a listener
// (budgets, rate limits) as they happen.
import { StringDecoder } from 'node:string_decoder';
import type { JobLogWriter } from '../logs/jobLogs.js';
import type { AgentStreamParser, RunEvent, RunReport } from './runEvents.js';

/** A line longer than this is cut (a runaway tool output must not grow the buffer without end). */
const MAX_LINE = 4 * 1024 * 1024;

export class RunRecorder {
  private readonly pending = { stdout: '', stderr: '' };
  private readonly decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };

  constructor(
    private readonly parser: AgentStreamParser,
    private readonly log: JobLogWriter,
    private readonly onEvent: (event: RunEvent) => void = () => undefined,
  ) {}

  /** The writer to hand the agent process: raw output in, events out. */
  writer(): JobLogWriter {
    return {
      write: (chunk, stream = 'stdout') => this.push(chunk, stream),
      event: (event) => this.emit(event),
      note: (message) => this.emit({ kind: 'note', text: message }),
      close: () => this.log.close(),
    };
  }

  push(chunk: Buffer | string, stream: 'stdout' | 'stderr'): void {
    this.log.write(chunk, stream);
    let text = this.pending[stream] + (typeof chunk === 'string' ? chunk : this.decoders[stream].write(chunk));
    let cut = text.indexOf('\n');
    while (cut >= 0) {
      this.parse(text.slice(0, cut).replace(/\r$/, ''));
      text = text.slice(cut + 1);
      cut = text.indexOf('\n');
    }
    if (text.length > MAX_LINE) {
      this.parse(text);
      text = '';
    }
    this.pending[stream] = text;
  }

  /** The last lines without a newline (the process ended). */
  flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      const rest = this.pending[stream] + this.decoders[stream].end();
      this.pending[stream] = '';
      if (rest.trim()) this.parse(rest);
    }
  }

  report(): RunReport {
    return this.parser.report();
  }

  private parse(line: string): void {
    let events: RunEvent[];
    try {
      events = this.parser.line(line);
    } catch (error) {
      events = [{ kind: 'unknown', type: 'unreadable', summary: (error as Error).message }];
    }
    for (const event of events) this.emit(event);
  }

  private emit(event: RunEvent): void {
    this.log.event(event);
    try {
      this.onEvent(event);
    } catch {
      // a listener's failure never stops the record
    }
  }
}
