// What a job leaves in a working tree: commit it on the branch, and describe the branch's work
// (commits, files, diff stat against where it started). Shared by the local executor and the
// GitHub Actions runner, so both keep work the same way.
import { existsSync } from 'node:fs';
import { git, GitError } from '../../platform/git.js';
import type { JobResult } from '../jobs/job.js';

/** Identity for the orchestrator's own commits (saving leftovers). */
const SAVE_IDENTITY = ['-c', 'user.name=AutoBuild', '-c', 'user.email=autobuild@localhost', '-c', 'commit.gpgsign=false'];

/**
 * Commit everything the tree holds that is not committed yet; returns the new commit's short sha,
 * or null when there was nothing to commit. Two git calls: add, then commit.
 */
export async function saveWork(worktreePath: string, message: string): Promise<string | null> {
  if (!existsSync(worktreePath)) return null;
  await git(['add', '--all'], { cwd: worktreePath });
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

/**
 * What HEAD holds beyond where it left baseRef: the commits (baseRef..HEAD) and the diff against
 * the merge base (baseRef...HEAD), in two git calls.
 */
export async function collectBranchWork(worktreePath: string, baseRef: string): Promise<BranchWork> {
  const [log, numstat] = await Promise.all([
    git(['log', '--reverse', '--format=%H%x1f%s', `${baseRef}..HEAD`, '--'], { cwd: worktreePath }),
    git(['diff', '--numstat', '-z', `${baseRef}...HEAD`, '--'], { cwd: worktreePath }),
  ]);
  const commits = log
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha = '', message = ''] = line.split('\x1f');
      return { sha, message };
    });
  const files: string[] = [];
  let insertions = 0;
  let deletions = 0;
  // -z: "added<TAB>deleted<TAB>path\0", or for renames "added<TAB>deleted<TAB>\0old\0new\0".
  const fields = numstat.split('\0');
  for (let i = 0; i < fields.length; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(fields[i]!);
    if (!match) continue;
    insertions += match[1] === '-' ? 0 : Number(match[1]);
    deletions += match[2] === '-' ? 0 : Number(match[2]);
    if (match[3]) files.push(match[3]);
    else {
      files.push(fields[i + 2] ?? '');
      i += 2;
    }
  }
  return { commits, files_changed: files, diff_stat: { files: files.length, insertions, deletions } };
}
