// Running the built `autobuild` CLI as a child process (argument arrays, no shell), as a user would.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { CLI } from './processes.js';

export const ROOT = path.dirname(path.dirname(CLI));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** This process's environment without its own client settings (they must not leak into the CLI). */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['AUTOBUILD_URL', 'AUTOBUILD_API_TOKEN', 'MEMORY_SERVICE_URL']) delete env[name];
  return { ...env, ...extra };
}

/** Run `autobuild ARGS` to completion. */
export function runCli(args: string[], options: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, env: cliEnv(options.env), timeout: options.timeoutMs ?? 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
