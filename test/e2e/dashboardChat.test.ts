// The Chat page with a model: the platform as `up` starts it, its memory service's real Anthropic
// SDK talking to the fake Messages API (ANTHROPIC_BASE_URL), over a small indexed project. The fake
// streams the answer in pieces and holds it between them until the test has seen each piece on the
// page: the answer grows while it streams (Stop offered, no model line yet), then is whole with the
// model's name and its sources linked as path:lines; a second message carries the conversation (the
// fake's second request holds the first question and answer); no console errors; at 1400 px
// (light) and 390 px (dark), screenshots into test-results/screenshots.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator } from 'playwright-core';
import { contentText, startFakeAnthropic, text, type FakeAnthropic, type MessagesRequest } from '../fakes/anthropicServer.js';
import { chromiumOrSkip, launchChromium, startPlatform, WatchedPage, type Platform } from '../support/dashboard.js';
import { createTestRepo } from '../support/repo.js';

const chromiumPath = chromiumOrSkip();
const MODEL = 'claude-fake-chat-model';

const FIRST_QUESTION = 'How is the next job claimed?';
const FIRST_PIECES = ['The next job is claimed by `claimNextJob` ', 'in `src/queue.ts:1-4`: it shifts the queue, ', 'so the oldest job goes first.'];
const SECOND_QUESTION = 'And what happens when the queue is empty?';
const SECOND_PIECES = ['Then `queue.shift()` returns `undefined` ', '(src/queue.ts:3), so no job is claimed.'];

/** Releases the fake's held pieces one at a time, whichever comes first (the release or the wait). */
class Stepper {
  private waiting: Array<() => void> = [];
  private credits = 0;
  wait(): Promise<void> {
    if (this.credits > 0) {
      this.credits--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
  step(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.credits++;
  }
  releaseAll(): void {
    for (const next of this.waiting.splice(0)) next();
    this.credits = 1000;
  }
}

const lastUserText = (body: MessagesRequest) => contentText(body.messages.findLast((m) => m.role === 'user')?.content ?? '');
const isChat = (body: MessagesRequest) => JSON.stringify(body.system ?? '').includes('software project \\"demo\\"');

describe.skipIf(!chromiumPath)('dashboard chat with a model', () => {
  let fake: FakeAnthropic;
  let platform: Platform;
  let browser: Browser;
  let repo: string;
  let stepper = new Stepper();

  beforeAll(async () => {
    fake = await startFakeAnthropic((body) => {
      const question = lastUserText(body);
      if (question === FIRST_QUESTION) return { content: [text(FIRST_PIECES.join(''))], textPieces: () => FIRST_PIECES, beforeTextDelta: () => stepper.wait() };
      if (question === SECOND_QUESTION) {
        return { content: [text(SECOND_PIECES.join(''))], textPieces: () => SECOND_PIECES, beforeTextDelta: () => new Promise((r) => setTimeout(r, 300)) };
      }
      return { content: [text('(not a question this test asks)')] };
    });
    [platform, browser] = await Promise.all([
      startPlatform({ env: { ANTHROPIC_API_KEY: 'dummy', ANTHROPIC_BASE_URL: fake.url, AUTOBUILD_LLM_MODEL: MODEL }, unsetEnv: /^(ANTHROPIC_|CLAUDE)/ }),
      launchChromium(chromiumPath!),
    ]);
    repo = createTestRepo({
      'README.md': '# demo\n\nA tiny job queue.\n',
      'src/queue.ts': 'export function claimNextJob(queue: string[]): string | undefined {\n  // the oldest job first\n  return queue.shift();\n}\n',
      'src/util.py': 'def slugify(text):\n    return "-".join(text.lower().split())\n',
    });
    const indexed = await fetch(`${platform.memoryUrl}/api/v1/index/files`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_id: 'demo', root: repo }),
    });
    expect(indexed.status, await indexed.text()).toBeLessThan(300);
  });
  afterAll(async () => {
    stepper.releaseAll();
    await browser?.close();
    await platform?.stop();
    await fake?.close();
    if (repo) rmSync(repo, { recursive: true, force: true });
  });

