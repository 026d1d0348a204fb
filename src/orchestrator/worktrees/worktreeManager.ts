// One git worktree per job, on the job's branch, under $AUTOBUILD_HOME/worktrees/<project>/<job>.
// Work is never lost: before a worktree is removed, whatever it holds is committed on its branch.
// Worktree add/remove/prune on one repository are serialised (git's own bookkeeping is not
// concurrent): each names the repository as its serialKey, and the process launcher runs them one
// at a time in call order. A lock held by another process is retried.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../platform/database/database.js';
import { git, GitError, retryOnGitLock, type GitOptions } from '../../platform/git.js';
import type { Logger } from '../../platform/logger.js';
import { saveWork } from './branchWork.js';

export interface WorktreeRow {
  id: string;
  job_id: string;
  project_id: string;
  repo: string;
  path: string;
  branch: string;
  base_branch: string;
  status: 'active' | 'cleanup' | 'removed';
  owner: string | null;
  created_at: Date;
  last_used_at: Date;
}

/** A git call on the repository's worktree bookkeeping: one at a time per repository. */
function bookkeeping(repo: string): GitOptions {
  return { cwd: repo, serialKey: path.resolve(repo) };
}

export class WorktreeManager {
  constructor(
    private readonly db: Database,
    private readonly root: string,
    private readonly logger: Logger,
  ) {}

  pathFor(projectId: string, jobId: string): string {
    return path.join(this.root, projectId, jobId);
  }

  /**
   * Create the job's worktree: a new branch from base_branch, or the existing branch when an
   * earlier attempt (or the user) already made it, so that earlier work is the starting point.
   */
  async create(
    job: { id: string; project_id: string; repo: string; branch: string; base_branch: string; attempt: number; thread_id?: string | null; runs?: number },
    owner: string,
  ): Promise<WorktreeRow> {
    // A thread (a job and its follow-ups) keeps one path: an agent's session is tied to its working
    // directory, so a follow-up can resume it only there.
    const worktreePath = this.pathFor(job.project_id, job.thread_id ?? job.id);
    // A worktree left at this path by an earlier attempt or run of this job, or by an earlier job of
    // its thread (kept for inspection), is saved and removed first.
    if (job.attempt > 1 || (job.runs ?? 0) > 0 || job.thread_id) {
      const previous = await this.db.query<WorktreeRow>(
        `select * from orchestrator.worktrees where (job_id = $1 or path = $2) and status <> 'removed'`,
        [job.id, worktreePath],
      );
      for (const row of previous) {
        // The janitor may be saving and removing the same worktree: wait for it rather than race it.
        for (let tries = 0; !(await this.saveAndRemove(row, 'left by an earlier run', owner)); tries++) {
          const still = await this.db.query(`select 1 from orchestrator.worktrees where id = $1 and status <> 'removed'`, [row.id]);
          if (still.length === 0) break;
          if (tries >= 50) throw new Error(`the worktree at ${row.path} is being cleaned up elsewhere and did not finish`);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    }

    await mkdir(path.dirname(worktreePath), { recursive: true });
    const id = randomUUID();
    if (existsSync(worktreePath)) await this.forceRemoveDirectory(job.repo, worktreePath);
    // New branch from the base; if the branch exists (an earlier attempt, or the user's), use it.
    try {
      await retryOnGitLock(() => git(['worktree', 'add', '--quiet', '-b', job.branch, '--', worktreePath, job.base_branch], bookkeeping(job.repo)));
    } catch (error) {
      if (!(error instanceof GitError) || !/already exists/.test(error.stderr) || existsSync(worktreePath)) throw error;
      await retryOnGitLock(() => git(['worktree', 'add', '--quiet', '--', worktreePath, job.branch], bookkeeping(job.repo)));
    }
    const rows = await this.db.query<WorktreeRow>(
      `insert into orchestrator.worktrees (id, job_id, project_id, repo, path, branch, base_branch, status, owner)
       values ($1, $2, $3, $4, $5, $6, $7, 'active', $8) returning *`,
      [id, job.id, job.project_id, job.repo, worktreePath, job.branch, job.base_branch, owner],
      { reusePlan: true },
    );
    return rows[0]!;
  }

  /**
   * Save then remove a worktree, once: the row is claimed for cleanup atomically, so a janitor and
   * a new attempt racing for the same worktree do not both act. Returns false if someone else has it.
   */
  async saveAndRemove(row: WorktreeRow, reason: string, owner: string): Promise<boolean> {
    const claimed = await this.db.query<WorktreeRow>(
      `update orchestrator.worktrees set status = 'cleanup', owner = $2, last_used_at = now()
        where id = $1 and (status = 'active' or (status = 'cleanup' and (owner = $2 or last_used_at < now() - interval '5 minutes')))
        returning *`,
      [row.id, owner],
    );
    if (claimed.length === 0) return false;
    if (existsSync(row.path)) {
      try {
        const sha = await saveWork(row.path, `autobuild: save uncommitted work (${reason})\n\nJob: ${row.job_id}`);
        if (sha) this.logger.info({ jobId: row.job_id, sha, branch: row.branch }, 'saved uncommitted work on the job branch');
      } catch (error) {
        // Never delete what could not be saved: leave the worktree in 'cleanup' for a later try.
        this.logger.error({ jobId: row.job_id, path: row.path, err: (error as Error).message }, 'could not save worktree; keeping it');
        return false;
      }
    }
    await this.remove(row.repo, row.path);
    await this.markRemoved(row.id);
    return true;
  }

  /**
   * Remove the worktree of a job this replica is running, its work just saved. No cleanup claim is
   * needed: the janitor leaves worktrees of active jobs alone.
   */
  async removeOwn(row: WorktreeRow): Promise<void> {
    await this.remove(row.repo, row.path);
    await this.markRemoved(row.id);
  }

  private async markRemoved(id: string): Promise<void> {
    await this.db.query(`update orchestrator.worktrees set status = 'removed', removed_at = now() where id = $1`, [id], { reusePlan: true });
  }

  /** Remove a worktree whose work is saved (or that holds none). */
  async remove(repo: string, worktreePath: string): Promise<void> {
    try {
      await retryOnGitLock(() => git(['worktree', 'remove', '--force', '--force', '--', worktreePath], bookkeeping(repo)));
      return;
    } catch (error) {
      if (!(error instanceof GitError) && existsSync(repo)) throw error;
      // Not (or no longer) a registered worktree: remove the directory and git's record of it.
    }
    await this.forceRemoveDirectory(repo, worktreePath);
  }

  private async forceRemoveDirectory(repo: string, worktreePath: string): Promise<void> {
    await rm(worktreePath, { recursive: true, force: true });
    if (existsSync(repo)) await retryOnGitLock(() => git(['worktree', 'prune'], bookkeeping(repo))).catch(() => undefined);
  }

  async list(options: { limit: number; afterCreated?: { at: string; id: string }; includeRemoved: boolean }): Promise<WorktreeRow[]> {
    const params: unknown[] = [options.limit];
    let where = options.includeRemoved ? 'true' : `status <> 'removed'`;
    if (options.afterCreated) {
      params.push(options.afterCreated.at, options.afterCreated.id);
      where += ` and (created_at, id) < ($2::timestamptz, $3::uuid)`;
    }
    return this.db.query<WorktreeRow>(
      `select * from orchestrator.worktrees where ${where} order by created_at desc, id desc limit $1`,
      params,
    );
  }
}
