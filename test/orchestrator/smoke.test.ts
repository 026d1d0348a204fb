import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, gitIn } from '../support/repo.js';

describe('smoke', () => {
  let t: TestOrchestrator;
  beforeAll(async () => {
    t = await startTestOrchestrator();
  });
  afterAll(async () => t?.stop());

  it('runs a command job and keeps its work on the branch', async () => {
    const repo = createTestRepo();
    const submit = await api(t.url, 'POST', '/api/v1/jobs', {
      project_id: 'demo',
      prompt: 'write a file',
      repo,
      agent: { type: 'command', command: ['sh', '-c', 'echo hello > out.txt; echo "job $AUTOBUILD_JOB_ID"'] },
    });
    expect(submit.status).toBe(201);
    const job = await waitForJob(t.url, submit.body.id, isDone);
    expect(job.status).toBe('succeeded');
    expect(job.result.files_changed).toEqual(['out.txt']);
    expect(gitIn(repo, 'show', `${job.branch}:out.txt`)).toBe('hello');
    const logs = await api(t.url, 'GET', `/api/v1/jobs/${job.id}/logs`);
    expect(logs.body).toContain(`job ${job.id}`);
  });
});
