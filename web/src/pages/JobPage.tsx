// One job: its state and numbers, the live run, its changes, commits, QA, pull request, the
// actions (cancel, follow up, open pull request) and its thread (parent and follow-ups).
import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Markdown from 'react-markdown';
import { ApiError, getJson } from '../api/client';
import { myJobs, useJob, useOrchestratorRoutes } from '../api/queries';
import { PRIORITIES, TERMINAL, type Job, type JobDiff, type JobPage as JobList, type Priority, type PullRequest } from '../api/types';
import { PriorityBadge, StatusBadge } from '../components/Badges';
import { DiffView } from '../components/DiffView';
import { ErrorNote } from '../components/ErrorNote';
import { QaReport } from '../components/QaReport';
import { RunLog } from '../components/RunLog';
import { useNow } from '../components/useNow';
import { ago, durationMs, formatCost, formatDuration, formatTime, formatTokens, prNumber, shortId } from '../format';

/** "$0.02", "$0.02 (estimated)" when priced from tokens, with the job's limit. */
function CostValue({ job }: { job: Job }) {
  const result = job.result;
  const estimated = result?.cost_source === 'price_table';
  return (
    <span data-testid="job-cost">
      {formatCost(result?.cost_usd)}
      {estimated && typeof result?.cost_usd === 'number' ? (
        <span className="muted" title="The agent reported no cost: estimated from its tokens with the configured price table">
          {' '}
          (estimated)
        </span>
      ) : null}
      {job.max_cost_usd ? <span className="muted"> of max {formatCost(job.max_cost_usd)}</span> : null}
    </span>
  );
}

function tokensText(usage: NonNullable<NonNullable<Job['result']>['usage']>): string {
  const parts = [`${formatTokens(usage.input_tokens)} in`, `${formatTokens(usage.output_tokens)} out`];
  if (usage.cache_read_input_tokens) parts.push(`${formatTokens(usage.cache_read_input_tokens)} cache read`);
  if (usage.cache_creation_input_tokens) parts.push(`${formatTokens(usage.cache_creation_input_tokens)} cache written`);
  return parts.join(' · ');
}

function agentText(job: Job): ReactNode {
  const agent = job.agent;
  if (agent.type === 'command') return <span className="mono">command: {agent.command.join(' ')}</span>;
  const extras: string[] = [];
  if (agent.model) extras.push(`model ${agent.model}`);
  if (agent.type === 'claude-code') {
    if (agent.permission_mode) extras.push(`permission mode ${agent.permission_mode}`);
    if (agent.allowed_tools) extras.push(agent.allowed_tools.length ? `allowed ${agent.allowed_tools.join(', ')}` : 'no tools allowed');
    if (agent.max_turns) extras.push(`at most ${agent.max_turns} turns`);
  } else if (agent.sandbox) {
    extras.push(`sandbox ${agent.sandbox}`);
  }
  return extras.length ? `${agent.type} (${extras.join('; ')})` : agent.type;
}

/** ISO times in a server's sentence ("until 2026-01-01T10:00:00.000Z"), as the page shows times. */
function localTimes(text: string): string {
  return text.replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})\b/g, (iso) => (Number.isNaN(Date.parse(iso)) ? iso : formatTime(iso)));
}

