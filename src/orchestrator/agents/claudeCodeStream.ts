// Turns Claude Code's `--output-format stream-json --verbose` lines into run events and a
// RunReport: system/init (session, model, permission mode), assistant text and tool_use blocks,
// user tool_result blocks, rate_limit_event, and the final result (cost, usage, turns, denials,
// api_error_status). Unknown types are kept as `unknown` events; nothing here throws.
import path from 'node:path';
import { addUsage, emptyReport, oneLine, USAGE_LIMIT_TEXT, ZERO_USAGE, type AgentStreamParser, type RunEvent, type RunReport, type TokenUsage } from './runEvents.js';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const str = (value: unknown): string | null => (typeof value === 'string' ? value : null);
const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0);

/** The words of a tool_result that refuse the call rather than report its outcome. */
const DENIAL_TEXT = /requested permissions to|haven't granted it yet|permission to use .* has been denied|was blocked\. For security|denied by (the )?(user|policy)/i;

export function usageOf(value: unknown): TokenUsage | null {
  if (!isObject(value)) return null;
  return {
    input_tokens: count(value.input_tokens),
    output_tokens: count(value.output_tokens),
    cache_read_input_tokens: count(value.cache_read_input_tokens),
    cache_creation_input_tokens: count(value.cache_creation_input_tokens),
  };
}

/**
 * Characters per output token assumed while a message's real count is unknown: fewer than the ~4 of
 * English prose (code and JSON run nearer 3), so that the estimate errs high and a budget stops early
 * rather than late.
 */
const ESTIMATE_CHARS_PER_TOKEN = 3;

/**
 * Output tokens a content block took at least, from its text. Why estimate: Claude Code prints each
 * content block as it completes, with the usage of the API's message_start, whose output count is
 * ~1; the real count arrives in message_delta, after the last block, and reaches the stream only in
 * the run's final `result`. Priced as reported, a run writing a long file would cost next to nothing
 * until it ends, and a budget guard would let it pass its limit.
 */
function estimatedOutputTokens(block: Json): number {
  let chars = 0;
  if (typeof block.text === 'string') chars += block.text.length;
  if (typeof block.thinking === 'string') chars += block.thinking.length;
  if (block.type === 'tool_use') chars += (str(block.name)?.length ?? 0) + (JSON.stringify(block.input ?? {})?.length ?? 0);
  return Math.ceil(chars / ESTIMATE_CHARS_PER_TOKEN);
}

/** A reset time as Claude Code gives it: epoch seconds or milliseconds, or an ISO string. */
export function parseResetTime(value: unknown): Date | null {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) return new Date(value < 1e12 ? value * 1000 : value);
  if (typeof value === 'string' && value.trim()) {
    if (/^\d+$/.test(value.trim())) return parseResetTime(Number(value.trim()));
    const at = new Date(value);
    return Number.isNaN(at.getTime()) ? null : at;
  }
  return null;
}

/**
 * When a usage-limit message says the limit lifts: "…|1767052800" (epoch), an ISO time, or
 * "resets 4pm" / "resets at 10:30 PM" (the next such time, UTC, the machine's clock).
 */
export function resetFromText(text: string, now: Date = new Date()): Date | null {
  const epoch = /\|(\d{10,13})\b/.exec(text);
  if (epoch) return parseResetTime(Number(epoch[1]));
  const iso = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})\b/.exec(text);
  if (iso) return parseResetTime(iso[0]);
  const clock = /\bresets?\s+(?:at\s+)?(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b/i.exec(text);
  if (clock) {
    const hour = (Number(clock[1]) % 12) + (clock[3]!.toLowerCase() === 'pm' ? 12 : 0);
    const at = new Date(now);
    at.setUTCHours(hour, Number(clock[2] ?? 0), 0, 0);
    if (at.getTime() <= now.getTime()) at.setUTCDate(at.getUTCDate() + 1);
    return at;
  }
  return null;
}

/** The text of a tool_result's content: a string or text blocks. */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((block) => (isObject(block) && typeof block.text === 'string' ? block.text : '')).join('\n');
  return '';
}

/** The last non-empty line of a tool's output, for its one-line summary. */
function lastLine(text: string): string {
  const lines = text.split('\n').map((line) => line.trim()).filter(Boolean);
  return lines.at(-1) ?? '';
}

export interface ToolSummaryOptions {
  /** The worktree: paths under it are shown relative to it. */
  cwd?: string;
}

