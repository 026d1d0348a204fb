// The whole platform as `npm start` starts it (`autobuild up`, built CLI, temp AUTOBUILD_HOME, ports
// chosen by the system), and Debian's Chromium driven by playwright-core, for the dashboard's tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CLI } from './processes.js';
import { tempDir } from './repo.js';

export const ROOT = path.dirname(path.dirname(CLI));
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

/** Debian's Chromium, or why the browser tests cannot run here. */
export function findChromium(): { path?: string; reason?: string } {
  for (const candidate of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (candidate && existsSync(candidate)) return { path: candidate };
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    if (found) return { path: found };
  } catch {
    // not on PATH
  }
  return { reason: 'Chromium is not installed (apt-get install chromium, or set CHROMIUM_PATH)' };
}

/** Browser tests skip with a message where Chromium is missing, except under CI=true, where they fail. */
export function chromiumOrSkip(): string | undefined {
  const found = findChromium();
  if (found.path) return found.path;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${found.reason}`);
  console.warn(`skipping the dashboard's browser tests: ${found.reason}`);
  return undefined;
}

export interface Platform {
  home: string;
  orchestratorUrl: string;
  memoryUrl: string;
  dashboardUrl: string;
  token: string | undefined;
  output(): string;
  /** A call to the orchestrator's API (with the token, if any). */
  api(method: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

/**
 * `env` is laid over this process's environment, after dropping the variables `unsetEnv` matches
 * (e.g. the machine's own ANTHROPIC_ and CLAUDE settings, which the platform's agents would inherit).
 */
export async function startPlatform(options: { token?: string; env?: Record<string, string>; unsetEnv?: RegExp } = {}): Promise<Platform> {
  const home = tempDir('autobuild-dashboard-');
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['AUTOBUILD_URL', 'AUTOBUILD_API_TOKEN', 'MEMORY_SERVICE_URL', 'DATABASE_URL', 'ANTHROPIC_API_KEY']) delete env[name];
  for (const name of Object.keys(env)) if (options.unsetEnv?.test(name)) delete env[name];
  Object.assign(env, {
    AUTOBUILD_HOME: home,
    ORCHESTRATOR_PORT: '0',
    MEMORY_PORT: '0',
    WEB_PORT: '0',
    EMBEDDING_PROVIDER: 'hash',
    AUTOBUILD_LOG_LEVEL: 'warn',
    ...(options.token ? { AUTOBUILD_API_TOKEN: options.token } : {}),
    ...options.env,
  });
  const child: ChildProcess = spawn(process.execPath, [CLI, 'up'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  const address = (name: string) => new RegExp(`AutoBuild ${name} on (http://\\S+)`).exec(output)?.[1];
  while (!address('dashboard')) {
    if (child.exitCode !== null) throw new Error(`autobuild up exited (${child.exitCode}): ${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`autobuild up did not print the dashboard's address: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const orchestratorUrl = address('orchestrator')!;
  const headers = (body: unknown): Record<string, string> => ({
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  });
  return {
    home,
    orchestratorUrl,
    memoryUrl: address('memory service')!,
    dashboardUrl: address('dashboard')!,
    token: options.token,
    output: () => output,
    async api(method, pathname, body) {
      const response = await fetch(`${orchestratorUrl}${pathname}`, { method, headers: headers(body), body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // text
      }
      return { status: response.status, body: parsed };
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(executablePath: string): Promise<Browser> {
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A page that records every console error and page error. `expectedStatuses` names HTTP statuses
 * a test provokes on purpose (a 400 from the form, a 401 before the token): Chromium logs each as
 * "Failed to load resource: … status of N"; those, and only those, are not counted.
 */
export class WatchedPage {
  readonly errors: string[] = [];
  expectedStatuses = new Set<number>();

  private constructor(
    readonly context: BrowserContext,
    readonly page: Page,
  ) {
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const status = /status of (\d{3})/.exec(message.text())?.[1];
      if (status && this.expectedStatuses.has(Number(status))) return;
      this.errors.push(`console: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => this.errors.push(`page error: ${error.message}`));
  }

  static async open(browser: Browser, options: { width?: number; height?: number; colorScheme?: 'light' | 'dark' } = {}): Promise<WatchedPage> {
    const context = await browser.newContext({
      viewport: { width: options.width ?? 1400, height: options.height ?? 900 },
      colorScheme: options.colorScheme ?? 'light',
      deviceScaleFactor: 1,
    });
    return new WatchedPage(context, await context.newPage());
  }

  async screenshot(name: string): Promise<void> {
    mkdirSync(SCREENSHOTS, { recursive: true });
    await this.page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  async close(): Promise<void> {
    await this.context.close();
  }
}

/** The Claude Code CLI's launcher in node_modules (the native binary once its postinstall ran), if it runs here. */

export function commandAgent(script: string) {
  return { type: 'command', command: ['sh', '-c', script] };
}
