// The Metrics page's series, computed from the job list: jobs finished per hour by outcome,
// duration percentiles, success rate, spend per project per day, and queue depth over time
// (a job was queued from created_at until started_at, or until it finished without starting).
import type { Job } from '../api/types';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface HourPoint {
  t: number;
  label: string;
  succeeded: number;
  failed: number;
  cancelled: number;
  timed_out: number;
  success_rate: number | null;
  p50: number | null;
  p90: number | null;
  p99: number | null;
  queue_depth: number;
  running: number;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

const hourLabel = (t: number) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export function hourlySeries(jobs: Job[], now: number, hours = 24): HourPoint[] {
  const end = Math.ceil(now / HOUR) * HOUR;
  const points: HourPoint[] = [];
  for (let i = hours; i > 0; i--) {
    const from = end - i * HOUR;
    const to = from + HOUR;
    const finished = jobs.filter((j) => j.finished_at && Date.parse(j.finished_at) >= from && Date.parse(j.finished_at) < to);
    const count = (status: string) => finished.filter((j) => j.status === status).length;
    const durations = finished
      .filter((j) => j.started_at)
      .map((j) => (Date.parse(j.finished_at!) - Date.parse(j.started_at!)) / 1000)
      .sort((a, b) => a - b);
    const decided = count('succeeded') + count('failed') + count('timed_out');
    // Depth at the end of the hour (or now, for the current one).
    const at = Math.min(to, now);
    const queuedAt = (j: Job) => Date.parse(j.created_at) <= at && (j.started_at ? Date.parse(j.started_at) > at : !j.finished_at || Date.parse(j.finished_at) > at);
    const runningAt = (j: Job) => j.started_at !== null && Date.parse(j.started_at) <= at && (!j.finished_at || Date.parse(j.finished_at) > at);
    points.push({
      t: from,
      label: hourLabel(from),
      succeeded: count('succeeded'),
      failed: count('failed'),
      cancelled: count('cancelled'),
      timed_out: count('timed_out'),
      success_rate: decided ? Math.round((count('succeeded') / decided) * 1000) / 10 : null,
      p50: percentile(durations, 50),
      p90: percentile(durations, 90),
      p99: percentile(durations, 99),
      queue_depth: jobs.filter(queuedAt).length,
      running: jobs.filter(runningAt).length,
    });
  }
  return points;
}

export interface SpendPoint {
  day: string;
  [project: string]: number | string;
}

export function spendPerProjectPerDay(jobs: Job[], now: number, days = 14): { points: SpendPoint[]; projects: string[] } {
  const start = new Date(now - (days - 1) * DAY);
  start.setHours(0, 0, 0, 0);
  const projects = new Set<string>();
  const byDay = new Map<string, SpendPoint>();
  for (let i = 0; i < days; i++) {
    const day = new Date(start.getTime() + i * DAY).toISOString().slice(0, 10);
    byDay.set(day, { day });
  }
  for (const job of jobs) {
    const cost = job.result?.cost_usd;
    if (!cost || !job.finished_at) continue;
    const day = new Date(job.finished_at).toISOString().slice(0, 10);
    const point = byDay.get(day);
    if (!point) continue;
    projects.add(job.project_id);
    point[job.project_id] = Math.round(((Number(point[job.project_id]) || 0) + cost) * 10_000) / 10_000;
  }
  return { points: [...byDay.values()], projects: [...projects].sort() };
}

export function totals(jobs: Job[]) {
  const finished = jobs.filter((j) => j.finished_at);
  const decided = finished.filter((j) => j.status !== 'cancelled');
  const durations = finished.filter((j) => j.started_at).map((j) => (Date.parse(j.finished_at!) - Date.parse(j.started_at!)) / 1000).sort((a, b) => a - b);
  return {
    finished: finished.length,
    successRate: decided.length ? decided.filter((j) => j.status === 'succeeded').length / decided.length : null,
    p50: percentile(durations, 50),
    p90: percentile(durations, 90),
    spend: jobs.reduce((sum, j) => sum + (j.result?.cost_usd ?? 0), 0),
    costReported: jobs.some((j) => typeof j.result?.cost_usd === 'number'),
  };
}
