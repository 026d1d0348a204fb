// Reviewing work in the dashboard: the platform as `npm start` starts it (`autobuild up`) with
// `command` agents in temporary git repositories, and the local GitHub REST server
// (test/fakes/githubServer.ts) behind GITHUB_API_URL, in Debian's Chromium. A project's QA check fails
// on the first round and passes on the second: the job page shows both rounds' checks in the run
// and the QA report; "Open pull request" pushes to the repository's bare `origin` and shows the
// link, and the card moves to Done; the same button on a project without github shows the API's
// 422 beside it. A follow-up's page opens on its own commits ("This job") and shows the whole
// branch on request; a succeeded job whose automatic pull request failed reads as a warning; the
// board's capacity bar and card times say what they mean. Any console or page error fails a test
// (the deliberate 422's "Failed to load resource" line is excused in its test only). Screenshots
// at 1400 and 390 px into test-results/screenshots.
import path from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { startFakeGithub, type FakeGithub } from '../fakes/githubServer.js';
import { chromiumOrSkip, commandAgent, launchChromium, startPlatform, WatchedPage, type Platform } from '../support/dashboard.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';

const chromiumPath = chromiumOrSkip();

const GITHUB = { owner: 'acme', repo: 'widgets', workflow: 'autobuild-agent.yml' };
/** Writes "no" first; told the checks failed, writes "ok"; asked to "add b", adds b.txt. */
const FIXER = commandAgent('case "$AUTOBUILD_PROMPT" in *"checks failed"*) echo ok > a.txt;; *"add b"*) echo b > b.txt;; *) echo no > a.txt;; esac');
/** Passes once a.txt says ok; says what it found otherwise. */
const CHECK = { name: 'a-says-ok', command: ['sh', '-c', 'grep -q ok a.txt || { echo "expected ok in a.txt, found: $(cat a.txt)"; exit 1; }'] };

