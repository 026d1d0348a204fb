// Real orchestrator server processes (the built CLI), for crash and multi-replica tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin', 'autobuild.js');

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Where each service takes its port and answers its health check. */
const SERVICES = {
  orchestrator: { portVar: 'ORCHESTRATOR_PORT', health: '/api/v1/health', startS: 30 },
  memory: { portVar: 'MEMORY_PORT', health: '/health', startS: 60 },
} as const;

/** `autobuild <command>` as its own process, on a free port, once its health check answers. */
export async function startServerProcess(env: Record<string, string>, command: keyof typeof SERVICES = 'orchestrator'): Promise<ServerProcess> {
  const service = SERVICES[command];
  const port = await freePort();
  const child = spawn(process.execPath, [CLI, command], {
    env: { ...process.env, AUTOBUILD_LOG_LEVEL: 'warn', [service.portVar]: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + service.startS * 1000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited early (${child.exitCode}): ${output}`);
    try {
      const res = await fetch(`${url}${service.health}`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${command} did not become healthy: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    child,
    output: () => output,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
