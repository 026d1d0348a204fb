// The claude-code agent end to end with the real Claude Code CLI (npm @anthropic-ai/claude-code):
// the orchestrator runs `claude -p ... --output-format stream-json` in the job's worktree, pointed
// (ANTHROPIC_BASE_URL) at a local fake of the Messages API that scripts a Write tool call and a
// final answer. The agent's environment (HOME, base URL, dummy key, no nonessential traffic) is
// set through the orchestrator's agentEnv, as the CLI would get it from the service's environment.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { buildOrchestrator, type Orchestrator } from '../../src/orchestrator/orchestrator.js';
import { apiError, contentText, startFakeAnthropic, text, toolResults, toolUse, type FakeAnthropic, type FakeScript, type MessagesRequest } from '../fakes/anthropicServer.js';
import { api, isDone, resetDb, sharedDb, TEST_ENV, waitForJob } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';

/** The CLI's launcher (the native binary once its postinstall ran), else the platform package's binary. */
function claudeBinary(): string {
  const libc = process.platform === 'linux' && !(process.report.getReport() as any).header?.glibcVersionRuntime ? '-musl' : '';
  const candidates = [
    path.resolve('node_modules/.bin/claude'),
    path.resolve(`node_modules/@anthropic-ai/claude-code-${process.platform}-${process.arch}${libc}/claude`),
  ];
  for (const file of candidates) {
    try {
      if (existsSync(file) && /Claude Code/.test(execFileSync(file, ['--version'], { encoding: 'utf8', timeout: 20_000 }))) return file;
    } catch {
      // a placeholder or a binary for another platform: try the next
    }
  }
  throw new Error(`no runnable Claude Code CLI in node_modules (tried ${candidates.join(', ')}); run npm install`);
}

const CLAUDE = claudeBinary();
// Starts with '-' on purpose: the prompt must never be taken for an option.
const PROMPT = '--model is not an option here: create hello.txt saying hi';
const FINAL = 'Created hello.txt containing the greeting.';

let fake: FakeAnthropic | undefined;
let orchestrator: Orchestrator | undefined;
let url = '';
const dirs: string[] = [];
afterEach(async () => {
  await orchestrator?.stop();
  await fake?.close();
  orchestrator = undefined;
  fake = undefined;
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An orchestrator whose agents' environment points Claude Code at a fake with this script. */
async function start(script: FakeScript, agentVars: Record<string, string> = {}): Promise<void> {
  fake = await startFakeAnthropic(script);
  const db = await sharedDb();
  await resetDb(db);
  const home = tempDir('autobuild-home-');
  const claudeHome = tempDir('claude-home-');
  dirs.push(home, claudeHome);
  const config = loadConfig({ ...TEST_ENV, AUTOBUILD_HOME: home, AUTOBUILD_CLAUDE_COMMAND: CLAUDE });
  // Nothing of the machine's own Claude setup; and no IS_SANDBOX, which makes the CLI retry a 529
  // ten times with backoff (minutes) instead of giving up after three quick attempts.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(ANTHROPIC_|CLAUDE|IS_SANDBOX$)/.test(name)));
  const agentEnv = {
    ...inherited,
    HOME: claudeHome,
    ANTHROPIC_BASE_URL: fake.url,
    ANTHROPIC_API_KEY: 'sk-ant-test-dummy',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    DISABLE_ERROR_REPORTING: '1',
    ...agentVars,
  };
  orchestrator = await buildOrchestrator({ config, db, logger: createLogger({ level: config.logLevel }), agentEnv });
  url = await orchestrator.start();
}

const systemText = (body: MessagesRequest) => (typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text).join('\n'));
const hasWrite = (body: MessagesRequest) => (body.tools ?? []).some((tool) => tool.name === 'Write');

/** Write hello.txt in Claude Code's working directory, then finish; auxiliary requests (no tools) get a short text. */
const writeHello: FakeScript = (body) => {
  if (!hasWrite(body)) return { content: [text('Hello file')] };
  if (toolResults(body).length > 0) return { content: [text(FINAL)] };
  const cwd = /Primary working directory: (\S+)/.exec(systemText(body))?.[1];
  if (!cwd) return { content: [text('the fake found no working directory in the system prompt')] };
  return { content: [text('Writing the file.'), toolUse('Write', { file_path: path.join(cwd, 'hello.txt'), content: 'hi\n' })] };
};

async function runJob(extra: Record<string, unknown> = {}): Promise<{ job: any; log: string; ms: number }> {
  const repo = createTestRepo();
  dirs.push(repo);
  const started = Date.now();
  const submitted = await api(url, 'POST', '/api/v1/jobs', {
    project_id: 'p',
    prompt: PROMPT,
    repo,
    max_attempts: 1,
    timeout_s: 60,
    agent: { type: 'claude-code', max_turns: 3, permission_mode: 'acceptEdits' },
    ...extra,
  });
  expect(submitted.status).toBe(201);
  const job = await waitForJob(url, submitted.body.id, isDone, 75_000);
  const ms = Date.now() - started;
  const log = (await api(url, 'GET', `/api/v1/jobs/${job.id}/logs`)).body as string;
  return { job: { ...job, repo }, log, ms };
}

/** The JSON lines of a log (stream-json events), skipping the orchestrator's own notes. */
const events = (log: string) =>
  log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, any>);

