// The orchestrator hands each agent the memory service's context: a real memory service indexes a
// real repository, and the agent finds the relevant code in AUTOBUILD_CONTEXT_FILE.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, tempDir } from '../support/repo.js';
import { startTestMemory, type TestMemory } from '../memory/memoryKit.js';
import { freePort } from '../support/processes.js';

const FILES = {
  'src/auth/password.ts': 'export function verifyPassword(hash: string, candidate: string): boolean {\n  // constant-time comparison of the derived key\n  return timingSafeCompare(hash, derive(candidate));\n}\n',
  'src/billing/invoice.ts': 'export function renderInvoice(lines: string[]): string {\n  return lines.join("\\n");\n}\n',
  'README.md': '# shop\n\nAuthentication and billing.\n',
};

describe('memory context for agents', () => {
  let memory: TestMemory;
  let t: TestOrchestrator;
  let repo: string;
  beforeAll(async () => {
    memory = await startTestMemory();
    repo = createTestRepo(FILES);
    const indexed = await api(memory.url, 'POST', '/api/v1/index/files', { project_id: 'shop', root: repo });
    expect(indexed.status).toBe(200);
    t = await startTestOrchestrator({ env: { MEMORY_SERVICE_URL: memory.url } });
  });
  afterAll(async () => {
    await t?.stop();
    await memory?.stop();
  });

  /** Run a job whose agent copies its context file out; the finished job and what it read. */
  async function contextSeenBy(projectId: string, prompt: string): Promise<{ done: any; context: string }> {
    const out = path.join(tempDir(), 'context.md');
    const job = await api(t.url, 'POST', '/api/v1/jobs', {
      project_id: projectId,
      prompt,
      repo,
      agent: { type: 'command', command: ['sh', '-c', 'cp "$AUTOBUILD_CONTEXT_FILE" "$1"', 'sh', out] },
    });
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.status).toBe('succeeded');
    return { done, context: readFileSync(out, 'utf8') };
  }

  it('writes the context for the task into the file the agent reads', async () => {
    const { done, context } = await contextSeenBy('shop', 'verifyPassword accepts an empty candidate; make it reject empty passwords');
    expect(context).toContain('src/auth/password.ts');
    expect(context).toContain('export function verifyPassword');
    // The context file lives outside the worktree: nothing of it lands on the branch.
    expect(done.result.files_changed).toEqual([]);
    const health = await api(t.url, 'GET', '/api/v1/health');
    expect(health.body.checks.memory_service).toBe('ok');
  });

  it('gives an empty context for a project the memory service has not indexed', async () => {
    const { context } = await contextSeenBy('elsewhere', 'anything');
    expect(context).toBe('');
  });

  it("writes each finished job's outcome back as a memory", async () => {
    const ok = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'shop', prompt: 'add an invoice footer', repo, agent: { type: 'command', command: ['sh', '-c', 'echo footer > footer.txt'] } });
    const bad = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'shop', prompt: 'migrate the billing tables', repo, agent: { type: 'command', command: ['sh', '-c', 'exit 2'] } });
    await waitForJob(t.url, ok.body.id, isDone);
    await waitForJob(t.url, bad.body.id, isDone);
    const deadline = Date.now() + 15_000;
    let memories: any[] = [];
    while (Date.now() < deadline) {
      memories = (await api(memory.url, 'GET', '/api/v1/memory/shop?limit=50')).body.memories;
      if (memories.some((m: any) => m.job_id === bad.body.id) && memories.some((m: any) => m.job_id === ok.body.id)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const success = memories.find((m: any) => m.job_id === ok.body.id);
    const failure = memories.find((m: any) => m.job_id === bad.body.id);
    expect(success).toMatchObject({ type: 'execution_success', tags: expect.arrayContaining(['succeeded', 'command']) });
    expect(success.content).toMatchObject({ status: 'succeeded', files_changed: ['footer.txt'], title: 'add an invoice footer' });
    expect(failure).toMatchObject({ type: 'execution_failure' });
    expect(failure.content).toMatchObject({ status: 'failed', exit_code: 2 });
    const left = await t.db.query<{ n: number }>('select count(*)::int as n from orchestrator.memory_outbox');
    expect(left[0]!.n).toBe(0);
  });
});