describe.skipIf(!chromiumPath)('dashboard: reviewing work (QA and pull requests)', () => {
  let gh: FakeGithub;
  let platform: Platform;
  let browser: Browser;
  const dirs: string[] = [];
  const pages: WatchedPage[] = [];

  /** A repository whose `origin` is a fresh bare repository holding its main branch. */
  const repoWithOrigin = () => {
    const repo = createTestRepo({ 'README.md': '# widgets\n' });
    const origin = path.join(tempDir('autobuild-origin-'), 'widgets.git');
    gitIn(path.dirname(origin), 'init', '-q', '--bare', origin);
    gitIn(repo, 'remote', 'add', 'origin', origin);
    gitIn(repo, 'push', '-q', 'origin', 'main');
    dirs.push(repo, path.dirname(origin));
    return { repo, origin };
  };
  const register = async (id: string, repo: string, extra: Record<string, unknown>) => {
    const response = await platform.api('POST', '/api/v1/projects', { id, repo, default_branch: 'main', ...extra });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
  };
  const submit = async (project: string, title: string, agent: unknown, extra: Record<string, unknown> = {}) => {
    const response = await platform.api('POST', '/api/v1/jobs', { project_id: project, title, prompt: `Please ${title}.`, agent, ...extra });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    return response.body.id as string;
  };
  const finished = async (id: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await platform.api('GET', `/api/v1/jobs/${id}`)).body;
      if (job.finished_at) return job;
      if (Date.now() > deadline) throw new Error(`job ${id} is still ${job.status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  const open = async (options?: Parameters<typeof WatchedPage.open>[1]) => {
    const watched = await WatchedPage.open(browser, options);
    pages.push(watched);
    return watched;
  };
  const jobPage = async (id: string, options?: Parameters<typeof WatchedPage.open>[1]) => {
    const watched = await open(options);
    await watched.page.goto(`${platform.dashboardUrl}/jobs/${id}`);
    await watched.page.locator('.facts .badge').first().waitFor();
    return watched;
  };
  const events = (page: Page) => page.getByTestId('job-events');
  const changes = (page: Page) => page.getByRole('region', { name: 'Changes' });
  const pressed = (page: Page, name: string) => changes(page).getByRole('button', { name, exact: true }).getAttribute('aria-pressed');
  const diffFiles = async (page: Page) => (await changes(page).locator('.diff-file').evaluateAll((els) => els.map((el) => el.getAttribute('aria-label')))).sort();
  const card = (page: Page, column: string, id: string) => page.locator(`section[data-column="${column}"] a[data-job-id="${id}"]`);

  beforeAll(async () => {
    gh = await startFakeGithub();
    [platform, browser] = await Promise.all([
      startPlatform({
        env: { AUTOBUILD_MAX_PARALLEL: '2', GITHUB_TOKEN: 'gh-test-token', GITHUB_API_URL: gh.url, AUTOBUILD_GITHUB_WRITE_INTERVAL_MS: '0' },
      }),
      launchChromium(chromiumPath!),
    ]);
    const widgets = repoWithOrigin();
    await register('widgets', widgets.repo, { github: GITHUB, qa: { commands: [CHECK], rounds: 2 } });
    const plain = createTestRepo({ 'README.md': '# plain\n' });
    const lenient = createTestRepo({ 'README.md': '# lenient\n' });
    const auto = createTestRepo({ 'README.md': '# auto\n' });
    dirs.push(plain, lenient, auto);
    await register('plain', plain, { qa: { commands: [] } });
    await register('lenient', lenient, { qa: { commands: [{ name: 'build', command: ['sh', '-c', 'echo compiling; echo "error: a.txt is not ok" >&2; exit 2'] }, CHECK], rounds: 0, required: false } });
    // Pull requests on, but its repository has no `origin` to push to.
    await register('auto', auto, { github: GITHUB, pull_requests: true, qa: { commands: [] } });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await gh?.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    for (const watched of pages.splice(0)) {
      const errors = [...watched.errors];
      await watched.close();
      expect(errors, 'console or page errors').toEqual([]);
    }
  });

  it('shows two QA rounds in the run and the report; opens a pull request from the page; the card moves to Done', async () => {
    const id = await submit('widgets', 'make a.txt say ok', FIXER);
    const { page } = await jobPage(id);
    await page.locator('.facts .status-succeeded').waitFor({ timeout: 60_000 });
    const job = (await platform.api('GET', `/api/v1/jobs/${id}`)).body;
    expect(job.result.qa).toMatchObject({ passed: true, rounds: 2, checks: [{ name: 'a-says-ok', passed: true, exit_code: 0 }] });

    // The run: each round's check as its own row, the failing one with its output open.
    const qaRows = events(page).locator('li.ev-qa_check');
    await expect.poll(() => qaRows.count(), { timeout: 10_000 }).toBe(2);
    expect(await qaRows.first().getAttribute('class')).toContain('ev-bad');
    expect(await qaRows.first().textContent()).toMatch(/a-says-ok\s*failed\s*\(exit 1 in \d+\.\ds\)/);
    expect(await qaRows.first().locator('details').getAttribute('open')).not.toBeNull();
    expect(await qaRows.first().locator('pre').textContent()).toContain('expected ok in a.txt, found: no');
    expect(await qaRows.nth(1).getAttribute('class')).not.toContain('ev-bad');
    expect(await qaRows.nth(1).textContent()).toMatch(/a-says-ok\s*passed\s*\(exit 0 in \d+\.\ds\)/);

    // The report: passed on round 2, the check with its command, exit code and time.
    const report = page.getByTestId('qa-report');
    expect(await report.locator('h2').textContent()).toMatch(/QA\s*passed\s*on round 2 \(the agent was sent back once\)/);
    const check = report.locator('li[data-check="a-says-ok"]');
    expect(await check.locator('.qa-command').textContent()).toBe(CHECK.command.join(' '));
    expect(await check.locator('.qa-numbers').textContent()).toMatch(/^exit 0 · \d+\.\ds$/);
    expect(await check.locator('.badge').textContent()).toBe('passed');

    // A job with neither parent nor follow-ups: its changes are the branch's.
    expect(await pressed(page, 'Whole branch')).toBe('true');
    await expect.poll(() => diffFiles(page)).toEqual(['a.txt']);
    const shot = await open();
    await shot.page.goto(`${platform.dashboardUrl}/jobs/${id}`);
    await shot.page.getByTestId('qa-report').waitFor();
    await events(shot.page).locator('li.ev-qa_check').nth(1).waitFor();
    await shot.screenshot('review-job-qa-1400-light');

    // Open pull request: pushed to origin, the link shown beside the other actions and in the outcome.
    await page.getByRole('button', { name: 'Open pull request' }).click();
    const link = page.getByTestId('pr-button');
    await link.waitFor({ timeout: 20_000 });
    expect(gh.pulls).toHaveLength(1);
    const pull = gh.pulls[0]!;
    expect(pull).toMatchObject({ head: job.branch, base: 'main', title: 'make a.txt say ok', state: 'open' });
    expect(pull.body).toContain('a-says-ok');
    expect(await link.getAttribute('href')).toBe(pull.html_url);
    expect(await link.textContent()).toContain(`#${pull.number}`);
    await page.getByTestId('pr-link').waitFor();
    expect(await page.getByTestId('pr-link').getByRole('link').getAttribute('href')).toBe(pull.html_url);
    expect(await page.getByRole('button', { name: 'Open pull request' }).count()).toBe(0);
    expect((await platform.api('GET', `/api/v1/jobs/${id}`)).body.result.pr_url).toBe(pull.html_url);
    await screenshotsOf(id, 'review-job-pr', (p) => p.getByTestId('pr-link').waitFor());

    // The board: the card is Done, with its pull request.
    const board = await open();
    await board.page.goto(platform.dashboardUrl);
    await card(board.page, 'done', id).waitFor();
    expect(await card(board.page, 'done', id).locator('.card-note').textContent()).toBe(`pull request #${pull.number}`);
    expect(await card(board.page, 'done', id).locator('.card-time').textContent()).toMatch(/^ran \d+s$|^ran <1s$/);

    // A follow-up on the same branch: its page opens on its own commits; the whole branch on request.
    const followUp = await platform.api('POST', `/api/v1/jobs/${id}/follow-ups`, { prompt: 'Now add b.txt' });
    expect(followUp.status, JSON.stringify(followUp.body)).toBe(201);
    const followUpId = followUp.body.id as string;
    expect((await finished(followUpId)).status).toBe('succeeded');
    const next = await jobPage(followUpId);
    await next.page.locator('.facts .status-succeeded').waitFor();
    expect(await pressed(next.page, 'This job')).toBe('true');
    await expect.poll(() => diffFiles(next.page)).toEqual(['b.txt']);
    expect(await next.page.getByTestId('diff-scope').textContent()).toMatch(/Only this job's own commits/);
    await changes(next.page).getByRole('button', { name: 'Whole branch' }).click();
    await expect.poll(() => diffFiles(next.page)).toEqual(['a.txt', 'b.txt']);
    expect(await pressed(next.page, 'This job')).toBe('false');
    await changes(next.page).getByRole('button', { name: 'This job' }).click();
    await expect.poll(() => diffFiles(next.page)).toEqual(['b.txt']);
    await screenshotsOf(followUpId, 'review-job-follow-up', (p) => p.getByRole('region', { name: 'Thread' }).waitFor());

    // The first job now has a follow-up: its page too opens on its own commits.
    const first = await jobPage(id);
    await first.page.getByRole('region', { name: 'Thread' }).waitFor();
    await expect.poll(() => pressed(first.page, 'This job')).toBe('true');
    await expect.poll(() => diffFiles(first.page)).toEqual(['a.txt']);
  }, 150_000);

  it("shows the API's 422 beside the button for a project without github", async () => {
    const id = await submit('plain', 'change the plain repo', commandAgent('echo changed > plain.txt'));
    expect((await finished(id)).status).toBe('succeeded');
    const watched = await jobPage(id);
    const { page } = watched;
    // The deliberate 422: Chromium logs "Failed to load resource … status of 422", excused here only.
    watched.expectedStatuses.add(422);
    await page.getByRole('button', { name: 'Open pull request' }).click();
    const error = page.getByTestId('pr-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/project plain has no github/);
    // Beside the button, in the same group.
    expect(await page.locator('.pr-action').getByTestId('pr-error').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Open pull request' }).isEnabled()).toBe(true);
    expect(gh.pulls.filter((p) => p.title === 'change the plain repo')).toHaveLength(0);
    await watched.screenshot('review-job-pr-422-1400-light');
    const phone = await open({ width: 390, height: 844 });
    phone.expectedStatuses.add(422);
    await phone.page.goto(`${platform.dashboardUrl}/jobs/${id}`);
    await phone.page.getByRole('button', { name: 'Open pull request' }).click();
    await phone.page.getByTestId('pr-error').waitFor();
    await expectNoSideScroll(phone.page);
    await phone.screenshot('review-job-pr-422-390-light');
  }, 60_000);

  it('shows a failing QA report with its output, and a succeeded job whose pull request failed as a warning', async () => {
    const lenient = await submit('lenient', 'try without fixing', FIXER);
    const auto = await submit('auto', 'open it automatically', commandAgent('echo auto > auto.txt'));
    const lenientJob = await finished(lenient);
    expect((await finished(auto)).status).toBe('succeeded');
    expect(lenientJob).toMatchObject({ status: 'succeeded', result: { qa: { passed: false, rounds: 1 } } });
    // The automatic pull request is tried once the job has succeeded; its failure lands on the job.
    await expect.poll(async () => (await platform.api('GET', `/api/v1/jobs/${auto}`)).body.error, { timeout: 20_000 }).toMatch(/^pull request not opened: /);

    const { page } = await jobPage(lenient);
    const report = page.getByTestId('qa-report');
    await report.waitFor();
    expect(await report.locator('h2').textContent()).toMatch(/QA\s*failed\s*after 1 round/);
    expect(await report.locator('.warn-note').textContent()).toMatch(/Still failing: build, a-says-ok\. QA is not required/);
    const build = report.locator('li[data-check="build"]');
    expect(await build.locator('.qa-numbers').textContent()).toMatch(/^exit 2 · \d+\.\ds$/);
    expect(await build.locator('details').getAttribute('open')).not.toBeNull();
    expect(await build.locator('details pre').textContent()).toContain('error: a.txt is not ok');
    await build.locator('details pre').evaluate((el) => el.setAttribute('data-probe', ''));
    expect(await page.evaluate<string>(`getComputedStyle(document.querySelector('[data-probe]')).fontFamily`)).toMatch(/mono/i);
    // Collapsible: closed on a click.
    await build.locator('details summary').click();
    expect(await build.locator('details').getAttribute('open')).toBeNull();
    await build.locator('details summary').click();
    await screenshotsOf(lenient, 'review-job-qa-failed', (p) => p.getByTestId('qa-report').waitFor());

    // Succeeded, with the automatic pull request's failure as a warning (not as the job's failure).
    const autoPage = await jobPage(auto);
    const warning = autoPage.page.getByTestId('job-warning');
    await warning.waitFor();
    expect(await warning.textContent()).toMatch(/^Warning: pull request not opened: /);
    expect(await autoPage.page.getByTestId('job-error').count()).toBe(0);
    expect(await autoPage.page.locator('.facts .status-succeeded').count()).toBe(1);
    const board = await open();
    await board.page.goto(platform.dashboardUrl);
    const autoCard = card(board.page, 'review', auto);
    await autoCard.waitFor();
    expect(await autoCard.locator('.card-note').getAttribute('class')).toContain('note-warn');
    expect(await card(board.page, 'review', lenient).locator('.card-note').textContent()).toBe('QA failed');
  }, 90_000);

  it('draws the capacity bar as running / max and labels each card’s time by its state', async () => {
    // One failed card too, so every column has one in the screenshot.
    expect((await finished(await submit('plain', 'fix the flaky test', commandAgent('echo "1 failed" >&2; exit 1')))).status).toBe('failed');
    const blockers = [await submit('plain', 'long task one', commandAgent('sleep 20')), await submit('plain', 'long task two', commandAgent('sleep 20'))];
    const waiting = await submit('plain', 'waits for a slot', commandAgent('sleep 1'));
    const watched = await open();
    const { page } = watched;
    await page.goto(platform.dashboardUrl);
    await expect.poll(async () => (await page.getByTestId('capacity-running').textContent())?.trim(), { timeout: 15_000 }).toBe('2 / 2');
    const ratio = async () => barShare(page);
    await expect.poll(ratio, { timeout: 5000 }).toBeCloseTo(1, 2);
    // A page opened now draws the full bar at once (not grown from empty, caught part-way).
    const fresh = await open();
    await fresh.page.goto(platform.dashboardUrl);
    await fresh.page.getByText('2 / 2', { exact: true }).waitFor();
    expect(await barShare(fresh.page)).toBeCloseTo(1, 2);
    await card(page, 'running', blockers[0]!).waitFor();
    await expect.poll(() => card(page, 'running', blockers[0]!).locator('.card-time').textContent()).toMatch(/^running \d+s$/);
    await card(page, 'queued', waiting).waitFor();
    expect(await card(page, 'queued', waiting).locator('.card-time').textContent()).toMatch(/^queued (\d+s|<1s)$/);
    expect(await card(page, 'queued', waiting).locator('.queue-pos').textContent()).toBe('#1 in queue');
    await page.waitForTimeout(1500);
    await watched.screenshot('review-board-1400-light');
    const phone = await open({ width: 390, height: 844, colorScheme: 'dark' });
    await phone.page.goto(platform.dashboardUrl);
    await card(phone.page, 'running', blockers[0]!).waitFor();
    await expectNoSideScroll(phone.page);
    await phone.screenshot('review-board-390-dark');

    // One of two slots: half a bar.
    expect((await platform.api('DELETE', `/api/v1/jobs/${blockers[0]}`)).status).toBe(202);
    expect((await platform.api('DELETE', `/api/v1/jobs/${waiting}`)).status).toBe(202);
    await expect.poll(async () => (await page.getByTestId('capacity-running').textContent())?.trim(), { timeout: 15_000 }).toBe('1 / 2');
    await expect.poll(ratio, { timeout: 5000 }).toBeCloseTo(0.5, 2);
    expect((await platform.api('DELETE', `/api/v1/jobs/${blockers[1]}`)).status).toBe(202);
  }, 60_000);

  /** The page at 1400 (light) and 390 (dark) px, none wider than the screen. */
  async function screenshotsOf(id: string, name: string, ready: (page: Page) => Promise<unknown>) {
    for (const [width, colorScheme] of [[1400, 'light'], [390, 'dark']] as const) {
      const watched = await open({ width, height: width === 390 ? 844 : 900, colorScheme });
      await watched.page.goto(`${platform.dashboardUrl}/jobs/${id}`);
      await ready(watched.page);
      await watched.page.locator('.diff-file').first().waitFor();
      if (width === 390) await expectNoSideScroll(watched.page);
      await watched.screenshot(`${name}-${width}-${colorScheme}`);
    }
  }
});

/** The page scrolls only down, never sideways (a phone). */
async function expectNoSideScroll(page: Page) {
  expect(await page.evaluate<number>(`document.documentElement.scrollWidth - document.documentElement.clientWidth`)).toBeLessThanOrEqual(0);
}

/** How much of the capacity meter's inside its bar fills (0 without a bar). */
function barShare(page: Page): Promise<number> {
  return page.evaluate<number>(`(() => {
    const meter = document.querySelector('.capacity .meter');
    const bar = meter && meter.firstElementChild;
    return bar ? bar.getBoundingClientRect().width / meter.clientWidth : 0;
  })()`);
}

