// Turns `codex exec --json` output (Codex CLI 0.171) into run events and a RunReport: the JSONL
// events on stdout, plus the refusals Codex only logs on stderr ("ERROR codex_core::tools::router:
// error=... rejected ..."), which become permission denials; and the lines of the session's rollout
// file, which tell the thread's tokens after each model response (stdout tells them only when the
// turn ends, too late for a budget) and the model Codex runs (stdout never names it).
import { emptyReport, oneLine, type AgentStreamParser, type RunEvent, type RunReport, type TokenUsage } from './runEvents.js';

export { codexArgs, type CodexArgsOptions } from './codexArgs.js';

export interface CodexStreamOptions {
  /** The worktree: file paths under it are shown relative to it. */
  cwd?: string;
  /**
   * What the resumed session had already spent (the earlier run's report.usage): Codex's
   * turn.completed usage is the thread's total, earlier runs included, and this is subtracted.
   */
  priorUsage?: TokenUsage | null;
  /** The model Codex was told to use (`--model`, or its config.toml), if known: priced by the budget. */
  model?: string | null;
  /** The clock for "try again in 20s" and "try again at 3:05 PM" (tests). */
  now?: () => Date;
}

type Json = Record<string, unknown>;

export interface CodexStreamParser extends AgentStreamParser {
  /**
   * One line of the session's rollout file ($CODEX_HOME/sessions/…/rollout-…-<thread>.jsonl), which
   * Codex appends to as the run goes: a `usage` event when the thread's token total grew (after each
   * model response: `token_usage_record`, `event_msg` `token_count`), a `session` event when it names
   * another model than the one known (`turn_context`). Everything else in it is ignored.
   */
  rolloutLine(line: string): RunEvent[];
}

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

/** Codex's retries of a failed request: shown, but the run goes on. */
const RECONNECTING = /^Reconnecting\.\.\.\s*\d+\/\d+/;
/** A provider limit that lifts with time (not a billing quota). */
const LIMIT_TEXT = /usage limit|hit your [\w -]*limit|rate[ _-]?limit|\b429\b|too many requests/i;
/** Stderr's account of a tool call Codex refused. */
const ROUTER_ERROR = /ERROR codex_core::tools::router: error=(.*)$/;
const REFUSAL = /\brejected\b|\breject command\b|blocked by policy|\bdeclined\b|requires approval|not permitted/i;
/** Colour codes, should stderr be a terminal. */
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;
/** What a command prints when the sandbox stopped it (Codex's own sandbox-denial words). */
const SANDBOX_DENIAL = /read-only file system|operation not permitted/i;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "1.5s", "6m0s", "1h2m", "120ms", "20 seconds", "2 minutes" → milliseconds (null if none). */
function parseDuration(text: string): number | null {
  let total = 0;
  let matched = false;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?)(?![a-z])/gi)) {
    const unit = part[2]!.toLowerCase();
    const key = unit === 'ms' || unit.startsWith('milli') ? 'ms' : unit[0]!;
    total += Number(part[1]) * (UNIT_MS[key] ?? 0);
    matched = true;
  }
  return matched ? total : null;
}

const to24h = (hour: number, meridiem: string) => (hour % 12) + (meridiem.toUpperCase() === 'PM' ? 12 : 0);

/**
 * When a limit lifts, from Codex's wording: "try again at Dec 7th, 2026 12:44 AM", "try again at
 * 3:05 PM" (local time, today or else tomorrow), "try again in 20s" / "Please try again in 6m0s".
 */