  for (const [width, scheme] of [
    [1400, 'light'],
    [390, 'dark'],
  ] as const) {
    it(`streams an answer with its sources and keeps the conversation at ${width} px (${scheme})`, async () => {
      stepper = new Stepper();
      const before = fake.messages().filter(isChat).length;
      const watched = await WatchedPage.open(browser, { width, height: width > 500 ? 900 : 844, colorScheme: scheme });
      const { page } = watched;
      try {
        await page.goto(platform.dashboardUrl);
        await page.evaluate(`localStorage.setItem('autobuild.project', 'demo')`);
        const health = page.waitForResponse((r) => r.url().endsWith('/api/memory/health'));
        await page.goto(`${platform.dashboardUrl}/memory/chat`);
        await page.getByRole('heading', { level: 1, name: 'Chat with the code' }).waitFor();
        // A model is configured: no note saying otherwise.
        expect(await (await health).json()).toMatchObject({ checks: { llm: `configured ${MODEL}` } });
        expect(await page.getByRole('note').count()).toBe(0);

        await page.getByLabel('Message').fill(FIRST_QUESTION);
        await page.getByRole('button', { name: 'Send' }).click();
        const answer = page.locator('.bubble.assistant').first();
        const answerText = () => answer.locator('.markdown').innerText();

        // The first piece alone, the answer still streaming.
        await answer.getByText('The next job is claimed by').waitFor();
        expect(await answerText()).not.toContain('shifts the queue');
        await page.getByRole('button', { name: 'Answering…' }).waitFor();
        await page.getByRole('button', { name: 'Stop' }).waitFor();
        await answer.getByText('Writing the answer…').waitFor();
        expect(await answer.getAttribute('aria-busy')).toBe('true');
        expect(await answer.getByText(`answered by ${MODEL}`).count()).toBe(0);
        await watched.screenshot(`chat-streaming-${width}`);

        // The second piece, the third still held.
        stepper.step();
        await answer.getByText('shifts the queue').waitFor();
        expect(await answerText()).not.toContain('oldest job goes first');
        expect(await answer.getByText(`answered by ${MODEL}`).count()).toBe(0);

        // The whole answer, the model's name, the sources linked as path:lines.
        stepper.step();
        await answer.getByText(`answered by ${MODEL}`).waitFor();
        expect((await answerText()).replace(/\s+/g, ' ').trim()).toBe('The next job is claimed by claimNextJob in src/queue.ts:1-4: it shifts the queue, so the oldest job goes first.');
        await page.getByRole('button', { name: 'Send' }).waitFor();
        expect(await page.getByRole('button', { name: 'Stop' }).count()).toBe(0);
        expect(await answer.getByText('Writing the answer…').count()).toBe(0);
        expect(await answer.getAttribute('aria-busy')).toBeNull();
        const source: Locator = answer.locator('.sources a', { hasText: 'src/queue.ts' }).first();
        expect(await source.textContent()).toMatch(/^src\/queue\.ts:\d+–\d+$/);
        expect(await source.getAttribute('href')).toBe('/memory/search?path=src%2Fqueue.ts');
        await watched.screenshot(`chat-model-answer-${width}`);

        // A follow-up: the conversation goes with it, and both answers stay on the page.
        await page.getByLabel('Message').fill(SECOND_QUESTION);
        await page.getByRole('button', { name: 'Send' }).click();
        const second = page.locator('.bubble.assistant').nth(1);
        await second.getByText(`answered by ${MODEL}`).waitFor();
        expect((await second.locator('.markdown').innerText()).replace(/\s+/g, ' ').trim()).toBe('Then queue.shift() returns undefined (src/queue.ts:3), so no job is claimed.');
        expect(await page.locator('.bubble.user').allInnerTexts()).toEqual([FIRST_QUESTION, SECOND_QUESTION]);
        expect(await answer.getByText('oldest job goes first').count()).toBe(1);

        const sent = fake.messages().filter(isChat).slice(before);
        expect(sent).toHaveLength(2);
        expect(sent.every((body) => body.stream === true && body.model === MODEL)).toBe(true);
        expect(sent[0]!.messages.map((m) => [m.role, contentText(m.content)])).toEqual([['user', FIRST_QUESTION]]);
        expect(sent[1]!.messages.map((m) => [m.role, contentText(m.content)])).toEqual([
          ['user', FIRST_QUESTION],
          ['assistant', FIRST_PIECES.join('')],
          ['user', SECOND_QUESTION],
        ]);
        await watched.screenshot(`chat-conversation-${width}`);

        // A source link opens that file's passages in Search.
        await source.click();
        await page.getByRole('heading', { level: 1, name: 'Search the code' }).waitFor();
        await page.getByRole('list', { name: 'Results' }).locator('li', { hasText: 'src/queue.ts' }).first().waitFor();
        expect(watched.errors).toEqual([]);
      } finally {
        stepper.releaseAll();
        await watched.close();
      }
    });
  }
});