/** "Write hello.txt", "Bash: npm test", "Grep TODO in src": what a tool call does, in one line. */
export function summariseToolInput(tool: string, input: unknown, options: ToolSummaryOptions = {}): string {
  const args = isObject(input) ? input : {};
  const rel = (file: string) => {
    if (!options.cwd) return file;
    const relative = path.relative(options.cwd, file);
    return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
  };
  const file = str(args.file_path) ?? str(args.notebook_path) ?? str(args.path);
  switch (tool) {
    case 'Bash':
      return oneLine(`${str(args.command) ?? ''}`);
    case 'Write':
    case 'Edit':
    case 'MultiEdit':
    case 'Read':
    case 'NotebookEdit':
      return oneLine(file ? rel(file) : '');
    case 'Grep':
    case 'Glob':
      return oneLine(`${str(args.pattern) ?? ''}${file ? ` in ${rel(file)}` : ''}`);
    case 'WebFetch':
      return oneLine(str(args.url) ?? '');
    case 'WebSearch':
      return oneLine(str(args.query) ?? '');
    case 'Task':
    case 'Agent':
      return oneLine(str(args.description) ?? str(args.prompt) ?? '');
    case 'TodoWrite':
      return `${Array.isArray(args.todos) ? args.todos.length : 0} item(s)`;
    default: {
      const first = Object.entries(args).find(([, value]) => typeof value === 'string' || typeof value === 'number');
      return first ? oneLine(`${first[0]}=${String(first[1])}`) : '';
    }
  }
}

export interface ClaudeStreamOptions extends ToolSummaryOptions {
  now?: () => Date;
}

