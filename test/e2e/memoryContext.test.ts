// The orchestrator hands each agent the memory service's context: a real memory service indexes a
// real repository, and the agent finds the relevant code in AUTOBUILD_CONTEXT_FILE.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, tempDir } from '../support/repo.js';
import { startTestMemory, type TestMemory } from '../memory/memoryKit.js';

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

  it('writes the context for the task into the file the agent reads', async () => {
    const out = path.join(tempDir(), 'context.md');
    const job = await api(t.url, 'POST', '/api/v1/jobs', {
      project_id: 'shop',
      prompt: 'verifyPassword accepts an empty candidate; make it reject empty passwords',
      repo,
      agent: { type: 'command', command: ['sh', '-c', 'cp "$AUTOBUILD_CONTEXT_FILE" "$1"', 'sh', out] },
    });
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.status).toBe('succeeded');
    const context = readFileSync(out, 'utf8');
    expect(context).toContain('src/auth/password.ts');
    expect(context).toContain('export function verifyPassword');
    // The context file lives outside the worktree: nothing of it lands on the branch.
    expect(done.result.files_changed).toEqual([]);
    const health = await api(t.url, 'GET', '/api/v1/health');
    expect(health.body.checks.memory_service).toBe('ok');
  });

  it('gives an empty context for a project the memory service has not indexed', async () => {
    const out = path.join(tempDir(), 'context.md');
    const job = await api(t.url, 'POST', '/api/v1/jobs', {
      project_id: 'elsewhere',
      prompt: 'anything',
      repo,
      agent: { type: 'command', command: ['sh', '-c', 'cp "$AUTOBUILD_CONTEXT_FILE" "$1"', 'sh', out] },
    });
    const done = await waitForJob(t.url, job.body.id, isDone);
    expect(done.status).toBe('succeeded');
    expect(readFileSync(out, 'utf8')).toBe('');
  });
});
