// The built CLI reading a real Claude Code run: the orchestrator runs the real `claude` CLI
// (npm @anthropic-ai/claude-code) against a local fake of the Messages API (ANTHROPIC_BASE_URL),
// and `autobuild jobs show` / `jobs logs --follow` print what the run reported: tokens, cost and its
// source, turns, model, session, permission denials and the denied tools; the log as lines a person reads.
import { rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildOrchestrator, type Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { apiError, startFakeAnthropic, text, toolUse, type FakeAnthropic, type MessagesRequest } from '../fakes/anthropicServer.js';
import { runCli } from '../support/cli.js';
import { api, isDone, resetDb, sharedDb, TEST_ENV, waitForJob } from '../support/orchestrator.js';
import { createTestRepo, tempDir } from '../support/repo.js';
import { claudeAgentEnv, claudeBinary, cwdOf, hasWrite } from '../support/claudeCode.js';


const TURN_USAGE = { input_tokens: 1500, output_tokens: 50 };
const FINAL = 'Wrote hello.txt.';
const cli = (args: string[]) => runCli(args, { env: { AUTOBUILD_URL: url }, timeoutMs: 60_000 });

let fake: FakeAnthropic | undefined;
let orchestrator: Orchestrator | undefined;
let url = '';
const dirs: string[] = [];

/** Has the conversation already had its Write answered? */
const wrote = (body: MessagesRequest) => body.messages.some((m) => m.role === 'assistant' && typeof m.content !== 'string' && m.content.some((b) => b.type === 'tool_use'));

beforeAll(async () => {
  // The task: Write hello.txt, then say so. Side requests (titles and the like) get a short text.
  // A prompt saying EXPENSIVE gets answers far over any small budget; one saying LIMITED, the
  // provider's usage limit.
  fake = await startFakeAnthropic((body) => {
    if (!hasWrite(body)) return { content: [text('Title')] };
    const asked = JSON.stringify(body.messages);
    if (asked.includes('LIMITED')) {
      // As the API answers a subscription over its limit: Claude Code gives up at once.
      return apiError(429, 'rate_limit_error', 'Claude AI usage limit reached. Your limit resets soon.', {
        'anthropic-ratelimit-unified-status': 'rejected',
        'anthropic-ratelimit-unified-reset': String(Math.floor(Date.now() / 1000) + 3600),
        'retry-after': '3600',
      });
    }
    const usage = asked.includes('EXPENSIVE') ? { input_tokens: 400_000, output_tokens: 10 } : TURN_USAGE;
    if (!wrote(body)) return { content: [text('Writing the file.'), toolUse('Write', { file_path: path.join(cwdOf(body), 'hello.txt'), content: 'hi\n' })], usage };
    return { content: [text(FINAL)], usage };
  });
  const db = await sharedDb();
  await resetDb(db);
  const home = tempDir('autobuild-home-');
  const claudeHome = tempDir('claude-home-');
  dirs.push(home, claudeHome);
  const config = loadConfig({ ...TEST_ENV, AUTOBUILD_HOME: home, AUTOBUILD_CLAUDE_COMMAND: claudeBinary(), AUTOBUILD_DEFAULT_AGENT: 'claude-code' });
  const agentEnv = claudeAgentEnv(fake.url, claudeHome);
  orchestrator = await buildOrchestrator({ config, db, logger: createLogger({ level: config.logLevel }), agentEnv });
  url = await orchestrator.start();
});

afterAll(async () => {
  await orchestrator?.stop();
  await fake?.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('autobuild jobs show and logs on a real Claude Code run', () => {
  it('shows tokens, the agent-reported cost, turns, model, session and no denials; the log follows as readable lines', async () => {
    const repo = createTestRepo();
    dirs.push(repo);
    const submitted = await cli(['jobs', 'submit', '--project', 'p', '--prompt', 'create hello.txt saying hi', '--repo', repo, '--agent', 'claude-code', '--max-cost', '5', '--json']);
    expect(submitted.stderr).toBe('');
    const id = JSON.parse(submitted.stdout).id as string;

    // Followed live (SSE until `event: end`): what the agent said and did, never the raw stream-json.
    const followed = await cli(['jobs', 'logs', id, '--follow']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toContain('agent: Writing the file.');
    expect(followed.stdout).toContain('→ Write hello.txt');
    expect(followed.stdout).toContain(`result: ${FINAL}`);
    for (const line of followed.stdout.split('\n')) expect(line.trim().startsWith('{'), line).toBe(false);

    const job = await waitForJob(url, id, isDone);
    expect(job.status).toBe('succeeded');
    const result = job.result;
    expect(result.cost_source).toBe('agent');
    expect(result.cost_usd).toBeGreaterThan(0);

    const shown = await cli(['jobs', 'show', id]);
    expect(shown.code).toBe(0);
    const line = (name: string) => shown.stdout.split('\n').find((l) => new RegExp(`^${name}\\s{2,}`).test(l))?.slice(name.length).trimStart();
    expect(line('tokens')).toBe(`${(2 * TURN_USAGE.input_tokens).toLocaleString('en-US')} in, ${2 * TURN_USAGE.output_tokens} out, 0 cache read, 0 cache write`);
    expect(line('cost')).toMatch(/^\$0\.\d{2,4} \(agent-reported\)$/);
    expect(Number(line('cost')!.slice(1).split(' ')[0])).toBeCloseTo(result.cost_usd, 4);
    expect(line('turns')).toBe(String(result.num_turns));
    expect(line('model')).toBe(result.model);
    expect(line('session')).toBe(result.session_id);
    expect(line('permission denials')).toBe('0');
    expect(line('max cost')).toBe('$5.00');
    expect(line('summary')).toBe(FINAL);

    // --json is the API's object, unchanged.
    const asJson = await cli(['jobs', 'show', id, '--json']);
    expect(JSON.parse(asJson.stdout)).toEqual((await api(url, 'GET', `/api/v1/jobs/${id}`)).body);
  });

  it('shows the permission denials and the tools denied', async () => {
    const repo = createTestRepo();
    dirs.push(repo);
    // The default permission mode and no allowed tools: the write is refused; nothing changed, the job fails.
    const submitted = await api(url, 'POST', '/api/v1/jobs', {
      project_id: 'p',
      prompt: 'create hello.txt saying hi',
      repo,
      agent: { type: 'claude-code', permission_mode: 'default', allowed_tools: [] },
    });
    expect(submitted.status).toBe(201);
    const job = await waitForJob(url, submitted.body.id, isDone, 60_000);
    expect(job.status).toBe('failed');
    const shown = await cli(['jobs', 'show', job.id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^permission denials\s+1: Write hello\.txt$/m);
    expect(shown.stdout).toMatch(/^error\s+.*denied Write hello\.txt/m);
  });

  it('shows a cost estimated from tokens for a run stopped over --max-cost', async () => {
    const repo = createTestRepo();
    dirs.push(repo);
    const submitted = await cli(['jobs', 'submit', '--project', 'p', '--prompt', 'EXPENSIVE: create hello.txt', '--repo', repo, '--agent', 'claude-code', '--max-cost', '0.5', '--json']);
    const job = await waitForJob(url, JSON.parse(submitted.stdout).id, isDone, 60_000);
    expect(job.status).toBe('failed');
    expect(job.result.cost_source).toBe('price_table');
    const shown = await cli(['jobs', 'show', job.id]);
    expect(shown.stdout).toMatch(/^max cost\s+\$0\.50$/m);
    expect(shown.stdout).toMatch(/^cost\s+\$\d+\.\d{2,4} \(estimated from tokens\)$/m);
    expect(shown.stdout).toMatch(/^tokens\s+400,000 in, \d+ out/m);
    expect(shown.stdout).toMatch(/^error\s+stopped: cost .* passed max_cost_usd \$0\.5/m);
  });

  it('shows why a queued job waits and until when', async () => {
    const repo = createTestRepo();
    dirs.push(repo);
    const submitted = await cli(['jobs', 'submit', '--project', 'p', '--prompt', 'LIMITED: create hello.txt', '--repo', repo, '--agent', 'claude-code', '--json']);
    const id = JSON.parse(submitted.stdout).id as string;
    const parked = await waitForJob(url, id, (j) => (j.status === 'queued' && j.not_before !== null) || isDone(j), 30_000);
    expect(parked.status).toBe('queued');
    const shown = await cli(['jobs', 'show', id]);
    expect(shown.stdout).toMatch(/^status\s+queued$/m);
    expect(shown.stdout).toMatch(/^waiting\s+rate limited by the model provider/m);
    expect(shown.stdout).toMatch(new RegExp(`^not before\\s+${parked.not_before.replace(/\./g, '\\.')}$`, 'm'));
    expect((await cli(['jobs', 'cancel', id])).code).toBe(0);
  });
});
