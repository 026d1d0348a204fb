// Runs QA checks in a worktree, each as an argv in its own process group with a time limit: a
// cancel, the job's timeout or a shutdown stops it as they stop agents. Each check's outcome is an
// event (the log and /events show it) and part of the job's QA report.
import { runAgentProcess, type StopReason } from '../agents/agentProcess.js';
import type { RunEvent } from '../agents/runEvents.js';
import type { QaCheckResult } from '../jobs/job.js';
import type { JobLogWriter } from '../logs/jobLogs.js';
import type { QaCheckSpec } from './detectChecks.js';
import { storableText } from '../../platform/database/storable.js';

const TAIL_CHARS = 4000;

/** The model providers' credentials: a project's checks have no use for them, and their output is shown widely. */
const PROVIDER_CREDENTIALS = /^(ANTHROPIC_API_KEY|ANTHROPIC_AUTH_TOKEN|CLAUDE_CODE_OAUTH_TOKEN|OPENAI_API_KEY|CODEX_API_KEY)$/;
/** Variables whose values are masked wherever a check's output is shown (events, log, the agent, a pull request). */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL/i;

/** The checks' environment: the agent's, without the model providers' credentials; and the values to mask. */
export function checkEnvironment(agentEnv: NodeJS.ProcessEnv): { env: NodeJS.ProcessEnv; secrets: string[] } {
  const env: NodeJS.ProcessEnv = { ...agentEnv, CI: 'true' };
  for (const name of Object.keys(env)) if (PROVIDER_CREDENTIALS.test(name)) delete env[name];
  const secrets = Object.entries(agentEnv)
    .filter(([name, value]) => SECRET_NAME.test(name) && typeof value === 'string' && value.length >= 8)
    .map(([, value]) => value as string);
  return { env, secrets };
}

export function maskSecrets(text: string, secrets: string[]): string {
  return secrets.reduce((out, secret) => (out.includes(secret) ? out.split(secret).join('[REDACTED]') : out), text);
}

export interface CheckRunOptions {
  cwd: string;
  /** The agent's environment (provider credentials are removed, secret-looking values masked). */
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
  const { env, secrets } = checkEnvironment(options.env);
  for (const spec of specs) {
    // A cancel (or the job's timeout) between two checks starts no further process.
    if (options.signal.aborted) return { checks, passed: false, stoppedFor: (options.signal.reason as StopReason) ?? 'cancelled' };
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
      { cwd: options.cwd, env, log: capture, timeoutMs: spec.timeoutS * 1000, killGraceMs: options.killGraceMs, signal: options.signal },
    );
    // Its own time limit fails the check; the job's end (cancel, its timeout, shutdown) stops QA.
    if (options.signal.aborted) return { checks, passed: false, stoppedFor: (options.signal.reason as StopReason) ?? 'cancelled' };
    const timedOut = run.stoppedFor === 'timed_out';
    const tail = `${storableText(maskSecrets(output, secrets), TAIL_CHARS, true)}${timedOut ? `\n(killed after ${spec.timeoutS}s)` : ''}${run.spawnError ? `\ncould not start: ${run.spawnError}` : ''}`;
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
