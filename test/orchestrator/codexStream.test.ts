// The Codex adapter: its stream parser on output recorded from the real Codex CLI (0.171) against
// the local Responses API fake, fuzzed, and an end-to-end run (then a resume) of the real binary
// in a temporary git repository with the workspace-write sandbox.
// Re-record the fixtures with RECORD_CODEX_FIXTURES=1 npx vitest run test/orchestrator/codexStream.test.ts
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { codexArgs } from '../../src/orchestrator/agents/codexArgs.js';
import { codexStreamParser, errorStatus, parseLimitReset, shellCommand, type CodexStreamOptions } from '../../src/orchestrator/agents/codexStream.js';
import type { RunEvent } from '../../src/orchestrator/agents/runEvents.js';
import {
  addFilePatch,
  apiError,
  applyPatch,
  codeModeExec,
  execCommand,
  mcpToolCall,
  reasoning,
  say,
  startFakeOpenAIResponses,
  toolNames,
  toolOutputs,
  toolSearch,
  usageLimitError,
  webSearchCall,
  type FakeOpenAIResponses,
  type FakeScript,
} from '../fakes/openaiResponses.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const FIXTURES = join(ROOT, 'test/fixtures/codex');
const CODEX = join(ROOT, 'node_modules/.bin/codex');
/** Where the fixtures were recorded (their file paths are under it). */
const RECORDED_REPO = '/tmp/autobuild-codex-fixture/repo';
const RECORDED_HOME = '/tmp/autobuild-codex-fixture/home';

function parse(lines: string[], options: CodexStreamOptions = {}) {
  const parser = codexStreamParser(options);
  const events = lines.flatMap((line) => parser.line(line));
  return { events, report: parser.report() };
}

const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8').split('\n');
const ofKind = <K extends RunEvent['kind']>(events: RunEvent[], kind: K) => events.filter((event): event is Extract<RunEvent, { kind: K }> => event.kind === kind);

// ---------------------------------------------------------------------------------------------
// Running the real binary against the fake.

const providerConfig = (url: string) => ['model_provider="fake"', `model_providers.fake={name="fake",base_url="${url}",env_key="OPENAI_API_KEY",wire_api="responses"}`];

interface CodexRun {
  code: number | null;
  /** Stdout and stderr lines in arrival order, as the job log has them. */
  lines: string[];
  stdout: string;
  stderr: string;
}

function runCodex(args: string[], cwd: string, home: string, timeoutMs = 25_000): Promise<CodexRun> {
  return new Promise((done, fail) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CODEX_HOME: home, OPENAI_API_KEY: 'sk-fake-key', NO_COLOR: '1' };
    delete env.CODEX_API_KEY;
    delete env.OPENAI_BASE_URL;
    // stdin closed: with an open pipe Codex waits to read the prompt's <stdin> block.
    const child = spawn(CODEX, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let combined = '';
    child.stdout.on('data', (chunk: Buffer) => ((stdout += chunk), (combined += chunk)));
    child.stderr.on('data', (chunk: Buffer) => ((stderr += chunk), (combined += chunk)));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, lines: combined.split('\n').filter(Boolean), stdout, stderr });
    });
  });
}

function gitRepo(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  execFileSync('git', ['init', '-q', '-b', 'main', path]);
  writeFileSync(join(path, 'README.md'), '# fixture\n');
  execFileSync('git', ['-C', path, 'add', '.']);
  execFileSync('git', ['-C', path, '-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-qm', 'init']);
  return path;
}

/** A stdio MCP server with one tool, `shout` (upper-cases; "fail" answers isError). */
const MCP_SERVER = `
import { createInterface } from 'node:readline';
const send = (m) => process.stdout.write(JSON.stringify(m) + '\\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  let m; try { m = JSON.parse(line); } catch { return; }
  if (m.id === undefined) return;
  if (m.method === 'initialize') send({ jsonrpc: '2.0', id: m.id, result: { protocolVersion: m.params?.protocolVersion ?? '2025-06-18', capabilities: { tools: {} }, serverInfo: { name: 'echo', version: '1.0.0' } } });
  else if (m.method === 'tools/list') send({ jsonrpc: '2.0', id: m.id, result: { tools: [{ name: 'shout', description: 'Upper-cases text', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }] } });
  else if (m.method === 'tools/call') {
    const text = String(m.params?.arguments?.text ?? '');
    send({ jsonrpc: '2.0', id: m.id, result: text === 'fail' ? { content: [{ type: 'text', text: 'cannot shout that' }], isError: true } : { content: [{ type: 'text', text: text.toUpperCase() }] } });
  } else send({ jsonrpc: '2.0', id: m.id, result: {} });
});
`;

const usage = (input: number, cached: number, output: number) => ({ input_tokens: input, cached_tokens: cached, output_tokens: output });

interface Recording {
  script: FakeScript;
  /** Default gpt-5.5: exec_command + apply_patch as direct tools (the default gpt-6.2-sol is code mode). */
  model?: string | null;
  sandbox?: string;
  config?: (mcpServer: string) => string[];
}

