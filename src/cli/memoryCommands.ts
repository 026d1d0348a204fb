// The memory service's client commands: `autobuild index DIR` and `autobuild search QUERY`.
// `index` lists DIR the way the service would (git ls-files, or a walk honouring every .gitignore,
// with the service's own helpers), applies the service's skip rules, and uploads the files inline
// in batches behind a real progress bar. `--sync` cannot be split across batches (the service
// removes the files one call did not see), so it hands the service the directory (`root`) to walk
// itself, with a spinner. Humans get progress on stderr and text; `--json` gets only the result.
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { ApiError, MemoryClient, type IndexFilesResult, type InlineFile, type SearchResult } from '../clients/memory.js';
import { MAX_INDEXED_FILE_BYTES, shouldSkipFile } from '../memory/indexing/language.js';
import { globMatcher, pathProblem } from '../memory/indexing/pathRules.js';
import { listFiles } from '../memory/indexing/walk.js';
import { cell, fields, json } from './output.js';
import { checkedToken, requestTimeoutMs } from './connection.js';
import { CliError, runAction } from './failure.js';

const DEFAULT_MEMORY_URL = 'http://127.0.0.1:8000';
// One upload request: at most this many files or about this many bytes of JSON (the service
// takes 10,000 files and 64 MB by default; a 413 from a stricter one halves the batch).
const BATCH_FILES = 200;
const BATCH_BYTES = 4 * 1024 * 1024;
const READ_CONCURRENCY = 16;

export interface ConnectionOptions {
  memoryUrl?: string;
  token?: string;
}

interface IndexOptions extends ConnectionOptions {
  project: string;
  sync?: boolean;
  paths?: string[];
  json?: boolean;
}

interface SearchOptions extends ConnectionOptions {
  project: string;
  limit?: number;
  pathPrefix?: string;
  language?: string;
  json?: boolean;
}

/** --memory-url and --token, from the environment when not given. */
export function withConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--memory-url <url>', 'memory service base URL').env('MEMORY_SERVICE_URL').default(DEFAULT_MEMORY_URL))
    .addOption(new Option('--token <token>', 'API bearer token').env('AUTOBUILD_API_TOKEN'));
}

export function clientOf(options: ConnectionOptions): MemoryClient {
  return new MemoryClient({ baseUrl: options.memoryUrl || DEFAULT_MEMORY_URL, token: checkedToken(options.token), timeoutMs: requestTimeoutMs(600_000) });
}

