// How a client command fails: the API's message with its code (and a hint for a missing token),
// or a plain sentence for an unreachable service or a bad argument, and a non-zero exit. Anything
// else is a bug and is rethrown, so it shows with its stack.
import { ApiError } from '../clients/http.js';
import { MemoryUnreachableError } from '../clients/memory.js';
import { OrchestratorUnreachableError } from '../clients/orchestrator.js';
import { AppError } from '../platform/errors.js';

/** A problem with what the user asked for, found by the CLI itself. */
export class CliError extends Error {}

export function reportFailure(error: unknown): void {
  if (error instanceof ApiError) {
    const hint = error.status === 401 ? ' (give the token with --token or AUTOBUILD_API_TOKEN)' : '';
    process.stderr.write(`autobuild: ${error.message} [${error.code}, HTTP ${error.status}]${hint}\n`);
    const problems = Array.isArray(error.details) ? (error.details as Array<{ field?: unknown; message?: unknown }>) : [];
    if (problems.length > 1) {
      for (const p of problems) process.stderr.write(`  ${String(p.field ?? '')}: ${String(p.message ?? '')}\n`);
    }
  } else if (
    error instanceof OrchestratorUnreachableError ||
    error instanceof MemoryUnreachableError ||
    error instanceof CliError ||
    error instanceof AppError ||
    error instanceof TypeError
  ) {
    process.stderr.write(`autobuild: ${error.message}\n`);
  } else {
    throw error;
  }
  process.exitCode = 1;
}

/** Wrap an action so that a failed request prints and exits non-zero instead of a stack trace. */
export function runAction<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args) => {
    try {
      await action(...args);
    } catch (error) {
      reportFailure(error);
    }
  };
}
