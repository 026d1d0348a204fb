// Owns turning an index request into the files it names, all checked before anything is written:
// inline files (paths inside the project, no duplicates, sizes within limits) or a root directory
// on this machine (listed as git would), narrowed by the `paths` globs.
import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, invalid, type FieldProblem } from '../../platform/errors.js';
import { MAX_INDEXED_FILE_BYTES } from './language.js';
import { globMatcher, pathProblem } from './pathRules.js';
import { listFiles } from './walk.js';

export interface InlineFile {
  path: string;
  content: string;
  language?: string;
}

export interface SourceRequest {
  files?: InlineFile[];
  root?: string;
  paths?: string[];
}

export interface SourceLimits {
  maxInlineFiles: number;
}

export interface FileBody {
  /** Undefined when the file is larger than the reader's limit (it is skipped unread). */
  content: Buffer | string | undefined;
  sizeBytes: number;
}

export interface SourceFile {
  path: string;
  language?: string;
  /** The file, or undefined when it is no longer a regular file (gone, a symlink, a directory). */
  read(maxBytes: number): Promise<FileBody | undefined>;
}

export interface IndexSource {
  files: SourceFile[];
  /** Whether a path is within the request's globs: `sync` only removes files it could have seen. */
  inScope(path: string): boolean;
}

export async function resolveSource(request: SourceRequest, limits: SourceLimits): Promise<IndexSource> {
  if ((request.files === undefined) === (request.root === undefined)) {
    const message = 'give either files (inline contents) or root (a directory on the service machine), not both or neither';
    throw new AppError('validation_failed', message, [{ field: request.files ? 'root' : 'files', message }]);
  }
  const inScope = globMatcher(request.paths);
  if (request.files !== undefined) return { files: inlineFiles(request.files, limits).filter((f) => inScope(f.path)), inScope };
  const root = await checkRoot(request.root ?? '');
  const { files } = await listFiles(root);
  return { files: files.filter((file) => inScope(file) && pathProblem(file) === undefined).map((file) => diskFile(root, file)), inScope };
}

function inlineFiles(files: InlineFile[], limits: SourceLimits): SourceFile[] {
  if (files.length > limits.maxInlineFiles) {
    throw new AppError('payload_too_large', `at most ${limits.maxInlineFiles} inline files per request; send the rest in another request`, [
      { field: 'files', message: `has ${files.length} items; at most ${limits.maxInlineFiles}` },
    ]);
  }
  const problems: FieldProblem[] = [];
  const tooLarge: FieldProblem[] = [];
  const seen = new Set<string>();
  files.forEach((file, i) => {
    const problem = pathProblem(file.path);
    if (problem) problems.push({ field: `files.${i}.path`, message: problem });
    else if (seen.has(file.path)) problems.push({ field: `files.${i}.path`, message: `"${file.path}" appears more than once` });
    seen.add(file.path);
    const size = Buffer.byteLength(file.content, 'utf8');
    if (size > MAX_INDEXED_FILE_BYTES) {
      tooLarge.push({ field: `files.${i}.content`, message: `is ${size} bytes; at most ${MAX_INDEXED_FILE_BYTES} per file` });
    }
  });
  if (problems.length > 0) throw new AppError('validation_failed', `${problems[0]!.field}: ${problems[0]!.message}`, problems);
  if (tooLarge.length > 0) throw new AppError('payload_too_large', `${tooLarge[0]!.field}: ${tooLarge[0]!.message}`, tooLarge);
  return files.map((file) => ({
    path: file.path,
    ...(file.language ? { language: file.language } : {}),
    read: async () => ({ content: file.content, sizeBytes: Buffer.byteLength(file.content, 'utf8') }),
  }));
}

async function checkRoot(root: string): Promise<string> {
  if (root.includes('\0')) throw invalid('root', 'contains a NUL character');
  if (!path.isAbsolute(root)) throw invalid('root', `must be an absolute path on the service machine, not "${root}"`);
  const resolved = path.resolve(root);
  const info = await stat(resolved).catch(() => undefined);
  if (!info) throw invalid('root', `${resolved} does not exist on the service machine`);
  if (!info.isDirectory()) throw invalid('root', `${resolved} is not a directory`);
  return resolved;
}

function diskFile(root: string, relative: string): SourceFile {
  const absolute = path.join(root, relative);
  return {
    path: relative,
    async read(maxBytes) {
      const info = await lstat(absolute).catch(() => undefined);
      if (!info?.isFile()) return undefined;
      if (info.size > maxBytes) return { content: undefined, sizeBytes: info.size };
      const content = await readFile(absolute).catch(() => undefined);
      return content === undefined ? undefined : { content, sizeBytes: content.length };
    },
  };
}
