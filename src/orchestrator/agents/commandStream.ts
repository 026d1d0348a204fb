// The `command` agent's output: plain lines, shown as they are. A command may end with a JSON line
// {"type":"result","result":"..."} (as Claude Code does) to report its own summary.
import { emptyReport, type AgentStreamParser, type RunEvent, type RunReport } from './runEvents.js';

export function commandStreamParser(): AgentStreamParser {
  const report = emptyReport();
  return {
    line(line: string): RunEvent[] {
      const trimmed = line.trim();
      if (trimmed.startsWith('{') && trimmed.includes('"result"')) {
        try {
          const event = JSON.parse(trimmed) as { type?: unknown; result?: unknown; is_error?: unknown };
          if (event.type === 'result' && typeof event.result === 'string') {
            report.resultSeen = true;
            report.isError = event.is_error === true;
            if (event.result.trim()) report.finalText = event.result;
            return [{ kind: 'result', is_error: report.isError, subtype: null, text: event.result }];
          }
        } catch {
          // not JSON: an ordinary line
        }
      }
      return [{ kind: 'output', text: line }];
    },
    report: (): RunReport => ({ ...report }),
  };
}
