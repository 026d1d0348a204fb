// Removes worktrees no running job needs: those of finished jobs (beyond the retention limits),
// and orphans a crash left on disk. At start and on an interval. It saves before it deletes.
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Database } from '../../platform/database/database.js';
import { git } from '../../platform/git.js';
import type { Logger } from '../../platform/logger.js';
import { saveWork } from './branchWork.js';
import type { WorktreeManager, WorktreeRow } from './worktreeManager.js';

export interface JanitorOptions {
  root: string;
  retainFinished: number;
  maxAgeS: number;
  owner: string;
  /** A directory without a database row is left alone this long (another replica may be creating it). */
  orphanGraceMs?: number;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class WorktreeJanitor {
  private sweeping: Promise<number> | undefined;

  constructor(
    private readonly db: Database,
    private readonly worktrees: WorktreeManager,
    private readonly logger: Logger,
    private readonly options: JanitorOptions,
  ) {}

  /** One pass; concurrent calls share it. Returns how many worktrees were removed. */
  sweep(): Promise<number> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<number> {
    let removed = 0;
    // Worktrees whose job is not running them any more, newest first, past the retention limits.
    const idle = await this.db.query<WorktreeRow & { finished: boolean; age_s: number }>(
      `select w.*, extract(epoch from now() - w.created_at)::int as age_s
         from orchestrator.worktrees w left join orchestrator.jobs j on j.id = w.job_id
        where w.status <> 'removed'
          and (j.id is null or j.status not in ('preparing', 'running') or j.worktree_id is distinct from w.id)
        order by w.created_at desc`,
    );
    let kept = 0;
    for (const row of idle) {
      const retain = row.status === 'active' && kept < this.options.retainFinished && row.age_s < this.options.maxAgeS && existsSync(row.path);
      if (retain) {
        kept++;
        continue;
      }
      if (await this.worktrees.saveAndRemove(row, 'cleaned up by the janitor', this.options.owner)) removed++;
    }
    removed += await this.removeOrphanDirectories();
    return removed;
  }

  /** Directories under the worktree root that no database row knows (a crash between add and insert). */
  private async removeOrphanDirectories(): Promise<number> {
    if (!existsSync(this.options.root)) return 0;
    let removed = 0;
    const grace = this.options.orphanGraceMs ?? 60_000;
    for (const project of await readdir(this.options.root)) {
      const projectDir = path.join(this.options.root, project);
      let entries: string[];
      try {
        entries = await readdir(projectDir);
      } catch {
        continue;
      }
      // A directory is named after its job, or after the first job of a thread (follow-ups reuse it).
      for (const jobId of entries) {
        if (!UUID.test(jobId)) continue;
        const dir = path.join(projectDir, jobId);
        const known = await this.db.query(
          `select 1 from orchestrator.worktrees where path = $1 and status <> 'removed'
           union all select 1 from orchestrator.jobs where (id = $2 or thread_id = $2) and status in ('preparing', 'running')`,
          [dir, jobId],
        );
        if (known.length > 0) continue;
        const age = Date.now() - (await stat(dir)).mtimeMs;
        if (age < grace) continue;
        let repo: string | undefined;
        try {
          const common = await git(['rev-parse', '--path-format=absolute', '--git-common-dir'], { cwd: dir });
          repo = path.dirname(common);
        } catch {
          repo = undefined;
        }
        if (repo) {
          try {
            await saveWork(dir, `autobuild: save uncommitted work (orphaned worktree)\n\nJob: ${jobId}`);
          } catch (error) {
            this.logger.error({ dir, err: (error as Error).message }, 'could not save orphaned worktree; keeping it');
            continue;
          }
        }
        await this.worktrees.remove(repo ?? dir, dir);
        this.logger.info({ dir }, 'removed orphaned worktree directory');
        removed++;
      }
    }
    return removed;
  }
}