export function parseLimitReset(message: string, now: Date): Date | null {
  const dated = /try again at ([A-Za-z]{3})[a-z]* (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}),? (\d{1,2}):(\d{2})\s*([AP]M)/i.exec(message);
  if (dated) {
    const month = MONTHS.indexOf(dated[1]!.toLowerCase());
    if (month >= 0) return new Date(Number(dated[3]), month, Number(dated[2]), to24h(Number(dated[4]), dated[6]!), Number(dated[5]));
  }
  const timed = /try again at (\d{1,2}):(\d{2})\s*([AP]M)/i.exec(message);
  if (timed) {
    const at = new Date(now);
    at.setHours(to24h(Number(timed[1]), timed[3]!), Number(timed[2]), 0, 0);
    if (at.getTime() < now.getTime() - 60_000) at.setDate(at.getDate() + 1);
    return at;
  }
  const iso = /(?:try again|resets?)\s+at\s+(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)/i.exec(message);
  if (iso && !Number.isNaN(Date.parse(iso[1]!))) return new Date(iso[1]!);
  const after = /(?:try again|retry|resets?)\s+(?:in|after)\s+([\d.]+\s*[a-z]+(?:\s*[\d.]+\s*[a-z]+)*)/i.exec(message);
  const ms = after ? parseDuration(after[1]!) : null;
  return ms === null ? null : new Date(now.getTime() + ms);
}

/** The HTTP status Codex's error message names ("unexpected status 404", "last status: 429", an error body's type). */
export function errorStatus(message: string): number | null {
  const status = /\b(?:status:?|status code)\s*(\d{3})\b/i.exec(message) ?? /\b(\d{3}) (?:Too Many Requests|Bad Request|Unauthorized|Forbidden|Not Found|Internal Server Error|Bad Gateway|Service Unavailable)\b/.exec(message);
  if (status) return Number(status[1]);
  if (/usage limit|hit your [\w -]*limit|rate[ _-]?limit/i.test(message)) return 429;
  const type = /"type"\s*:\s*"(\w+)"/.exec(message)?.[1];
  const byType: Record<string, number> = { invalid_request_error: 400, authentication_error: 401, permission_error: 403, not_found_error: 404, server_error: 500 };
  return type ? (byType[type] ?? null) : null;
}

/**
 * "/bin/bash -lc 'npm test'" → "npm test": the command as the agent wrote it. Codex quotes it in
 * single quotes, in double quotes (when it holds a single quote), or not at all ("/usr/bin/sh -lc ls").
 */
export function shellCommand(command: string): string {
  const wrapped = /^(?:\S*\/)?(?:ba|z|da)?sh\s+-l?c\s+([\s\S]+)$/.exec(command.trim());
  const arg = wrapped?.[1];
  if (arg === undefined) return command;
  if (arg.length > 1 && arg.startsWith("'") && arg.endsWith("'")) return arg.slice(1, -1).replaceAll(`'\\''`, "'").replaceAll(`'"'"'`, "'");
  if (arg.length > 1 && arg.startsWith('"') && arg.endsWith('"')) return arg.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
  return /\s/.test(arg) ? command : arg;
}

function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.at(-1) ?? '';
}

function contentText(content: unknown): string {
  if (!Array.isArray(content)) return typeof content === 'string' ? content : '';
  return content.map((block) => (isObject(block) && typeof block.text === 'string' ? block.text : '')).filter(Boolean).join('\n');
}

const subtract = (a: number, b: number) => Math.max(0, a - b);

