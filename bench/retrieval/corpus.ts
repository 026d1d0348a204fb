// The retrieval benchmark's corpus: the sources CORPUS names, read from node_modules, as
// `<package>/<path>` files; those the service's own skip rules leave out (generated, minified) are
// left out of the baseline's corpus too, so that both rank the same files.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shouldSkipFile } from '../../src/memory/indexing/language.js';
import { CORPUS } from './queries.js';

const SOURCE_FILE = /\.(?:[cm]?js|[cm]?ts)$/;

export interface CorpusFile {
  path: string;
  content: string;
}

/** node_modules/<name>, looked for from this file's directory upwards. */
function packageDir(name: string): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'node_modules', name);
    try {
      if (statSync(path.join(candidate, 'package.json')).isFile()) return candidate;
    } catch {
      // not here
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`package ${name} is not installed (node_modules/${name} not found above ${path.dirname(fileURLToPath(import.meta.url))})`);
    dir = parent;
  }
}

function walkSources(root: string, relative: string, out: string[]): void {
  const absolute = path.join(root, relative);
  if (statSync(absolute).isFile()) {
    out.push(relative);
    return;
  }
  for (const entry of readdirSync(absolute, { withFileTypes: true })) {
    const child = `${relative}/${entry.name}`;
    if (entry.isDirectory()) walkSources(root, child, out);
    else if (entry.isFile() && SOURCE_FILE.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(child);
  }
}

/** The corpus, and the files left out by the service's own skip rules (generated, minified). */
export function loadCorpus(): { files: CorpusFile[]; excluded: string[]; versions: string[] } {
  const files: CorpusFile[] = [];
  const excluded: string[] = [];
  const versions: string[] = [];
  for (const pkg of CORPUS) {
    const dir = packageDir(pkg.name);
    const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version?: string };
    versions.push(`${pkg.name}@${manifest.version ?? '?'}`);
    const listed: string[] = [];
    for (const include of pkg.include) walkSources(dir, include, listed);
    for (const relative of listed.sort()) {
      const content = readFileSync(path.join(dir, relative), 'utf8');
      const corpusPath = `${pkg.name}/${relative}`;
      if (shouldSkipFile(corpusPath, content, Buffer.byteLength(content)).skip) excluded.push(corpusPath);
      else files.push({ path: corpusPath, content });
    }
  }
  return { files, excluded, versions };
}