function Facts({ job }: { job: Job }) {
  const now = useNow(1000);
  const result = job.result;
  const usage = result?.usage;
  const rows: Array<[string, ReactNode]> = [
    ['Status', <StatusBadge key="s" status={job.status} />],
    ['Priority', <PriorityBadge key="p" priority={job.priority} />],
    ['Project', job.project_id],
    ['Agent', agentText(job)],
  ];
  if (job.status === 'queued') {
    rows.push(['Queue position', job.queue_position ?? '—']);
    if (job.not_before) rows.push(['Not before', <span key="nb" title={new Date(job.not_before).toLocaleString()}>{formatTime(job.not_before)} ({ago(job.not_before, now)})</span>]);
  }
  rows.push(
    ['Executor', job.executor],
    ['Created', formatTime(job.created_at)],
    ['Started', formatTime(job.started_at)],
    ['Finished', formatTime(job.finished_at)],
    ['Duration', formatDuration(durationMs(job, now))],
    ['Branch', <span className="mono" key="b">{job.branch}</span>],
    ['Base', <span className="mono" key="bb">{job.base_branch}</span>],
    ['Worktree', job.worktree ? <span className="mono" key="w">{job.worktree.path}</span> : '—'],
    ['Attempt', `${job.attempt} of ${job.max_attempts}`],
    ['Exit code', job.exit_code ?? '—'],
    ['Cost', <CostValue key="c" job={job} />],
    ['Tokens', usage ? tokensText(usage) : '—'],
  );
  if (result?.num_turns) rows.push(['Turns', result.num_turns]);
  if (result?.model) rows.push(['Model', <span className="mono" key="m">{result.model}</span>]);
  if (result?.session_id) rows.push(['Session', <span className="mono" key="sid" title={result.session_id}>{shortId(result.session_id)}</span>]);
  if (result?.permission_denials || result?.denied_tools?.length) {
    const denied = result.denied_tools ?? [];
    rows.push([
      'Denied tools',
      <span key="d" className="bad-text" data-testid="denied-tools">
        {denied.length ? denied.join(', ') : result.permission_denials}
        {denied.length && result.permission_denials && result.permission_denials > denied.length ? ` (${result.permission_denials} in all)` : ''}
      </span>,
    ]);
  }
  if (job.parent_job_id) rows.push(['Follows', <Link key="f" to={`/jobs/${job.parent_job_id}`}>{shortId(job.parent_job_id)}</Link>]);
  const wide = new Set(['Branch', 'Worktree', 'Denied tools']);
  return (
    <dl className="facts">
      {rows.map(([label, value]) => (
        <div key={label} className={wide.has(label) ? 'wide' : undefined}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** Why a queued job is not running yet (a provider's limit, a project's budget) and until when. */
function Waiting({ job }: { job: Job }) {
  const now = useNow(1000);
  if (job.status !== 'queued' || (!job.waiting_reason && !job.not_before)) return null;
  return (
    <p className="note waiting" role="status" data-testid="job-waiting">
      <strong>Waiting:</strong> {job.waiting_reason ? localTimes(job.waiting_reason) : 'not before a set time'}
      {job.not_before ? (
        <>
          {' '}
          — starts again at {formatTime(job.not_before)} ({ago(job.not_before, now)})
        </>
      ) : null}
    </p>
  );
}

/** The job's thread: its parents up to the first job, and every follow-up of any of them, oldest first. */
function useThread(job: Job) {
  return useQuery({
    queryKey: ['thread', job.id, job.parent_job_id ?? null],
    refetchInterval: 5000,
    queryFn: async ({ signal }) => {
      const chain: Job[] = [job];
      let current = job;
      while (current.parent_job_id && chain.length < 50) {
        current = await getJson<Job>('orchestrator', `/api/v1/jobs/${current.parent_job_id}`, { signal });
        chain.unshift(current);
      }
      const page = await getJson<JobList>('orchestrator', '/api/v1/jobs', { query: { project_id: job.project_id, limit: 500 }, signal });
      const ids = new Set(chain.map((j) => j.id));
      const all = [...chain];
      for (let grew = true; grew; ) {
        grew = false;
        for (const candidate of page.jobs) {
          if (candidate.parent_job_id && ids.has(candidate.parent_job_id) && !ids.has(candidate.id)) {
            ids.add(candidate.id);
            all.push(candidate);
            grew = true;
          }
        }
      }
      return all.sort((a, b) => a.created_at.localeCompare(b.created_at));
    },
  });
}

function Thread({ job }: { job: Job }) {
  const thread = useThread(job);
  const list = thread.data ?? [];
  if (list.length < 2) return null;
  return (
    <section className="panel" aria-labelledby="thread-h">
      <h2 id="thread-h">Thread</h2>
      <ol className="thread">
        {list.map((j) => (
          <li key={j.id} className={j.id === job.id ? 'current' : undefined}>
            <StatusBadge status={j.status} />{' '}
            {j.id === job.id ? <strong>{j.title || j.prompt.slice(0, 80)}</strong> : <Link to={`/jobs/${j.id}`}>{j.title || j.prompt.slice(0, 80)}</Link>}
            <span className="muted"> · {formatTime(j.created_at)}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

type Scope = 'job' | 'branch';

function Changes({ job }: { job: Job }) {
  const live = !TERMINAL.has(job.status);
  const routes = useOrchestratorRoutes();
  const served = routes.data?.has('/api/v1/jobs/{id}/diff') ?? false;
  const thread = useThread(job);
  // A branch a thread shares holds its follow-ups' work too: such a job opens on its own commits.
  const shared = Boolean(job.parent_job_id) || (thread.data ?? []).some((j) => j.parent_job_id === job.id);
  const [chosen, setChosen] = useState<Scope | null>(null);
  const scope: Scope = chosen ?? (shared ? 'job' : 'branch');
  // The branch exists once the job has started (and stays after it ends).
  const branchExists = job.started_at !== null;
  const diff = useQuery({
    enabled: served && branchExists,
    // Asked again once the job has ended: its last commit lands as it finishes.
    queryKey: ['diff', job.id, scope, live ? 'live' : 'final'],
    queryFn: ({ signal }) => getJson<JobDiff>('orchestrator', `/api/v1/jobs/${job.id}/diff`, { query: { format: 'json', scope }, signal }),
    refetchInterval: live ? 10_000 : false,
    placeholderData: (previous, query) => (query?.queryKey[2] === scope ? previous : undefined),
    retry: false,
  });
  const missing = diff.error instanceof ApiError && diff.error.status === 404;
  const empty = scope === 'job' ? 'This job made no changes of its own.' : `The branch has no changes against ${job.base_branch}.`;
  return (
    <section className="panel" aria-labelledby="changes-h">
      <div className="panel-head">
        <h2 id="changes-h">Changes</h2>
        {served ? (
          <div className="segmented" role="group" aria-label="Which changes">
            <button type="button" aria-pressed={scope === 'job'} onClick={() => setChosen('job')} title="Only this job's own commits">
              This job
            </button>
            <button type="button" aria-pressed={scope === 'branch'} onClick={() => setChosen('branch')} title={`The whole branch against ${job.base_branch}, with its thread's follow-ups`}>
              Whole branch
            </button>
          </div>
        ) : null}
      </div>
      {routes.data && !served ? <p className="muted">This orchestrator does not serve diffs yet.</p> : null}
      {served && !branchExists ? <p className="muted">No changes yet: the branch is made when the job starts.</p> : null}
      {served && branchExists && diff.isPending ? <p className="muted">Loading…</p> : null}
      {missing ? <p className="muted">No changes to show yet{live ? ' (the branch is created when the job starts)' : ''}.</p> : diff.isError ? <ErrorNote error={diff.error} /> : null}
      {served && branchExists ? (
        <p className="muted small-note" data-testid="diff-scope">
          {scope === 'job' ? (
            <>
              Only this job&apos;s own commits on <span className="mono">{job.branch}</span>
              {job.parent_job_id ? ' (since the job it follows up)' : ''}.
            </>
          ) : (
            <>
              <span className="mono">{job.branch}</span> against <span className="mono">{job.base_branch}</span>, as the branch is now{shared ? ' (with the thread’s other jobs’ work)' : ''}.
            </>
          )}
        </p>
      ) : null}
      {diff.data ? diff.data.files.length ? <DiffView files={diff.data.files} /> : <p className="muted">{empty}</p> : null}
    </section>
  );
}

function Outcome({ job }: { job: Job }) {
  const result = job.result;
  const finished = TERMINAL.has(job.status);
  if (!result && !job.error) return null;
  const number = prNumber(result);
  // A succeeded job's error is about what came after its work (its pull request), not a failure.
  const warning = job.status === 'succeeded' && job.error;
  return (
    <section className="panel" aria-labelledby="outcome-h">
      <h2 id="outcome-h">{finished ? 'Outcome' : 'Last run'}</h2>
      {job.error ? (
        <p className={warning ? 'warn-note' : 'error-note'} data-testid={warning ? 'job-warning' : 'job-error'}>
          {warning ? <strong>Warning: </strong> : null}
          {job.error}
        </p>
      ) : null}
      {result?.pr_url ? (
        <p data-testid="pr-link">
          Pull request: <a href={result.pr_url}>{number ? `#${number}` : result.pr_url}</a> <span className="muted mono small-url">{result.pr_url}</span>
        </p>
      ) : null}
      {result?.summary ? (
        <div className="markdown">
          {job.status !== 'succeeded' ? <p className="muted small-note">The agent said:</p> : null}
          <Markdown>{result.summary}</Markdown>
        </div>
      ) : null}
      {result ? (
        <>
          <h3>Commits</h3>
          {result.commits.length ? (
            <ul className="commits">
              {result.commits.map((c) => (
                <li key={c.sha}>
                  <code>{c.sha.slice(0, 10)}</code> {c.message.split('\n')[0]}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No commits.</p>
          )}
          <p className="muted">
            {result.diff_stat.files} {result.diff_stat.files === 1 ? 'file' : 'files'} · <span className="ins">+{result.diff_stat.insertions}</span> <span className="del">−{result.diff_stat.deletions}</span>
          </p>
        </>
      ) : null}
    </section>
  );
}

function FollowUp({ job, onClose }: { job: Job; onClose: () => void }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [prompt, setPrompt] = useState('');
  const [priority, setPriority] = useState<Priority>(job.priority);
  const followUp = useMutation({
    mutationFn: () => getJson<Job>('orchestrator', `/api/v1/jobs/${job.id}/follow-ups`, { method: 'POST', body: { prompt, priority } }),
    onSuccess: (created) => {
      myJobs.add(created.id);
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      void navigate(`/jobs/${created.id}`);
    },
  });
  const problems = followUp.error instanceof ApiError ? followUp.error.details.filter((d) => d.field === 'prompt') : [];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    followUp.mutate();
  };
  return (
    <form className="panel follow-up" onSubmit={submit} aria-label="Follow up">
      <div className={`field${problems.length ? ' has-error' : ''}`}>
        <label htmlFor="follow-up-prompt">Follow-up prompt</label>
        <textarea id="follow-up-prompt" rows={4} value={prompt} onChange={(e) => setPrompt(e.target.value)} autoFocus aria-describedby={problems.length ? 'follow-up-error' : undefined} />
        {problems.length ? (
          <p className="field-error" id="follow-up-error">
            {problems.map((p) => p.message).join('; ')}
          </p>
        ) : null}
      </div>
      <div className="field inline">
        <label htmlFor="follow-up-priority">Priority</label>
        <select id="follow-up-priority" value={priority} onChange={(e) => setPriority(e.target.value as Priority)}>
          {PRIORITIES.map((p) => (
            <option key={p}>{p}</option>
          ))}
        </select>
      </div>
      {followUp.isError && problems.length === 0 ? <ErrorNote error={followUp.error} /> : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={followUp.isPending || !prompt.trim()}>
          Start follow-up
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </form>
  );
}

/**
 * "Open pull request" (POST /jobs/:id/pull-request), then the link to it; the API's reason beside
 * the button when it cannot (no github on the project, no commits, a push or GitHub failure).
 */
function PullRequestAction({ job }: { job: Job }) {
  const queryClient = useQueryClient();
  const open = useMutation({
    mutationFn: () => getJson<PullRequest>('orchestrator', `/api/v1/jobs/${job.id}/pull-request`, { method: 'POST', body: {} }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      void queryClient.invalidateQueries({ queryKey: ['job', job.id] });
    },
  });
  const url = open.data?.pr_url ?? job.result?.pr_url;
  if (url) {
    const number = open.data?.pr_number ?? prNumber(job.result);
    return (
      <a className="button pr-button" href={url} data-testid="pr-button">
        <span aria-hidden="true">↗</span> Pull request{number ? ` #${number}` : ''}
      </a>
    );
  }
  const error = open.error instanceof ApiError && open.error.status === 401 ? null : open.error;
  return (
    <span className="pr-action">
      <button type="button" onClick={() => open.mutate()} disabled={open.isPending} aria-describedby={error ? 'pr-error' : undefined}>
        {open.isPending ? 'Opening…' : 'Open pull request'}
      </button>
      {error ? (
        <span className="inline-error" id="pr-error" role="alert" data-testid="pr-error">
          {error instanceof ApiError && error.status >= 500 ? `${error.status === 503 ? 'GitHub is unavailable' : 'Could not open it'}: ` : ''}
          {(error as Error).message}
        </span>
      ) : null}
    </span>
  );
}

export function JobPage() {
  const { id = '' } = useParams();
  // A fresh page per job (a follow-up navigates here from its parent): no state carried over.
  return <JobView key={id} id={id} />;
}

function JobView({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const [liveGuess, setLiveGuess] = useState(true);
  const job = useJob(id, liveGuess);
  const [followingUp, setFollowingUp] = useState(false);
  const data = job.data;
  const live = data ? !TERMINAL.has(data.status) : true;
  if (data && live !== liveGuess) setLiveGuess(live);

  const refresh = (updated?: Job) => {
    if (updated) queryClient.setQueryData(['job', id], updated);
    void queryClient.invalidateQueries({ queryKey: ['jobs'] });
    void queryClient.invalidateQueries({ queryKey: ['job', id] });
  };
  const cancel = useMutation({ mutationFn: () => getJson<Job>('orchestrator', `/api/v1/jobs/${id}`, { method: 'DELETE' }), onSuccess: refresh });

  if (job.isError) {
    return (
      <div className="page">
        <h1>Job {shortId(id)}</h1>
        <ErrorNote error={job.error} />
        <Link to="/">Back to the board</Link>
      </div>
    );
  }
  if (!data) return <div className="page"><p className="muted">Loading…</p></div>;

  const finished = TERMINAL.has(data.status);
  return (
    <div className="page job-page">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/">Board</Link> / <span className="mono">{shortId(data.id)}</span>
      </nav>
      <div className="page-head">
        <h1 className="job-title">{data.title || data.prompt.slice(0, 120)}</h1>
        <div className="actions">
          {!finished ? (
            <button type="button" className="danger" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
              {cancel.isPending ? 'Cancelling…' : 'Cancel'}
            </button>
          ) : null}
          {finished ? (
            <button type="button" onClick={() => setFollowingUp(!followingUp)} aria-expanded={followingUp}>
              Follow up
            </button>
          ) : null}
          {finished ? <PullRequestAction job={data} /> : null}
        </div>
      </div>
      <ErrorNote error={cancel.error} what="Cancel" />
      {followingUp ? <FollowUp job={data} onClose={() => setFollowingUp(false)} /> : null}
      <Waiting job={data} />
      <Facts job={data} />
      <details className="prompt">
        <summary>Prompt</summary>
        <div className="markdown">
          <Markdown>{data.prompt}</Markdown>
        </div>
      </details>
      <div className="job-grid">
        <section className="panel run" aria-labelledby="run-h">
          <h2 id="run-h">Run</h2>
          <RunLog key={data.id} jobId={data.id} live={live} worktree={data.worktree?.path} />
        </section>
        <div className="side">
          <Outcome job={data} />
          {data.result?.qa ? <QaReport qa={data.result.qa} jobSucceeded={data.status === 'succeeded'} /> : null}
          <Thread job={data} />
        </div>
      </div>
      <Changes job={data} />
    </div>
  );
}
