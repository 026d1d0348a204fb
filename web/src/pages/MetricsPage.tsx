// Charts of the recent jobs (up to 1,000): what finished each hour and how, how long runs take,
// how often they succeed, what each project spends a day, and how deep the queue was.
import { useMemo, type ReactElement } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Area, AreaChart, Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { backoff, getJson } from '../api/client';
import type { Job, JobPage } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { formatCost, formatDuration } from '../format';
import { hourlySeries, spendPerProjectPerDay, totals } from './metricsData';

const COLORS = { succeeded: 'var(--ok)', failed: 'var(--bad)', cancelled: 'var(--warn)', timed_out: '#9333ea' };
const PALETTE = ['#4f46e5', '#0891b2', '#16a34a', '#ca8a04', '#dc2626', '#9333ea', '#db2777', '#64748b'];
const axis = { stroke: 'var(--muted)', fontSize: 11 };
const tooltipStyle = { background: 'var(--surface)', border: '1px solid var(--border)', color: 'var(--text)', borderRadius: 6 };

async function recentJobs(signal: AbortSignal): Promise<Job[]> {
  const jobs: Job[] = [];
  let cursor: string | null = null;
  do {
    const page: JobPage = await getJson<JobPage>('orchestrator', '/api/v1/jobs', { query: { limit: 500, cursor }, signal });
    jobs.push(...page.jobs);
    cursor = page.next_cursor;
  } while (cursor && jobs.length < 1000);
  return jobs;
}

function Chart({ title, children, empty }: { title: string; children: ReactElement; empty?: boolean }) {
  return (
    <section className="chart" aria-label={title}>
      <h2>{title}</h2>
      <div className="chart-box">
        {empty ? (
          <p className="muted">Nothing in this window yet.</p>
        ) : (
          <ResponsiveContainer width="100%" height="100%">
            {children}
          </ResponsiveContainer>
        )}
      </div>
    </section>
  );
}

export function MetricsPage() {
  const jobs = useQuery({ queryKey: ['jobs', 'metrics'], queryFn: ({ signal }) => recentJobs(signal), refetchInterval: backoff(15_000) });
  const now = jobs.dataUpdatedAt || 0;
  const hourly = useMemo(() => (jobs.data ? hourlySeries(jobs.data, now) : []), [jobs.data, now]);
  const spend = useMemo(() => (jobs.data ? spendPerProjectPerDay(jobs.data, now) : { points: [], projects: [] }), [jobs.data, now]);
  const sums = useMemo(() => totals(jobs.data ?? []), [jobs.data]);
  const anyFinished = hourly.some((p) => p.succeeded + p.failed + p.cancelled + p.timed_out > 0);

  return (
    <div className="page">
      <h1>Metrics</h1>
      <ErrorNote error={jobs.error} />
      <div className="stat-row">
        <div className="stat">
          <span className="big">{sums.finished}</span>
          <span className="muted">finished (recent {jobs.data?.length ?? 0} jobs)</span>
        </div>
        <div className="stat">
          <span className="big">{sums.successRate === null ? '—' : `${Math.round(sums.successRate * 100)}%`}</span>
          <span className="muted">success rate</span>
        </div>
        <div className="stat">
          <span className="big">{sums.p50 === null ? '—' : formatDuration(sums.p50 * 1000)}</span>
          <span className="muted">median duration (p90 {sums.p90 === null ? '—' : formatDuration(sums.p90 * 1000)})</span>
        </div>
        <div className="stat">
          <span className="big">{sums.costReported ? formatCost(sums.spend) : '—'}</span>
          <span className="muted">spend{sums.costReported ? '' : ' (no agent reported a cost)'}</span>
        </div>
      </div>
      <div className="charts">
        <Chart title="Jobs finished per hour, by outcome" empty={!anyFinished}>
          <BarChart data={hourly}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="label" tick={axis} stroke="var(--border)" />
            <YAxis allowDecimals={false} tick={axis} stroke="var(--border)" width={32} />
            <Tooltip contentStyle={tooltipStyle} cursor={{ fill: 'var(--surface-2)' }} />
            <Legend />
            {(Object.keys(COLORS) as Array<keyof typeof COLORS>).map((key) => (
              <Bar key={key} dataKey={key} name={key.replace('_', ' ')} stackId="outcome" fill={COLORS[key]} isAnimationActive={false} />
            ))}
          </BarChart>
        </Chart>
        <Chart title="Duration percentiles (seconds)" empty={!anyFinished}>
          <LineChart data={hourly}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="label" tick={axis} stroke="var(--border)" />
            <YAxis tick={axis} stroke="var(--border)" width={40} />
            <Tooltip contentStyle={tooltipStyle} />
            <Legend />
            <Line dataKey="p50" name="p50" stroke="#4f46e5" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
            <Line dataKey="p90" name="p90" stroke="#ca8a04" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
            <Line dataKey="p99" name="p99" stroke="#dc2626" dot={{ r: 2 }} connectNulls isAnimationActive={false} />
          </LineChart>
        </Chart>
        <Chart title="Success rate per hour (%)" empty={!anyFinished}>
          <LineChart data={hourly}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="label" tick={axis} stroke="var(--border)" />
            <YAxis domain={[0, 100]} tick={axis} stroke="var(--border)" width={36} />
            <Tooltip contentStyle={tooltipStyle} />
            <Line dataKey="success_rate" name="success rate" stroke="var(--ok)" strokeWidth={2} connectNulls isAnimationActive={false} />
          </LineChart>
        </Chart>
        <Chart title="Spend per project per day (USD)" empty={spend.projects.length === 0}>
          <BarChart data={spend.points}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="day" tick={axis} stroke="var(--border)" />
            <YAxis tick={axis} stroke="var(--border)" width={44} />
            <Tooltip contentStyle={tooltipStyle} cursor={{ fill: 'var(--surface-2)' }} />
            <Legend />
            {spend.projects.map((project, i) => (
              <Bar key={project} dataKey={project} stackId="spend" fill={PALETTE[i % PALETTE.length]} isAnimationActive={false} />
            ))}
          </BarChart>
        </Chart>
        <Chart title="Queue depth and running jobs (end of each hour)">
          <AreaChart data={hourly}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="label" tick={axis} stroke="var(--border)" />
            <YAxis allowDecimals={false} tick={axis} stroke="var(--border)" width={32} />
            <Tooltip contentStyle={tooltipStyle} />
            <Legend />
            <Area dataKey="queue_depth" name="queued" stroke="#ca8a04" fill="#ca8a04" fillOpacity={0.25} isAnimationActive={false} />
            <Area dataKey="running" name="running" stroke="#4f46e5" fill="#4f46e5" fillOpacity={0.25} isAnimationActive={false} />
          </AreaChart>
        </Chart>
      </div>
    </div>
  );
}