export function claudeCodeStreamParser(options: ClaudeStreamOptions = {}): AgentStreamParser {
  const report = emptyReport();
  const now = options.now ?? (() => new Date());
  /**
   * Usage per API message id: Claude Code repeats a message's usage on each of its content blocks.
   * Its output count is the larger of the reported one and the estimate from the blocks seen so far
   * (estimatedOutputTokens); the run's `result` replaces the whole with the real figures.
   */
  const messageUsage = new Map<string, TokenUsage>();
  const messageOutputEstimate = new Map<string, number>();
  const toolNames = new Map<string, string>();
  let turnUsage: TokenUsage | null = null;
  let limitText: string | null = null;

  const runningUsage = (): TokenUsage => [...messageUsage.values()].reduce(addUsage, { ...ZERO_USAGE });

  const limited = (message: string, resetsAt: Date | null) => {
    report.rateLimited = { resetsAt: resetsAt ?? report.rateLimited?.resetsAt ?? null, message };
  };

  function assistant(event: Json): RunEvent[] {
    const message = isObject(event.message) ? event.message : {};
    const out: RunEvent[] = [];
    const content = Array.isArray(message.content) ? message.content : [];
    for (const block of content) {
      if (!isObject(block)) continue;
      if (block.type === 'text' && typeof block.text === 'string' && block.text.trim()) {
        out.push({ kind: 'agent_text', text: block.text });
        // Only Claude Code's own (synthetic) message is a limit; the model's words about a limit are not.
        if (message.model === '<synthetic>' && USAGE_LIMIT_TEXT.test(block.text)) limitText = block.text;
      } else if (block.type === 'tool_use') {
        const tool = str(block.name) ?? 'tool';
        const id = str(block.id);
        if (id) toolNames.set(id, tool);
        out.push({ kind: 'tool_call', tool, summary: summariseToolInput(tool, block.input, options), ...(id ? { call_id: id } : {}) });
      }
    }
    // A synthetic message (model "<synthetic>") carries an API error, e.g. "rate_limit".
    if (event.error === 'rate_limit') limited(content.map((b) => (isObject(b) ? (str(b.text) ?? '') : '')).join(' ').trim() || 'rate limited', null);
    const id = str(message.id);
    const usage = usageOf(message.usage);
    if (id && usage && message.model !== '<synthetic>') {
      const estimate = (messageOutputEstimate.get(id) ?? 0) + content.reduce((sum: number, block) => sum + (isObject(block) ? estimatedOutputTokens(block) : 0), 0);
      messageOutputEstimate.set(id, estimate);
      const known = messageUsage.get(id);
      const outputTokens = Math.max(usage.output_tokens, known?.output_tokens ?? 0, estimate);
      // The message's first line, or a later block that raised its output: the running usage grew.
      if (!known || outputTokens > known.output_tokens) {
        messageUsage.set(id, { ...(known ?? usage), output_tokens: outputTokens });
        if (!report.model && typeof message.model === 'string') report.model = message.model;
        turnUsage = runningUsage();
        report.usage = turnUsage;
        out.push({ kind: 'usage', usage: turnUsage, cost_usd: null });
      }
    }
    return out;
  }

  function user(event: Json): RunEvent[] {
    const message = isObject(event.message) ? event.message : {};
    const content = Array.isArray(message.content) ? message.content : [];
    const out: RunEvent[] = [];
    for (const block of content) {
      if (!isObject(block) || block.type !== 'tool_result') continue;
      const id = str(block.tool_use_id);
      const tool = (id && toolNames.get(id)) ?? 'tool';
      const text = resultText(block.content);
      const isError = block.is_error === true;
      if (isError && DENIAL_TEXT.test(text)) out.push({ kind: 'permission_denied', tool, summary: oneLine(text) });
      // Paths inside the worktree are shown relative to it.
      const shown = options.cwd ? text.replaceAll(`${options.cwd.replace(/\/+$/, '')}/`, '') : text;
      out.push({ kind: 'tool_result', tool, is_error: isError, summary: oneLine(lastLine(shown) || (isError ? 'error' : 'ok')), ...(id ? { call_id: id } : {}) });
    }
    return out;
  }

  function result(event: Json): RunEvent[] {
    const out: RunEvent[] = [];
    report.resultSeen = true;
    report.isError = event.is_error === true;
    report.sessionId = str(event.session_id) ?? report.sessionId;
    const text = str(event.result);
    if (text !== null && text.trim()) report.finalText = text;
    const status = num(event.api_error_status);
    report.apiErrorStatus = status;
    report.numTurns = num(event.num_turns);
    const usage = usageOf(event.usage);
    if (usage) report.usage = usage;
    report.costUsd = num(event.total_cost_usd);
    if (Array.isArray(event.permission_denials)) {
      report.permissionDenials = event.permission_denials.filter(isObject).map((denial) => {
        const tool = str(denial.tool_name) ?? 'tool';
        return { tool, summary: summariseToolInput(tool, denial.tool_input, options) };
      });
    }
    if (status === 429 || status === 529 || (report.isError && text && USAGE_LIMIT_TEXT.test(text))) {
      limited(text ?? `the provider answered ${status}`, text ? resetFromText(text, now()) : null);
    }
    if (report.usage || report.costUsd !== null) out.push({ kind: 'usage', usage: report.usage ?? { ...ZERO_USAGE }, cost_usd: report.costUsd, num_turns: report.numTurns });
    if (report.isError) out.push({ kind: 'error', message: oneLine(text ?? `${str(event.subtype) ?? 'error'}${status ? ` (API status ${status})` : ''}`, 2000) });
    out.push({ kind: 'result', is_error: report.isError, subtype: str(event.subtype), text });
    return out;
  }

  function parse(event: Json): RunEvent[] {
    switch (event.type) {
      case 'system': {
        if (event.subtype === 'init') {
          const sessionId = str(event.session_id);
          report.sessionId = sessionId ?? report.sessionId;
          report.model = str(event.model)?.replace(/\[.*\]$/, '') ?? report.model;
          if (!sessionId) return [];
          return [
            {
              kind: 'session',
              session_id: sessionId,
              model: report.model,
              permission_mode: str(event.permissionMode),
              tools: Array.isArray(event.tools) ? event.tools.filter((t): t is string => typeof t === 'string') : [],
            },
          ];
        }
        if (event.subtype === 'api_retry') {
          const status = num(event.error_status);
          return [{ kind: 'note', text: `the API answered ${status ?? 'an error'}; Claude Code retries (attempt ${num(event.attempt) ?? '?'})` }];
        }
        return [{ kind: 'unknown', type: `system/${str(event.subtype) ?? '?'}`, summary: oneLine(JSON.stringify(event), 200) }];
      }
      case 'assistant':
        return assistant(event);
      case 'user':
        return user(event);
      case 'result':
        return result(event);
      case 'rate_limit_event': {
        const info = isObject(event.rate_limit_info) ? event.rate_limit_info : {};
        const status = str(info.status) ?? 'unknown';
        const resetsAt = parseResetTime(info.resetsAt ?? info.resets_at);
        const message = `rate limit ${status}${str(info.rateLimitType) ? ` (${str(info.rateLimitType)})` : ''}${resetsAt ? `, resets ${resetsAt.toISOString()}` : ''}`;
        if (status === 'rejected') limited(message, resetsAt);
        return [{ kind: 'rate_limit', status, resets_at: resetsAt?.toISOString() ?? null, message }];
      }
      case 'stream_event':
        // Partial-message deltas (--include-partial-messages): the whole message follows anyway.
        return [];
      default:
        return [{ kind: 'unknown', type: str(event.type) ?? 'untyped', summary: oneLine(JSON.stringify(event), 200) }];
    }
  }

  return {
    line(raw: string): RunEvent[] {
      const line = raw.trim();
      if (!line) return [];
      let event: unknown;
      if (line.startsWith('{')) {
        try {
          event = JSON.parse(line);
        } catch {
          event = undefined;
        }
      }
      if (!isObject(event)) {
        if (USAGE_LIMIT_TEXT.test(line)) limitText = line;
        return [{ kind: 'output', text: raw }];
      }
      try {
        return parse(event);
      } catch (error) {
        return [{ kind: 'unknown', type: str(event.type) ?? 'untyped', summary: `could not read: ${(error as Error).message}` }];
      }
    },
    report(): RunReport {
      // A run that ended with a successful result was not stopped, whatever limit events it saw.
      if (report.resultSeen && !report.isError) return { ...report, rateLimited: null, usage: report.usage ?? turnUsage };
      // A subscription's usage limit may end the run with no result at all: Claude Code's words are the signal.
      if (!report.rateLimited && limitText && !report.resultSeen) {
        return { ...report, usage: report.usage ?? turnUsage, rateLimited: { resetsAt: resetFromText(limitText, now()), message: oneLine(limitText, 500) } };
      }
      return { ...report, usage: report.usage ?? turnUsage };
    },
  };
}