export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}.`);
    return Number(value);
  };
}

const out = (text: string) => process.stdout.write(text);

// ---- progress on stderr (only when it is a terminal and no --json) -------------------------------

interface Progress {
  update(done: number): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { update: () => undefined, stop: () => undefined };

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** A bar advanced per uploaded batch: share done, files done of total, files per second. */
function progressBar(total: number): Progress {
  const started = performance.now();
  const width = 30;
  return {
    update(done) {
      const share = total === 0 ? 1 : Math.min(1, done / total);
      const filled = Math.round(share * width);
      const elapsed = (performance.now() - started) / 1000;
      const rate = elapsed > 0 ? Math.round(done / elapsed) : 0;
      const bar = `${'#'.repeat(filled)}${'-'.repeat(width - filled)}`;
      process.stderr.write(`\r\x1b[2Kindexing [${bar}] ${String(Math.round(share * 100)).padStart(3)}%  ${done}/${total} files  ${rate} files/s`);
    },
    stop: () => void process.stderr.write('\r\x1b[2K'),
  };
}

/** While the service walks the directory itself: elapsed time only, it reports nothing before the end. */
function spinner(label: string): Progress {
  const started = performance.now();
  const frames = ['-', '\\', '|', '/'];
  let frame = 0;
  const draw = () => process.stderr.write(`\r\x1b[2K${frames[frame++ % frames.length]} ${label}  ${seconds(performance.now() - started)}`);
  draw();
  const timer = setInterval(draw, 100);
  timer.unref();
  return {
    update: () => undefined,
    stop() {
      clearInterval(timer);
      process.stderr.write('\r\x1b[2K');
    },
  };
}

// ---- index ----------------------------------------------------------------------------------------

/** A file ready to upload, skipped by the service's rules, or gone (not a regular file any more). */
type Read = { file: InlineFile; bytes: number } | 'skipped' | undefined;

async function readSource(root: string, relative: string): Promise<Read> {
  const absolute = path.join(root, relative);
  const info = await lstat(absolute).catch(() => undefined);
  if (!info?.isFile()) return undefined; // symlinks are never followed, as on the service
  if (info.size > MAX_INDEXED_FILE_BYTES) return 'skipped';
  const body = await readFile(absolute).catch(() => undefined);
  if (!body) return undefined;
  // The raw bytes decide (a binary file would not survive a JSON string).
  if (shouldSkipFile(relative, body, body.length).skip) return 'skipped';
  const file = { path: relative, content: body.toString('utf8') };
  return { file, bytes: Buffer.byteLength(JSON.stringify(file)) + 2 };
}

interface Batch {
  files: InlineFile[];
  /** Listed files this batch accounts for (uploaded, skipped or gone): what the bar advances by. */
  considered: number;
  skipped: number;
}

/** The listed files read in parallel and grouped into upload batches; always at least one batch. */
async function* batches(root: string, listed: string[]): AsyncGenerator<Batch> {
  let batch: Batch = { files: [], considered: 0, skipped: 0 };
  let bytes = 0;
  for (let start = 0; start < listed.length; start += READ_CONCURRENCY) {
    const reads = await Promise.all(listed.slice(start, start + READ_CONCURRENCY).map((file) => readSource(root, file)));
    for (const read of reads) {
      if (typeof read === 'object' && batch.files.length > 0 && (batch.files.length >= BATCH_FILES || bytes + read.bytes > BATCH_BYTES)) {
        yield batch;
        batch = { files: [], considered: 0, skipped: 0 };
        bytes = 0;
      }
      batch.considered++;
      if (read === 'skipped') batch.skipped++;
      else if (read) {
        batch.files.push(read.file);
        bytes += read.bytes;
      }
    }
  }
  yield batch;
}

/** One batch; a 413 (a service with smaller limits) splits it in halves. */
async function upload(client: MemoryClient, project: string, paths: string[] | undefined, files: InlineFile[]): Promise<IndexFilesResult[]> {
  try {
    return [await client.index({ project_id: project, files, ...(paths && { paths }) })];
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 413 && files.length > 1)) throw error;
    const half = Math.ceil(files.length / 2);
    return [...(await upload(client, project, paths, files.slice(0, half))), ...(await upload(client, project, paths, files.slice(half)))];
  }
}

function sum(results: IndexFilesResult[], clientSkipped: number, durationMs: number): IndexFilesResult {
  const total = (key: 'indexed_files' | 'skipped_files' | 'chunks_added' | 'chunks_unchanged' | 'chunks_removed') => results.reduce((n, r) => n + r[key], 0);
  return {
    indexed_files: total('indexed_files'),
    skipped_files: total('skipped_files') + clientSkipped,
    chunks_added: total('chunks_added'),
    chunks_unchanged: total('chunks_unchanged'),
    chunks_removed: total('chunks_removed'),
    duration_ms: Math.round(durationMs),
    embedding_model: results.at(-1)?.embedding_model ?? '-',
  };
}

async function uploadDirectory(client: MemoryClient, root: string, options: IndexOptions, showProgress: boolean): Promise<{ result: IndexFilesResult; requests: number }> {
  const started = performance.now();
  let inScope: (file: string) => boolean;
  try {
    inScope = globMatcher(options.paths);
  } catch (error) {
    throw new CliError(`--paths: ${(error as Error).message.replace(/^paths(\.\d+)?: /, '')}`);
  }
  const { files } = await listFiles(root);
  const listed = files.filter((file) => inScope(file) && pathProblem(file) === undefined);
  const progress = showProgress ? progressBar(listed.length) : NO_PROGRESS;
  const results: IndexFilesResult[] = [];
  let done = 0;
  let skipped = 0;
  try {
    progress.update(0);
    for await (const batch of batches(root, listed)) {
      results.push(...(await upload(client, options.project, options.paths, batch.files)));
      done += batch.considered;
      skipped += batch.skipped;
      progress.update(done);
    }
  } finally {
    progress.stop();
  }
  return { result: sum(results, skipped, performance.now() - started), requests: results.length };
}

async function syncDirectory(client: MemoryClient, root: string, options: IndexOptions, showProgress: boolean): Promise<IndexFilesResult> {
  const started = performance.now();
  const progress = showProgress ? spinner(`indexing ${root} on the service (--sync)`) : NO_PROGRESS;
  try {
    const result = await client.index({ project_id: options.project, root, sync: true, ...(options.paths && { paths: options.paths }) });
    return { ...result, duration_ms: Math.round(performance.now() - started) };
  } catch (error) {
    const aboutRoot = error instanceof ApiError && Array.isArray(error.details) && (error.details as Array<{ field?: unknown }>).some((p) => p.field === 'root');
    if (!aboutRoot) throw error;
    const hint = ' (with --sync the service walks DIR itself, so it must run on this machine; without --sync the files are uploaded)';
    throw new ApiError(error.status, error.code, `${error.message}${hint}`, error.details);
  } finally {
    progress.stop();
  }
}

async function checkDirectory(dir: string): Promise<string> {
  const root = path.resolve(dir);
  const info = await stat(root).catch(() => undefined);
  if (!info) throw new CliError(`${root} does not exist`);
  if (!info.isDirectory()) throw new CliError(`${root} is not a directory`);
  return root;
}

function indexSummary(root: string, result: IndexFilesResult, via: string): string {
  return fields([
    ['directory', root],
    ['indexed files', result.indexed_files],
    ['skipped files', result.skipped_files],
    ['chunks added', result.chunks_added],
    ['chunks unchanged', result.chunks_unchanged],
    ['chunks removed', result.chunks_removed],
    ['duration', seconds(result.duration_ms)],
    ['embedding model', result.embedding_model],
    ['via', via],
  ]);
}

function registerIndex(program: Command): void {
  withConnectionOptions(
    program
      .command('index')
      .description('index a directory into the memory service, with a progress bar')
      .argument('<dir>', 'the directory to index (paths are indexed relative to it)')
      .requiredOption('--project <id>', 'project id')
      .option('--sync', 'also remove files of the project that are no longer in DIR; the service walks DIR itself (it must run on this machine)')
      .option('--paths <globs...>', 'only files matching these globs (e.g. "src/**/*.ts"); give DIR before this option')
      .option('--json', 'print only the final figures as JSON'),
  )
    .addHelpText(
      'after',
      `
DIR is listed as git would (git ls-files, or a walk honouring every .gitignore), files the service
would skip (binary, generated, vendored, lockfiles, over 1 MB) are counted as skipped, and the rest
is uploaded in batches of up to ${BATCH_FILES} files or ${BATCH_BYTES / 1024 / 1024} MB, so the service may run elsewhere.
--sync removes the files of the project that one index call did not see, which cannot hold across
batches: it sends the directory's path instead, the service walks it (the service must see the same
filesystem, as with \`autobuild up\`), and progress is elapsed time until the final figures.`,
    )
    .action(
      runAction(async (dir: string, options: IndexOptions) => {
        const root = await checkDirectory(dir);
        const client = clientOf(options);
        const showProgress = !options.json && Boolean(process.stderr.isTTY);
        if (options.sync) {
          const result = await syncDirectory(client, root, options, showProgress);
          return void out(options.json ? json(result) : indexSummary(root, result, 'the service walked the directory (--sync)'));
        }
        const { result, requests } = await uploadDirectory(client, root, options, showProgress);
        out(options.json ? json(result) : indexSummary(root, result, `uploaded in ${requests} request${requests === 1 ? '' : 's'}`));
      }),
    );
}

