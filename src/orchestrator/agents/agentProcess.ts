// Runs one agent process in its own process group, its output to the job log, and stops the whole
// group (SIGTERM, then SIGKILL after a grace period) on cancel, timeout or shutdown. Shared by the
// local executor and the GitHub Actions runner.
import { processStarter } from '../../platform/processes/processLauncher.js';
import type { JobLogWriter } from '../logs/jobLogs.js';
import type { AgentInvocation } from './agentCommand.js';

export type StopReason = 'cancelled' | 'timed_out' | 'shutdown' | 'lease_lost' | 'over_budget';

export interface AgentRunResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Why the orchestrator stopped it, if it did. */
  stoppedFor: StopReason | null;
  /** The process could not be started at all (e.g. the command does not exist). */
  spawnError: string | null;
}

export interface AgentRunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  log: JobLogWriter;
  timeoutMs: number;
  killGraceMs: number;
  /** Aborting with a StopReason as the reason stops the process group. */
  signal: AbortSignal;
  onStart?: (pid: number) => void;
}

export function killProcessGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false;
  }
}

export function runAgentProcess(invocation: AgentInvocation, options: AgentRunOptions): Promise<AgentRunResult> {
  return new Promise((resolve) => {
    let stoppedFor: StopReason | null = null;
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    let pid: number | undefined;
    // Its own process group (detached), so that the whole tree can be signalled.
    const child = processStarter().start(invocation.file, invocation.args, { cwd: options.cwd, env: options.env, detached: true });

    const stop = (reason: StopReason) => {
      if (stoppedFor || settled) return;
      stoppedFor = reason;
      options.log.note(`stopping the agent (${reason.replace('_', ' ')}): SIGTERM to its process group`);
      void child.pid.then((known) => {
        if (known === undefined || settled) return;
        killProcessGroup(known, 'SIGTERM');
        killTimer = setTimeout(() => {
          options.log.note('the agent did not exit in time: SIGKILL to its process group');
          killProcessGroup(known, 'SIGKILL');
        }, options.killGraceMs);
      });
    };
    const onAbort = () => stop((options.signal.reason as StopReason) ?? 'cancelled');
    const timeout = setTimeout(() => stop('timed_out'), options.timeoutMs);

    let spawnError: string | null = null;
    let exited: AgentRunResult | undefined;
    const finish = (result: AgentRunResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      clearTimeout(killTimer);
      options.signal.removeEventListener('abort', onAbort);
      // Whatever the agent left running in its group (daemons, stray children) goes with it.
      if (pid !== undefined) killProcessGroup(pid, 'SIGKILL');
      resolve(result);
    };

    child.on('stdout', (chunk: Buffer) => options.log.write(chunk, 'stdout'));
    child.on('stderr', (chunk: Buffer) => options.log.write(chunk, 'stderr'));
    child.on('error', (error: Error) => {
      spawnError ??= error.message;
      if (pid === undefined) options.log.note(`could not start the agent: ${error.message}`);
    });
    // On 'exit' the rest of the group is killed at once, so a grandchild holding the pipes open
    // cannot keep the job running; 'close' then delivers the last output (or a short wait gives up).
    child.on('exit', (code: number | null, signal: NodeJS.Signals | null) => {
      exited = { exitCode: code, signal, stoppedFor, spawnError: null };
      if (pid !== undefined) killProcessGroup(pid, 'SIGKILL');
      setTimeout(() => finish(exited!), 2000).unref();
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) =>
      finish(exited ?? { exitCode: code, signal, stoppedFor, spawnError: pid === undefined ? (spawnError ?? 'the process did not start') : spawnError }),
    );

    void child.pid.then((known) => {
      pid = known;
      if (known !== undefined) options.onStart?.(known);
    });
    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort);
  });
}
