// Claude Code's stream-json turned into run events and a report: the shapes the real CLI prints
// (checked against Claude Code 2.1 in test/e2e/claudeCode.test.ts), what its limits and errors look
// like, and that no input whatever makes the parser throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { claudeCodeStreamParser, resetFromText, summariseToolInput } from '../../src/orchestrator/agents/claudeCodeStream.js';
import { decideOutcome, runSpend } from '../../src/orchestrator/agents/runOutcome.js';
import { priceFor, priceUsage } from '../../src/orchestrator/agents/pricing.js';
import { renderEvent } from '../../src/orchestrator/logs/renderEvent.js';
import { DEFAULT_PRICES } from '../../src/platform/config.js';
import type { RunEvent } from '../../src/orchestrator/agents/runEvents.js';

const CWD = '/work/wt/job-1';
const line = (value: unknown) => JSON.stringify(value);
const assistant = (id: string, content: unknown[], usage = { input_tokens: 100, output_tokens: 1 }) =>
  line({ type: 'assistant', message: { id, model: 'claude-opus-4-8', role: 'assistant', content, usage }, session_id: 's-1' });
const toolResult = (id: string, content: string, isError = false) =>
  line({ type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content, is_error: isError }] }, session_id: 's-1' });

function parse(lines: string[]) {
  const parser = claudeCodeStreamParser({ cwd: CWD, now: () => new Date('2026-12-07T10:00:00Z') });
  const events: RunEvent[] = lines.flatMap((l) => parser.line(l));
  return { events, report: parser.report() };
}

const RUN = [
  line({ type: 'system', subtype: 'init', cwd: CWD, session_id: 's-1', tools: ['Bash', 'Write'], model: 'claude-opus-4-8[1m]', permissionMode: 'acceptEdits' }),
  // One API message split over two stream lines with the same id and usage: counted once.
  assistant('m1', [{ type: 'text', text: 'Writing.' }]),
  assistant('m1', [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: `${CWD}/src/a.ts`, content: 'x' } }]),
  toolResult('t1', 'File created successfully at: a.ts'),
  assistant('m2', [{ type: 'tool_use', id: 't2', name: 'Bash', input: { command: 'npm test\n  --silent', description: 'run tests' } }], { input_tokens: 200, output_tokens: 1 }),
  toolResult('t2', 'ok 1\nok 2\n1 failing', true),
  line({ type: 'rate_limit_event', rate_limit_info: { status: 'allowed_warning', resetsAt: 1796643600, rateLimitType: 'five_hour' } }),
  line({ type: 'result', subtype: 'success', is_error: false, api_error_status: null, num_turns: 3, result: 'Done.', session_id: 's-1', total_cost_usd: 0.0123,
    usage: { input_tokens: 300, output_tokens: 50, cache_read_input_tokens: 10, cache_creation_input_tokens: 5 }, permission_denials: [] }),
];

