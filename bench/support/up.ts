// `autobuild up` (or `autobuild orchestrator`) started as its own process, as a user runs it (`npm
// start`), in a fresh AUTOBUILD_HOME with a fixed environment: the embedded database, ports chosen
// by the system, no DATABASE_URL or embedding settings inherited from the caller.
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './harness.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Up {
  /** The memory service's URL ('' for `orchestrator`). */
  memoryUrl: string;
  orchestratorUrl: string;
  child: ChildProcess;
  home: string;
  /** SIGTERM, wait for the exit; the home directory is removed unless keep is set. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

export async function startUp(extra: Record<string, string> = {}, mode: 'up' | 'orchestrator' = 'up'): Promise<Up> {
  const home = tempDir('autobuild-bench-up-');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AUTOBUILD_HOME: home,
    AUTOBUILD_HOST: '127.0.0.1',
    ORCHESTRATOR_PORT: '0',
    MEMORY_PORT: '0',
    WEB_PORT: '0',
    AUTOBUILD_LOG_LEVEL: 'warn',
    ...extra,
  };
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/autobuild.js'), mode], { cwd: home, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const urls = await new Promise<{ memory: string; orchestrator: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`autobuild ${mode} did not start in 120 s: ${stderr.slice(-2000)}`)), 120_000);
    const onExit = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`autobuild ${mode} exited with ${code}: ${stderr.slice(-2000)}`));
    };
    child.on('exit', onExit);
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const orchestrator = /orchestrator on (\S+)/.exec(stdout)?.[1] ?? '';
      const memory = /memory service on (\S+)/.exec(stdout)?.[1] ?? '';
      // `serve` prints its URLs in one write once everything listens.
      if (orchestrator !== '' && stdout.endsWith('\n')) {
        clearTimeout(timer);
        child.off('exit', onExit);
        resolve({ memory, orchestrator });
      }
    });
  });
  return {
    memoryUrl: urls.memory,
    orchestratorUrl: urls.orchestrator,
    child,
    home,
    async stop(options = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      if (!options.keep) rmSync(home, { recursive: true, force: true });
    },
  };
}
