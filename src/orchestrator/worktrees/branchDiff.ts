// A job branch's changes against its merge base with the base branch (`git diff base...branch`), as
// the unified diff or per file (path, status, counts, patch), read from the repository itself, so
// it works whether or not the job's worktree still exists.
import { git } from '../../platform/git.js';

export interface DiffFile {
  path: string;
  /** added, modified, deleted, renamed, copied, type_changed */
  status: string;
  /** The path before a rename or copy. */
  old_path?: string;
  insertions: number;
  deletions: number;
  /** This file's part of the unified diff, from its `diff --git` line. */
  patch: string;
}

const STATUS: Record<string, string> = { A: 'added', M: 'modified', D: 'deleted', R: 'renamed', C: 'copied', T: 'type_changed' };
const DIFF_FLAGS = ['-c', 'core.quotePath=false', 'diff', '--no-color', '--no-ext-diff', '-M'];

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  try {
    await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: repo });
    return true;
  } catch {
    return false;
  }
}

/** The branch's work: from its merge base with the base branch to its tip. */
export const branchRange = (base: string, branch: string) => `${base}...refs/heads/${branch}`;

/** Between two commits of a branch: one job's own work where a thread's jobs share the branch. */
export const commitsRange = (from: string, to: string) => `${from}..${to}`;

export async function diffText(repo: string, range: string): Promise<string> {
  return git([...DIFF_FLAGS, range, '--'], { cwd: repo, raw: true });
}

export async function diffFiles(repo: string, range: string): Promise<DiffFile[]> {
  const [names, counts, patch] = await Promise.all([
    git([...DIFF_FLAGS, '--name-status', '-z', range, '--'], { cwd: repo }),
    git([...DIFF_FLAGS, '--numstat', '-z', range, '--'], { cwd: repo }),
    diffText(repo, range),
  ]);
  // name-status -z: "M\0path\0" or "R100\0old\0new\0"
  const entries: Array<{ status: string; path: string; old_path?: string }> = [];
  const parts = names.split('\0');
  for (let i = 0; i < parts.length && parts[i]; ) {
    const code = parts[i]!;
    if (code.startsWith('R') || code.startsWith('C')) {
      entries.push({ status: STATUS[code[0]!]!, old_path: parts[i + 1]!, path: parts[i + 2]! });
      i += 3;
    } else {
      entries.push({ status: STATUS[code[0]!] ?? 'modified', path: parts[i + 1]! });
      i += 2;
    }
  }
  // numstat -z: "a\td\tpath\0", or for a rename "a\td\t\0old\0new\0"; "-" for binary files
  const stats: Array<{ insertions: number; deletions: number }> = [];
  const fields = counts.split('\0');
  for (let i = 0; i < fields.length && fields[i]; ) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(fields[i]!);
    if (!match) break;
    stats.push({ insertions: match[1] === '-' ? 0 : Number(match[1]), deletions: match[2] === '-' ? 0 : Number(match[2]) });
    i += match[3] === '' ? 3 : 1;
  }
  const patches = patch.split(/^(?=diff --git )/m).filter((piece) => piece.startsWith('diff --git '));
  return entries.map((entry, i) => ({ ...entry, insertions: stats[i]?.insertions ?? 0, deletions: stats[i]?.deletions ?? 0, patch: patches[i] ?? '' }));
}

