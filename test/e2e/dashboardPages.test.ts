// Every page of the dashboard over real data (jobs in each state, a registered project, an indexed
// repository, a memory), at 1400 px (light) and 390 px (dark): headings, the memory pages working
// (search returns results, chat streams an answer with sources and says no model is configured,
// changelog renders and copies), no console errors; screenshots into test-results/screenshots.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumOrSkip, commandAgent, launchChromium, startPlatform, WatchedPage, type Platform } from '../support/dashboard.js';
import { createTestRepo, gitIn } from '../support/repo.js';

const chromiumPath = chromiumOrSkip();

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!chromiumPath)('dashboard pages', () => {
  let platform: Platform;
  let browser: Browser;
  let repo: string;
  const ids: Record<string, string> = {};

  const memory = async (method: string, pathname: string, body?: unknown) => {
    const response = await fetch(`${platform.memoryUrl}${pathname}`, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status, await response.clone().text()).toBeLessThan(300);
    return response.json();
  };
  const submit = async (name: string, script: string, extra: Record<string, unknown> = {}) => {
    const response = await platform.api('POST', '/api/v1/jobs', { project_id: 'demo', title: name, prompt: `Please ${name}.`, agent: commandAgent(script), ...extra });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    ids[name] = response.body.id;
    return response.body.id as string;
  };
  const finished = (id: string) => until(`job ${id}`, async () => ((await platform.api('GET', `/api/v1/jobs/${id}`)).body.finished_at ? true : undefined));

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform({ env: { AUTOBUILD_MAX_PARALLEL: '1' } }), launchChromium(chromiumPath!)]);
    repo = createTestRepo({
      'README.md': '# demo\n',
      'src/queue.ts': 'export function claimNextJob(queue: string[]): string | undefined {\n  // the oldest job first\n  return queue.shift();\n}\n',
      'src/util.py': 'def slugify(text):\n    return "-".join(text.lower().split())\n',
    });
    gitIn(repo, 'tag', 'v0.1.0');
    gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'feat(queue): claim jobs by priority (#12)');
    gitIn(repo, 'commit', '-q', '--allow-empty', '-m', 'fix: keep FIFO order within a priority');
    expect((await platform.api('POST', '/api/v1/projects', { id: 'demo', repo, default_branch: 'main', max_parallel: 4 })).status).toBe(201);
    await memory('POST', '/api/v1/index/files', { project_id: 'demo', root: repo });
    await memory('POST', '/api/v1/memory', { project_id: 'demo', type: 'insight', content: 'The queue test is flaky when two workers claim at once.', tags: ['queue', 'tests'] });

    await finished(await submit('add a changelog file', 'printf "# Changelog\\n\\n- first entry\\n" > CHANGELOG.md; echo "wrote CHANGELOG.md"'));
    await finished(await submit('fix the flaky test', 'echo "running the tests"; echo "1 failed" >&2; exit 1', { priority: 'high' }));
    await submit('refactor the scheduler with a very long title that has to be cut to fit on its card without moving the others', 'sleep 40', { priority: 'critical' });
    await submit('write docs', 'sleep 1', { priority: 'low' });
    await until('the long job to run', async () => ((await platform.api('GET', `/api/v1/jobs/${ids['refactor the scheduler with a very long title that has to be cut to fit on its card without moving the others']}`)).body.status === 'running' ? true : undefined));
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  const PAGES: Array<[string, () => string, string]> = [
    ['board', () => '/', 'Board'],
    ['new-job', () => '/jobs/new', 'New job'],
    ['job-succeeded', () => `/jobs/${ids['add a changelog file']}`, 'add a changelog file'],
    ['job-failed', () => `/jobs/${ids['fix the flaky test']}`, 'fix the flaky test'],
    ['projects', () => '/projects', 'Projects'],
    ['worktrees', () => '/worktrees', 'Worktrees'],
    ['metrics', () => '/metrics', 'Metrics'],
    ['search', () => '/memory/search', 'Search the code'],
    ['chat', () => '/memory/chat', 'Chat with the code'],
    ['memories', () => '/memory/memories', 'Memories'],
    ['patterns', () => '/memory/patterns', 'Patterns'],
    ['changelog', () => '/memory/changelog', 'Changelog'],
  ];

  for (const [width, scheme] of [
    [1400, 'light'],
    [390, 'dark'],
  ] as const) {
    it(`renders every page at ${width} px (${scheme}) without console errors`, async () => {
      const watched = await WatchedPage.open(browser, { width, height: width > 500 ? 900 : 844, colorScheme: scheme });
      const { page } = watched;
      try {
        await page.goto(platform.dashboardUrl);
        await page.evaluate(`localStorage.setItem('autobuild.project', 'demo')`);
        for (const [name, path, heading] of PAGES) {
          await page.goto(`${platform.dashboardUrl}${path()}`);
          await page.getByRole('heading', { level: 1, name: heading }).waitFor();
          if (name === 'board') await page.locator('section[data-column="running"] a[data-job-id]').first().waitFor();
          if (name.startsWith('job-')) await page.getByTestId('job-log').or(page.getByTestId('job-events')).locator('pre, li').first().waitFor();
          if (name === 'projects') await page.getByRole('cell', { name: 'demo', exact: true }).waitFor();
          if (name === 'metrics') await page.locator('.recharts-surface').first().waitFor();
          if (name === 'memories') await page.getByText('flaky when two workers').waitFor();
          await watched.screenshot(`${name}-${width}`);
        }
        expect(watched.errors).toEqual([]);
      } finally {
        await watched.close();
      }
    });
  }

  it('is keyboard reachable with a visible focus', async () => {
    const watched = await WatchedPage.open(browser);
    const { page } = watched;
    try {
      await page.goto(platform.dashboardUrl);
      await page.locator('a[data-job-id]').first().waitFor();
      const focusedCard = async () => page.evaluate<string | null>(`document.activeElement?.getAttribute('data-job-id') ?? null`);
      let presses = 0;
      while (!(await focusedCard()) && presses++ < 40) await page.keyboard.press('Tab');
      expect(await focusedCard()).not.toBeNull();
      const outline = await page.evaluate<string>(`getComputedStyle(document.activeElement).outlineStyle`);
      expect(outline).not.toBe('none');
      await watched.screenshot('board-focus-1400');
      await page.keyboard.press('Enter');
      await page.waitForURL(/\/jobs\/[0-9a-f-]{36}$/);
      expect(watched.errors).toEqual([]);
    } finally {
      await watched.close();
    }
  });

  it('searches the code, chats with it (streamed, with sources, no model said plainly) and writes a changelog', async () => {
    const watched = await WatchedPage.open(browser);
    const { page } = watched;
    try {
      await page.goto(`${platform.dashboardUrl}/memory/search`);
      await page.getByLabel('Project').fill('demo');
      await page.getByLabel('Search', { exact: true }).fill('claim the next job from the queue');
      await page.getByRole('button', { name: 'Search', exact: true }).click();
      const first = page.getByRole('list', { name: 'Results' }).locator('li').first();
      await first.waitFor();
      expect(await first.textContent()).toContain('src/queue.ts');
      expect(await first.locator('.hljs-keyword').count()).toBeGreaterThan(0);
      await watched.screenshot('search-results-1400');

      await page.getByRole('link', { name: 'Chat' }).click();
      await page.getByRole('note').waitFor();
      expect(await page.getByRole('note').textContent()).toContain('No language model is configured');
      await page.getByLabel('Message').fill('How is the next job claimed?');
      await page.getByRole('button', { name: 'Send' }).click();
      await page.locator('.bubble.assistant .sources a', { hasText: 'src/queue.ts' }).first().waitFor();
      await page.getByText('no model: retrieved passages').waitFor();
      await watched.screenshot('chat-answer-1400');

      await page.getByRole('link', { name: 'Changelog' }).click();
      await page.getByLabel('Repository or project').fill(repo);
      await page.getByRole('button', { name: 'Generate' }).click();
      await page.getByRole('region', { name: 'Changelog' }).getByText('claim jobs by priority').waitFor();
      await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.getByRole('button', { name: 'Copy markdown' }).click();
      await page.getByRole('button', { name: 'Copied' }).waitFor();
      expect(await page.evaluate<string>(`navigator.clipboard.readText()`)).toContain('keep FIFO order');
      await watched.screenshot('changelog-result-1400');
      expect(watched.errors).toEqual([]);
    } finally {
      await watched.close();
    }
  });
});