const RECORDINGS: Record<string, Recording> = {
  // Writes a file (apply_patch), runs commands (one failing, one stopped by the sandbox), edits it.
  'work.jsonl': {
    script: (_body, i) =>
      [
        { output: [reasoning('Plan: add the file, then check it'), say('I will create hello.txt.'), applyPatch(addFilePatch('hello.txt', 'hello world\n'))], usage: usage(1000, 200, 50) },
        { output: [execCommand('echo autobuild-ok && cat hello.txt')], usage: usage(1200, 1000, 20) },
        { output: [applyPatch('*** Begin Patch\n*** Update File: hello.txt\n@@\n-hello world\n+hello codex\n*** End Patch\n')], usage: usage(1300, 1100, 20) },
        // (A command the sandbox stops within a few hundred ms never shows in --json at all: hence the sleep.)
        { output: [execCommand('sleep 0.5; touch /etc/autobuild-fixture')], usage: usage(1400, 1200, 10) },
        { output: [execCommand('exit 3')], usage: usage(1500, 1300, 10) },
        { output: [say('Created hello.txt and ran echo.')], usage: usage(1600, 1400, 12) },
      ][i] ?? { output: [say('extra')] },
  },
  // The default model (gpt-6.2-sol) is code-mode only: one `exec` tool running JavaScript that calls tools.
  'code-mode.jsonl': {
    model: null,
    script: (_body, i) =>
      i === 0
        ? { output: [codeModeExec('const r = await tools.exec_command({ cmd: "echo from-code-mode > cm.txt && echo hi" });\ntext(r.output);\nawait tools.apply_patch("*** Begin Patch\\n*** Add File: b.txt\\n+bee\\n*** End Patch\\n");')] }
        : { output: [say('code mode done')] },
  },
  // Calls Codex refuses with approvals off: an escalation, a policy-blocked rm -rf, a patch outside
  // the worktree, an MCP tool needing approval.
  'denied.jsonl': {
    config: (mcp) => [`mcp_servers.echo={command="node",args=["${mcp}"]}`],
    script: (_body, i) =>
      [
        { output: [execCommand('touch /etc/autobuild-escalated', { sandbox_permissions: 'require_escalated', justification: 'write to /etc' })] },
        { output: [execCommand('rm -rf /tmp/autobuild-nonexistent-dir')] },
        { output: [applyPatch(addFilePatch('/etc/autobuild-outside.txt', 'x'))] },
        { output: [toolSearch('shout upper-case text')] },
        { output: [mcpToolCall('echo', 'shout', { text: 'hello mcp' })] },
        { output: [say('Some calls were refused.')] },
      ][i] ?? { output: [say('extra')] },
  },
  // MCP (approved for the server) and web search.
  'mcp-web.jsonl': {
    config: (mcp) => [`mcp_servers.echo={command="node",args=["${mcp}"],default_tools_approval_mode="approve"}`],
    script: (_body, i) =>
      [
        // A hosted web search needs no answer from Codex: alone it would end the turn.
        { output: [webSearchCall('codex exec json events'), toolSearch('shout upper-case text')] },
        { output: [mcpToolCall('echo', 'shout', { text: 'hello mcp' })] },
        { output: [mcpToolCall('echo', 'shout', { text: 'fail' })] },
        { output: [say('Searched and shouted.')] },
      ][i] ?? { output: [say('extra')] },
  },
  // A ChatGPT plan's usage limit (429 usage_limit_reached), resetting tomorrow or later.
  'usage-limit.jsonl': { script: () => usageLimitError(30 * 3600) },
  // The same, resetting within minutes ("try again at 3:05 PM": no date when it is today).
  'usage-limit-soon.jsonl': { script: () => usageLimitError(120) },
  // An API rate limit as a 429 (Codex retries 5 times, then gives up without the body's words).
  '429.jsonl': { script: () => apiError(429, 'rate_limit_exceeded', 'Rate limit reached for gpt-5.5 on tokens per min (TPM). Please try again in 20s.') },
  // A rate limit reported in the stream (response.failed), with "try again in 1.5s".
  'rate-limit-stream.jsonl': { script: () => ({ output: [], failure: { code: 'rate_limit_exceeded', message: 'Rate limit reached for requests. Please try again in 1.5s.' } }) },
  // An API error that is not retried (400).
  'api-error.jsonl': { script: () => apiError(400, 'invalid_request_error', 'Unsupported parameter: reasoning.effort') },
};