describe("Claude Code's stream", () => {
  it('becomes session, text, tool calls with one-line summaries, results, usage and the result', () => {
    const { events, report } = parse(RUN);
    // m1's second block (the Write) raises its estimated output: usage again.
    expect(events.map((e) => e.kind)).toEqual(['session', 'agent_text', 'usage', 'tool_call', 'usage', 'tool_result', 'tool_call', 'usage', 'tool_result', 'rate_limit', 'usage', 'result']);
    expect(events[0]).toEqual({ kind: 'session', session_id: 's-1', model: 'claude-opus-4-8', permission_mode: 'acceptEdits', tools: ['Bash', 'Write'] });
    expect(events[3]).toEqual({ kind: 'tool_call', tool: 'Write', summary: 'src/a.ts', call_id: 't1' });
    expect(events[6]).toMatchObject({ kind: 'tool_call', tool: 'Bash', summary: 'npm test --silent' });
    expect(events[8]).toEqual({ kind: 'tool_result', tool: 'Bash', is_error: true, summary: '1 failing', call_id: 't2' });
    // Usage while running: the sum over distinct API messages (input counted once per message), output
    // at least what the blocks' text took (the reported 1 a message is printed with is not its count).
    // m1: 'Writing.' (8 characters: 3 tokens) + the Write's name and input (58: 20); m2: the Bash (64: 22).
    expect(events[4]).toMatchObject({ kind: 'usage', usage: { input_tokens: 100, output_tokens: 23 }, cost_usd: null });
    expect(events[7]).toMatchObject({ kind: 'usage', usage: { input_tokens: 300, output_tokens: 45 }, cost_usd: null });
    expect(events[9]).toMatchObject({ kind: 'rate_limit', status: 'allowed_warning', resets_at: new Date(1796643600 * 1000).toISOString() });
    expect(report).toMatchObject({
      sessionId: 's-1',
      model: 'claude-opus-4-8',
      costUsd: 0.0123,
      numTurns: 3,
      finalText: 'Done.',
      resultSeen: true,
      isError: false,
      rateLimited: null,
      usage: { input_tokens: 300, output_tokens: 50, cache_read_input_tokens: 10, cache_creation_input_tokens: 5 },
    });
  });

  it("counts a message's output from its blocks while it runs, never below what they hold, until the result gives the real count", () => {
    // Claude Code prints each block with message_start's usage (output 1); the real count comes at the end.
    const file = 'x'.repeat(30_000);
    const lines = [
      assistant('m1', [{ type: 'text', text: 'Writing the file.' }]),
      assistant('m1', [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: `${CWD}/big.txt`, content: file } }]),
      // A later line of the same message reporting less does not lower it.
      assistant('m1', [{ type: 'text', text: 'ok' }], { input_tokens: 100, output_tokens: 5 }),
    ];
    const { events, report } = parse(lines);
    const usages = events.filter((e): e is Extract<RunEvent, { kind: 'usage' }> => e.kind === 'usage');
    const last = usages[usages.length - 1]!.usage;
    // A token per 3 characters of what the message wrote, rounded up per block (an estimate that errs
    // high: prose runs ~4 characters a token): 17 + (5 + 30,051) + 2 characters -> 6 + 10,019 + 1.
    expect(last.output_tokens).toBe(10_026);
    expect(last.input_tokens).toBe(100);
    expect(report.usage?.output_tokens).toBe(last.output_tokens);
    // The result's figures replace the estimate.
    const ended = parse([...lines, line({ type: 'result', subtype: 'success', is_error: false, result: 'Done', session_id: 's-1', total_cost_usd: 0.2, usage: { input_tokens: 100, output_tokens: 8000 } })]);
    expect(ended.report.usage).toMatchObject({ input_tokens: 100, output_tokens: 8000 });
  });

  it('counts the denials the result lists, and marks refused tool results as they come', () => {
    const { events, report } = parse([
      assistant('m1', [{ type: 'tool_use', id: 't1', name: 'Write', input: { file_path: `${CWD}/hello.txt`, content: 'hi' } }]),
      toolResult('t1', "Claude requested permissions to write to /x/hello.txt, but you haven't granted it yet.", true),
      line({ type: 'result', subtype: 'success', is_error: false, result: 'Done', session_id: 's', total_cost_usd: 0.01, usage: {}, permission_denials: [
        { tool_name: 'Write', tool_use_id: 't1', tool_input: { file_path: `${CWD}/hello.txt` } },
        { tool_name: 'Bash', tool_use_id: 't2', tool_input: { command: 'rm -rf build' } },
      ] }),
    ]);
    expect(events.filter((e) => e.kind === 'permission_denied')).toHaveLength(1);
    expect(report.permissionDenials).toEqual([{ tool: 'Write', summary: 'hello.txt' }, { tool: 'Bash', summary: 'rm -rf build' }]);
  });

  it('reads a 429 or 529 result as the provider stopping the run, even with subtype success', () => {
    for (const status of [429, 529]) {
      const { report } = parse([line({ type: 'result', subtype: 'success', is_error: true, api_error_status: status, result: 'API Error: Request rejected', session_id: 's' })]);
      expect(report.rateLimited, String(status)).not.toBeNull();
      expect(report.isError).toBe(true);
    }
    const other = parse([line({ type: 'result', subtype: 'success', is_error: true, api_error_status: 401, result: 'Invalid API key' })]).report;
    expect(other.rateLimited).toBeNull();
  });

  it('reads a rejected rate_limit_event with its reset, and a usage limit with no result at all', () => {
    const rejected = parse([line({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt: 1796650000 } })]).report;
    expect(rejected.rateLimited?.resetsAt?.getTime()).toBe(1796650000 * 1000);
    // Claude Code's own (synthetic) message with no result after it.
    const synthetic = line({ type: 'assistant', message: { id: 'x', model: '<synthetic>', role: 'assistant', content: [{ type: 'text', text: '5-hour limit reached ∙ resets 3pm' }] } });
    const words = parse([synthetic]).report;
    expect(words.resultSeen).toBe(false);
    expect(words.rateLimited?.resetsAt?.toISOString()).toBe('2026-12-07T15:00:00.000Z');
    // The model's own words about a limit are only words, with or without a result after them.
    expect(parse([assistant('m', [{ type: 'text', text: "the API returns 429 'Rate limit exceeded'" }])]).report.rateLimited).toBeNull();
    const maxTurns = parse([assistant('m', [{ type: 'text', text: 'usage limit reached resets 3pm' }]), line({ type: 'result', subtype: 'error_max_turns', is_error: true })]).report;
    expect(maxTurns.rateLimited).toBeNull();
    // A run that ended with a successful result was not stopped, whatever limit events it saw.
    const fine = parse([line({ type: 'rate_limit_event', rate_limit_info: { status: 'rejected', resetsAt: 1796650000 } }), line({ type: 'result', is_error: false, result: 'ok' })]).report;
    expect(fine.rateLimited).toBeNull();
  });

  it('reads reset times as epoch seconds, ISO times or a clock time', () => {
    const now = new Date('2026-12-07T10:00:00Z');
    expect(resetFromText('Claude AI usage limit reached|1796650000', now)?.getTime()).toBe(1796650000 * 1000);
    expect(resetFromText('limit reached, resets at 2026-12-07T12:30:00Z', now)?.toISOString()).toBe('2026-12-07T12:30:00.000Z');
    expect(resetFromText('resets 9am', now)?.toISOString()).toBe('2026-12-08T09:00:00.000Z');
    expect(resetFromText('resets at 10:30 PM', now)?.toISOString()).toBe('2026-12-07T22:30:00.000Z');
    expect(resetFromText('no time here', now)).toBeNull();
  });

  it('keeps unknown event types and non-JSON lines as events, and never throws', () => {
    const { events } = parse(['{"type":"brand_new_event","x":1}', 'plain text', '{"type":"system","subtype":"hook"}', '{not json', '{"type":"assistant","message":null}']);
    expect(events.map((e) => e.kind)).toEqual(['unknown', 'output', 'unknown', 'output']);
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify({ type: 'assistant', message: v })), fc.jsonValue().map((v) => JSON.stringify({ type: 'result', ...(typeof v === 'object' && v && !Array.isArray(v) ? v : { v }) }))), { maxLength: 20 }), (lines) => {
        const parser = claudeCodeStreamParser();
        for (const l of lines) for (const event of parser.line(l)) expect(typeof renderEvent(event, '2026-01-01T00:00:00Z')).toBe('string');
        parser.report();
      }),
      { numRuns: 300 },
    );
  });

  it('summarises tool inputs in one line, paths relative to the worktree', () => {
    expect(summariseToolInput('Edit', { file_path: `${CWD}/a/b.ts` }, { cwd: CWD })).toBe('a/b.ts');
    expect(summariseToolInput('Read', { file_path: '/etc/hosts' }, { cwd: CWD })).toBe('/etc/hosts');
    expect(summariseToolInput('Grep', { pattern: 'TODO', path: `${CWD}/src` }, { cwd: CWD })).toBe('TODO in src');
    expect(summariseToolInput('Bash', { command: `echo ${'x'.repeat(300)}` }).length).toBeLessThanOrEqual(160);
    expect(summariseToolInput('mcp__db__query', { sql: 'select 1' })).toBe('sql=select 1');
  });
});

