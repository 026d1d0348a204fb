// Runs QA checks in a worktree, each as an argv in its own process group with a time limit: a
// cancel, the job's timeout or a shutdown stops it as they stop agents. Each check's outcome is an
// event (the log and /events show it) and part of the job's QA report.
import { runAgentProcess, type StopReason } from '../agents/agentProcess.js';
import type { RunEvent } from '../agents/runEvents.js';
import type { QaCheckResult } from '../jobs/job.js';
import type { JobLogWriter } from '../logs/jobLogs.js';
import type { QaCheckSpec } from './detectChecks.js';

const TAIL_CHARS = 4000;

export interface CheckRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: JobLogWriter;
  killGraceMs: number;
  signal: AbortSignal;
}

export interface ChecksOutcome {
  checks: QaCheckResult[];
  passed: boolean;
  /** The job was cancelled, timed out or shut down while a check ran. */
  stoppedFor: StopReason | null;
}

export async function runChecks(specs: QaCheckSpec[], options: CheckRunOptions): Promise<ChecksOutcome> {
  const checks: QaCheckResult[] = [];
  for (const spec of specs) {
    let output = '';
    const started = Date.now();
    const capture: JobLogWriter = {
      write: (chunk) => {
        output = (output + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'))).slice(-TAIL_CHARS * 2);
      },
      event: (event) => options.log.event(event),
      note: (message) => options.log.note(`${spec.name}: ${message}`),
      close: async () => undefined,
    };
    options.log.note(`QA: ${spec.name} (${spec.command.join(' ')})`);
    const run = await runAgentProcess(
      { file: spec.command[0]!, args: spec.command.slice(1), env: {} },
      { cwd: options.cwd, env: { ...options.env, CI: 'true' }, log: capture, timeoutMs: spec.timeoutS * 1000, killGraceMs: options.killGraceMs, signal: options.signal },
    );
    // Its own time limit fails the check; the job's end (cancel, its timeout, shutdown) stops QA.
    if (options.signal.aborted) return { checks, passed: false, stoppedFor: (options.signal.reason as StopReason) ?? 'cancelled' };
    const timedOut = run.stoppedFor === 'timed_out';
    const tail = `${output.slice(-TAIL_CHARS)}${timedOut ? `\n(killed after ${spec.timeoutS}s)` : ''}${run.spawnError ? `\ncould not start: ${run.spawnError}` : ''}`;
    const result: QaCheckResult = {
      name: spec.name,
      command: spec.command,
      passed: run.exitCode === 0 && !run.stoppedFor && !run.spawnError,
      exit_code: run.exitCode,
      duration_ms: Date.now() - started,
      output_tail: tail,
    };
    checks.push(result);
    const event: RunEvent = {
      kind: 'qa_check',
      name: result.name,
      command: spec.command,
      passed: result.passed,
      exit_code: result.exit_code ?? null,
      duration_ms: result.duration_ms ?? 0,
      output_tail: tail,
    };
    options.log.event(event);
  }
  return { checks, passed: checks.every((c) => c.passed), stoppedFor: null };
}

/** What the agent is told after failing checks: each failed check's command and output tail. */
export function qaFeedback(checks: QaCheckResult[], round: number, rounds: number): string {
  const failed = checks.filter((c) => !c.passed);
  const parts = [`The project's checks failed after your changes (QA round ${round} of ${rounds + 1}). Fix the code so that they pass; do not weaken or skip the checks.`];
  for (const check of failed) {
    parts.push(`\n## ${check.name}: \`${(check.command ?? []).join(' ')}\` exited ${check.exit_code ?? 'without a code'}\n\n\`\`\`\n${(check.output_tail ?? '').trimEnd()}\n\`\`\``);
  }
  return parts.join('\n');
}