export function codexStreamParser(options: CodexStreamOptions = {}): CodexStreamParser {
  const report: RunReport = emptyReport();
  report.model = options.model ?? null;
  /** The size (input, cached included, plus output) of the thread's latest total seen, from stdout or the rollout. */
  let threadTotal = -1;
  const now = options.now ?? (() => new Date());
  const cwd = options.cwd?.replace(/\/+$/, '');
  /** Item ids whose tool_call was emitted, with the tool's name; and those whose result was. */
  const called = new Map<string, string>();
  const finished = new Set<string>();
  let turns = 0;
  let lastFatal: string | null = null;
  let lastPlan: string | null = null;

  const relative = (path: string) => (cwd && path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path);

  const deny = (tool: string, summary: string): RunEvent => {
    const denial = { tool, summary: oneLine(summary) };
    report.permissionDenials.push(denial);
    return { kind: 'permission_denied', ...denial };
  };

  /** A provider error that ended (or will end) the run: error, and rate_limit when it is a limit. */
  const fatal = (message: string): RunEvent[] => {
    report.isError = true;
    if (message === lastFatal) return [];
    lastFatal = message;
    report.apiErrorStatus = errorStatus(message) ?? report.apiErrorStatus;
    const events: RunEvent[] = [{ kind: 'error', message }];
    if (LIMIT_TEXT.test(message) && !/quota exceeded|insufficient_quota/i.test(message)) {
      const resetsAt = parseLimitReset(message, now());
      report.rateLimited = { resetsAt, message };
      events.push({ kind: 'rate_limit', status: 'rejected', resets_at: resetsAt ? resetsAt.toISOString() : null, message });
    }
    return events;
  };

  /** The thread's total so far (stdout's or the rollout's): this run's share of it, as a usage event, unless it did not grow. */
  const usage = (raw: unknown): RunEvent[] => {
    const u = isObject(raw) ? raw : {};
    const size = count(u.input_tokens) + count(u.output_tokens);
    if (size <= threadTotal) return [];
    threadTotal = size;
    // OpenAI counts cached (and cache-written) tokens inside input_tokens; the run model keeps them
    // apart as Anthropic does, so that input + cache_read + cache_creation is the whole prompt.
    const cached = count(u.cached_input_tokens);
    const written = count(u.cache_write_input_tokens);
    const total: TokenUsage = {
      input_tokens: subtract(count(u.input_tokens), cached + written),
      output_tokens: count(u.output_tokens),
      cache_read_input_tokens: cached,
      cache_creation_input_tokens: written,
    };
    const prior = options.priorUsage;
    // The thread's running total (not this turn's): the latest replaces, never adds.
    report.usage = prior
      ? {
          input_tokens: subtract(total.input_tokens, prior.input_tokens),
          output_tokens: subtract(total.output_tokens, prior.output_tokens),
          cache_read_input_tokens: subtract(total.cache_read_input_tokens, prior.cache_read_input_tokens),
          cache_creation_input_tokens: subtract(total.cache_creation_input_tokens, prior.cache_creation_input_tokens),
        }
      : total;
    return [{ kind: 'usage', usage: report.usage, cost_usd: null, num_turns: turns || null }];
  };

  const call = (id: string, tool: string, summary: string): RunEvent[] => {
    if (called.has(id)) return [];
    called.set(id, tool);
    return [{ kind: 'tool_call', tool, summary: oneLine(summary), call_id: id }];
  };

  const result = (id: string, tool: string, isError: boolean, summary: string): RunEvent[] => {
    if (finished.has(id)) return [];
    finished.add(id);
    return [{ kind: 'tool_result', tool, is_error: isError, summary: oneLine(summary), call_id: id }];
  };

  const item = (phase: string, raw: unknown): RunEvent[] => {
    if (!isObject(raw)) return [{ kind: 'unknown', type: `item.${phase}`, summary: oneLine(JSON.stringify(raw) ?? '') }];
    const type = str(raw.type) ?? '?';
    const id = str(raw.id) ?? `${type}-${called.size}`;
    const done = phase === 'completed';
    const status = str(raw.status);
    switch (type) {
      case 'agent_message': {
        const text = str(raw.text);
        if (!done || text === null) return [];
        report.finalText = text;
        return [{ kind: 'agent_text', text }];
      }
      case 'reasoning':
        // The model's thinking summary: not words to the person, and not kept.
        return [];
      case 'plan': {
        const text = str(raw.text);
        return done && text ? [{ kind: 'agent_text', text: `Plan:\n${text}` }] : [];
      }
      case 'command_execution': {
        const command = shellCommand(str(raw.command) ?? '');
        const events = call(id, 'Bash', command);
        if (!done) return events;
        const output = str(raw.aggregated_output) ?? '';
        const exitCode = typeof raw.exit_code === 'number' ? raw.exit_code : null;
        if (status === 'declined') {
          events.push(deny('Bash', `${command}: declined`), ...result(id, 'Bash', true, 'declined'));
          return events;
        }
        const failed = status === 'failed' || (exitCode !== null && exitCode !== 0);
        const denial = failed ? output.split('\n').find((line) => SANDBOX_DENIAL.test(line)) : undefined;
        if (denial) events.push(deny('Bash', `sandbox: ${command}: ${denial.trim()}`));
        const tail = lastLine(output);
        events.push(...result(id, 'Bash', failed, `exit ${exitCode ?? status ?? '?'}${tail ? `: ${tail}` : ''}`));
        return events;
      }
      case 'file_change': {
        const changes = Array.isArray(raw.changes) ? raw.changes.filter(isObject) : [];
        const verbs: Record<string, string> = { add: 'add', update: 'edit', delete: 'delete' };
        const files = changes.map((change) => `${verbs[str(change.kind) ?? ''] ?? str(change.kind) ?? 'change'} ${relative(str(change.path) ?? '?')}`).join(', ');
        const events = call(id, 'apply_patch', files || 'no files');
        if (done) events.push(...result(id, 'apply_patch', status !== 'completed', status === 'completed' ? `applied: ${files}` : `${status ?? 'failed'}: ${files}`));
        return events;
      }
      case 'mcp_tool_call': {
        const tool = `mcp__${str(raw.server) ?? '?'}__${str(raw.tool) ?? '?'}`;
        const events = call(id, tool, JSON.stringify(raw.arguments ?? {}) ?? '');
        if (!done) return events;
        const error = isObject(raw.error) ? (str(raw.error.message) ?? 'failed') : null;
        const output = isObject(raw.result) ? contentText(raw.result.content) : '';
        if (error && REFUSAL.test(error)) events.push(deny(tool, error));
        events.push(...result(id, tool, status === 'failed' || error !== null, error ?? (output || status || 'done')));
        return events;
      }
      case 'collab_tool_call': {
        const tool = `agent.${str(raw.tool) ?? '?'}`;
        const events = call(id, tool, str(raw.prompt) ?? (Array.isArray(raw.receiver_thread_ids) ? raw.receiver_thread_ids.join(', ') : ''));
        if (done) events.push(...result(id, tool, status === 'failed', status ?? 'done'));
        return events;
      }
      case 'web_search': {
        const action = isObject(raw.action) ? raw.action : {};
        const query = str(raw.query) || str(action.query) || str(action.url) || '';
        const events = call(id, 'WebSearch', query);
        if (done) events.push(...result(id, 'WebSearch', false, str(action.type) ?? 'searched'));
        return events;
      }
      case 'todo_list': {
        const steps = Array.isArray(raw.items) ? raw.items.filter(isObject) : [];
        const text = `Plan: ${steps.map((step) => `[${step.completed === true ? 'x' : ' '}] ${str(step.text) ?? ''}`).join('; ')}`;
        if (text === lastPlan) return [];
        lastPlan = text;
        return [{ kind: 'agent_text', text }];
      }
      case 'error': {
        // A warning Codex shows as an item; the run goes on.
        const message = str(raw.message);
        return done && message ? [{ kind: 'error', message }] : [];
      }
      default:
        // Once per item, whichever of started/updated/completed comes first.
        if (called.has(id)) return [];
        called.set(id, type);
        return [{ kind: 'unknown', type: `item:${type}`, summary: oneLine(JSON.stringify(raw) ?? '') }];
    }
  };

  const plainLine = (text: string): RunEvent[] => {
    const refused = ROUTER_ERROR.exec(text.replace(ANSI, ''))?.[1];
    if (refused && REFUSAL.test(refused)) {
      const command = /`([^`]+)` rejected: (.*?)(?:\\?"\)|$)/.exec(refused);
      if (command) return [deny('Bash', `${shellCommand(command[1]!)}: ${command[2]!}`)];
      return [deny(/^patch\b/i.test(refused) ? 'apply_patch' : /mcp/i.test(refused) ? 'mcp' : 'Bash', refused)];
    }
    return [{ kind: 'output', text }];
  };

  const event = (value: Json): RunEvent[] => {
    const type = str(value.type);
    switch (type) {
      case 'thread.started': {
        const id = str(value.thread_id);
        if (!id) return [{ kind: 'unknown', type, summary: 'thread.started without a thread_id' }];
        report.sessionId = id;
        return [{ kind: 'session', session_id: id, model: report.model }];
      }
      case 'turn.started':
        report.numTurns = ++turns;
        return [];
      case 'turn.completed': {
        report.resultSeen = true;
        return [...usage(value.usage), { kind: 'result', is_error: false, subtype: 'success', text: report.finalText }];
      }
      case 'turn.failed': {
        report.resultSeen = true;
        const message = (isObject(value.error) ? str(value.error.message) : null) ?? 'the turn failed';
        return [...fatal(message), { kind: 'result', is_error: true, subtype: 'error', text: message }];
      }
      case 'error': {
        const message = str(value.message) ?? 'unknown error';
        // "Reconnecting... 2/5 (...)": Codex retries by itself; the run is not over.
        return RECONNECTING.test(message) ? [{ kind: 'error', message }] : fatal(message);
      }
      case 'item.started':
      case 'item.updated':
      case 'item.completed':
        return item(type.slice('item.'.length), value.item);
      case 'item.plan.delta':
        return [];
      case 'request_user_input': {
        const questions = Array.isArray(value.questions) ? value.questions.filter(isObject).map((q) => str(q.question) ?? str(q.header) ?? '') : [];
        return [{ kind: 'agent_text', text: `Asks: ${questions.filter(Boolean).join(' / ') || '(a question)'}` }];
      }
      default:
        return [{ kind: 'unknown', type: type ?? typeof value.type, summary: oneLine(JSON.stringify(value) ?? '') }];
    }
  };

  const rolloutEntry = (value: Json): RunEvent[] => {
    const payload = isObject(value.payload) ? value.payload : {};
    if (value.type === 'token_usage_record') return isObject(payload.thread_token_usage) ? usage(payload.thread_token_usage) : [];
    if (value.type === 'event_msg' && payload.type === 'token_count') {
      const info = isObject(payload.info) ? payload.info : {};
      return isObject(info.total_token_usage) ? usage(info.total_token_usage) : [];
    }
    if (value.type === 'turn_context') {
      const model = str(payload.model);
      if (!model || model === report.model) return [];
      report.model = model;
      return report.sessionId ? [{ kind: 'session', session_id: report.sessionId, model }] : [];
    }
    return [];
  };

  return {
    rolloutLine(line: string): RunEvent[] {
      if (!line.trimStart().startsWith('{')) return [];
      try {
        const value: unknown = JSON.parse(line);
        return isObject(value) ? rolloutEntry(value) : [];
      } catch {
        // a line cut short or not JSON: nothing to learn from it
        return [];
      }
    },
    line(line: string): RunEvent[] {
      const text = line.replace(/\r$/, '');
      if (!text.trim()) return [];
      try {
        if (!text.trimStart().startsWith('{')) return plainLine(text);
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return plainLine(text);
        }
        if (!isObject(value)) return [{ kind: 'output', text }];
        return event(value);
      } catch (error) {
        // Whatever the line, the run goes on: keep it as an unknown event.
        return [{ kind: 'unknown', type: 'unparsed', summary: oneLine(`${(error as Error).message}: ${text}`) }];
      }
    },
    report: () => report,
  };
}
