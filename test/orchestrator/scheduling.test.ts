// Priority order, FIFO within a priority, the global cap and per-project caps, queue positions.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, tempDir } from '../support/repo.js';
import { interval, lines, maxOverlap, readIntervals, recordName, release, waitForRelease } from '../support/agents.js';

let t: TestOrchestrator | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const submit = (body: Record<string, unknown>) => api(t!.url, 'POST', '/api/v1/jobs', body);

describe('scheduling', () => {
  it('starts jobs by priority, first-in first-out within a priority, and queue positions agree', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_MAX_PARALLEL: '1' } });
    const repo = createTestRepo();
    const dir = tempDir();
    const order = path.join(dir, 'order');
    const gate = path.join(dir, 'gate');
    const blocker = await submit({ project_id: 'p', prompt: 'block', repo, agent: waitForRelease('blocker', gate, order) });
    await waitForJob(t.url, blocker.body.id, (j) => j.status === 'running');

    const names: Array<[string, string]> = [
      ['low-1', 'low'],
      ['normal-1', 'normal'],
      ['critical-1', 'critical'],
      ['high-1', 'high'],
      ['normal-2', 'normal'],
      ['critical-2', 'critical'],
    ];
    const ids: Record<string, string> = {};
    for (const [name, priority] of names) {
      const res = await submit({ project_id: 'p', prompt: name, title: name, repo, priority, agent: recordName(name, order) });
      expect(res.status).toBe(201);
      ids[name] = res.body.id;
    }

    const expected = ['critical-1', 'critical-2', 'high-1', 'normal-1', 'normal-2', 'low-1'];
    const queue = await api(t.url, 'GET', '/api/v1/queue');
    expect(queue.body.max_parallel).toBe(1);
    expect(queue.body.running).toBe(1);
    expect(queue.body.queued).toBe(6);
    expect(queue.body.by_priority).toEqual({ critical: 2, high: 1, normal: 2, low: 1 });
    expect(queue.body.queued_jobs.map((j: any) => j.title)).toEqual(expected);
    for (const entry of queue.body.queued_jobs) {
      const job = (await api(t.url, 'GET', `/api/v1/jobs/${entry.id}`)).body;
      expect(job.queue_position).toBe(entry.queue_position);
    }
    expect(queue.body.queued_jobs.map((j: any) => j.queue_position)).toEqual([1, 2, 3, 4, 5, 6]);

    // A change to the queue shows at once: cancel the head, everyone moves up, both views agree.
    const extra = await submit({ project_id: 'p', prompt: 'extra', title: 'extra', repo, priority: 'critical', agent: recordName('extra', order) });
    expect(extra.body.queue_position).toBe(3);
    expect((await api(t.url, 'DELETE', `/api/v1/jobs/${extra.body.id}`)).status).toBe(202);
    const head = (await api(t.url, 'GET', `/api/v1/jobs/${ids['high-1']}`)).body;
    expect(head.queue_position).toBe(3);
    const after = (await api(t.url, 'GET', '/api/v1/queue')).body;
    expect(after.queued_jobs.map((j: any) => j.title)).toEqual(expected);
    expect(after.queued_jobs.find((j: any) => j.id === ids['high-1']).queue_position).toBe(3);

    release(gate);
    for (const id of Object.values(ids)) await waitForJob(t.url, id, isDone);
    expect(lines(order)).toEqual(['blocker', ...expected]);
    const done = (await api(t.url, 'GET', `/api/v1/jobs/${ids['low-1']}`)).body;
    expect(done.queue_position).toBeNull();
  });

  it('never runs more jobs at once than the global cap', async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_MAX_PARALLEL: '2' } });
    const repo = createTestRepo();
    const dir = tempDir();
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await submit({ project_id: 'p', prompt: `job ${i}`, repo, agent: interval(dir, 0.3) })).body.id);
    let maxRunning = 0;
    while (true) {
      const queue = (await api(t.url, 'GET', '/api/v1/queue')).body;
      maxRunning = Math.max(maxRunning, queue.running);
      if (queue.running === 0 && queue.queued === 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const id of ids) expect((await waitForJob(t.url, id, isDone)).status).toBe('succeeded');
    const intervals = readIntervals(dir, ids);
    expect(maxOverlap(intervals)).toBe(2);
    expect(maxRunning).toBeLessThanOrEqual(2);
  });

  it("holds a project's own cap while other projects use the free slots", async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_MAX_PARALLEL: '4' } });
    const repo = createTestRepo();
    const dir = tempDir();
    const registered = await api(t.url, 'POST', '/api/v1/projects', { id: 'capped', repo, max_parallel: 1 });
    expect(registered.status).toBe(201);
    expect(registered.body.max_parallel).toBe(1);
    const capped: string[] = [];
    const free: string[] = [];
    for (let i = 0; i < 3; i++) capped.push((await submit({ project_id: 'capped', prompt: `c${i}`, agent: interval(dir, 0.3) })).body.id);
    for (let i = 0; i < 3; i++) free.push((await submit({ project_id: 'free', prompt: `f${i}`, repo, agent: interval(dir, 0.3) })).body.id);
    for (const id of [...capped, ...free]) expect((await waitForJob(t.url, id, isDone)).status).toBe('succeeded');
    expect(maxOverlap(readIntervals(dir, capped))).toBe(1);
    // The other project's jobs ran beside the capped one's.
    expect(maxOverlap(readIntervals(dir, [...capped, ...free]))).toBeGreaterThanOrEqual(3);
  });

  it('uses the registered project repo and default branch when the job names none', async () => {
    t = await startTestOrchestrator();
    const repo = createTestRepo();
    const { execFileSync } = await import('node:child_process');
    execFileSync('git', ['branch', 'develop'], { cwd: repo });
    await api(t.url, 'POST', '/api/v1/projects', { id: 'reg', repo, default_branch: 'develop' });
    const job = await submit({ project_id: 'reg', prompt: 'x', agent: { type: 'command', command: ['true'] } });
    expect(job.status).toBe(201);
    expect(job.body.repo).toBe(repo);
    expect(job.body.base_branch).toBe('develop');
    expect(job.body.branch).toMatch(/^autobuild\/[0-9a-f]{8}-x$/);
  });
});