describe('memory service down when jobs finish', () => {
  it('keeps the outcomes and delivers them once the service is back', async () => {
    const port = await freePort();
    const t = await startTestOrchestrator({ env: { MEMORY_SERVICE_URL: `http://127.0.0.1:${port}` } });
    let memory: TestMemory | undefined;
    try {
      const repo = createTestRepo(FILES);
      const job = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'later', prompt: 'tidy the readme', repo, agent: { type: 'command', command: ['true'] } });
      expect((await waitForJob(t.url, job.body.id, isDone)).status).toBe('succeeded');
      // The job's finish already kicked a delivery pass in the background; wait for it to record the failure.
      let waiting: { attempts: number; last_error: string | null }[] = [];
      const deadline = Date.now() + 10_000;
      do {
        await t.orchestrator.outbox.deliver();
        waiting = await t.db.query<{ attempts: number; last_error: string | null }>('select attempts, last_error from orchestrator.memory_outbox');
        if (waiting[0]?.last_error) break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      expect(waiting).toHaveLength(1);
      expect(waiting[0]!.last_error).toMatch(/could not reach the memory service/);

      memory = await startTestMemory({ env: { MEMORY_PORT: String(port) } });
      await t.db.query('update orchestrator.memory_outbox set next_attempt_at = now()');
      expect(await t.orchestrator.outbox.deliver()).toBe(1);
      const memories = (await api(memory.url, 'GET', '/api/v1/memory/later')).body.memories;
      expect(memories.map((m: any) => m.job_id)).toEqual([job.body.id]);
    } finally {
      await t.stop();
      await memory?.stop();
    }
  });

  it("drops the outcome of a job deleted from the database before delivery, and delivers the rest", async () => {
    const port = await freePort();
    const t = await startTestOrchestrator({ env: { MEMORY_SERVICE_URL: `http://127.0.0.1:${port}` } });
    let memory: TestMemory | undefined;
    try {
      const repo = createTestRepo(FILES);
      const submit = (prompt: string) => api(t.url, 'POST', '/api/v1/jobs', { project_id: 'pruned', prompt, repo, agent: { type: 'command', command: ['true'] } });
      const kept = await submit('tidy the readme');
      const gone = await submit('tidy the changelog');
      for (const job of [kept, gone]) expect((await waitForJob(t.url, job.body.id, isDone)).status).toBe('succeeded');
      // Both outcomes wait for the service (their first delivery failed), then one job's row is deleted.
      const deadline = Date.now() + 10_000;
      let failed: { n: number }[] = [];
      do {
        await t.orchestrator.outbox.deliver();
        failed = await t.db.query<{ n: number }>('select count(*)::int as n from orchestrator.memory_outbox where last_error is not null');
        if (failed[0]!.n === 2) break;
        await new Promise((r) => setTimeout(r, 50));
      } while (Date.now() < deadline);
      expect(failed[0]!.n).toBe(2);
      await t.db.query('delete from orchestrator.jobs where id = $1', [gone.body.id]);

      memory = await startTestMemory({ env: { MEMORY_PORT: String(port) } });
      await t.db.query('update orchestrator.memory_outbox set next_attempt_at = now()');
      expect(await t.orchestrator.outbox.deliver()).toBe(2);
      const memories = (await api(memory.url, 'GET', '/api/v1/memory/pruned')).body.memories;
      expect(memories.map((m: any) => m.job_id)).toEqual([kept.body.id]);
      expect((await t.db.query<{ n: number }>('select count(*)::int as n from orchestrator.memory_outbox'))[0]!.n).toBe(0);
    } finally {
      await t.stop();
      await memory?.stop();
    }
  });
});