describe('what a run comes to', () => {
  const run = (over: Partial<Parameters<typeof decideOutcome>[1]> = {}) => ({ exitCode: 0, signal: null, stoppedFor: null, spawnError: null, ...over });
  const report = (over = {}) => ({ ...parse([]).report, ...over });
  const options = { overBudget: null, rateLimitBackoffS: 300, now: new Date('2026-12-07T10:00:00Z') };

  it('parks a limited run until its reset, or for the configured backoff when none is given', () => {
    const reset = new Date('2026-12-07T12:00:00Z');
    expect(decideOutcome({ timeout_s: 60 }, run({ exitCode: 1 }), report({ rateLimited: { resetsAt: reset, message: 'x' }, apiErrorStatus: 429 }), options)).toEqual({
      status: 'park',
      notBefore: reset,
      reason: 'rate limited by the model provider (429) until 2026-12-07T12:00:00.000Z',
    });
    const parked = decideOutcome({ timeout_s: 60 }, run({ exitCode: 1 }), report({ rateLimited: { resetsAt: null, message: 'x' } }), options);
    expect(parked).toMatchObject({ status: 'park', notBefore: new Date('2026-12-07T10:05:00Z') });
  });

  it('fails a run whose result is an error even when the process exited 0, and one stopped over budget', () => {
    expect(decideOutcome({ timeout_s: 60 }, run(), report({ isError: true, finalText: 'Max turns reached' }), options)).toMatchObject({ status: 'failed', error: 'the agent reported Max turns reached' });
    expect(decideOutcome({ timeout_s: 60 }, run({ stoppedFor: 'over_budget', exitCode: null }), report(), { ...options, overBudget: 'cost $2 passed max_cost_usd $1' })).toMatchObject({
      status: 'failed',
      error: 'stopped: cost $2 passed max_cost_usd $1',
    });
    expect(decideOutcome({ timeout_s: 60 }, run({ stoppedFor: 'shutdown' }), report({ rateLimited: { resetsAt: null, message: '' } }), options)).toEqual({ status: 'requeue' });
  });

  it('prices tokens by the longest model prefix, unknown models at the dearest price, and keeps the agent\'s own cost when it gives one', () => {
    expect(priceFor('claude-opus-4-8[1m]', DEFAULT_PRICES).key).toBe('claude-opus');
    expect(priceFor('claude-opus-4-1-20250805', DEFAULT_PRICES).key).toBe('claude-opus-4-1');
    expect(priceFor('gpt-5-mini-2025', DEFAULT_PRICES).key).toBe('gpt-5-mini');
    const unknown = priceUsage({ input_tokens: 1e6, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, 'mystery-model', DEFAULT_PRICES);
    expect(unknown).toEqual({ costUsd: 15, priceKey: null });
    const usage = { input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 2000, cache_creation_input_tokens: 0 };
    // 1000 × $5 + 100 × $25 + 2000 × $0.5, per million.
    expect(priceUsage(usage, 'claude-opus-4-8', DEFAULT_PRICES).costUsd).toBeCloseTo(0.0085, 10);
    const job = { cost_usd: 1, usage: { ...usage } };
    expect(runSpend(job, report({ usage, costUsd: 0.25 }), null, DEFAULT_PRICES)).toMatchObject({ source: 'agent', runCostUsd: 0.25, costUsd: 1.25, usage: { input_tokens: 2000 } });
    expect(runSpend(job, report({ usage, model: 'claude-opus-4-8' }), null, DEFAULT_PRICES)).toMatchObject({ source: 'price_table', costUsd: 1.0085 });
    expect(runSpend({ cost_usd: 0, usage: null }, report(), null, DEFAULT_PRICES)).toMatchObject({ source: null, costUsd: 0, usage: null });
  });
});
