// The claude-code agent end to end with the real Claude Code CLI (npm @anthropic-ai/claude-code),
// with default settings: the orchestrator runs `claude -p ... --output-format stream-json` in the
// job's worktree, pointed (ANTHROPIC_BASE_URL) at a local fake of the Messages API that scripts
// tool calls. What the job records (branch, events, readable log, usage, cost), a usage limit that
// parks and resumes the session, a follow-up that resumes it again, and a budget that stops a run.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildOrchestrator, type Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { apiError, contentText, startFakeAnthropic, text, toolUse, type FakeAnthropic, type FakeResponse, type MessagesRequest } from '../fakes/anthropicServer.js';
import { api, isDone, resetDb, sharedDb, TEST_ENV, waitForJob } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { claudeAgentEnv, claudeBinary, cwdOf, hasWrite, stepOf, userTexts } from '../support/claudeCode.js';


const CLAUDE = claudeBinary();
// Starts with '-' on purpose: the prompt must never be taken for an option.
const PROMPT = '--model is not an option here: create hello.txt saying hi and record that the checks ran';
const FOLLOW_UP = 'Also add bye.txt saying bye';
const FINAL = 'Created hello.txt and ran the checks.';
/** Every answer reports this usage: the job's totals are multiples of it. */
const TURN_USAGE = { input_tokens: 1200, output_tokens: 40 };