describe('the claude-code agent with the real Claude Code CLI', () => {
  it('writes a file with its Write tool; the branch, the summary and the log hold the run', async () => {
    await start(writeHello);
    const { job, log, ms } = await runJob();
    expect(job.status, log).toBe('succeeded');
    expect(job.exit_code).toBe(0);
    expect(ms).toBeLessThan(60_000);

    // The orchestrator committed the agent's leftover file on the job's branch.
    expect(gitIn(job.repo, 'show', `${job.branch}:hello.txt`)).toBe('hi');
    expect(job.result.files_changed).toEqual(['hello.txt']);
    expect(job.result.commits).toHaveLength(1);
    expect(job.result.commits[0].message).toMatch(/^autobuild: /);
    expect(job.result.summary).toBe(FINAL);

    // Every request went to an endpoint the fake knows (HEAD / and /v1/messages for this CLI version).
    expect(fake!.requests.filter((r) => r.status === 404).map((r) => `${r.method} ${r.path}`)).toEqual([]);
    // Claude Code streamed two turns to /v1/messages?beta=true: the prompt, then the tool result.
    const turns = fake!.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/v1/messages') && hasWrite(r.body));
    expect(turns).toHaveLength(2);
    for (const turn of turns) {
      expect(turn.path).toBe('/v1/messages?beta=true');
      expect(turn.body.stream).toBe(true);
      expect(turn.headers['user-agent']).toMatch(/^claude-cli\//);
      expect(turn.headers['x-api-key']).toBe('[redacted]');
    }
    const [first, second] = turns.map((t) => t.body as MessagesRequest);
    const userText = first!.messages.filter((m) => m.role === 'user').map((m) => contentText(m.content));
    expect(userText.join('\n')).toContain(PROMPT);
    const schema = first!.tools!.find((tool) => tool.name === 'Write')!.input_schema!;
    expect(schema.required).toEqual(expect.arrayContaining(['file_path', 'content']));
    expect(systemText(first!)).toContain(`Primary working directory: ${job.worktree.path}`);
    const [result] = toolResults(second!);
    const toolCall = second!.messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content)).find((b) => b.type === 'tool_use');
    expect(result!.tool_use_id).toBe(toolCall!.id);
    expect(result!.is_error ?? false).toBe(false);

    // The job log holds the CLI's stream-json: init (with the permission mode), the turns, the result.
    expect(log).toContain(`starting claude-code agent: ${CLAUDE}`);
    const stream = events(log);
    expect(stream[0]).toMatchObject({ type: 'system', subtype: 'init', permissionMode: 'acceptEdits', cwd: job.worktree.path });
    expect(stream.some((e) => e.type === 'assistant' && e.message.content.some((b: any) => b.type === 'tool_use' && b.name === 'Write'))).toBe(true);
    expect(stream.at(-1)).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: FINAL, num_turns: 2 });
  });

  it('fails (not hangs) when the API stays overloaded, with the error in the log', async () => {
    await start(() => apiError(529, 'overloaded_error', 'Overloaded'));
    const { job, log, ms } = await runJob();
    expect(job.status, log).toBe('failed');
    expect(job.exit_code).toBe(1);
    expect(job.error).toMatch(/exited with code 1/);
    // Claude Code gives up on 529 after a few quick retries (default policy, no knob needed).
    expect(ms).toBeLessThan(30_000);
    const stream = events(log);
    expect(stream.some((e) => e.type === 'system' && e.subtype === 'api_retry' && e.error_status === 529)).toBe(true);
    expect(stream.at(-1)).toMatchObject({ type: 'result', is_error: true });
    expect(job.result.summary).toMatch(/529|Overloaded/i);
    expect(job.result.files_changed).toEqual([]);
    expect(fake!.messages().length).toBeGreaterThanOrEqual(2);
  });

  it('fails at once on a rejected API key when retries are off, with the error in the log', async () => {
    // By default Claude Code retries a 401 ten times with backoff (minutes); CLAUDE_CODE_MAX_RETRIES bounds it.
    await start(() => apiError(401, 'authentication_error', 'invalid x-api-key'), { CLAUDE_CODE_MAX_RETRIES: '0' });
    const { job, log, ms } = await runJob();
    expect(job.status, log).toBe('failed');
    expect(job.exit_code).toBe(1);
    expect(ms).toBeLessThan(30_000);
    expect(events(log).at(-1)).toMatchObject({ type: 'result', is_error: true, api_error_status: 401 });
    expect(job.result.summary).toMatch(/API key/i);
    expect(fake!.messages()).toHaveLength(1);
  });
});
