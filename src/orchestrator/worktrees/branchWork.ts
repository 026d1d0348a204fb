// What a job leaves in a working tree: commit it on the branch, and describe the branch's work
// (commits, files, diff stat against where it started). Shared by the local executor and the
// GitHub Actions runner, so both keep work the same way.
import { existsSync } from 'node:fs';
import { git } from '../../platform/git.js';
import type { JobResult } from '../jobs/job.js';

/** Identity for the orchestrator's own commits (saving leftovers). */
const SAVE_IDENTITY = ['-c', 'user.name=AutoBuild', '-c', 'user.email=autobuild@localhost', '-c', 'commit.gpgsign=false'];

/** Commit everything the tree holds that is not committed yet; returns the new commit, if any. */
export async function saveWork(worktreePath: string, message: string): Promise<string | null> {
  if (!existsSync(worktreePath)) return null;
  await git(['add', '--all'], { cwd: worktreePath });
  const staged = await git(['diff', '--cached', '--name-only'], { cwd: worktreePath });
  if (!staged.trim()) return null;
  await git([...SAVE_IDENTITY, 'commit', '--no-verify', '--quiet', '-m', message], { cwd: worktreePath });
  return git(['rev-parse', 'HEAD'], { cwd: worktreePath });
}

export type BranchWork = Pick<JobResult, 'commits' | 'files_changed' | 'diff_stat'>;

/** What HEAD holds beyond its merge base with baseRef. */
export async function collectBranchWork(worktreePath: string, baseRef: string): Promise<BranchWork> {
  const base = await git(['merge-base', baseRef, 'HEAD'], { cwd: worktreePath });
  const log = await git(['log', '--reverse', '--format=%H%x1f%s', `${base}..HEAD`], { cwd: worktreePath });
  const commits = log
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [sha = '', message = ''] = line.split('\x1f');
      return { sha, message };
    });
  const files = (await git(['diff', '--name-only', base, 'HEAD'], { cwd: worktreePath })).split('\n').filter(Boolean);
  const shortstat = await git(['diff', '--shortstat', base, 'HEAD'], { cwd: worktreePath });
  const number = (pattern: RegExp) => Number(pattern.exec(shortstat)?.[1] ?? 0);
  return {
    commits,
    files_changed: files,
    diff_stat: { files: number(/(\d+) files? changed/), insertions: number(/(\d+) insertions?/), deletions: number(/(\d+) deletions?/) },
  };
}
