// What a Codex run needs beyond its stdout, set up once the orchestrator knows whether it resumes a
// thread: the model (stdout never names it: `--model`, else $CODEX_HOME/config.toml, corrected by
// the rollout); what a resumed thread already reported (Codex reports the thread's total, earlier
// runs and jobs included, and the job must count only its own share); and the session's rollout
// file, followed while the run goes, because `codex exec --json` reports tokens only when the turn
// ends, and a budget must be able to stop a run before that.
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Queryable } from '../../platform/database/database.js';
import type { JobRow } from '../jobs/job.js';
import { codexStreamParser, type CodexStreamParser } from './codexStream.js';
import { addUsage, ZERO_USAGE, type AgentStreamParser, type RunEvent, type TokenUsage } from './runEvents.js';
import { codexHome, codexRolloutPath } from './sessions.js';

const POLL_MS = 250;
const CHUNK = 1024 * 1024;

/**
 * The model config.toml in $CODEX_HOME sets: its top-level `model`, or the `model` of the profile it
 * selects. Null when none is set (Codex then runs its own default, which the rollout names).
 */
export function codexConfiguredModel(env: NodeJS.ProcessEnv): string | null {
  const home = codexHome(env);
  if (!home) return null;
  let text: string;
  try {
    text = readFileSync(path.join(home, 'config.toml'), 'utf8');
  } catch {
    return null;
  }
  const tables = new Map<string, Map<string, string>>([['', new Map()]]);
  let table = tables.get('')!;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const header = /^\[\s*([^\]]+?)\s*\]/.exec(line);
    if (header) {
      const name = header[1]!.replace(/["']/g, '').replace(/\s*\.\s*/g, '.');
      table = tables.get(name) ?? new Map();
      tables.set(name, table);
      continue;
    }
    const pair = /^([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(line);
    if (pair) table.set(pair[1]!, pair[2] ?? pair[3]!);
  }
  const top = tables.get('')!;
  const profile = top.get('profile');
  return (profile ? tables.get(`profiles.${profile}`)?.get('model') : undefined) ?? top.get('model') ?? null;
}

/**
 * What the thread a job resumes already reported: the usage of the jobs of its job tree that ran
 * that Codex session (the job's own earlier runs included). Null when none did.
 */
export async function resumedThreadUsage(db: Queryable, job: Pick<JobRow, 'id' | 'thread_id'>, sessionId: string): Promise<TokenUsage | null> {
  const rows = await db.query<{ usage: TokenUsage | null }>(
    `select usage from orchestrator.jobs where (id = $1 or thread_id = $1) and session_id = $2 and usage is not null`,
    [job.thread_id ?? job.id, sessionId],
  );
  if (rows.length === 0) return null;
  return rows.reduce<TokenUsage>((sum, row) => addUsage(sum, row.usage ?? {}), { ...ZERO_USAGE });
}

export interface CodexRunOptions {
  db: Queryable;
  job: Pick<JobRow, 'id' | 'thread_id'>;
  /** The agent's environment (its CODEX_HOME). */
  env: NodeJS.ProcessEnv;
  /** The worktree. */
  cwd: string;
  /** The thread this run resumes, if it does. */
  resumeSessionId: string | null;
  /** The model given to Codex on its command line, if any. */
  model: string | null;
  /** Where the events the rollout tells between two lines of the agent's output go (the job's record). */
  emit: (event: RunEvent) => void;
  pollMs?: number;
}

export interface CodexRun {
  /** The run's parser: the agent's output lines, each after what the rollout told until then. */
  parser: AgentStreamParser;
  /** Reads what the rollout holds still unread, then stops following it. */
  finish(): void;
}

export async function startCodexRun(options: CodexRunOptions): Promise<CodexRun> {
  const { env, resumeSessionId } = options;
  const priorUsage = resumeSessionId ? await resumedThreadUsage(options.db, options.job, resumeSessionId) : null;
  const inner = codexStreamParser({ cwd: options.cwd, priorUsage, model: options.model ?? codexConfiguredModel(env) });
  const rollout = new RolloutFollower(inner, env, resumeSessionId);
  const timer = setInterval(() => {
    for (const event of rollout.read()) options.emit(event);
  }, options.pollMs ?? POLL_MS);
  timer.unref();
  let finished = false;
  return {
    parser: {
      line: (line) => [...rollout.read(), ...inner.line(line)],
      report: () => inner.report(),
    },
    finish() {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      for (const event of rollout.read()) options.emit(event);
    },
  };
}

/** Reads a Codex session's rollout file as it grows, handing each new line to the parser. */
class RolloutFollower {
  private file: string | null = null;
  private offset = 0;
  private pending = '';
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    private readonly parser: CodexStreamParser,
    private readonly env: NodeJS.ProcessEnv,
    resumeSessionId: string | null,
  ) {
    // A resumed thread's file already holds the earlier runs: only what this run adds is read.
    if (resumeSessionId) {
      this.file = codexRolloutPath(env, resumeSessionId);
      this.offset = this.file ? sizeOf(this.file) : 0;
    }
  }

  read(): RunEvent[] {
    if (!this.file) {
      const session = this.parser.report().sessionId;
      this.file = session ? codexRolloutPath(this.env, session) : null;
      if (!this.file) return [];
    }
    let fd: number;
    try {
      fd = openSync(this.file, 'r');
    } catch {
      return [];
    }
    const events: RunEvent[] = [];
    try {
      const size = fstatSync(fd).size;
      const buffer = Buffer.alloc(Math.min(CHUNK, Math.max(0, size - this.offset)));
      while (this.offset < size) {
        const read = readSync(fd, buffer, 0, Math.min(buffer.length, size - this.offset), this.offset);
        if (read <= 0) break;
        this.offset += read;
        const lines = (this.pending + this.decoder.write(buffer.subarray(0, read))).split('\n');
        this.pending = lines.pop() ?? '';
        for (const line of lines) events.push(...this.parser.rolloutLine(line));
      }
    } catch {
      // the file went away or could not be read: what was read stands
    } finally {
      closeSync(fd);
    }
    return events;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}
