// Owns listing the files under a root directory the way git would: `git ls-files` (tracked plus
// untracked, minus ignored) when the root is in a git work tree, otherwise a walk that honours
// every .gitignore on the way (the `ignore` package). Paths are relative, `/`-separated; symbolic
// links are never followed.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { git } from '../../platform/git.js';

export interface ListedFiles {
  files: string[];
  via: 'git' | 'walk';
}

export async function listFiles(root: string): Promise<ListedFiles> {
  if (await isTrackedWorkTree(root)) {
    const out = await git(['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, timeoutMs: 300_000 });
    const files = [...new Set(out.split('\0').filter((file) => file.length > 0))];
    return { files: files.sort(), via: 'git' };
  }
  const files: string[] = [];
  await walk(root, '', [], files);
  return { files: files.sort(), via: 'walk' };
}

/**
 * In a work tree, and not itself ignored by it: a root the enclosing repository ignores (a
 * package in node_modules) has nothing for git to list, so it is walked with its own rules.
 */
async function isTrackedWorkTree(root: string): Promise<boolean> {
  try {
    if ((await git(['rev-parse', '--is-inside-work-tree'], { cwd: root, timeoutMs: 10_000 })) !== 'true') return false;
  } catch {
    return false;
  }
  try {
    await git(['check-ignore', '-q', '.'], { cwd: root, timeoutMs: 10_000 });
    return false; // exit 0: the root is ignored
  } catch {
    return true; // exit 1: not ignored
  }
}

interface Rules {
  /** The directory the .gitignore is in, relative to the root, with a trailing slash ('' at the root). */
  base: string;
  rules: Ignore;
}

function ignored(relative: string, isDirectory: boolean, stack: Rules[]): boolean {
  const target = isDirectory ? `${relative}/` : relative;
  return stack.some(({ base, rules }) => target.startsWith(base) && rules.ignores(target.slice(base.length)));
}

async function walk(root: string, dir: string, inherited: Rules[], out: string[]): Promise<void> {
  const absolute = path.join(root, dir);
  let entries;
  try {
    entries = await readdir(absolute, { withFileTypes: true });
  } catch {
    return; // unreadable or vanished: nothing to list
  }
  let stack = inherited;
  if (entries.some((entry) => entry.name === '.gitignore' && entry.isFile())) {
    const text = await readFile(path.join(absolute, '.gitignore'), 'utf8').catch(() => '');
    stack = [...inherited, { base: dir ? `${dir}/` : '', rules: ignore().add(text) }];
  }
  for (const entry of entries) {
    const relative = dir ? `${dir}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (entry.name === '.git' || ignored(relative, true, stack)) continue;
      await walk(root, relative, stack, out);
    } else if (entry.isFile() && !ignored(relative, false, stack)) {
      out.push(relative);
    }
  }
}
