// The one model of an agent's run (DESIGN "Agent runs as events"): each adapter's stream parser
// turns its agent's output into these events and a RunReport; the job log, the events API, budgets,
// rate-limit parking and the dashboard read these, never the agent's raw format.

export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

export const ZERO_USAGE: TokenUsage = { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 };

export function addUsage(a: TokenUsage, b: Partial<TokenUsage>): TokenUsage {
  return {
    input_tokens: a.input_tokens + (b.input_tokens ?? 0),
    output_tokens: a.output_tokens + (b.output_tokens ?? 0),
    cache_read_input_tokens: a.cache_read_input_tokens + (b.cache_read_input_tokens ?? 0),
    cache_creation_input_tokens: a.cache_creation_input_tokens + (b.cache_creation_input_tokens ?? 0),
  };
}

/** What an event says, before the log gives it a sequence number and a time. */
export type RunEvent =
  /** The agent's own words. */
  | { kind: 'agent_text'; text: string }
  /** A tool the agent called, with a one-line summary of its input ("Write hello.txt", "Bash: npm test"). */
  | { kind: 'tool_call'; tool: string; summary: string; call_id?: string }
  /** What the tool answered: error or not, and a short summary. */
  | { kind: 'tool_result'; tool: string; is_error: boolean; summary: string; call_id?: string }
  /** Tokens and cost so far (cumulative for the run). */
  | { kind: 'usage'; usage: TokenUsage; cost_usd: number | null; num_turns?: number | null }
  /** The agent's session began (or resumed): what later runs continue with. */
  | { kind: 'session'; session_id: string; model: string | null; permission_mode?: string | null; tools?: string[] }
  /** A tool call the agent was not allowed to make. */
  | { kind: 'permission_denied'; tool: string; summary: string }
  /** The provider's rate or usage limit: `status` as the agent says it (allowed, allowed_warning, rejected). */
  | { kind: 'rate_limit'; status: string; resets_at: string | null; message: string }
  /** The run's end as the agent reports it. */
  | { kind: 'result'; is_error: boolean; subtype: string | null; text: string | null }
  /** Something went wrong (the agent's or the provider's error). */
  | { kind: 'error'; message: string }
  /** The orchestrator's own line. */
  | { kind: 'note'; text: string }
  /** A line of plain (non-JSON) output: a command agent's, or a stray line of a JSON agent. */
  | { kind: 'output'; text: string }
  /** A QA check's outcome. */
  | { kind: 'qa_check'; name: string; command: string[]; passed: boolean; exit_code: number | null; duration_ms: number; output_tail: string }
  /** An event type the parser does not know: kept and shown, never a crash. */
  | { kind: 'unknown'; type: string; summary: string };

export type RunEventKind = RunEvent['kind'];

/** An event as stored and served: its place in the job's run and when it happened. */
export type StoredRunEvent = RunEvent & { seq: number; at: string };

/** What a whole run reported, read off its events by the parser. */
export interface RunReport {
  sessionId: string | null;
  model: string | null;
  /** Cumulative tokens; null when the agent reported none. */
  usage: TokenUsage | null;
  /** As the agent reports it (Claude Code's total_cost_usd); null when it does not. */
  costUsd: number | null;
  numTurns: number | null;
  /** Tool calls the agent was denied. */
  permissionDenials: Array<{ tool: string; summary: string }>;
  /** The agent's final answer, if it gave one. */
  finalText: string | null;
  /** Whether a final result was seen at all (Claude Code's `result`, Codex's `turn.completed`). */
  resultSeen: boolean;
  /** The final result says the run failed (an API error, max turns, ...), whatever the exit code. */
  isError: boolean;
  /** The HTTP status of the provider error that ended the run (429, 529, 401...), if any. */
  apiErrorStatus: number | null;
  /** The provider stopped the run at a rate or usage limit. */
  rateLimited: { resetsAt: Date | null; message: string } | null;
}

export function emptyReport(): RunReport {
  return {
    sessionId: null,
    model: null,
    usage: null,
    costUsd: null,
    numTurns: null,
    permissionDenials: [],
    finalText: null,
    resultSeen: false,
    isError: false,
    apiErrorStatus: null,
    rateLimited: null,
  };
}

/** Turns an agent's stdout, line by line, into events; the report describes the run so far. */
export interface AgentStreamParser {
  /** One line of output (without its newline). */
  line(line: string): RunEvent[];
  report(): RunReport;
}

/** One line of at most `max` characters: whitespace folded, the rest marked with an ellipsis. */
export function oneLine(text: string, max = 160): string {
  const folded = text.replace(/\s+/g, ' ').trim();
  return folded.length > max ? `${folded.slice(0, max - 1)}…` : folded;
}

/**
 * "usage limit reached … resets 4pm", "5-hour limit reached ∙ resets 3am": the wording Claude Code
 * (and Codex) use when a subscription's usage limit stops the run.
 */
export const USAGE_LIMIT_TEXT = /\b(usage|rate|session|weekly|5-hour)[ -]limit\b[^\n]*\b(reached|exceeded|hit)\b|\blimit reached\b[^\n]*\breset/i;
