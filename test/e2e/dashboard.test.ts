// The dashboard against the real platform started as `npm start` starts it (`autobuild up`), in
// Debian's Chromium: the board follows a job across its columns, the form submits a job (and shows
// a field's error beside it), cancel works, and the server proxies both APIs (SSE unbuffered).
// Any console or page error fails a test. Needs dist/ built (`npm run build`).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumOrSkip, commandAgent, launchChromium, startPlatform, WatchedPage, type Platform } from '../support/dashboard.js';
import { createTestRepo } from '../support/repo.js';

const chromiumPath = chromiumOrSkip();

describe.skipIf(!chromiumPath)('dashboard', () => {
  let platform: Platform;
  let browser: Browser;
  let repo: string;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform({ env: { AUTOBUILD_MAX_PARALLEL: '1' } }), launchChromium(chromiumPath!)]);
    repo = createTestRepo({ 'README.md': '# demo\n', 'src/app.ts': 'export const answer = 41;\n' });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });
  afterEach(async () => {
    for (const watched of pages.splice(0)) {
      const errors = [...watched.errors];
      await watched.close();
      expect(errors, 'console or page errors').toEqual([]);
    }
  });
  const open = async (options?: Parameters<typeof WatchedPage.open>[1]) => {
    const watched = await WatchedPage.open(browser, options);
    pages.push(watched);
    return watched;
  };
  const submit = async (title: string, script: string, extra: Record<string, unknown> = {}) => {
    const response = await platform.api('POST', '/api/v1/jobs', { project_id: 'demo', repo, title, prompt: `do ${title}`, agent: commandAgent(script), ...extra });
    expect(response.status).toBe(201);
    return response.body as { id: string };
  };

  it('serves the app with an SPA fallback and proxies both APIs, streaming SSE as it comes', async () => {
    const base = platform.dashboardUrl;
    const index = await fetch(`${base}/jobs/00000000-0000-0000-0000-000000000000`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(await index.text()).toContain('<div id="root">');
    const health = await fetch(`${base}/api/orchestrator/api/v1/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { checks: Record<string, string> }).checks.memory_service).toBe('ok');
    expect((await fetch(`${base}/api/memory/health`)).status).toBe(200);
    const unknown = await fetch(`${base}/api/nothing`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('not_found');

    // A running job's live log: the first line arrives through the proxy while the job still runs.
    const job = await submit('stream', 'echo first; sleep 3; echo second');
    const started = Date.now();
    const stream = await fetch(`${base}/api/orchestrator/api/v1/jobs/${job.id}/logs`, { headers: { accept: 'text/event-stream' } });
    expect(stream.headers.get('content-type')).toMatch(/text\/event-stream/);
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('first')) text += (await reader.read()).value ?? '';
    expect(text).not.toContain('second');
    expect(Date.now() - started).toBeLessThan(3000);
    await reader.cancel();
    expect((await platform.api('DELETE', `/api/v1/jobs/${job.id}`)).status).toBe(202);
  });

  it('shows a job submitted through the API and moves it across the columns as it runs', async () => {
    const { page } = await open();
    await page.goto(platform.dashboardUrl);
    await page.getByRole('heading', { name: 'Board' }).waitFor();
    // One slot: the first job runs, the second waits in the queue behind it.
    await submit('blocker', 'sleep 3');
    const job = await submit('moving card', 'sleep 2; echo done > out.txt');
    const card = (column: string) => page.locator(`section[data-column="${column}"] a[data-job-id="${job.id}"]`);
    await card('queued').waitFor({ timeout: 10_000 });
    await expect.poll(() => card('queued').textContent(), { timeout: 5000 }).toMatch(/#1 in queue/);
    await expect.poll(async () => (await page.getByTestId('capacity-running').textContent())?.trim(), { timeout: 5000 }).toBe('1 / 1');
    await card('running').waitFor({ timeout: 15_000 });
    await card('review').waitFor({ timeout: 20_000 });
    expect(await card('review').textContent()).toContain('moving card');
    expect(await card('review').textContent()).toContain('command');
  });

  it('submits a job from the form that appears and finishes, and shows a field error beside its field', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${platform.dashboardUrl}/jobs/new`);
    await page.getByLabel('Project').fill('demo');
    await page.getByLabel('Repository').fill(repo);
    await page.getByLabel('Title').fill('from the form');
    await page.getByLabel('Agent').selectOption('command');
    await page.getByLabel('Command (argv, one per line)').fill('sh\n-c\necho formed > formed.txt');

    // A blank prompt: the API's 400 names `prompt`, shown under the Prompt field.
    watched.expectedStatuses.add(400);
    await page.getByRole('button', { name: 'Submit job' }).click();
    const promptError = page.locator('#prompt-error');
    await promptError.waitFor();
    expect(await promptError.textContent()).toMatch(/required|must/);
    expect(await page.getByLabel('Prompt').getAttribute('aria-describedby')).toContain('prompt-error');
    expect(await page.locator('.field-error').count()).toBe(1);

    await page.getByLabel('Prompt').fill('write formed.txt');
    await page.getByRole('button', { name: 'Submit job' }).click();
    await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
    const id = page.url().split('/').pop()!;
    await page.getByRole('heading', { name: 'from the form' }).waitFor();
    await page.locator('.facts .status-succeeded').waitFor({ timeout: 25_000 });
    const job = (await platform.api('GET', `/api/v1/jobs/${id}`)).body;
    expect(job.status).toBe('succeeded');
    expect(job.result.files_changed).toEqual(['formed.txt']);
    await page.getByRole('link', { name: 'Board' }).first().click();
    await page.locator(`section[data-column="review"] a[data-job-id="${id}"]`).waitFor();
  });

  it('cancels a running job from its page', async () => {
    const { page } = await open();
    const job = await submit('to be cancelled', 'sleep 30');
    await page.goto(`${platform.dashboardUrl}/jobs/${job.id}`);
    await page.locator('.facts .status-running').waitFor({ timeout: 20_000 });
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.locator('.facts .status-cancelled').waitFor({ timeout: 20_000 });
    expect((await platform.api('GET', `/api/v1/jobs/${job.id}`)).body.status).toBe('cancelled');
    await expect.poll(() => page.getByRole('button', { name: 'Cancel' }).count()).toBe(0);
  });
});
