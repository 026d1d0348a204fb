// The job page of a real agent run: the platform as `npm start` starts it (`autobuild up`), whose
// default agent is the real Claude Code CLI (node_modules/.bin/claude) pointed at a local fake of
// the Messages API that scripts a Write and a Bash call. In Debian's Chromium the page shows the
// run as it streams (session, tool calls with their summaries, results, usage), the branch's diff,
// cost, tokens, turns and model; "Follow up" from the page starts a job that resumes the session,
// finishes, joins the thread and adds its file to the diff. Any console or page error fails the
// test. Screenshots of the job page at 1400 and 390 px, light and dark, into test-results/screenshots.
import path from 'node:path';
import { rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { apiError, startFakeAnthropic, text, toolUse, type FakeAnthropic, type FakeResponse, type MessagesRequest } from '../fakes/anthropicServer.js';
import { chromiumOrSkip, launchChromium, startPlatform, WatchedPage, type Platform } from '../support/dashboard.js';
import { CLAUDE_SETUP_VARS, claudeFakeEnv, cwdOf, findClaude, hasWrite, stepOf, userTexts } from '../support/claudeCode.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';

const chromiumPath = chromiumOrSkip();
const claude = findClaude();
if (!claude.path && process.env.CI === 'true') throw new Error(`CI=true but ${claude.reason}`);
if (!claude.path) console.warn(`skipping the dashboard's agent test: ${claude.reason}`);

const PROMPT = 'Create hello.txt saying hi and record that the checks ran.';
const FOLLOW_UP = 'Also add bye.txt saying bye';
const FINAL = 'Created hello.txt and ran the checks.';
const TURN_USAGE = { input_tokens: 1200, output_tokens: 40 };


/** The task: say what it does, Write hello.txt, run a Bash command, finish; the follow-up writes bye.txt. */
function worker(body: MessagesRequest): FakeResponse {
  if (!hasWrite(body)) return { content: [text('Title')] };
  const cwd = cwdOf(body);
  const step = stepOf(body);
  if ((userTexts(body).at(-1) ?? '').includes(FOLLOW_UP)) {
    return step === 0
      ? { content: [text('Adding bye.txt.'), toolUse('Write', { file_path: path.join(cwd, 'bye.txt'), content: 'bye\n' })], usage: TURN_USAGE }
      : { content: [text('Added bye.txt.')], usage: TURN_USAGE };
  }
  if (step === 0) return { content: [text('Writing the file.'), toolUse('Write', { file_path: path.join(cwd, 'hello.txt'), content: 'hi\n' })], usage: TURN_USAGE };
  if (step === 1) return { content: [toolUse('Bash', { command: 'echo checks ran > checks.txt', description: 'record the checks' })], usage: TURN_USAGE };
  return { content: [text(FINAL)], usage: TURN_USAGE };
}

/** The first answer of a task is the provider's usage limit (as the API answers a subscription over it). */
function usageLimited(): (body: MessagesRequest) => FakeResponse {
  let limited = false;
  return (body) => {
    if (hasWrite(body) && !limited && stepOf(body) === 0) {
      limited = true;
      return apiError(429, 'rate_limit_error', 'Claude AI usage limit reached. Your limit resets soon.', {
        'anthropic-ratelimit-unified-status': 'rejected',
        'anthropic-ratelimit-unified-reset': String(Math.floor(Date.now() / 1000) + 3600),
        'retry-after': '3600',
      });
    }
    return worker(body);
  };
}

describe.skipIf(!chromiumPath || !claude.path)('dashboard: a Claude Code run on the job page', () => {
  /** What the fake answers: the scripted task unless a test says otherwise. */
  let script: (body: MessagesRequest) => FakeResponse = worker;
  let fake: FakeAnthropic;
  let platform: Platform;
  let browser: Browser;
  let repo: string;
  let claudeHome: string;
  const pages: WatchedPage[] = [];

  beforeAll(async () => {
    fake = await startFakeAnthropic((body) => script(body));
    claudeHome = tempDir('claude-home-');
    [platform, browser] = await Promise.all([
      startPlatform({
        // Nothing of the machine's own Claude setup reaches the agents; and no IS_SANDBOX, which makes
        // the CLI retry provider errors for minutes.
        unsetEnv: CLAUDE_SETUP_VARS,
        env: {
          AUTOBUILD_CLAUDE_COMMAND: claude.path!,
          AUTOBUILD_DEFAULT_AGENT: 'claude-code',
          // A job the provider stops waits this long (no reset time reaches the orchestrator here).
          AUTOBUILD_RATE_LIMIT_BACKOFF_S: '6',
          ...claudeFakeEnv(fake.url, claudeHome),
        },
      }),
      launchChromium(chromiumPath!),
    ]);
    repo = createTestRepo({ 'README.md': '# demo\n' });
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    await fake?.close();
    for (const dir of [repo, claudeHome]) if (dir) rmSync(dir, { recursive: true, force: true });
  });
  afterEach(async () => {
    script = worker;
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
  const events = (page: Page) => page.getByTestId('job-events');
  /** Waits until the page's facts say the job succeeded; on a failure, says what the platform logged. */
  const succeeded = async (page: Page, id: string) => {
    try {
      await page.locator('.facts .status-succeeded').waitFor({ timeout: 90_000 });
    } catch (error) {
      const job = (await platform.api('GET', `/api/v1/jobs/${id}`)).body;
      const log = (await platform.api('GET', `/api/v1/jobs/${id}/logs`)).body;
      throw new Error(`job ${id} is ${job.status} (${job.error}): ${log}\n${platform.output().slice(-3000)}`, { cause: error });
    }
  };
  const submit = async (title: string, extra: Record<string, unknown> = {}) => {
    const submitted = await platform.api('POST', '/api/v1/jobs', { project_id: 'demo', repo, title, prompt: PROMPT, timeout_s: 90, ...extra });
    expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
    return submitted.body.id as string;
  };
  const fact = async (page: Page, label: string) => (await page.locator('.facts div', { has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd').textContent())?.trim();
  const SIZES = [[1400, 'light'], [1400, 'dark'], [390, 'light'], [390, 'dark']] as const;
  const screenshots = async (id: string, name: string, ready: (page: Page) => Promise<unknown>, sizes: ReadonlyArray<readonly [number, 'light' | 'dark']> = SIZES) => {
    for (const [width, colorScheme] of sizes) {
      const watched = await open({ width, height: width === 390 ? 844 : 900, colorScheme });
      await watched.page.goto(`${platform.dashboardUrl}/jobs/${id}`);
      await ready(watched.page);
      await watched.screenshot(`${name}-${width}-${colorScheme}`);
    }
  };
  const fullRun = async (page: Page) => {
    await events(page).getByText('Write', { exact: true }).first().waitFor();
    await page.locator('.diff-file').first().waitFor();
    await page.locator('.thread').waitFor();
  };

  it('shows the run as it streams, the diff, cost and tokens; a follow-up from the page resumes and adds its file', async () => {
    const id = await submit('Say hello');

    // Opened at once: the page follows the run live, then shows it finished.
    const { page } = await open();
    await page.goto(`${platform.dashboardUrl}/jobs/${id}`);
    await page.getByRole('heading', { name: 'Say hello' }).waitFor();
    await succeeded(page, id);
    const job = (await platform.api('GET', `/api/v1/jobs/${id}`)).body;
    expect(job.agent).toEqual({ type: 'claude-code' });
    expect(job.result.files_changed.sort()).toEqual(['checks.txt', 'hello.txt']);

    // The run: the session, the agent's words, both tool calls with their summaries and their results.
    const run = events(page);
    const row = (kind: string, content?: string) => run.locator(`li.ev-${kind}`, content ? { hasText: content } : {});
    await row('result', FINAL).waitFor();
    expect(await row('session').textContent()).toContain(job.result.session_id);
    expect(await row('session').textContent()).toContain('acceptEdits');
    await row('agent_text', 'Writing the file.').waitFor();
    expect(await row('tool_call', 'hello.txt').locator('.tool').textContent()).toBe('Write');
    expect(await row('tool_call', 'echo checks ran > checks.txt').locator('.tool').textContent()).toBe('Bash');
    expect(await row('tool_result').count()).toBe(2);
    expect(await run.locator('li.ev-tool_result.ev-bad').count()).toBe(0);
    expect(await row('tool_result').first().locator('.tool').textContent()).toBe('Write');
    expect(await row('tool_result').nth(1).locator('.tool').textContent()).toBe('Bash');
    await row('usage').first().waitFor();
    expect(await row('note').count()).toBeGreaterThan(0);

    // The numbers: cost as the CLI reported it, tokens (three answers of TURN_USAGE), turns, model.
    expect(job.result.cost_usd).toBeGreaterThan(0);
    expect(job.result.cost_source).toBe('agent');
    const cost = job.result.cost_usd < 0.01 ? `$${job.result.cost_usd.toFixed(4)}` : `$${job.result.cost_usd.toFixed(2)}`;
    expect(await fact(page, 'Cost')).toBe(cost);
    expect(await fact(page, 'Tokens')).toMatch(/^3\.6k in · 120 out/);
    expect(await fact(page, 'Turns')).toBe(String(job.result.num_turns));
    expect(await fact(page, 'Model')).toBe(job.result.model);

    // The diff of the branch: both files, hello.txt with its added line.
    const changes = page.getByRole('region', { name: 'Changes' });
    const hello = changes.getByRole('region', { name: 'hello.txt' });
    await hello.waitFor();
    await changes.getByRole('region', { name: 'checks.txt' }).waitFor();
    expect(await hello.locator('.diff-code-insert').first().textContent()).toContain('hi');

    // Follow up from the page: a new job on the same branch that resumes the session.
    await page.getByRole('button', { name: 'Follow up' }).click();
    await page.getByLabel('Follow-up prompt').fill(FOLLOW_UP);
    await page.getByRole('button', { name: 'Start follow-up' }).click();
    await page.waitForURL((url) => /\/jobs\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(id));
    const followUpId = page.url().split('/').pop()!;
    await succeeded(page, followUpId);
    const followUp = (await platform.api('GET', `/api/v1/jobs/${followUpId}`)).body;
    expect(followUp).toMatchObject({ parent_job_id: id, branch: job.branch, status: 'succeeded' });
    expect(followUp.result.session_id).toBe(job.result.session_id);
    expect(gitIn(repo, 'show', `${job.branch}:bye.txt`)).toBe('bye');
    await events(page).locator('li.ev-note', { hasText: `resuming session ${job.result.session_id}` }).waitFor();
    await events(page).locator('li.ev-tool_call', { hasText: 'bye.txt' }).waitFor();
    await events(page).locator('li.ev-result', { hasText: 'Added bye.txt.' }).waitFor();
    // Its page shows no event of the first job's run.
    expect(await events(page).locator('li.ev-tool_call', { hasText: 'hello.txt' }).count()).toBe(0);

    // The thread: the first job, then the follow-up (this page), in order.
    const thread = page.getByRole('region', { name: 'Thread' });
    await expect.poll(() => thread.locator('li').count(), { timeout: 10_000 }).toBe(2);
    expect(await thread.locator('li').first().getByRole('link').textContent()).toBe('Say hello');
    expect(await thread.locator('li.current').textContent()).toContain(FOLLOW_UP);
    expect(await page.locator('.facts').getByRole('link', { name: id.slice(0, 8) }).count()).toBe(1);

    // Its diff: the branch now also has bye.txt.
    const byeDiff = page.getByRole('region', { name: 'Changes' }).getByRole('region', { name: 'bye.txt' });
    await byeDiff.waitFor({ timeout: 15_000 });
    expect(await byeDiff.locator('.diff-code-insert').first().textContent()).toContain('bye');

    await screenshots(id, 'job-agent', fullRun);
    await screenshots(followUpId, 'job-agent-follow-up', fullRun);
  }, 240_000);

  it('highlights the tools a run was denied and names them on the failed job', async () => {
    // Print mode with the default permission mode and no allowed tools: every write is refused.
    const id = await submit('Denied everything', { agent: { type: 'claude-code', permission_mode: 'default', allowed_tools: [] } });
    const { page } = await open();
    await page.goto(`${platform.dashboardUrl}/jobs/${id}`);
    await page.locator('.facts .status-failed').waitFor({ timeout: 90_000 });
    const denied = events(page).locator('li.ev-permission_denied');
    await expect.poll(() => denied.count(), { timeout: 10_000 }).toBe(2);
    expect(await denied.first().getAttribute('class')).toContain('ev-bad');
    expect(await denied.first().textContent()).toMatch(/Permission denied:\s*Write\s.*hello\.txt/);
    expect(await denied.nth(1).textContent()).toMatch(/Permission denied:\s*Bash\s/);
    expect(await page.getByTestId('denied-tools').textContent()).toBe('Write hello.txt, Bash echo checks ran > checks.txt');
    expect(await page.getByRole('region', { name: 'Outcome' }).locator('.error-note').textContent()).toMatch(/denied Write hello\.txt/);
    await screenshots(id, 'job-agent-denied', (p) => events(p).locator('li.ev-permission_denied').nth(1).waitFor(), [[1400, 'light'], [390, 'dark']]);
  }, 120_000);

  it('shows a job the provider stopped waiting in the queue (why, until when), then resuming its session', async () => {
    script = usageLimited();
    const id = await submit('Hit the usage limit');
    const watched = await open();
    const { page } = watched;
    await page.goto(`${platform.dashboardUrl}/jobs/${id}`);
    const waiting = page.getByTestId('job-waiting');
    await waiting.waitFor({ timeout: 60_000 });
    expect(await waiting.textContent()).toMatch(/rate limited by the model provider \(429\)/);
    expect(await waiting.textContent()).toMatch(/starts again at .+ \(in \d+s\)/);
    expect(await fact(page, 'Not before')).toMatch(/\(in \d+s\)$/);
    expect(await page.locator('.facts .status-queued').count()).toBe(1);
    await events(page).locator('li.ev-result.ev-bad', { hasText: 'usage limit reached' }).waitFor();
    await watched.screenshot('job-agent-waiting-1400-light');

    // The same page follows it back to running and to its end: the session resumed.
    await succeeded(page, id);
    expect(await page.getByTestId('job-waiting').count()).toBe(0);
    const job = (await platform.api('GET', `/api/v1/jobs/${id}`)).body;
    expect(job.attempt).toBe(1);
    await events(page).locator('li.ev-note', { hasText: `resuming session ${job.result.session_id}` }).waitFor();
    await events(page).locator('li.ev-result', { hasText: FINAL }).waitFor();
    expect(await events(page).locator('li.ev-session').count()).toBe(2);
  }, 150_000);
});