// ---- search ---------------------------------------------------------------------------------------

const PREVIEW_LINES = 3;

function hitsText(results: SearchResult[]): string {
  if (results.length === 0) return 'no results\n';
  const dim = process.stdout.isTTY ? (text: string) => `\x1b[2m${text}\x1b[22m` : (text: string) => text;
  const rankWidth = String(results.length).length;
  return results
    .map((hit, i) => {
      const head = `${String(i + 1).padStart(rankWidth)}  ${hit.score.toFixed(3)}  ${cell(hit.path)}:${hit.start_line}-${hit.end_line}${hit.symbol ? `  ${cell(hit.symbol)}` : ''}`;
      const lines = hit.content.split('\n');
      while (lines.length > 0 && lines[0]!.trim() === '') lines.shift();
      const preview = lines.slice(0, PREVIEW_LINES).map((line) => dim(`      ${cell(line.trimEnd(), 120)}`));
      if (lines.length > PREVIEW_LINES) preview.push(dim('      ...'));
      return [head, ...preview].join('\n');
    })
    .join('\n\n')
    .concat('\n');
}

function registerSearch(program: Command): void {
  withConnectionOptions(
    program
      .command('search')
      .description("search a project's indexed code; ranked hits, best first")
      .argument('<query>', 'what to look for: words, an identifier, a question')
      .requiredOption('--project <id>', 'project id')
      .option('--limit <n>', 'at most this many hits (default 10, at most 100)', wholeNumber(1, 100))
      .option('--path-prefix <prefix>', 'only files under this path (e.g. src/api/)')
      .option('--language <language>', 'only files in this language (e.g. typescript)')
      .option('--json', 'print the API JSON'),
  ).action(
    runAction(async (query: string, options: SearchOptions) => {
      const filters = {
        ...(options.pathPrefix !== undefined && { path_prefix: options.pathPrefix }),
        ...(options.language !== undefined && { language: options.language }),
      };
      const results = await clientOf(options).search({
        project_id: options.project,
        query,
        ...(options.limit !== undefined && { limit: options.limit }),
        ...(Object.keys(filters).length > 0 && { filters }),
      });
      out(options.json ? json({ results }) : hitsText(results));
    }),
  );
}

export function registerMemoryCommands(program: Command): void {
  registerIndex(program);
  registerSearch(program);
}
