// Owns how a pattern reads: its public content (what it relates, with the evidence behind its
// confidence) and a one-sentence description, both derived from the stored counts when read, so
// they never disagree with the numbers beside them.

export interface PatternRow {
  id: string;
  seq: string;
  type: string;
  scope: string;
  subject: string;
  object: string;
  success_count: number;
  failure_count: number;
  evidence: number;
  confidence: number;
  samples: number[];
  last_seen_at: Date | string;
}

export interface PatternView {
  id: string;
  type: string;
  description: string;
  content: Record<string, unknown>;
  success_count: number;
  failure_count: number;
  confidence: number;
  last_seen_at: string;
}

export const PATTERN_TYPES = ['co_change', 'task_files', 'qa_failure', 'agent_stats'] as const;
export type PatternType = (typeof PATTERN_TYPES)[number];

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** 42 s, 3 min 5 s, 2 h 10 min. */
export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return s % 60 === 0 ? `${Math.floor(s / 60)} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  const minutes = Math.round((s % 3600) / 60);
  return minutes === 0 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 3600)} h ${minutes} min`;
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function area(directory: string): string {
  return directory === '.' ? 'the repository root' : `${directory}/`;
}

function describeRow(row: PatternRow): { description: string; content: Record<string, unknown> } {
  const s = row.success_count;
  const f = row.failure_count;
  switch (row.type) {
    case 'co_change': {
      const [a, b] = [row.subject, row.object];
      const pair = row.scope === 'directory' ? `Files in ${area(a)} and ${area(b)}` : `${a} and ${b}`;
      return {
        description: `${pair} change together: ${plural(s, 'successful task')} changed both, of ${row.evidence} that changed either.`,
        content: { scope: row.scope, paths: [a, b], tasks_changing_either: row.evidence },
      };
    }
    case 'task_files':
      return {
        description: `Tasks that mention "${row.subject}" change ${row.object}: ${s} of ${plural(row.evidence, 'successful task')} with that word did.`,
        content: { term: row.subject, path: row.object, tasks_with_term: row.evidence },
      };
    case 'qa_failure':
      return {
        description: `QA check "${row.subject}" failed in ${f} of ${plural(s + f, 'verified run')}.`,
        content: { check: row.subject, runs: s + f, failure_rate: round(f / Math.max(1, s + f)) },
      };
    default: {
      const typical = median(row.samples);
      const runs = s + f;
      const rate = s / Math.max(1, runs);
      const duration = typical === null ? '' : `; a successful run typically takes ${formatDuration(typical)} (median of the last ${plural(row.samples.length, 'run')})`;
      return {
        description: `Agent ${row.subject} succeeded in ${s} of ${plural(runs, 'verified run')} (${Math.round(rate * 100)}%)${duration}.`,
        content: { agent: row.subject, runs, success_rate: round(rate), median_duration_s: typical, duration_samples: row.samples.length },
      };
    }
  }
}

function round(value: number): number {
  return Math.round(value * 10_000) / 10_000;
}

export function toPatternView(row: PatternRow): PatternView {
  const { description, content } = describeRow(row);
  return {
    id: row.id,
    type: row.type,
    description,
    content,
    success_count: row.success_count,
    failure_count: row.failure_count,
    confidence: round(row.confidence),
    last_seen_at: new Date(row.last_seen_at).toISOString(),
  };
}
