// `autobuild up` and `autobuild memory` in process, through the CLI's own startServices: one
// embedded database on disk, both services answering, the orchestrator pointed at the memory
// service it started unless MEMORY_SERVICE_URL says otherwise.
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startServices, type RunningServices } from '../../src/cli/serve.js';
import { api } from '../support/orchestrator.js';
import { tempDir } from '../support/repo.js';
import { freePort } from '../support/processes.js';
import { TS_SCHEDULER } from './fixtures.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function up(mode: 'up' | 'memory', extra: Record<string, string> = {}): Promise<RunningServices> {
  const home = tempDir('autobuild-up-');
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const env = { AUTOBUILD_HOME: home, ORCHESTRATOR_PORT: '0', MEMORY_PORT: '0', WEB_PORT: '0', AUTOBUILD_LOG_LEVEL: 'silent', EMBEDDING_PROVIDER: 'hash', ...extra };
  const running = await startServices(mode, env);
  cleanups.push(() => running.stop());
  return running;
}

describe('autobuild up', () => {
  it('starts the orchestrator and the memory service over one embedded database, the orchestrator using the memory service', async () => {
    const running = await up('up');
    expect(running.orchestratorUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(running.memoryUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const memory = await api(running.memoryUrl!, 'GET', '/health');
    expect(memory.body).toMatchObject({ status: 'ok', checks: { database: 'ok', embeddings: 'hash autobuild-hash-v1-384' } });
    const orchestrator = await api(running.orchestratorUrl!, 'GET', '/api/v1/health');
    expect(orchestrator.body).toMatchObject({ status: 'ok', checks: { database: 'ok', memory_service: 'ok' } });
    const indexed = await api(running.memoryUrl!, 'POST', '/api/v1/index/files', { project_id: 'p', files: [{ path: 'src/claim.ts', content: TS_SCHEDULER }] });
    expect(indexed.body.chunks_added).toBe(2);
    expect((await api(running.orchestratorUrl!, 'GET', '/api/v1/queue')).status).toBe(200);

    await running.stop();
    await expect(fetch(`${running.memoryUrl}/health`)).rejects.toThrow();
    await expect(fetch(`${running.orchestratorUrl}/api/v1/health`)).rejects.toThrow();
  });

  it('leaves the orchestrator on MEMORY_SERVICE_URL when it is set', async () => {
    const elsewhere = `http://127.0.0.1:${await freePort()}`;
    const running = await up('up', { MEMORY_SERVICE_URL: elsewhere });
    const orchestrator = await api(running.orchestratorUrl!, 'GET', '/api/v1/health');
    expect(orchestrator.body).toMatchObject({ status: 'degraded', checks: { memory_service: 'unreachable' } });
    expect((await api(running.memoryUrl!, 'GET', '/health')).body.status).toBe('ok');
  });
});

describe('autobuild memory', () => {
  it('starts the memory service alone', async () => {
    const running = await up('memory');
    expect(running.orchestratorUrl).toBeUndefined();
    expect((await api(running.memoryUrl!, 'GET', '/health')).body.status).toBe('ok');
  });
});
