// The codex agent end to end with the real Codex CLI (npm @openai/codex, node_modules/.bin/codex),
// with default settings: the orchestrator runs `codex exec --json --sandbox workspace-write` in the
// job's worktree; the agents' environment has a CODEX_HOME whose config.toml points Codex at a local
// fake of the Responses API (Codex ignores OPENAI_BASE_URL) that scripts tool calls. What the job
// records (branch, events, readable log, usage, cost from the price table), a usage limit that parks
// and resumes the thread, a follow-up that resumes it again, and a budget that stops a run mid-run.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { codexConfiguredModel } from '../../src/orchestrator/agents/codexRun.js';
import { priceFor } from '../../src/orchestrator/agents/pricing.js';
import { buildOrchestrator, type Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { DEFAULT_PRICES, loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import {
  addFilePatch,
  applyPatch,
  execCommand,
  lastUserText,
  say,
  startFakeOpenAIResponses,
  toolOutputs,
  usageLimitError,
  type FakeAnswer,
  type FakeOpenAIResponses,
  type ResponsesRequest,
} from '../fakes/openaiResponses.js';
import { api, isDone, resetDb, sharedDb, TEST_ENV, waitForJob } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';

const CODEX = path.resolve('node_modules/.bin/codex');
const MODEL = 'gpt-5.5';
// Starts with '-' on purpose: the prompt must never be taken for an option.
const PROMPT = '--model is not an option here: create hello.txt saying hi and record that the checks ran';
const FOLLOW_UP = 'Also add bye.txt saying bye';
const FINAL = 'Created hello.txt and ran the checks.';
/** Every answer reports this usage (OpenAI's input_tokens include the cached ones). */
const TURN_USAGE = { input_tokens: 1200, cached_tokens: 200, output_tokens: 40 };
/** What the job should say of n such answers: cached tokens apart from input, as Anthropic counts. */
const usageOf = (n: number) => ({
  input_tokens: n * (TURN_USAGE.input_tokens - TURN_USAGE.cached_tokens),
  output_tokens: n * TURN_USAGE.output_tokens,
  cache_read_input_tokens: n * TURN_USAGE.cached_tokens,
  cache_creation_input_tokens: 0,
});
/** The built-in price of MODEL (its longest prefix in the table), in dollars. */
function priceOf(usage: ReturnType<typeof usageOf>): number {
  const { key, price } = priceFor(MODEL, DEFAULT_PRICES);
  expect(key).toBe('gpt-5');
  return (usage.input_tokens * price.input + usage.output_tokens * price.output + usage.cache_read_input_tokens * price.cache_read!) / 1e6;
}

let fake: FakeOpenAIResponses | undefined;
let orchestrator: Orchestrator | undefined;
let url = '';
let codexHome = '';
let autobuildHome = '';
const dirs: string[] = [];
/** Answers the fake holds back (a stalled request) until the test ends. */
const held: Array<() => void> = [];
// The shared embedded database starts once (seconds), not within the first test's time.
beforeAll(async () => {
  await sharedDb();
}, 60_000);
afterEach(async () => {
  for (const release of held.splice(0)) release();
  await orchestrator?.stop();
  await fake?.close();
  orchestrator = undefined;
  fake = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An orchestrator with default agent settings whose agents' CODEX_HOME points Codex at a fake. */
async function start(script: (body: ResponsesRequest) => FakeAnswer | Promise<FakeAnswer>, env: Record<string, string> = {}): Promise<void> {
  fake = await startFakeOpenAIResponses(script);
  const db = await sharedDb();
  await resetDb(db);
  autobuildHome = tempDir('autobuild-home-');
  codexHome = tempDir('codex-home-');
  const home = tempDir('home-');
  dirs.push(autobuildHome, codexHome, home);
  writeFileSync(
    path.join(codexHome, 'config.toml'),
    [
      `model = "${MODEL}"`,
      'model_provider = "fake"',
      '',
      '[model_providers.fake]',
      'name = "fake"',
      `base_url = "${fake.url}"`,
      'env_key = "OPENAI_API_KEY"',
      'wire_api = "responses"',
      '',
    ].join('\n'),
  );
  const config = loadConfig({ ...TEST_ENV, AUTOBUILD_HOME: autobuildHome, AUTOBUILD_CODEX_COMMAND: CODEX, AUTOBUILD_DEFAULT_AGENT: 'codex', ...env });
  // Nothing of the machine's own Codex or OpenAI setup.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(OPENAI_|CODEX_)/.test(name)));
  const agentEnv = { ...inherited, HOME: home, CODEX_HOME: codexHome, OPENAI_API_KEY: 'sk-test-dummy', NO_COLOR: '1' };
  orchestrator = await buildOrchestrator({ config, db, logger: createLogger({ level: config.logLevel }), agentEnv });
  url = await orchestrator.start();
}

/**
 * The task, from what the conversation already holds (so a resumed thread goes on where it
 * stopped): add hello.txt, run a command, finish; a follow-up adds bye.txt.
 */
function worker(body: ResponsesRequest): FakeAnswer {
  const done = new Set(toolOutputs(body).map((output) => output.call_id));
  if (lastUserText(body).includes(FOLLOW_UP)) {
    return done.has('call_bye') ? { output: [say('Added bye.txt.')], usage: TURN_USAGE } : { output: [applyPatch(addFilePatch('bye.txt', 'bye\n'), 'call_bye')], usage: TURN_USAGE };
  }
  if (!done.has('call_hello')) return { output: [say('Writing the file.'), applyPatch(addFilePatch('hello.txt', 'hi\n'), 'call_hello')], usage: TURN_USAGE };
  if (!done.has('call_checks')) return { output: [execCommand('echo checks ran > checks.txt', {}, 'call_checks')], usage: TURN_USAGE };
  return { output: [say(FINAL)], usage: TURN_USAGE };
}

/** The user's own words in a request (Codex's environment and instructions aside). */
const userTexts = (body: ResponsesRequest) =>
  body.input
    .filter((item) => item.type === 'message' && item.role === 'user')
    .map((item) => (typeof item.content === 'string' ? item.content : (item.content ?? []).map((part) => part.text ?? '').join('\n')))
    .filter((text) => !text.trimStart().startsWith('<'));

async function submit(repo: string, extra: Record<string, unknown> = {}): Promise<string> {
  const submitted = await api(url, 'POST', '/api/v1/jobs', { project_id: 'p', prompt: PROMPT, repo, timeout_s: 60, ...extra });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return submitted.body.id;
}

async function finished(id: string): Promise<{ job: any; log: string; events: any[] }> {
  const job = await waitForJob(url, id, isDone, 30_000);
  const log = (await api(url, 'GET', `/api/v1/jobs/${id}/logs`)).body as string;
  const events = (await api(url, 'GET', `/api/v1/jobs/${id}/events?limit=500`)).body.events as any[];
  return { job, log, events };
}

/** The raw JSONL Codex printed (kept for diagnosis beside the readable log). */
function rawStream(jobId: string): Array<Record<string, any>> {
  return readFileSync(path.join(autobuildHome, 'logs', `${jobId}.agent.log`), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe.skipIf(!existsSync(CODEX))('the codex agent with the real Codex CLI, default settings', () => {
  it('edits and runs commands without asking: both land as a commit; the events, the readable log, usage and cost show the run', { timeout: 40_000 }, async () => {
    await start(worker);
    const repo = createTestRepo();
    dirs.push(repo);
    const { job, log, events } = await finished(await submit(repo));
    expect(job.status, log).toBe('succeeded');
    expect(job.agent).toEqual({ type: 'codex' });

    // The patch and the command both ran in the worktree (workspace-write) and were committed on the branch.
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(gitIn(repo, 'show', `${job.branch}:checks.txt`)).toBe('checks ran');
    expect(job.result.files_changed.sort()).toEqual(['checks.txt', 'hello.txt']);
    expect(job.result.summary).toBe(FINAL);
    expect(job.result.permission_denials).toBe(0);
    // Codex was started with the sandbox and approvals off, and the prompt was not taken for an option.
    const requests = fake!.responses();
    expect(requests).toHaveLength(3);
    expect(requests.every((body) => body.model === MODEL)).toBe(true);
    expect(userTexts(requests[0]!)).toEqual([PROMPT]);
    expect(JSON.parse(fake!.requests.find((r) => r.path.startsWith('/v1/responses'))!.headers['x-codex-turn-metadata']!)).toMatchObject({ sandbox_mode: 'workspace-write' });

    // Events: the session, the agent's text, both tool calls with one-line summaries and their results.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const session = events.find((e) => e.kind === 'session');
    expect(session).toMatchObject({ model: MODEL });
    expect(events).toContainEqual(expect.objectContaining({ kind: 'agent_text', text: 'Writing the file.' }));
    expect(events.filter((e) => e.kind === 'tool_call').map((e) => [e.tool, e.summary])).toEqual([
      ['apply_patch', 'add hello.txt'],
      ['Bash', 'echo checks ran > checks.txt'],
    ]);
    expect(events.filter((e) => e.kind === 'tool_result').map((e) => [e.tool, e.is_error])).toEqual([['apply_patch', false], ['Bash', false]]);
    const usageEvents = events.filter((e) => e.kind === 'usage');
    expect(usageEvents.length).toBeGreaterThan(0);
    expect(usageEvents.at(-1).usage).toEqual(usageOf(3));
    expect(events.at(-1)!.kind).toBe('note');

    // The readable log: the same run as lines a person reads, never the raw JSON.
    expect(log).toContain('agent: Writing the file.');
    expect(log).toContain('→ apply_patch add hello.txt');
    expect(log).toContain('✓ apply_patch: applied: add hello.txt');
    expect(log).toContain('→ Bash echo checks ran > checks.txt');
    expect(log).toContain('✓ Bash: exit 0');
    expect(log).toMatch(/usage: 3,000 in \/ 120 out \/ 600 cache read/);
    expect(log).toContain(`result: ${FINAL}`);
    for (const line of log.split('\n')) expect(line.trim().startsWith('{'), line).toBe(false);

    // Usage: three answers of TURN_USAGE (Codex's input includes its cached tokens; the job's does
    // not); cost from the built-in price table, since Codex reports none; the session is the thread.
    const thread = rawStream(job.id).find((e) => e.type === 'thread.started')!;
    expect(job.result.usage).toEqual(usageOf(3));
    expect(job.result.cost_source).toBe('price_table');
    expect(job.result.cost_usd).toBeCloseTo(priceOf(usageOf(3)), 10);
    expect(job.result.model).toBe(MODEL);
    expect(job.result.session_id).toBe(thread.thread_id);
    expect(session.session_id).toBe(thread.thread_id);

    // Prometheus: tokens and dollars by project and agent.
    const metrics = (await api(url, 'GET', '/api/v1/metrics')).body as string;
    expect(metrics).toContain(`autobuild_agent_tokens_total{project="p",agent="codex",kind="input"} ${usageOf(3).input_tokens}`);
    expect(metrics).toMatch(/autobuild_agent_cost_usd_total\{project="p",agent="codex"\} 0\.00\d+/);
  });

  it('a usage limit parks the job with not_before, then the same thread resumes and succeeds on its first attempt', { timeout: 40_000 }, async () => {
    let limited = 0;
    await start(
      (body) => {
        // The provider's usage limit once the file is written: the run stops half done. Without a
        // reset time (Codex then names none), the configured backoff applies.
        if (limited === 0 && toolOutputs(body).some((o) => o.call_id === 'call_hello')) {
          limited++;
          return usageLimitError(null);
        }
        return worker(body);
      },
      { AUTOBUILD_RATE_LIMIT_BACKOFF_S: '3' },
    );
    const repo = createTestRepo();
    dirs.push(repo);
    const submittedAt = Date.now();
    const id = await submit(repo);
    const parked = await waitForJob(url, id, (j) => (j.status === 'queued' && j.not_before !== null) || isDone(j), 20_000);
    expect(parked.status, (await api(url, 'GET', `/api/v1/jobs/${id}/logs`)).body).toBe('queued');
    expect(parked.waiting_reason).toMatch(/^rate limited by the model provider \(429\) until .* \(no reset time given: the configured backoff\)$/);
    expect(parked.attempt).toBe(0);
    expect(Date.parse(parked.not_before)).toBeGreaterThan(submittedAt + 3000);
    expect((await api(url, 'GET', '/api/v1/queue')).body.running).toBe(0);

    const { job, log, events } = await finished(id);
    expect(job.status, log).toBe('succeeded');
    expect(job.attempt).toBe(1);
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(gitIn(repo, 'show', `${job.branch}:checks.txt`)).toBe('checks ran');
    expect(events).toContainEqual(expect.objectContaining({ kind: 'rate_limit', status: 'rejected', resets_at: null, message: expect.stringMatching(/usage limit/) }));
    expect(log).toMatch(/rate limited by the model provider/);
    // The second run resumed the first run's thread (`codex exec resume <thread>`): the fake saw
    // the first run's conversation (the prompt, the patch and its output) before the new instruction.
    const sessions = events.filter((e) => e.kind === 'session').map((e) => e.session_id);
    expect(sessions.length).toBe(2);
    expect(sessions[1]).toBe(sessions[0]);
    expect(log).toContain(`resuming session ${sessions[0]}`);
    const resumed = fake!.responses().find((body) => lastUserText(body).includes('interrupted'))!;
    expect(userTexts(resumed)).toEqual([PROMPT, expect.stringContaining('usage limit')]);
    expect(toolOutputs(resumed).map((o) => o.call_id)).toEqual(['call_hello']);
    expect(job.result.session_id).toBe(sessions[0]);
    // Three answers were billed (the limit's 429 was not): all on the job, none twice. Codex's
    // second run reports the thread's total; each run's usage events say only the run's share.
    const usages = events.filter((e) => e.kind === 'usage').map((e) => e.usage);
    expect(usages[0]).toEqual(usageOf(1));
    expect(usages.at(-1)).toEqual(usageOf(2));
    expect(job.result.usage).toEqual(usageOf(3));
    expect(job.result.cost_usd).toBeCloseTo(priceOf(usageOf(3)), 10);
  });

  it('a follow-up resumes the thread and adds a commit on the same branch, counting only its own tokens', { timeout: 40_000 }, async () => {
    await start(worker);
    const repo = createTestRepo();
    dirs.push(repo);
    const first = (await finished(await submit(repo))).job;
    expect(first.status).toBe('succeeded');
    expect(first.result.usage).toEqual(usageOf(3));

    const response = await api(url, 'POST', `/api/v1/jobs/${first.id}/follow-ups`, { prompt: FOLLOW_UP });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({ parent_job_id: first.id, branch: first.branch, project_id: 'p', repo: first.repo, status: 'queued', agent: { type: 'codex' } });

    const { job, log } = await finished(response.body.id);
    expect(job.status, log).toBe('succeeded');
    expect(log).toContain(`resuming session ${first.result.session_id}`);
    expect(gitIn(repo, 'show', `${first.branch}:bye.txt`)).toBe('bye');
    expect(gitIn(repo, 'show', `${first.branch}:hello.txt`)).toBe('hi');
    expect(gitIn(repo, 'rev-list', '--count', `main..${first.branch}`)).toBe('2');
    // The resumed conversation held the first task: its prompt and its tool calls.
    const resumed = fake!.responses().find((body) => lastUserText(body).includes(FOLLOW_UP))!;
    expect(userTexts(resumed)).toEqual([PROMPT, FOLLOW_UP]);
    expect(toolOutputs(resumed).map((o) => o.call_id)).toEqual(['call_hello', 'call_checks']);
    expect(job.result.session_id).toBe(first.result.session_id);
    // Codex reports the thread's total (five answers); the follow-up spent two of them.
    expect(job.result.usage).toEqual(usageOf(2));
    expect(job.result.cost_usd).toBeCloseTo(priceOf(usageOf(2)), 10);
  });

  it('a run over max_cost_usd is stopped mid-run, its work saved on the branch, and fails with the reason', { timeout: 40_000 }, async () => {
    let requests = 0;
    await start(async (body) => {
      requests++;
      const answer = worker(body);
      // The second answer costs far more than the limit; the third never comes (Codex would wait for it).
      if (toolOutputs(body).some((o) => o.call_id === 'call_checks')) {
        await new Promise<void>((release) => held.push(release));
        return { output: [say('too late')], usage: TURN_USAGE };
      }
      return toolOutputs(body).some((o) => o.call_id === 'call_hello') && 'output' in answer ? { ...answer, usage: { input_tokens: 1_000_000, output_tokens: 10 } } : answer;
    });
    const repo = createTestRepo();
    dirs.push(repo);
    const { job, log, events } = await finished(await submit(repo, { max_cost_usd: 0.5 }));
    expect(job.status, log).toBe('failed');
    expect(job.max_cost_usd).toBe(0.5);
    expect(job.error).toMatch(/^stopped: cost \$\d+\.\d+ \(estimated from tokens at gpt-5\.5's price\) passed max_cost_usd \$0\.5/);
    expect(log).toContain('stopping the agent: cost');
    // Stopped before Codex had its third answer: the turn never ended by itself.
    expect(requests).toBeLessThanOrEqual(3);
    expect(events.some((e) => e.kind === 'result')).toBe(false);
    // The file written before the limit was passed is on the branch.
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(job.result.cost_source).toBe('price_table');
    expect(job.result.cost_usd).toBeGreaterThan(0.5);
    expect(job.result.usage.input_tokens).toBeGreaterThanOrEqual(1_000_000);
  });
});

describe('the model a Codex run is priced at, before Codex names it', () => {
  it('comes from $CODEX_HOME/config.toml: its top-level model, or the model of the profile it selects', () => {
    const home = tempDir('codex-home-');
    dirs.push(home);
    const file = path.join(home, 'config.toml');
    const env = { CODEX_HOME: home };
    expect(codexConfiguredModel(env)).toBeNull();
    writeFileSync(file, `# comment\nmodel = "gpt-5.5" # trailing\nmodel_provider = "fake"\n[model_providers.fake]\nmodel = "not-this"\n`);
    expect(codexConfiguredModel(env)).toBe('gpt-5.5');
    writeFileSync(file, `model = 'gpt-5.5'\nprofile = "cheap"\n[profiles.cheap]\nmodel = "gpt-5-mini"\n`);
    expect(codexConfiguredModel(env)).toBe('gpt-5-mini');
    writeFileSync(file, `profile = "other"\n[profiles.cheap]\nmodel = "gpt-5-mini"\n`);
    expect(codexConfiguredModel(env)).toBeNull();
  });
});
