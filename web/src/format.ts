// How times, durations, money and token counts read on the page.
import type { Job } from './api/types';

export function durationMs(job: Pick<Job, 'started_at' | 'finished_at'>, now: number): number | null {
  if (!job.started_at) return null;
  const end = job.finished_at ? Date.parse(job.finished_at) : now;
  return Math.max(0, end - Date.parse(job.started_at));
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  if (ms < 1000) return '<1s';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return '—';
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${usd.toFixed(4)}` : `$${usd.toFixed(2)}`;
}

export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
  return `${(n / 1_000_000).toFixed(1)}M`;
}

export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 0) return `in ${formatDuration(-s * 1000)}`;
  if (s < 5) return 'just now';
  return `${formatDuration(s * 1000)} ago`;
}

/** "3m ago", never "in 2s": a moment past, whatever the browser's clock says against the server's. */
export function since(iso: string | null | undefined, now: number): string {
  if (!iso) return '—';
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 5) return 'just now';
  return `${formatDuration(s * 1000)} ago`;
}

/**
 * How long a job has been at it, by state: "queued 5s" (since it was submitted), "running 1m 20s",
 * "ran 3s" once it has ended (never started: "never ran").
 */
export function jobTime(job: Pick<Job, 'status' | 'created_at' | 'started_at' | 'finished_at'>, now: number): string {
  if (job.status === 'queued') return `queued ${formatDuration(Math.max(0, now - Date.parse(job.created_at)))}`;
  if (job.status === 'preparing') return 'preparing';
  if (job.status === 'running') return `running ${formatDuration(durationMs(job, now))}`;
  return job.started_at ? `ran ${formatDuration(durationMs(job, now))}` : 'never ran';
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

export function statusLabel(status: string): string {
  return status === 'timed_out' ? 'timed out' : status;
}

/** The pull request's number: from the result, else from its URL (…/pull/12). */
export function prNumber(result: Job['result']): number | null {
  const known = (result as (NonNullable<Job['result']> & { pr_number?: number | null }) | null)?.pr_number;
  if (typeof known === 'number') return known;
  const match = result?.pr_url ? /\/pull\/(\d+)\/?$/.exec(result.pr_url) : null;
  return match ? Number(match[1]) : null;
}
