// What a job leaves in a working tree: commit it on the branch, and describe the branch's work
// (commits, files, diff stat against where it started). Shared by the local executor and the
// GitHub Actions runner, so both keep work the same way.
import { existsSync } from 'node:fs';
import { git, GitError } from '../../platform/git.js';
import type { JobResult } from '../jobs/job.js';

/** Identity for the orchestrator's own commits (saving leftovers). */
const SAVE_IDENTITY = ['-c', 'user.name=AutoBuild', '-c', 'user.email=autobuild@localhost', '-c', 'commit.gpgsign=false'];

/**
 * Files an agent writes atomically leave behind when it is stopped mid-write: Claude Code writes
 * `<file>.tmp.<pid>.<12 hex digits>` and renames it over `<file>`; a run stopped between the two
 * (cancelled, over its budget, timed out) leaves the half-written copy. Never saved on the branch;
 * the worktree's removal deletes it.
 */
const TORN_WRITES = `:(exclude,glob)**/*.tmp.[0-9]*.${'[0-9a-f]'.repeat(12)}`;

/**
 * Commit everything the tree holds that is not committed yet (but an agent's torn atomic writes);
 * returns the new commit's short sha, or null when there was nothing to commit. Two git calls: add,
 * then commit.
 */
export async function saveWork(worktreePath: string, message: string): Promise<string | null> {
  if (!existsSync(worktreePath)) return null;
  await git(['add', '--all', '--', '.', TORN_WRITES], { cwd: worktreePath });
  try {
    const out = await git([...SAVE_IDENTITY, 'commit', '--no-verify', '--no-status', '-m', message], { cwd: worktreePath });
    return /^\[[^\]]* ([0-9a-f]{7,})\]/m.exec(out)?.[1] ?? 'committed';
  } catch (error) {
    // git commit exits 1 when the index matches HEAD: nothing was left to save.
    if (error instanceof GitError && error.exitCode === 1 && /nothing (added )?to commit|no changes added/i.test(`${error.stdout}\n${error.stderr}`)) return null;
    throw error;
  }
}

export type BranchWork = Pick<JobResult, 'commits' | 'files_changed' | 'diff_stat'>;

interface FileStat {
  path: string;
  insertions: number;
  deletions: number;
}

/** "added<TAB>deleted<TAB>path" entries of `--numstat -z --no-renames` ("-" for binary files). */
function parseNumstat(entries: string[]): FileStat[] {
  const stats: FileStat[] = [];
  for (const entry of entries) {
    const match = /^(-|\d+)\t(-|\d+)\t(.+)$/s.exec(entry.replace(/^\n/, ''));
    if (!match) continue;
    stats.push({ path: match[3]!, insertions: match[1] === '-' ? 0 : Number(match[1]), deletions: match[2] === '-' ? 0 : Number(match[2]) });
  }
  return stats;
}

function summarise(stats: FileStat[]): Pick<BranchWork, 'files_changed' | 'diff_stat'> {
  return {
    files_changed: stats.map((s) => s.path),
    diff_stat: { files: stats.length, insertions: stats.reduce((n, s) => n + s.insertions, 0), deletions: stats.reduce((n, s) => n + s.deletions, 0) },
  };
}

/**
 * What HEAD holds beyond where it left baseRef: the commits (baseRef..HEAD) and the diff against
 * the merge base. One git call when the branch holds a single ordinary commit (its own numstat is
 * the whole diff), two otherwise. Renames count as a deletion and an addition (--no-renames).
 */
export async function collectBranchWork(worktreePath: string, baseRef: string): Promise<BranchWork> {
  const log = await git(['log', '-z', '--reverse', '--no-renames', '--format=%x1e%H%x1f%P%x1f%s', '--numstat', `${baseRef}..HEAD`, '--'], { cwd: worktreePath });
  const blocks = log.split('\x1e').filter((block) => block.length > 0);
  const commits: BranchWork['commits'] = [];
  let single: FileStat[] | undefined;
  for (const block of blocks) {
    const [header = '', ...entries] = block.split('\0');
    const [sha = '', parents = '', message = ''] = header.split('\x1f');
    commits.push({ sha, message });
    single = blocks.length === 1 && !parents.includes(' ') ? parseNumstat(entries) : undefined;
  }
  if (commits.length === 0) return { commits, files_changed: [], diff_stat: { files: 0, insertions: 0, deletions: 0 } };
  if (single) return { commits, ...summarise(single) };
  const diff = await git(['diff', '--numstat', '-z', '--no-renames', `${baseRef}...HEAD`, '--'], { cwd: worktreePath });
  return { commits, ...summarise(parseNumstat(diff.split('\0'))) };
}