async function record(name: string, spec: Recording): Promise<CodexRun> {
  const fake = await startFakeOpenAIResponses(spec.script);
  try {
    rmSync(RECORDED_HOME, { recursive: true, force: true });
    mkdirSync(RECORDED_HOME, { recursive: true });
    const mcp = join(RECORDED_HOME, 'mcp-echo.mjs');
    writeFileSync(mcp, MCP_SERVER);
    gitRepo(RECORDED_REPO);
    const model = spec.model === undefined ? 'gpt-5.5' : spec.model;
    const args = codexArgs({ prompt: `Fixture ${name}`, sandbox: spec.sandbox, ...(model ? { model } : {}), config: [...providerConfig(fake.url), ...(spec.config?.(mcp) ?? [])] });
    const run = await runCodex(args, RECORDED_REPO, RECORDED_HOME, 120_000);
    writeFileSync(join(FIXTURES, name), `${run.lines.join('\n')}\n`);
    return run;
  } finally {
    await fake.close();
  }
}

describe.runIf(process.env.RECORD_CODEX_FIXTURES)('recording the fixtures from the real Codex CLI', () => {
  it('records every scenario', { timeout: 600_000 }, async () => {
    mkdirSync(FIXTURES, { recursive: true });
    for (const [name, spec] of Object.entries(RECORDINGS)) await record(name, spec);
    // A resumed session: the second run's output (its usage is the thread's total, both runs).
    const fake = await startFakeOpenAIResponses(() => ({ output: [say('ok')], usage: usage(100, 20, 10) }));
    try {
      gitRepo(RECORDED_REPO);
      rmSync(RECORDED_HOME, { recursive: true, force: true });
      mkdirSync(RECORDED_HOME, { recursive: true });
      const config = providerConfig(fake.url);
      const first = await runCodex(codexArgs({ prompt: 'first', model: 'gpt-5.5', config }), RECORDED_REPO, RECORDED_HOME);
      writeFileSync(join(FIXTURES, 'resume-first.jsonl'), `${first.lines.join('\n')}\n`);
      const session = parse(first.lines).report.sessionId!;
      const second = await runCodex(codexArgs({ prompt: 'second', model: 'gpt-5.5', config, resumeSessionId: session }), RECORDED_REPO, RECORDED_HOME);
      writeFileSync(join(FIXTURES, 'resume-second.jsonl'), `${second.lines.join('\n')}\n`);
    } finally {
      await fake.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The parser on recorded output.

describe('codexStreamParser on recorded Codex output', () => {
  it('a run that writes files and runs commands: session, text, tool calls and results, usage, final text', () => {
    const { events, report } = parse(fixture('work.jsonl'), { cwd: RECORDED_REPO });
    const sessions = ofKind(events, 'session');
    expect(sessions).toHaveLength(1);
    expect(report.sessionId).toBe(sessions[0]!.session_id);
    expect(report.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    expect(ofKind(events, 'agent_text').map((e) => e.text)).toEqual(['I will create hello.txt.', 'Created hello.txt and ran echo.']);
    const calls = ofKind(events, 'tool_call').map((e) => `${e.tool}: ${e.summary}`);
    expect(calls).toEqual(['apply_patch: add hello.txt', 'Bash: echo autobuild-ok && cat hello.txt', 'apply_patch: edit hello.txt', 'Bash: sleep 0.5; touch /etc/autobuild-fixture', 'Bash: exit 3']);
    const results = ofKind(events, 'tool_result');
    expect(results.map((e) => [e.tool, e.is_error, e.summary])).toEqual([
      ['apply_patch', false, 'applied: add hello.txt'],
      ['Bash', false, 'exit 0: hello world'],
      ['apply_patch', false, 'applied: edit hello.txt'],
      ['Bash', true, "exit 1: touch: cannot touch '/etc/autobuild-fixture': Read-only file system"],
      ['Bash', true, 'exit 3'],
    ]);
    // Every result answers an earlier call with the same id.
    const callIds = ofKind(events, 'tool_call').map((e) => e.call_id);
    for (const result of results) expect(callIds.indexOf(result.call_id)).toBeGreaterThanOrEqual(0);

    // The sandbox stopped a write outside the worktree: a denial, not only a failed command.
    expect(report.permissionDenials).toEqual([{ tool: 'Bash', summary: "sandbox: sleep 0.5; touch /etc/autobuild-fixture: touch: cannot touch '/etc/autobuild-fixture': Read-only file system" }]);

    // The fake reported six requests; Codex sums them (input 8000 of which 6200 cached, output 122).
    const expected = { input_tokens: 8000 - 6200, cache_read_input_tokens: 6200, cache_creation_input_tokens: 0, output_tokens: 122 };
    expect(ofKind(events, 'usage')).toEqual([{ kind: 'usage', usage: expected, cost_usd: null, num_turns: 1 }]);
    expect(report).toMatchObject({ usage: expected, costUsd: null, numTurns: 1, resultSeen: true, isError: false, rateLimited: null, apiErrorStatus: null, finalText: 'Created hello.txt and ran echo.' });
    expect(ofKind(events, 'result')).toEqual([{ kind: 'result', is_error: false, subtype: 'success', text: 'Created hello.txt and ran echo.' }]);
    // Codex's stderr chatter is kept as output lines; reasoning is not shown.
    expect(ofKind(events, 'output').some((e) => e.text.startsWith('Reading additional input from stdin'))).toBe(true);
    expect(ofKind(events, 'unknown')).toEqual([]);
    expect(JSON.stringify(events)).not.toContain('Plan: add the file');
  });

  it('code mode (the default model) shows the same command and file items', () => {
    const { events, report } = parse(fixture('code-mode.jsonl'), { cwd: RECORDED_REPO });
    expect(ofKind(events, 'tool_call').map((e) => `${e.tool}: ${e.summary}`)).toEqual(['Bash: echo from-code-mode > cm.txt && echo hi', 'apply_patch: add b.txt']);
    expect(ofKind(events, 'tool_result').every((e) => !e.is_error)).toBe(true);
    expect(report.finalText).toBe('code mode done');
    expect(report.usage?.input_tokens).toBeGreaterThan(0);
  });

  it('refused calls are permission denials (from stderr and from the MCP item)', () => {
    const { events, report } = parse(fixture('denied.jsonl'), { cwd: RECORDED_REPO });
    expect(report.permissionDenials).toEqual([
      { tool: 'Bash', summary: 'approval policy is Never; reject command — you cannot ask for escalated permissions if the approval policy is Never' },
      { tool: 'Bash', summary: 'rm -rf /tmp/autobuild-nonexistent-dir: rm -f style commands are not permitted. Use a safer approach' },
      { tool: 'apply_patch', summary: 'patch rejected: writing outside of the project; rejected by user approval settings' },
      { tool: 'mcp__echo__shout', summary: 'MCP tool call requires approval, but approval policy is never' },
    ]);
    expect(ofKind(events, 'permission_denied')).toHaveLength(4);
    expect(ofKind(events, 'tool_result').map((e) => [e.tool, e.is_error])).toEqual([['mcp__echo__shout', true]]);
    expect(report).toMatchObject({ isError: false, resultSeen: true, finalText: 'Some calls were refused.' });
  });

  it('MCP tool calls and web searches', () => {
    const { events } = parse(fixture('mcp-web.jsonl'));
    expect(ofKind(events, 'tool_call').map((e) => `${e.tool}: ${e.summary}`)).toEqual(['WebSearch: codex exec json events', 'mcp__echo__shout: {"text":"hello mcp"}', 'mcp__echo__shout: {"text":"fail"}']);
    expect(ofKind(events, 'tool_result').map((e) => [e.tool, e.is_error, e.summary])).toEqual([
      ['WebSearch', false, 'search'],
      ['mcp__echo__shout', false, 'HELLO MCP'],
      ['mcp__echo__shout', true, 'cannot shout that'],
    ]);
    expect(ofKind(events, 'permission_denied')).toEqual([]);
  });

  it('a usage limit (429) is a rejected rate_limit with the reset Codex names', () => {
    const lines = fixture('usage-limit.jsonl');
    const { events, report } = parse(lines);
    const message = ofKind(events, 'error').at(-1)!.message;
    expect(message).toMatch(/^You’ve hit your usage limit\. .* try again at [A-Z][a-z]{2} \d{1,2}(st|nd|rd|th), \d{4} \d{1,2}:\d{2} [AP]M\.$/);
    const [, month, day, year, hour, minute, meridiem] = /at ([A-Z][a-z]{2}) (\d+)\w*, (\d{4}) (\d+):(\d+) ([AP]M)/.exec(message)!;
    const expected = new Date(Number(year), ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'].indexOf(month!), Number(day), (Number(hour) % 12) + (meridiem === 'PM' ? 12 : 0), Number(minute));
    expect(report.rateLimited).toEqual({ resetsAt: expected, message });
    expect(ofKind(events, 'rate_limit')).toEqual([{ kind: 'rate_limit', status: 'rejected', resets_at: expected.toISOString(), message }]);
    // The `error` event and turn.failed say the same: one error event, and the failed result.
    expect(ofKind(events, 'error')).toHaveLength(1);
    expect(ofKind(events, 'result')).toEqual([{ kind: 'result', is_error: true, subtype: 'error', text: message }]);
    expect(report).toMatchObject({ isError: true, resultSeen: true, apiErrorStatus: 429, usage: null, finalText: null });
    expect(report.sessionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('a usage limit resetting today names only the time', () => {
    const { report } = parse(fixture('usage-limit-soon.jsonl'));
    const [, hour, minute, meridiem] = /try again at (\d+):(\d+) ([AP]M)/.exec(report.rateLimited!.message)!;
    const resetsAt = report.rateLimited!.resetsAt!;
    expect([resetsAt.getHours(), resetsAt.getMinutes()]).toEqual([(Number(hour) % 12) + (meridiem === 'PM' ? 12 : 0), Number(minute)]);
    expect(resetsAt.getTime() - Date.now()).toBeGreaterThan(-60_000);
    expect(resetsAt.getTime() - Date.now()).toBeLessThan(24 * 3600_000);
  });

  it('a plain 429 after Codex\'s retries is a rate limit without a reset time; the retries are not fatal', () => {
    const lines = fixture('429.jsonl');
    const parser = codexStreamParser();
    const before: RunEvent[] = [];
    for (const line of lines) {
      before.push(...parser.line(line));
      if (line.includes('"turn.failed"')) break;
      // While Codex is reconnecting, the run is not (yet) an error.
      if (line.includes('Reconnecting... 1/5')) expect(parser.report().isError).toBe(false);
    }
    expect(ofKind(before, 'error').filter((e) => e.message.startsWith('Reconnecting...'))).toHaveLength(5);
    expect(parser.report()).toMatchObject({ isError: true, apiErrorStatus: 429, rateLimited: { resetsAt: null } });
    expect(parser.report().rateLimited!.message).toMatch(/^exceeded retry limit, last status: 429 Too Many Requests/);
  });

  it('a rate limit in the stream ("try again in 1.5s") resets that long after now', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    const { events, report } = parse(fixture('rate-limit-stream.jsonl'), { now: () => now });
    expect(report.rateLimited).toEqual({ resetsAt: new Date(now.getTime() + 1500), message: 'rate limit exceeded: Rate limit reached for requests. Please try again in 1.5s.' });
    expect(report.apiErrorStatus).toBe(429);
    expect(ofKind(events, 'rate_limit')).toHaveLength(1);
  });

  it('an API error is an error, not a rate limit', () => {
    const { events, report } = parse(fixture('api-error.jsonl'));
    expect(report).toMatchObject({ isError: true, resultSeen: true, rateLimited: null, apiErrorStatus: 400 });
    expect(ofKind(events, 'error').map((e) => e.message)).toEqual(['{"error":{"code":null,"param":null,"type":"invalid_request_error","message":"Unsupported parameter: reasoning.effort"}}']);
    expect(ofKind(events, 'rate_limit')).toEqual([]);
  });

  it('a resumed session keeps its id; its usage is the thread total, less what the earlier run spent', () => {
    const first = parse(fixture('resume-first.jsonl'));
    const second = parse(fixture('resume-second.jsonl'), { priorUsage: first.report.usage });
    expect(second.report.sessionId).toBe(first.report.sessionId);
    expect(first.report.usage).toEqual({ input_tokens: 80, cache_read_input_tokens: 20, cache_creation_input_tokens: 0, output_tokens: 10 });
    // Codex says 200/40/20 after the second run: both runs' requests.
    expect(parse(fixture('resume-second.jsonl')).report.usage).toEqual({ input_tokens: 160, cache_read_input_tokens: 40, cache_creation_input_tokens: 0, output_tokens: 20 });
    expect(second.report.usage).toEqual(first.report.usage);
  });
});

describe('codexStreamParser on lines Codex may print', () => {
  it('non-JSON lines are output; unknown events and items are unknown events', () => {
    const { events } = parse(['plain text', '{not json', '[1,2]', '{"type":"thread.archived","x":1}', '{"type":"item.completed","item":{"id":"i","type":"hologram"}}', '{"no":"type"}', '']);
    expect(events).toEqual([
      { kind: 'output', text: 'plain text' },
      { kind: 'output', text: '{not json' },
      { kind: 'output', text: '[1,2]' },
      { kind: 'unknown', type: 'thread.archived', summary: '{"type":"thread.archived","x":1}' },
      { kind: 'unknown', type: 'item:hologram', summary: '{"id":"i","type":"hologram"}' },
      { kind: 'unknown', type: 'undefined', summary: '{"no":"type"}' },
    ]);
  });

  it('a declined command, a todo list, a plan, a warning item and a question', () => {
    const { events, report } = parse([
      '{"type":"item.started","item":{"id":"c","type":"command_execution","command":"bash -lc \'git push --force\'","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"c","type":"command_execution","command":"bash -lc \'git push --force\'","aggregated_output":"","exit_code":null,"status":"declined"}}',
      '{"type":"item.started","item":{"id":"t","type":"todo_list","items":[{"text":"write","completed":true},{"text":"test","completed":false}]}}',
      '{"type":"item.completed","item":{"id":"t","type":"todo_list","items":[{"text":"write","completed":true},{"text":"test","completed":false}]}}',
      '{"type":"item.completed","item":{"id":"p","type":"plan","text":"1. write\\n2. test"}}',
      '{"type":"item.completed","item":{"id":"e","type":"error","message":"Model metadata for `x` not found"}}',
      '{"type":"request_user_input","id":"q","call_id":"k","questions":[{"id":"a","header":"Target","question":"Which branch?"}]}',
    ]);
    expect(events).toEqual([
      { kind: 'tool_call', tool: 'Bash', summary: 'git push --force', call_id: 'c' },
      { kind: 'permission_denied', tool: 'Bash', summary: 'git push --force: declined' },
      { kind: 'tool_result', tool: 'Bash', is_error: true, summary: 'declined', call_id: 'c' },
      { kind: 'agent_text', text: 'Plan: [x] write; [ ] test' },
      { kind: 'agent_text', text: 'Plan:\n1. write\n2. test' },
      { kind: 'error', message: 'Model metadata for `x` not found' },
      { kind: 'agent_text', text: 'Asks: Which branch?' },
    ]);
    expect(report.permissionDenials).toHaveLength(1);
    expect(report.isError).toBe(false);
  });

  it('commands as Codex 0.171 quotes them are shown as the agent wrote them', () => {
    expect(shellCommand("/bin/bash -lc 'echo autobuild-ok && cat hello.txt'")).toBe('echo autobuild-ok && cat hello.txt');
    expect(shellCommand(`/bin/bash -lc "echo 'a b' \\"c\\" && printf '%s\\\\n' \\"it's\\""`)).toBe(`echo 'a b' "c" && printf '%s\\n' "it's"`);
    expect(shellCommand('/usr/bin/sh -lc ls')).toBe('ls');
    expect(shellCommand('/bin/bash -c ls')).toBe('ls');
    expect(shellCommand("bash -lc 'it'\\''s'")).toBe("it's");
    expect(shellCommand('python3 script.py')).toBe('python3 script.py');
  });

  it('usage mapping: cached and cache-written tokens are taken out of input; quota errors are not rate limits', () => {
    const { report } = parse(['{"type":"turn.completed","usage":{"input_tokens":100,"cached_input_tokens":30,"cache_write_input_tokens":10,"output_tokens":5,"reasoning_output_tokens":2}}']);
    expect(report.usage).toEqual({ input_tokens: 60, cache_read_input_tokens: 30, cache_creation_input_tokens: 10, output_tokens: 5 });
    expect(parse(['{"type":"error","message":"Quota exceeded. Check your plan and billing details."}']).report.rateLimited).toBeNull();
  });

  it('reset times and statuses in the wordings Codex and the API use', () => {
    const now = new Date(2026, 11, 6, 23, 50);
    expect(parseLimitReset('try again at Dec 7th, 2026 12:44 AM.', now)).toEqual(new Date(2026, 11, 7, 0, 44));
    expect(parseLimitReset('or try again at 11:55 PM.', now)).toEqual(new Date(2026, 11, 6, 23, 55));
    expect(parseLimitReset('or try again at 9:05 AM.', now)).toEqual(new Date(2026, 11, 7, 9, 5));
    expect(parseLimitReset('Please try again in 6m0s.', now)).toEqual(new Date(now.getTime() + 360_000));
    expect(parseLimitReset('Please try again in 120ms', now)).toEqual(new Date(now.getTime() + 120));
    expect(parseLimitReset('limit reached, resets in 2 hours', now)).toEqual(new Date(now.getTime() + 7_200_000));
    expect(parseLimitReset('try again later', now)).toBeNull();
    expect(errorStatus('unexpected status 404 Not Found: nope, url: http://x/v1/responses')).toBe(404);
    expect(errorStatus('exceeded retry limit, last status: 429 Too Many Requests, request id: r')).toBe(429);
    expect(errorStatus('We’re currently experiencing high demand, which may cause temporary errors.')).toBeNull();
  });

  it('never throws, whatever the line (fuzzed)', () => {
    const types = ['thread.started', 'turn.started', 'turn.completed', 'turn.failed', 'error', 'item.started', 'item.updated', 'item.completed', 'item.plan.delta', 'request_user_input'];
    const itemTypes = ['agent_message', 'reasoning', 'plan', 'command_execution', 'file_change', 'mcp_tool_call', 'collab_tool_call', 'web_search', 'todo_list', 'error'];
    const item = fc.oneof(
      fc.jsonValue(),
      fc.record(
        {
          id: fc.oneof(fc.string(), fc.jsonValue()),
          type: fc.oneof(fc.constantFrom(...itemTypes), fc.string()),
          text: fc.jsonValue(),
          command: fc.oneof(fc.string(), fc.jsonValue()),
          aggregated_output: fc.oneof(fc.string(), fc.jsonValue()),
          exit_code: fc.jsonValue(),
          status: fc.oneof(fc.constantFrom('in_progress', 'completed', 'failed', 'declined'), fc.jsonValue()),
          changes: fc.oneof(fc.array(fc.record({ path: fc.jsonValue(), kind: fc.jsonValue() }, { requiredKeys: [] })), fc.jsonValue()),
          server: fc.jsonValue(),
          tool: fc.jsonValue(),
          arguments: fc.jsonValue(),
          result: fc.oneof(fc.record({ content: fc.jsonValue() }), fc.jsonValue()),
          error: fc.oneof(fc.record({ message: fc.jsonValue() }), fc.jsonValue()),
          items: fc.oneof(fc.array(fc.record({ text: fc.jsonValue(), completed: fc.jsonValue() }, { requiredKeys: [] })), fc.jsonValue()),
          action: fc.jsonValue(),
          query: fc.jsonValue(),
        },
        { requiredKeys: ['type'] },
      ),
    );
    const event = fc.record(
      {
        type: fc.oneof(fc.constantFrom(...types), fc.jsonValue()),
        thread_id: fc.jsonValue(),
        usage: fc.oneof(fc.record({ input_tokens: fc.jsonValue(), cached_input_tokens: fc.jsonValue(), output_tokens: fc.jsonValue() }, { requiredKeys: [] }), fc.jsonValue()),
        error: fc.oneof(fc.record({ message: fc.oneof(fc.string(), fc.constantFrom('You’ve hit your usage limit. try again at Feb 30th, 2026 13:99 PM.', 'rate limit, try again in 9999999999h')) }), fc.jsonValue()),
        message: fc.oneof(fc.string(), fc.constantFrom('Reconnecting... 1/5 (x)', 'exceeded retry limit, last status: 429 Too Many Requests'), fc.jsonValue()),
        item,
        questions: fc.jsonValue(),
      },
      { requiredKeys: ['type'] },
    );
    const recorded = fixture('work.jsonl').concat(fixture('denied.jsonl'), fixture('usage-limit.jsonl'));
    const line = fc.oneof(
      event.map((value) => JSON.stringify(value)),
      fc.string(),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      fc.tuple(fc.constantFrom(...recorded), fc.nat(), fc.string()).map(([text, cut, tail]) => text.slice(0, cut % (text.length + 1)) + tail),
    );
    const kinds = new Set(['agent_text', 'tool_call', 'tool_result', 'usage', 'session', 'permission_denied', 'rate_limit', 'result', 'error', 'output', 'unknown']);
    fc.assert(
      fc.property(fc.array(line, { maxLength: 30 }), (lines) => {
        const parser = codexStreamParser({ cwd: '/repo' });
        for (const text of lines) {
          for (const out of parser.line(text)) {
            expect(kinds.has(out.kind)).toBe(true);
            JSON.stringify(out);
          }
        }
        const report = parser.report();
        expect(report.usage === null || Object.values(report.usage).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
        expect(report.rateLimited === null || report.rateLimited.resetsAt === null || report.rateLimited.resetsAt instanceof Date).toBe(true);
      }),
      { numRuns: 400 },
    );
  });
});

describe('the fake Responses API', () => {
  it('answers unknown paths with 404, a body without input with 400, stream:false as JSON; records with secrets redacted', async () => {
    const fake = await startFakeOpenAIResponses(() => ({ output: [say('hi'), execCommand('ls', {}, 'call_1')], usage: usage(10, 4, 2) }));
    try {
      const models = await fetch(`${fake.url}/models`, { headers: { authorization: 'Bearer sk-secret' } });
      expect(models.status).toBe(404);
      expect(((await models.json()) as { error: { message: string } }).error.message).toContain('GET /v1/models');
      expect((await fetch(`${fake.url}/responses`, { method: 'POST', body: '{}' })).status).toBe(400);
      const plain = await fetch(`${fake.url}/responses`, { method: 'POST', body: JSON.stringify({ model: 'm', input: [], stream: false }) });
      expect(await plain.json()).toMatchObject({
        status: 'completed',
        output: [{ type: 'message', content: [{ type: 'output_text', text: 'hi' }] }, { type: 'function_call', name: 'exec_command', call_id: 'call_1', arguments: '{"cmd":"ls"}' }],
        usage: { input_tokens: 10, input_tokens_details: { cached_tokens: 4 }, output_tokens: 2 },
      });
      const streamed = await (await fetch(`${fake.url}/responses`, { method: 'POST', body: JSON.stringify({ model: 'm', input: [], stream: true }) })).text();
      const types = [...streamed.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      expect(types[0]).toBe('response.created');
      expect(types.at(-1)).toBe('response.completed');
      expect(types).toContain('response.output_text.delta');
      expect(fake.requests[0]!.headers.authorization).toBe('[redacted]');
      expect(fake.responses()).toHaveLength(3);
    } finally {
      await fake.close();
    }
  });
});

describe('codexArgs', () => {
  it('a new run: exec --json, the sandbox, approvals off, the prompt after --', () => {
    expect(codexArgs({ prompt: '-fix the bug', model: 'gpt-5.5' })).toEqual(['exec', '--json', '--sandbox', 'workspace-write', '-c', 'approval_policy="never"', '--model', 'gpt-5.5', '--', '-fix the bug']);
    expect(codexArgs({ prompt: 'p', sandbox: 'danger-full-access' })).toEqual(['exec', '--json', '--sandbox', 'danger-full-access', '-c', 'approval_policy="never"', '--', 'p']);
  });

  it('a resume: exec resume --json, the sandbox as config (resume has no --sandbox), the session id then the prompt', () => {
    expect(codexArgs({ prompt: 'again', resumeSessionId: '01a24dc1-0eab-72b3-a266-16a443421ab9' })).toEqual([
      'exec', 'resume', '--json', '-c', 'sandbox_mode="workspace-write"', '-c', 'approval_policy="never"', '--', '01a24dc1-0eab-72b3-a266-16a443421ab9', 'again',
    ]);
  });

  it('refuses an unknown sandbox or a session id that is not one', () => {
    expect(() => codexArgs({ prompt: 'p', sandbox: 'workspace-write"; x="' })).toThrow(/sandbox/);
    expect(() => codexArgs({ prompt: 'p', resumeSessionId: '--last' })).toThrow(/session id/);
  });
});

// ---------------------------------------------------------------------------------------------
// End to end: the real binary, the fake API, a temporary git repository.

describe.skipIf(!existsSync(CODEX))('the real Codex CLI against the fake Responses API', () => {
  let fake: FakeOpenAIResponses | undefined;
  const temps: string[] = [];
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
    for (const dir of temps.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('workspace-write: creates a file with apply_patch, runs echo, reports usage; then resumes the session', { timeout: 30_000 }, async () => {
    const base = mkdtempSync(join(tmpdir(), 'autobuild-codex-e2e-'));
    temps.push(base);
    const repo = gitRepo(join(base, 'repo'));
    const home = join(base, 'home');
    mkdirSync(home);
    fake = await startFakeOpenAIResponses((body, i) => {
      if (i === 0) return { output: [say('Creating the file.'), applyPatch(addFilePatch('created.txt', 'made by codex\n'), 'call_patch')], usage: usage(1000, 400, 50) };
      if (i === 1) return { output: [execCommand('echo e2e-ok', {}, 'call_echo')], usage: usage(1100, 900, 20) };
      if (i === 2) return { output: [say('Done: created.txt written, echo ran.')], usage: usage(1200, 1000, 10) };
      return { output: [say(`Resumed with ${toolOutputs(body).length} earlier tool outputs.`)], usage: usage(1300, 1200, 5) };
    });
    const config = providerConfig(fake.url);

    const run = await runCodex(codexArgs({ prompt: 'Create created.txt and run echo', model: 'gpt-5.5', sandbox: 'workspace-write', config }), repo, home);
    expect(run.code, run.stderr).toBe(0);
    expect(readFileSync(join(repo, 'created.txt'), 'utf8')).toBe('made by codex\n');

    // What Codex 0.171 offers and sends back: exec_command and apply_patch, their outputs by call id.
    const requests = fake.responses();
    expect(requests).toHaveLength(3);
    expect(toolNames(requests[0]!)).toEqual(expect.arrayContaining(['exec_command', 'apply_patch']));
    expect(toolOutputs(requests[2]!)).toEqual([
      { call_id: 'call_patch', output: expect.stringContaining('A created.txt') },
      { call_id: 'call_echo', output: expect.stringMatching(/Process exited with code 0[\s\S]*e2e-ok/) },
    ]);
    expect(JSON.parse(fake.requests[0]!.headers['x-codex-turn-metadata']!)).toMatchObject({ sandbox_mode: 'workspace-write' });
    expect(fake.requests[0]!.headers.authorization).toBe('[redacted]');

    const { events, report } = parse(run.lines, { cwd: repo });
    expect(ofKind(events, 'tool_call').map((e) => `${e.tool}: ${e.summary}`)).toEqual(['apply_patch: add created.txt', 'Bash: echo e2e-ok']);
    expect(ofKind(events, 'tool_result').map((e) => [e.tool, e.is_error, e.summary])).toEqual([
      ['apply_patch', false, 'applied: add created.txt'],
      ['Bash', false, 'exit 0: e2e-ok'],
    ]);
    const spent = { input_tokens: 3300 - 2300, cache_read_input_tokens: 2300, cache_creation_input_tokens: 0, output_tokens: 80 };
    expect(ofKind(events, 'usage').at(-1)).toEqual({ kind: 'usage', usage: spent, cost_usd: null, num_turns: 1 });
    expect(report).toMatchObject({ resultSeen: true, isError: false, finalText: 'Done: created.txt written, echo ran.', usage: spent, permissionDenials: [] });
    expect(report.sessionId).toMatch(/^[0-9a-f-]{36}$/);

    // The same session, resumed with a prompt that looks like an option.
    const resumed = await runCodex(codexArgs({ prompt: '-now say what you did', model: 'gpt-5.5', config, resumeSessionId: report.sessionId! }), repo, home);
    expect(resumed.code, resumed.stderr).toBe(0);
    const next = parse(resumed.lines, { priorUsage: report.usage });
    expect(next.report.sessionId).toBe(report.sessionId);
    expect(next.report.finalText).toBe('Resumed with 2 earlier tool outputs.');
    expect(next.report.usage).toEqual({ input_tokens: 100, cache_read_input_tokens: 1200, cache_creation_input_tokens: 0, output_tokens: 5 });
    const last = fake.responses().at(-1)!;
    expect(last.input.filter((item) => item.type === 'message' && item.role === 'user').map((item) => JSON.stringify(item.content))).toEqual([
      expect.stringContaining('environment_context'),
      expect.stringContaining('Create created.txt and run echo'),
      expect.stringContaining('-now say what you did'),
    ]);
    expect(JSON.parse(fake.requests.at(-1)!.headers['x-codex-turn-metadata']!)).toMatchObject({ sandbox_mode: 'workspace-write' });
  });
});
