// The scale benchmark's source tree: real code from this repository's node_modules, copied into a
// temporary directory so that the memory service indexes all of it, completed with mirror copies
// when it holds fewer chunks than asked for. Chunks are counted with the service's own chunker.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chunkFile } from '../../src/memory/indexing/chunker.js';
import { decodeText } from '../../src/memory/indexing/chunkRecords.js';
import { detectLanguage, MAX_INDEXED_FILE_BYTES, shouldSkipFile } from '../../src/memory/indexing/language.js';

const SOURCE_FILE = /\.(?:[cm]?[jt]s|[jt]sx)$/;
/** Directory names the service skips as vendored or generated: renamed in the copy (prefixed). */
const RENAMED_DIRS = new Set([
  'node_modules', 'vendor', 'third_party', 'third-party', 'thirdparty', 'bower_components', 'pods', 'site-packages',
  '.venv', 'venv', '.yarn', 'jspm_packages', 'dist', 'build', '.next', '.nuxt', '.output', '__pycache__', 'coverage', '.turbo',
]);

export interface TreeFile {
  /** Absolute path of the real file. */
  source: string;
  /** Path inside the tree. */
  path: string;
  chunks: number;
  bytes: number;
}

export function nodeModulesDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'node_modules');
    if (statSync(candidate, { throwIfNoEntry: false })?.isDirectory()) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('no node_modules above the benchmark: run npm install first');
    dir = parent;
  }
}

function listSources(dir: string, out: string[]): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const absolute = path.join(dir, entry.name);
    if (entry.isDirectory()) listSources(absolute, out);
    else if (entry.isFile() && SOURCE_FILE.test(entry.name)) out.push(absolute);
  }
}

/** The distinct real sources the service would index, with their chunk counts and some symbol names. */
export async function collectRealFiles(root: string): Promise<{ files: TreeFile[]; symbols: string[]; considered: number }> {
  const listed: string[] = [];
  listSources(root, listed);
  listed.sort();
  const seen = new Set<string>();
  const files: TreeFile[] = [];
  const symbols = new Set<string>();
  for (const source of listed) {
    const size = statSync(source).size;
    if (size > MAX_INDEXED_FILE_BYTES || size === 0) continue;
    const content = readFileSync(source);
    const hash = createHash('sha1').update(content).digest('hex');
    if (seen.has(hash)) continue;
    seen.add(hash);
    const relative = path
      .relative(root, source)
      .split(path.sep)
      .map((segment, i, all) => (i < all.length - 1 && RENAMED_DIRS.has(segment.toLowerCase()) ? `_${segment}` : segment))
      .join('/');
    if (shouldSkipFile(relative, content, size).skip) continue;
    const language = detectLanguage(relative) ?? 'text';
    const chunks = await chunkFile(relative, decodeText(content), language);
    if (chunks.length === 0) continue;
    for (const chunk of chunks) if (chunk.symbol && /^[A-Za-z_$][\w$]{5,40}$/.test(chunk.symbol)) symbols.add(chunk.symbol);
    files.push({ source, path: relative, chunks: chunks.length, bytes: size });
  }
  return { files, symbols: [...symbols].sort(), considered: listed.length };
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Files until `target` chunks: a random subset of the real ones, or all of them plus mirrors. */
export function selectFiles(real: TreeFile[], target: number, random: () => number): { files: TreeFile[]; mirrors: number } {
  const order = shuffled(real, random);
  const files: TreeFile[] = [];
  let chunks = 0;
  let copy = 1;
  while (chunks < target) {
    for (const file of order) {
      if (chunks >= target) break;
      files.push(copy === 1 ? file : { ...file, path: `mirror-${copy}/${file.path}` });
      chunks += file.chunks;
    }
    copy++;
  }
  return { files, mirrors: copy - 2 };
}

export function writeTree(dir: string, files: TreeFile[]): void {
  const made = new Set<string>();
  for (const file of files) {
    const target = path.join(dir, file.path);
    const parent = path.dirname(target);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(target, readFileSync(file.source));
  }
}
