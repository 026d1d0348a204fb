// The janitor: orphaned worktrees (a crash between `git worktree add` and the database) are saved
// on their branch and removed at start; retained worktrees of finished jobs obey count and age.
import { mkdirSync, writeFileSync, utimesSync, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';

let t: TestOrchestrator | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

describe('worktree janitor', () => {
  it('saves and removes an orphaned worktree found at start', async () => {
    const home = tempDir('autobuild-home-');
    const repo = createTestRepo();
    const jobId = randomUUID();
    const orphan = path.join(home, 'worktrees', 'proj', jobId);
    mkdirSync(path.dirname(orphan), { recursive: true });
    gitIn(repo, 'worktree', 'add', '-q', '-b', 'autobuild/orphan', orphan, 'main');
    writeFileSync(path.join(orphan, 'unsaved.txt'), 'precious');
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(orphan, old, old);

    t = await startTestOrchestrator({ env: { AUTOBUILD_HOME: home } });
    expect(existsSync(orphan)).toBe(false);
    expect(gitIn(repo, 'show', 'autobuild/orphan:unsaved.txt')).toBe('precious');
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('keeps the newest finished worktrees up to the retention count, and removes the rest', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_WORKTREE_RETAIN: '1', AUTOBUILD_JANITOR_INTERVAL_S: '1' } });
    const repo = createTestRepo();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'keep', prompt: `k${i}`, repo, agent: { type: 'command', command: ['sh', '-c', `echo ${i} > f.txt`] } });
      ids.push(res.body.id);
      await waitForJob(t.url, res.body.id, isDone);
    }
    await t.orchestrator.janitor.sweep();
    const live = (await api(t.url, 'GET', '/api/v1/worktrees')).body.worktrees;
    expect(live.map((w: any) => w.job_id)).toEqual([ids[2]]);
    const jobs = await Promise.all(ids.map(async (id) => (await api(t!.url, 'GET', `/api/v1/jobs/${id}`)).body));
    expect(existsSync(jobs[2].worktree.path)).toBe(true);
    expect(existsSync(jobs[0].worktree.path)).toBe(false);
    for (const [i, job] of jobs.entries()) expect(gitIn(repo, 'show', `${job.branch}:f.txt`)).toBe(String(i));
  });
});
