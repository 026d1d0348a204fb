// The board: every recent job in a column by what it needs from the person — queued, running,
// needs review (succeeded, no pull request yet), failed, done (succeeded with a pull request) —
// refreshed every 2 s (backing off while the orchestrator fails), with capacity at a glance.
import { memo, useDeferredValue, useMemo, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useQueue, useRecentJobs } from '../api/queries';
import { PRIORITIES, type Job } from '../api/types';
import { PriorityBadge } from '../components/Badges';
import { ErrorNote } from '../components/ErrorNote';
import { useNow } from '../components/useNow';
import { formatCost, formatTime, jobTime, prNumber, since, statusLabel } from '../format';

type ColumnId = 'queued' | 'running' | 'review' | 'failed' | 'done';

const COLUMNS: Array<{ id: ColumnId; title: string; hint: string }> = [
  { id: 'queued', title: 'Queued', hint: 'waiting for a slot' },
  { id: 'running', title: 'Running', hint: 'agents at work' },
  { id: 'review', title: 'Needs review', hint: 'succeeded, no pull request yet' },
  { id: 'failed', title: 'Failed', hint: 'failed, cancelled or timed out' },
  { id: 'done', title: 'Done', hint: 'succeeded with a pull request' },
];

/** Cards shown per column; older ones are a click away. */
const PER_COLUMN = 40;

export function columnOf(job: Job): ColumnId {
  switch (job.status) {
    case 'queued':
      return 'queued';
    case 'preparing':
    case 'running':
      return 'running';
    case 'succeeded':
      return job.result?.pr_url ? 'done' : 'review';
    default:
      return 'failed';
  }
}

function matches(job: Job, text: string): boolean {
  if (!text) return true;
  const needle = text.toLowerCase();
  return [job.title, job.prompt, job.id, job.branch, job.project_id, job.ticket_id ?? '', job.agent.type].some((field) => field.toLowerCase().includes(needle));
}

/** The card's last line: why it waits, how it ended, its pull request or QA. */
function cardNote(job: Job): { text: string; tone?: 'bad' | 'warn' } {
  if (job.status === 'queued') {
    const text = job.waiting_reason ?? (job.not_before ? `starts after ${formatTime(job.not_before)}` : 'waiting for a free slot');
    // A full house is the ordinary wait; a provider's limit, a budget or a project's cap is news.
    return { text, tone: text.startsWith('waiting for a free slot') ? undefined : 'warn' };
  }
  if (job.status === 'succeeded') {
    // A succeeded job's error is its pull request's, not its work's.
    if (job.error) return { text: job.error, tone: 'warn' };
    const number = prNumber(job.result);
    if (job.result?.pr_url) return { text: number ? `pull request #${number}` : 'pull request open' };
    const qa = job.result?.qa;
    if (qa) return { text: `QA ${qa.passed ? 'passed' : 'failed'}${(qa.rounds ?? 1) > 1 ? ` after ${qa.rounds} rounds` : ''}`, tone: qa.passed ? undefined : 'warn' };
    return { text: 'succeeded' };
  }
  if (job.error && job.status !== 'preparing' && job.status !== 'running') return { text: job.error, tone: 'bad' };
  return { text: statusLabel(job.status) };
}

const JobCard = memo(function JobCard({ job, now }: { job: Job; now: number }) {
  const cost = job.result?.cost_usd;
  const ended = job.finished_at;
  const note = cardNote(job);
  return (
    <li className="card-slot">
      <Link to={`/jobs/${job.id}`} className={`card card-${job.status}`} aria-label={`${job.title || 'untitled job'}, ${statusLabel(job.status)}`} data-job-id={job.id}>
        <span className="card-title">{job.title || job.prompt}</span>
        <span className="card-meta">
          <PriorityBadge priority={job.priority} />
          <span className="chip" title="project">
            {job.project_id}
          </span>
          <span className="chip" title="agent">
            {job.agent.type}
          </span>
        </span>
        <span className="card-foot">
          {job.status === 'queued' && job.queue_position ? (
            <span className="queue-pos" title="queue position">
              #{job.queue_position} in queue
            </span>
          ) : null}
          <span className="card-time" title={job.started_at ? `started ${formatTime(job.started_at)}` : `submitted ${formatTime(job.created_at)}`}>
            {jobTime(job, now)}
          </span>
          {cost !== null && cost !== undefined ? (
            <span className="card-cost" title="cost">
              {formatCost(cost)}
            </span>
          ) : null}
          {ended ? (
            <span className="muted card-ended" title={`finished ${formatTime(ended)}`}>
              {since(ended, now)}
            </span>
          ) : null}
        </span>
        <span className={`card-note${note.tone ? ` note-${note.tone}` : ''}`} title={note.text}>
          {note.text}
        </span>
      </Link>
    </li>
  );
});

