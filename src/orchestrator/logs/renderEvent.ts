// A run event as a line of the readable job log (`/logs`, `autobuild jobs logs`): what the agent
// said, each tool call and its outcome, usage, limits, QA and the orchestrator's notes. Never the
// agent's raw JSON.
import type { RunEvent, TokenUsage } from '../agents/runEvents.js';

const tokens = (n: number) => n.toLocaleString('en-US');

export function describeUsage(usage: TokenUsage, costUsd: number | null): string {
  const cache = usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
  const parts = [`${tokens(usage.input_tokens)} in`, `${tokens(usage.output_tokens)} out`];
  if (cache > 0) parts.push(`${tokens(usage.cache_read_input_tokens)} cache read`, `${tokens(usage.cache_creation_input_tokens)} cache written`);
  return `${parts.join(' / ')} tokens${costUsd !== null ? `, $${costUsd.toFixed(4)}` : ''}`;
}

/** Indent the continuation lines of a multi-line text under its first line's prefix. */
function indent(prefix: string, text: string): string {
  const [first = '', ...rest] = text.replace(/\s+$/, '').split('\n');
  return [prefix + first, ...rest.map((line) => ' '.repeat(prefix.length) + line)].join('\n');
}

/** The event's line, or null for what a reader does not need (token counts while the run goes on). */
export function renderEvent(event: RunEvent, at: string): string | null {
  switch (event.kind) {
    case 'note':
      return `[autobuild ${at}] ${event.text}`;
    case 'output':
      return event.text;
    case 'agent_text':
      return indent('agent: ', event.text);
    case 'tool_call':
      return `→ ${event.tool}${event.summary ? ` ${event.summary}` : ''}`;
    case 'tool_result':
      return `  ${event.is_error ? '✗' : '✓'} ${event.tool}${event.summary ? `: ${event.summary}` : ''}`;
    case 'permission_denied':
      return `  ⛔ permission denied: ${event.tool}${event.summary ? ` (${event.summary})` : ''}`;
    case 'usage':
      // Mid-run counts (no cost yet) serve budgets and the events API; the log shows the run's total.
      if (event.cost_usd === null && !event.num_turns) return null;
      return `  usage: ${describeUsage(event.usage, event.cost_usd)}${event.num_turns ? `, ${event.num_turns} turn(s)` : ''}`;
    case 'session':
      return `session ${event.session_id}${event.model ? ` · ${event.model}` : ''}${event.permission_mode ? ` · permission mode ${event.permission_mode}` : ''}`;
    case 'rate_limit':
      return `⏸ ${event.message}`;
    case 'result':
      return indent(event.is_error ? 'result (error): ' : 'result: ', event.text ?? event.subtype ?? '');
    case 'error':
      return `error: ${event.message}`;
    case 'qa_check':
      return `QA ${event.passed ? '✓' : '✗'} ${event.name} (${event.command.join(' ')}): exit ${event.exit_code ?? 'none'} in ${(event.duration_ms / 1000).toFixed(1)}s${event.passed ? '' : `\n${event.output_tail.replace(/\s+$/, '').split('\n').slice(-20).map((l) => `    ${l}`).join('\n')}`}`;
    case 'unknown':
      return `(${event.type}) ${event.summary}`;
  }
}