let fake: FakeAnthropic | undefined;
let orchestrator: Orchestrator | undefined;
let url = '';
let claudeHome = '';
let autobuildHome = '';
const dirs: string[] = [];
afterEach(async () => {
  await orchestrator?.stop();
  await fake?.close();
  orchestrator = undefined;
  fake = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An orchestrator, with default agent settings, whose agents' environment points Claude Code at a fake. */
async function start(script: (body: MessagesRequest) => FakeResponse, env: Record<string, string> = {}, agentVars: Record<string, string> = {}): Promise<void> {
  fake = await startFakeAnthropic((body) => (hasWrite(body) ? script(body) : { content: [text('Title')] }));
  const db = await sharedDb();
  await resetDb(db);
  const home = tempDir('autobuild-home-');
  autobuildHome = home;
  claudeHome = tempDir('claude-home-');
  dirs.push(home, claudeHome);
  const config = loadConfig({ ...TEST_ENV, AUTOBUILD_HOME: home, AUTOBUILD_CLAUDE_COMMAND: CLAUDE, AUTOBUILD_DEFAULT_AGENT: 'claude-code', ...env });
  // Nothing of the machine's own Claude setup reaches the agents (see test/support/claudeCode.ts).
  const agentEnv = claudeAgentEnv(fake.url, claudeHome, agentVars);
  orchestrator = await buildOrchestrator({ config, db, logger: createLogger({ level: config.logLevel }), agentEnv });
  url = await orchestrator.start();
}


/** The task: Write hello.txt, run a Bash command, finish; a follow-up writes bye.txt. */
function worker(body: MessagesRequest): FakeResponse {
  const cwd = cwdOf(body);
  const step = stepOf(body);
  const latest = userTexts(body).at(-1) ?? '';
  if (latest.includes(FOLLOW_UP)) {
    return step === 0 ? { content: [toolUse('Write', { file_path: path.join(cwd, 'bye.txt'), content: 'bye\n' })], usage: TURN_USAGE } : { content: [text('Added bye.txt.')], usage: TURN_USAGE };
  }
  if (step === 0) return { content: [text('Writing the file.'), toolUse('Write', { file_path: path.join(cwd, 'hello.txt'), content: 'hi\n' })], usage: TURN_USAGE };
  if (step === 1) return { content: [toolUse('Bash', { command: 'echo checks ran > checks.txt', description: 'record the checks' })], usage: TURN_USAGE };
  return { content: [text(FINAL)], usage: TURN_USAGE };
}

async function submit(repo: string, extra: Record<string, unknown> = {}): Promise<string> {
  const submitted = await api(url, 'POST', '/api/v1/jobs', { project_id: 'p', prompt: PROMPT, repo, timeout_s: 60, ...extra });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  return submitted.body.id;
}

async function finished(id: string): Promise<{ job: any; log: string; events: any[] }> {
  const job = await waitForJob(url, id, isDone, 75_000);
  const log = (await api(url, 'GET', `/api/v1/jobs/${id}/logs`)).body as string;
  const events = (await api(url, 'GET', `/api/v1/jobs/${id}/events?limit=500`)).body.events as any[];
  return { job, log, events };
}

/** The raw stream-json lines the CLI printed (kept for diagnosis beside the readable log). */
function rawStream(jobId: string): Array<Record<string, any>> {
  const file = path.join(autobuildHome, 'logs', `${jobId}.agent.log`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line));
}

describe('the claude-code agent with the real Claude Code CLI, default settings', () => {
  it('edits and runs commands without asking: both land as a commit; the events, the readable log, usage and cost show the run', async () => {
    await start(worker);
    const repo = createTestRepo();
    dirs.push(repo);
    const { job, log, events } = await finished(await submit(repo));
    expect(job.status, log).toBe('succeeded');
    expect(job.agent).toEqual({ type: 'claude-code' });

    // The Write and the Bash call both happened in the worktree and were committed on the branch.
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(gitIn(repo, 'show', `${job.branch}:checks.txt`)).toBe('checks ran');
    expect(job.result.files_changed.sort()).toEqual(['checks.txt', 'hello.txt']);
    expect(job.result.summary).toBe(FINAL);
    expect(job.result.permission_denials).toBe(0);

    // Events: the session, the agent's text, both tool calls with one-line summaries and their results.
    const kinds = events.map((e) => e.kind);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    const session = events.find((e) => e.kind === 'session');
    expect(session).toMatchObject({ permission_mode: 'acceptEdits' });
    expect(events).toContainEqual(expect.objectContaining({ kind: 'agent_text', text: 'Writing the file.' }));
    expect(events).toContainEqual(expect.objectContaining({ kind: 'tool_call', tool: 'Write', summary: 'hello.txt' }));
    expect(events).toContainEqual(expect.objectContaining({ kind: 'tool_call', tool: 'Bash', summary: 'echo checks ran > checks.txt' }));
    expect(events.filter((e) => e.kind === 'tool_result').map((e) => [e.tool, e.is_error])).toEqual([['Write', false], ['Bash', false]]);
    expect(kinds).toContain('usage');
    expect(kinds).toContain('note');
    expect(events.at(-1)!.kind).toBe('note');

    // The readable log: the same run as lines a person reads, never the raw JSON.
    expect(log).toContain('agent: Writing the file.');
    expect(log).toContain('→ Write hello.txt');
    expect(log).toContain('→ Bash echo checks ran > checks.txt');
    expect(log).toMatch(/✓ Bash/);
    expect(log).toContain(`result: ${FINAL}`);
    for (const line of log.split('\n')) expect(line.trim().startsWith('{'), line).toBe(false);

    // Usage: three answers of TURN_USAGE each; cost and session as the CLI reported them.
    const result = rawStream(job.id).find((e) => e.type === 'result')!;
    expect(job.result.usage).toEqual({ input_tokens: 3 * TURN_USAGE.input_tokens, output_tokens: 3 * TURN_USAGE.output_tokens, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(result.total_cost_usd).toBeGreaterThan(0);
    expect(job.result.cost_usd).toBe(result.total_cost_usd);
    expect(job.result.cost_source).toBe('agent');
    expect(job.result.num_turns).toBe(result.num_turns);
    expect(job.result.session_id).toBe(result.session_id);
    expect(job.result.session_id).toBe(session.session_id);

    // Prometheus: tokens and dollars by project and agent.
    const metrics = (await api(url, 'GET', '/api/v1/metrics')).body as string;
    expect(metrics).toContain(`autobuild_agent_tokens_total{project="p",agent="claude-code",kind="input"} ${3 * TURN_USAGE.input_tokens}`);
    expect(metrics).toMatch(/autobuild_agent_cost_usd_total\{project="p",agent="claude-code"\} 0\.\d+/);

    // The diff for review: text and per file.
    const diff = await api(url, 'GET', `/api/v1/jobs/${job.id}/diff?format=json`);
    expect(diff.body.files.map((f: any) => [f.path, f.status, f.insertions])).toEqual([['checks.txt', 'added', 1], ['hello.txt', 'added', 1]]);
    expect((await api(url, 'GET', `/api/v1/jobs/${job.id}/diff`)).body).toContain('+hi');
  });

  it('a run denied its tools and changing nothing fails, naming them', async () => {
    await start(worker);
    const repo = createTestRepo();
    dirs.push(repo);
    // Print mode with the default permission mode and no allowed tools: every write is refused.
    const { job, log, events } = await finished(await submit(repo, { agent: { type: 'claude-code', permission_mode: 'default', allowed_tools: [] } }));
    expect(job.status, log).toBe('failed');
    expect(job.result.permission_denials).toBe(2);
    expect(job.error).toMatch(/denied Write hello\.txt, Bash echo checks ran > checks\.txt and changed nothing/);
    expect(events.filter((e) => e.kind === 'permission_denied').map((e) => e.tool)).toEqual(['Write', 'Bash']);
    expect(log).toContain('⛔ permission denied: Write');
  });

  it('a usage limit parks the job with not_before, then the same session resumes and succeeds on its first attempt', async () => {
    let limited = 0;
    await start(
      (body) => {
        // The first answer of the task is the provider's usage limit.
        if (limited === 0 && stepOf(body) === 0 && !userTexts(body).some((t) => t.includes('interrupted'))) {
          limited++;
          // As the API answers a subscription over its limit: Claude Code gives up at once.
          return apiError(429, 'rate_limit_error', 'Claude AI usage limit reached. Your limit resets soon.', {
            'anthropic-ratelimit-unified-status': 'rejected',
            'anthropic-ratelimit-unified-reset': String(Math.floor(Date.now() / 1000) + 3600),
            'retry-after': '3600',
          });
        }
        return worker(body);
      },
      { AUTOBUILD_RATE_LIMIT_BACKOFF_S: '3' },
    );
    const repo = createTestRepo();
    dirs.push(repo);
    const id = await submit(repo);
    const parked = await waitForJob(url, id, (j) => (j.status === 'queued' && j.not_before !== null) || isDone(j), 30_000);
    expect(parked.status, (await api(url, 'GET', `/api/v1/jobs/${id}/logs`)).body).toBe('queued');
    expect(parked.waiting_reason).toMatch(/^rate limited by the model provider \(429\) until /);
    expect(parked.attempt).toBe(0);
    expect(new Date(parked.not_before).getTime()).toBeGreaterThan(Date.now());
    // Its slot is free while it waits.
    expect((await api(url, 'GET', '/api/v1/queue')).body.running).toBe(0);

    const { job, log, events } = await finished(id);
    expect(job.status, log).toBe('succeeded');
    expect(job.attempt).toBe(1);
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(events).toContainEqual(expect.objectContaining({ kind: 'error' }));
    expect(log).toMatch(/rate limited by the model provider/);
    // The second run resumed the first run's session: the CLI was started with --resume and sent
    // the fake the first run's conversation (the original prompt) before the new instruction.
    expect(log).toMatch(/resuming session [0-9a-f-]{36}/);
    const sessions = events.filter((e) => e.kind === 'session').map((e) => e.session_id);
    expect(sessions.length).toBe(2);
    expect(sessions[1]).toBe(sessions[0]);
    const resumed = fake!.messages().filter(hasWrite).find((body) => userTexts(body).some((t) => t.includes('interrupted')))!;
    expect(userTexts(resumed).some((t) => t.includes(PROMPT))).toBe(true);
  });

  it('a follow-up resumes the session and adds a commit on the same branch', async () => {
    await start(worker);
    const repo = createTestRepo();
    dirs.push(repo);
    const first = (await finished(await submit(repo))).job;
    expect(first.status).toBe('succeeded');

    const response = await api(url, 'POST', `/api/v1/jobs/${first.id}/follow-ups`, { prompt: FOLLOW_UP });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    expect(response.body).toMatchObject({ parent_job_id: first.id, branch: first.branch, project_id: 'p', repo: first.repo, status: 'queued' });
    // One job of a thread at a time.
    expect((await api(url, 'POST', `/api/v1/jobs/${first.id}/follow-ups`, { prompt: 'again' })).status).toBe(409);

    const { job, log } = await finished(response.body.id);
    expect(job.status, log).toBe('succeeded');
    expect(log).toContain(`resuming session ${first.result.session_id}`);
    expect(gitIn(repo, 'show', `${first.branch}:bye.txt`)).toBe('bye');
    expect(gitIn(repo, 'show', `${first.branch}:hello.txt`)).toBe('hi');
    expect(gitIn(repo, 'rev-list', '--count', `main..${first.branch}`)).toBe('2');
    // The resumed conversation held the first task's prompt.
    const resumed = fake!.messages().filter(hasWrite).find((body) => userTexts(body).some((t) => t.includes(FOLLOW_UP)))!;
    expect(userTexts(resumed).some((t) => t.includes(PROMPT))).toBe(true);
    expect(job.result.session_id).toBe(first.result.session_id);
  });

  it("a follow-up whose session's transcript is gone starts a fresh session given the thread's prompts, summaries and diff", async () => {
    await start(worker);
    const repo = createTestRepo();
    dirs.push(repo);
    const first = (await finished(await submit(repo))).job;
    expect(first.status).toBe('succeeded');
    rmSync(path.join(claudeHome, '.claude', 'projects'), { recursive: true, force: true });

    const response = await api(url, 'POST', `/api/v1/jobs/${first.id}/follow-ups`, { prompt: FOLLOW_UP });
    const { job, log } = await finished(response.body.id);
    expect(job.status, log).toBe('succeeded');
    expect(log).toContain(`session ${first.result.session_id} cannot be resumed here (no transcript)`);
    expect(log).not.toContain('resuming session');
    expect(job.result.session_id).not.toBe(first.result.session_id);
    const fresh = fake!.messages().filter(hasWrite).find((body) => userTexts(body).some((t) => t.includes(FOLLOW_UP)))!;
    const told = userTexts(fresh).join('\n');
    expect(told).toContain('You are continuing work on this branch');
    expect(told).toContain(PROMPT);
    expect(told).toContain(`Outcome: ${FINAL}`);
    expect(told).toContain('+hi');
    expect(gitIn(repo, 'show', `${first.branch}:bye.txt`)).toBe('bye');
  });

  it('failing QA checks go back to the same session, and the fix passes on the second round', async () => {
    await start((body) => {
      const latest = userTexts(body).at(-1) ?? '';
      if (latest.includes('checks failed')) {
        const cwd = cwdOf(body);
        return stepOf(body) === 0 ? { content: [toolUse('Write', { file_path: path.join(cwd, 'hello.txt'), content: 'hello\n' })], usage: TURN_USAGE } : { content: [text('Fixed the greeting.')], usage: TURN_USAGE };
      }
      return worker(body);
    });
    const repo = createTestRepo({
      'package.json': JSON.stringify({ name: 'greeting', private: true, scripts: { test: "node -e \"if (require('fs').readFileSync('hello.txt', 'utf8').trim() !== 'hello') { console.error('hello.txt must say hello'); process.exit(1) }\"" } }),
    });
    dirs.push(repo);
    const { job, log, events } = await finished(await submit(repo));
    expect(job.status, log).toBe('succeeded');
    expect(job.result.qa).toMatchObject({ passed: true, rounds: 2 });
    expect(events.filter((e) => e.kind === 'qa_check').map((e) => e.passed)).toEqual([false, true]);
    const sessions = events.filter((e) => e.kind === 'session').map((e) => e.session_id);
    expect(sessions).toHaveLength(2);
    expect(sessions[1]).toBe(sessions[0]);
    expect(log).toContain(`resuming session ${sessions[0]}`);
    // The agent was sent the check's output in the same conversation as the task.
    const fix = fake!.messages().filter(hasWrite).find((body) => (userTexts(body).at(-1) ?? '').includes('checks failed'))!;
    expect(userTexts(fix).at(-1)).toContain('hello.txt must say hello');
    expect(userTexts(fix).some((t) => t.includes(PROMPT))).toBe(true);
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hello');
    expect(job.result.summary).toBe('Fixed the greeting.');
    // Two runs: their usage adds up.
    expect(job.result.usage.input_tokens).toBe(5 * TURN_USAGE.input_tokens);
  });

  it("a job parked by a usage limit in the middle of its QA rounds goes on counting them: never more than the project's qa.rounds", async () => {
    const feedback = (body: MessagesRequest) => (userTexts(body).at(-1) ?? '').includes('checks failed');
    let limited = 0;
    await start(
      (body) => {
        // The first fix of the failing check meets the provider's usage limit; after it, the agent tries again.
        if (feedback(body) && limited === 0) {
          limited++;
          return apiError(429, 'rate_limit_error', 'Claude AI usage limit reached. Your limit resets soon.', {
            'anthropic-ratelimit-unified-status': 'rejected',
            'retry-after': '3600',
          });
        }
        if (userTexts(body).some((t) => t.includes('interrupted')) || feedback(body)) return { content: [text('Tried again.')], usage: TURN_USAGE };
        return worker(body);
      },
      { AUTOBUILD_RATE_LIMIT_BACKOFF_S: '2' },
    );
    // A check that never passes: hello.txt must say "never".
    const repo = createTestRepo({
      'package.json': JSON.stringify({ name: 'never', private: true, scripts: { test: "node -e \"process.exit(require('fs').readFileSync('hello.txt', 'utf8').trim() === 'never' ? 0 : 1)\"" } }),
    });
    dirs.push(repo);
    expect((await api(url, 'POST', '/api/v1/projects', { id: 'p', repo, qa: { rounds: 1 } })).status).toBeLessThan(300);
    const { job, log } = await finished(await submit(repo));
    expect(job.status, log).toBe('failed');
    expect(log).toMatch(/rate limited by the model provider/);
    // Round 1 before the park, round 2 after it: then the one round of feedback allowed is spent.
    expect(job.result.qa).toMatchObject({ passed: false, rounds: 2 });
    expect(job.error).toMatch(/QA failed: test after 2 round\(s\)/);
    // The check's output went back to the agent once (the fix the limit interrupted, then resumed),
    // never a second time.
    expect(log.match(/sending the output back to the agent/g), log).toHaveLength(1);
    expect(log).toMatch(/resuming session [0-9a-f-]{36}\)\n[\s\S]*Tried again\.[\s\S]*QA failed: test after 2 round\(s\)/);
  });

  it('a run over max_cost_usd is stopped, its work saved on the branch, and fails with the reason', async () => {
    await start((body) => {
      const response = worker(body);
      // The second answer costs far more than the limit (input tokens priced while the run goes on).
      return stepOf(body) === 1 && 'content' in response ? { ...response, usage: { input_tokens: 400_000, output_tokens: 10 } } : response;
    });
    const repo = createTestRepo();
    dirs.push(repo);
    const { job, log } = await finished(await submit(repo, { max_cost_usd: 0.5, max_attempts: 2 }));
    expect(job.status, log).toBe('failed');
    // Final: another attempt would only spend again.
    expect(job.attempt).toBe(1);
    expect(job.max_cost_usd).toBe(0.5);
    expect(job.error).toMatch(/^stopped: cost \$\d+\.\d+ \(estimated from tokens at claude-[\w-]+'s price\) passed max_cost_usd \$0\.5/);
    expect(log).toContain('stopping the agent: cost');
    // The file written before the limit was passed is on the branch.
    expect(gitIn(repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(job.result.cost_usd).toBeGreaterThan(0.5);
  });

  it('prices the output a message writes as it arrives: a long Write passes the budget and the run is stopped before its next step', async () => {
    // Claude Code prints a message's blocks with message_start's usage (output 1 here, as from the
    // API); the real output count comes after the last block. The guard must not wait for it.
    const big = 'x'.repeat(150_000);
    await start((body) => {
      const cwd = cwdOf(body);
      if (stepOf(body) === 0) return { content: [text('Writing a large file.'), toolUse('Write', { file_path: path.join(cwd, 'big.txt'), content: big })], usage: { input_tokens: 1200, output_tokens: 50_000 } };
      // The next step is held mid-stream: the run must be stopped while it waits, never reaching after.txt.
      return {
        content: [text('Now the second file, written after a pause.'), toolUse('Write', { file_path: path.join(cwd, 'after.txt'), content: 'after\n' })],
        usage: TURN_USAGE,
        textPieces: (value) => [value.slice(0, 10), value.slice(10)],
        beforeTextDelta: () => new Promise((resolve) => setTimeout(resolve, 20_000)),
      };
    });
    const repo = createTestRepo();
    dirs.push(repo);
    const { job, log } = await finished(await submit(repo, { max_cost_usd: 0.2 }));
    expect(job.status, log).toBe('failed');
    expect(job.error).toMatch(/^stopped: cost \$\d+\.\d+ .*passed max_cost_usd \$0\.2/);
    // Stopped as the Write was printed (its output priced), before the held step could run.
    expect(log).toContain('stopping the agent: cost');
    expect(() => gitIn(repo, 'show', `${job.branch}:after.txt`)).toThrow();
    // Stopped mid-Write or not, Claude Code's half-written temporary copy never lands on the branch.
    expect(job.result.files_changed.filter((file: string) => file.includes('.tmp.'))).toEqual([]);
  });

  it('fails at once on a rejected API key when retries are off, with the error in the log and events', async () => {
    // By default Claude Code retries a 401 ten times with backoff (minutes); CLAUDE_CODE_MAX_RETRIES bounds it.
    await start(() => apiError(401, 'authentication_error', 'invalid x-api-key'), {}, { CLAUDE_CODE_MAX_RETRIES: '0' });
    const repo = createTestRepo();
    dirs.push(repo);
    const { job, log, events } = await finished(await submit(repo));
    expect(job.status, log).toBe('failed');
    expect(job.exit_code).toBe(1);
    expect(job.error).toMatch(/API key/i);
    expect(job.error).toMatch(/401/);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'result', is_error: true }));
    expect(fake!.messages().filter(hasWrite)).toHaveLength(1);
    void contentText;
  });
});
