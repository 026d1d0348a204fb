// kill -9 of a real orchestrator process, then a restart on the same state: queued jobs run,
// running jobs end (or run again while attempts remain), orphaned agents die, no worktree is
// left behind, no job or log is lost, and the work is on the branches.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, isDone, waitForJob } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { processAlive, waitFor } from '../support/agents.js';
import { startServerProcess, type ServerProcess } from '../support/processes.js';

let servers: ServerProcess[] = [];
afterEach(async () => {
  for (const s of servers) await s.stop();
  servers = [];
});

describe('crash recovery (embedded database)', () => {
  it('recovers after kill -9 and a restart on the same AUTOBUILD_HOME', async () => {
    const home = tempDir('autobuild-crash-');
    const repo = createTestRepo();
    const scratch = tempDir();
    const env = { AUTOBUILD_HOME: home, AUTOBUILD_MAX_PARALLEL: '2', AUTOBUILD_KILL_GRACE_MS: '500', AUTOBUILD_RETRY_BACKOFF_S: '0' };
    const first = await startServerProcess(env);
    servers.push(first);

    const pidA = path.join(scratch, 'a.pid');
    // A: one attempt only; it is running when the orchestrator dies, so it must end failed.
    const a = await api(first.url, 'POST', '/api/v1/jobs', {
      project_id: 'crash', prompt: 'a', repo, max_attempts: 1,
      agent: { type: 'command', command: ['sh', '-c', 'echo "output before the crash"; echo partial > a.txt; sleep 300 & echo $! > "$1"; wait', 'sh', pidA] },
    });
    // C: two attempts; the first hangs, the second (after the restart) succeeds.
    const marker = path.join(scratch, 'c.marker');
    const pidC = path.join(scratch, 'c.pid');
    const c = await api(first.url, 'POST', '/api/v1/jobs', {
      project_id: 'crash', prompt: 'c', repo, max_attempts: 2,
      agent: { type: 'command', command: ['sh', '-c', 'if [ -f "$1" ]; then echo done > c.txt; else touch "$1"; sleep 300 & echo $! > "$2"; wait; fi', 'sh', marker, pidC] },
    });
    // B: queued behind them (the cap is 2).
    const b = await api(first.url, 'POST', '/api/v1/jobs', {
      project_id: 'crash', prompt: 'b', repo, agent: { type: 'command', command: ['sh', '-c', 'echo b > b.txt'] },
    });
    expect([a.status, b.status, c.status]).toEqual([201, 201, 201]);
    await waitFor(() => existsSync(pidA) && existsSync(pidC) && readFileSync(pidA, 'utf8').trim() !== '' && readFileSync(pidC, 'utf8').trim() !== '', 15_000, 'agents to start');
    const orphanA = Number(readFileSync(pidA, 'utf8'));
    const orphanC = Number(readFileSync(pidC, 'utf8'));
    expect((await api(first.url, 'GET', `/api/v1/jobs/${b.body.id}`)).body.status).toBe('queued');

    await first.kill9();
    // The agents outlive their orchestrator until someone recovers them.
    expect(processAlive(orphanA)).toBe(true);

    const second = await startServerProcess(env);
    servers.push(second);
    const doneA = await waitForJob(second.url, a.body.id, isDone);
    const doneB = await waitForJob(second.url, b.body.id, isDone);
    const doneC = await waitForJob(second.url, c.body.id, isDone);
    expect(doneA.status).toBe('failed');
    expect(doneA.error).toMatch(/stopped before it finished/);
    expect(doneB.status).toBe('succeeded');
    expect(doneC.status).toBe('succeeded');
    expect(doneC.attempt).toBe(2);
    await waitFor(() => !processAlive(orphanA) && !processAlive(orphanC), 5000, 'orphaned agents to die');

    // Work kept on the branches; the log of the crashed attempt survives.
    await waitFor(() => {
      try {
        return gitIn(repo, 'show', `${doneA.branch}:a.txt`) === 'partial';
      } catch {
        return false;
      }
    }, 10_000, "A's work to be saved on its branch");
    expect(gitIn(repo, 'show', `${doneC.branch}:c.txt`)).toBe('done');
    const logA = await api(second.url, 'GET', `/api/v1/jobs/${a.body.id}/logs`);
    expect(logA.body).toContain('output before the crash');

    // No worktree left behind.
    await waitFor(() => {
      const dir = path.join(home, 'worktrees', 'crash');
      return !existsSync(dir) || readdirSync(dir).length === 0;
    }, 10_000, 'worktrees to be removed');
    const worktrees = await api(second.url, 'GET', '/api/v1/worktrees');
    expect(worktrees.body.worktrees).toEqual([]);
    expect(gitIn(repo, 'worktree', 'list').split('\n')).toHaveLength(1);
  });

  it('refuses a second process on the same embedded database', async () => {
    const home = tempDir('autobuild-lock-');
    const one = await startServerProcess({ AUTOBUILD_HOME: home });
    servers.push(one);
    await expect(startServerProcess({ AUTOBUILD_HOME: home })).rejects.toThrow(/in use by process/);
  });
});
