// What the benchmarks share: an orchestrator on a real port over embedded PGlite in a temporary
// AUTOBUILD_HOME, throwaway git repositories, git through execFile, and table/statistics output.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig, type Config } from '../../src/platform/config.js';
import type { Database } from '../../src/platform/database/database.js';
import { openPglite } from '../../src/platform/database/pglite.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildOrchestrator, type Orchestrator } from '../../src/orchestrator/orchestrator.js';

const execFileAsync = promisify(execFile);

/** A whole-number setting from the environment (the benchmarks' own knobs, BENCH_*). */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, not "${raw}"`);
  return value;
}

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

// ---------------------------------------------------------------------------------------------
// git

/** The same variables the orchestrator's git helper sets, so both sides run git alike. */
const GIT_ENV: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };

export async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: GIT_ENV, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' });
  return stdout.trim();
}

/** A repository with one commit on `main` (README.md), like the tests' createTestRepo. */
export async function createRepo(prefix = 'autobuild-bench-repo-'): Promise<string> {
  const dir = tempDir(prefix);
  await git(dir, ['init', '-q', '-b', 'main']);
  await git(dir, ['config', 'user.name', 'Bench']);
  await git(dir, ['config', 'user.email', 'bench@example.com']);
  await git(dir, ['config', 'commit.gpgsign', 'false']);
  writeFileSync(path.join(dir, 'README.md'), '# benchmark repository\n');
  await git(dir, ['add', '-A']);
  await git(dir, ['commit', '-q', '-m', 'initial commit']);
  return dir;
}

/**
 * The content of `<branch>:<file>` for many branches in one `git cat-file --batch` process.
 * Missing objects come back as undefined.
 */
export function readFilesOnBranches(repo: string, branches: string[], file: string): Promise<Map<string, string | undefined>> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', ['cat-file', '--batch'], { cwd: repo, env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`git cat-file --batch exited with ${code}: ${stderr.trim()}`));
      const out = Buffer.concat(chunks);
      const result = new Map<string, string | undefined>();
      let offset = 0;
      for (const branch of branches) {
        const eol = out.indexOf(0x0a, offset);
        if (eol < 0) return reject(new Error('git cat-file --batch output ended early'));
        const header = out.subarray(offset, eol).toString('utf8');
        offset = eol + 1;
        if (header.endsWith(' missing') || header.endsWith(' ambiguous')) {
          result.set(branch, undefined);
          continue;
        }
        const size = Number(header.split(' ')[2]);
        result.set(branch, out.subarray(offset, offset + size).toString('utf8'));
        offset += size + 1; // the content is followed by a newline
      }
      resolve(result);
    });
    child.stdin.end(branches.map((branch) => `${branch}:${file}\n`).join(''));
  });
}

/** A promise-chain mutex: work runs one at a time, in call order (what the orchestrator does per repository). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const current = this.tail.catch(() => undefined).then(work);
    this.tail = current;
    return current;
  }
}

// ---------------------------------------------------------------------------------------------
// the orchestrator

export interface BenchOrchestrator {
  url: string;
  home: string;
  config: Config;
  db: Database;
  orchestrator: Orchestrator;
  /** Stop the service, close the database; the home directory is removed unless keep is set. */
  stop(options?: { keep?: boolean }): Promise<void>;
}

/**
 * buildOrchestrator in this process over embedded PGlite (on disk, in a fresh AUTOBUILD_HOME),
 * listening on 127.0.0.1 on a free port. The configuration comes from a fixed environment, not
 * the caller's, so a DATABASE_URL or config file around the benchmark cannot change what it measures.
 */
export async function startBenchOrchestrator(options: {
  maxParallel: number;
  runJobs: boolean;
  /** Wraps the database handle (profiling). */
  wrapDb?: (db: Database) => Database;
}): Promise<BenchOrchestrator> {
  const home = tempDir('autobuild-bench-home-');
  const config = loadConfig({
    AUTOBUILD_HOME: home,
    AUTOBUILD_HOST: '127.0.0.1',
    ORCHESTRATOR_PORT: '0',
    AUTOBUILD_MAX_PARALLEL: String(options.maxParallel),
    AUTOBUILD_LOG_LEVEL: 'silent',
    AUTOBUILD_DEFAULT_AGENT: 'command',
  });
  const logger = createLogger({ level: config.logLevel });
  const dataDir = path.join(home, 'db');
  mkdirSync(dataDir, { recursive: true });
  const opened = await openPglite(dataDir, { sharedBuffersMb: config.pgliteSharedBuffersMb });
  const db = options.wrapDb ? options.wrapDb(opened) : opened;
  const orchestrator = await buildOrchestrator({ config, db, logger, agentEnv: process.env, runJobs: options.runJobs });
  const url = await orchestrator.start();
  return {
    url,
    home,
    config,
    db,
    orchestrator,
    async stop(stopOptions = {}) {
      await orchestrator.stop();
      await opened.close();
      if (!stopOptions.keep) rmSync(home, { recursive: true, force: true });
    },
  };
}

export interface ApiResponse<T> {
  status: number;
  body: T;
}

export async function api<T>(base: string, method: string, urlPath: string, body?: unknown): Promise<ApiResponse<T>> {
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed as T };
}

/** Run count tasks with at most `concurrency` at a time; task(i) for i in 0..count-1. */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < count; i = next++) await task(i);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}

// ---------------------------------------------------------------------------------------------
// figures

/** Nearest-rank percentile of values sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

export function round(value: number, digits = 2): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** A plain-text table: the first column left-aligned, the others right-aligned. */
export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, col) => Math.max(...cells.map((row) => (row[col] ?? '').length)));
  const line = (row: string[]) => row.map((cell, col) => (col === 0 ? cell.padEnd(widths[col]!) : cell.padStart(widths[col]!))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(cells[0]!), rule, ...cells.slice(1).map(line)].join('\n');
}

export function seconds(fromMs: number, toMs: number): number {
  return (toMs - fromMs) / 1000;
}
