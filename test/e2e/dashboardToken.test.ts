// The dashboard when AUTOBUILD_API_TOKEN is set: the page asks for the token once, keeps it in the
// browser, works with it; a wrong one is refused and asked for again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { chromiumOrSkip, commandAgent, launchChromium, startPlatform, WatchedPage, type Platform } from '../support/dashboard.js';
import { createTestRepo } from '../support/repo.js';

const chromiumPath = chromiumOrSkip();
const TOKEN = 'dashboard-test-token-0123456789';

describe.skipIf(!chromiumPath)('dashboard with a token', () => {
  let platform: Platform;
  let browser: Browser;

  beforeAll(async () => {
    [platform, browser] = await Promise.all([startPlatform({ token: TOKEN }), launchChromium(chromiumPath!)]);
  });
  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
  });

  it('asks for the token, keeps it, and asks again after a 401', async () => {
    const repo = createTestRepo();
    const submitted = await platform.api('POST', '/api/v1/jobs', { project_id: 'secret', repo, title: 'behind a token', prompt: 'p', agent: commandAgent('true') });
    expect(submitted.status).toBe(201);
    // The proxy adds no credentials of its own.
    expect((await fetch(`${platform.dashboardUrl}/api/orchestrator/api/v1/jobs`)).status).toBe(401);

    const watched = await WatchedPage.open(browser);
    const { page } = watched;
    watched.expectedStatuses.add(401);
    try {
      await page.goto(platform.dashboardUrl);
      const dialog = page.getByRole('dialog', { name: 'API token' });
      await dialog.waitFor();
      await watched.screenshot('token-1400');
      await page.getByLabel('Token', { exact: true }).fill(TOKEN);
      await page.getByRole('button', { name: 'Save token' }).click();
      await dialog.waitFor({ state: 'hidden' });
      await page.locator(`a[data-job-id="${submitted.body.id}"]`).waitFor();
      expect(await page.evaluate(`localStorage.getItem('autobuild.token')`)).toBe(TOKEN);

      // A reload does not ask again.
      watched.expectedStatuses.delete(401);
      await page.reload();
      await page.locator(`a[data-job-id="${submitted.body.id}"]`).waitFor();
      expect(await dialog.isVisible()).toBe(false);

      // A token that stops working (rotated) is asked for again.
      watched.expectedStatuses.add(401);
      await page.evaluate(`localStorage.setItem('autobuild.token', 'a-wrong-token')`);
      await page.reload();
      await dialog.waitFor();
      expect(await page.evaluate(`localStorage.getItem('autobuild.token')`)).toBeNull();
      expect(watched.errors).toEqual([]);
    } finally {
      await watched.close();
    }
  });
});