function Capacity() {
  const queue = useQueue();
  if (queue.isError) return <ErrorNote error={queue.error} what="Queue" />;
  const q = queue.data;
  // Drawn only once the numbers are in, at its width: the bar grows only when the count changes
  // (a bar mounted empty and grown to full would be caught part-way, "1 / 1" over two thirds).
  const share = q ? Math.min(1, q.running / Math.max(1, q.max_parallel)) : null;
  return (
    <section className="capacity" aria-label="Capacity">
      <div className="capacity-run">
        <span className="big" data-testid="capacity-running">
          {q ? `${q.running} / ${q.max_parallel}` : '– / –'}
        </span>
        <span className="muted">running</span>
        <span className="meter" aria-hidden="true">
          {share === null ? null : <span style={{ width: `${share * 100}%` }} />}
        </span>
      </div>
      <div className="capacity-queue">
        <span className="big">{q ? q.queued : '–'}</span>
        <span className="muted">queued</span>
        <span className="by-priority">
          {PRIORITIES.map((p) => (
            <span key={p} className={`prio-count prio-${p}`} title={`${p} priority`}>
              {p} {q ? q.by_priority[p] : '–'}
            </span>
          ))}
        </span>
      </div>
    </section>
  );
}

export function BoardPage() {
  const jobs = useRecentJobs();
  const now = useNow(1000);
  const [params, setParams] = useSearchParams();
  const project = params.get('project') ?? '';
  const [search, setSearch] = useState(params.get('q') ?? '');
  const text = useDeferredValue(search.trim());
  const [expanded, setExpanded] = useState<Set<ColumnId>>(new Set());

  const list = jobs.data?.jobs;
  const projects = useMemo(() => [...new Set((list ?? []).map((j) => j.project_id))].sort(), [list]);
  const columns = useMemo(() => {
    const byColumn: Record<ColumnId, Job[]> = { queued: [], running: [], review: [], failed: [], done: [] };
    for (const job of list ?? []) {
      if (project && job.project_id !== project) continue;
      if (!matches(job, text)) continue;
      byColumn[columnOf(job)].push(job);
    }
    byColumn.queued.sort((a, b) => (a.queue_position ?? 1e9) - (b.queue_position ?? 1e9));
    return byColumn;
  }, [list, project, text]);

  const setProject = (value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set('project', value);
    else next.delete('project');
    setParams(next, { replace: true });
  };

  return (
    <div className="page board-page">
      <div className="page-head">
        <h1>Board</h1>
        <Link to="/jobs/new" className="button primary">
          New job
        </Link>
      </div>
      <Capacity />
      <div className="toolbar" role="search">
        <div className="field inline">
          <label htmlFor="board-project">Project</label>
          <select id="board-project" value={project} onChange={(e) => setProject(e.target.value)}>
            <option value="">All projects</option>
            {projects.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
            {project && !projects.includes(project) ? <option value={project}>{project}</option> : null}
          </select>
        </div>
        <div className="field inline grow">
          <label htmlFor="board-search">Find</label>
          <input id="board-search" type="search" placeholder="title, prompt, branch, id…" value={search} onChange={(e) => setSearch(e.target.value)} />
        </div>
        {jobs.isError ? <ErrorNote error={jobs.error} what="Jobs" /> : null}
      </div>
      <div className="board">
        {COLUMNS.map((column) => {
          const all = columns[column.id];
          const shown = expanded.has(column.id) ? all : all.slice(0, PER_COLUMN);
          return (
            <section key={column.id} className={`column column-${column.id}`} aria-label={column.title} data-column={column.id}>
              <header className="column-head" title={column.hint}>
                <h2>{column.title}</h2>
                <span className="count" aria-label={`${all.length} jobs`}>
                  {all.length}
                </span>
              </header>
              {jobs.isPending ? (
                <p className="muted empty">Loading…</p>
              ) : all.length === 0 ? (
                <p className="muted empty">{column.hint}</p>
              ) : (
                <ul className="cards">
                  {shown.map((job) => (
                    <JobCard key={job.id} job={job} now={now} />
                  ))}
                </ul>
              )}
              {all.length > shown.length ? (
                <button type="button" className="link" onClick={() => setExpanded(new Set([...expanded, column.id]))}>
                  Show {all.length - shown.length} more
                </button>
              ) : null}
            </section>
          );
        })}
      </div>
    </div>
  );
}
