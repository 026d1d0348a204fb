// A job's run as the agent's events (GET /jobs/:id/events: JSON pages, then SSE while it runs),
// or, where the orchestrator has no events for it (404), the plain log text (/logs).
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, backoff, getJson, getText, readSse, send } from '../api/client';
import { useOrchestratorRoutes } from '../api/queries';
import type { JobEvent, JobEventPage } from '../api/types';
import { formatCost, formatTime, formatTokens } from '../format';
import { checkTime } from './QaReport';

type Mode = 'loading' | 'events' | 'logs';
const PAGE = 500;

function useRunEvents(jobId: string, live: boolean, enabled: boolean): { mode: Mode; events: JobEvent[]; error: unknown } {
  const [mode, setMode] = useState<Mode>('loading');
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  // Read when the pages are done (whether to follow the stream), not a reason to start over: the
  // job's end turns `live` off while the stream is already ending on its own.
  const liveRef = useRef(live);
  liveRef.current = live;

  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    let lastSeq = 0;
    const add = (incoming: JobEvent[]) => {
      const fresh = incoming.filter((e) => typeof e.seq === 'number' && typeof e.kind === 'string');
      if (fresh.length === 0) return;
      lastSeq = Math.max(lastSeq, ...fresh.map((e) => e.seq));
      // Deduplicated by seq against what is shown (a reconnect, a page and the stream overlapping).
      setEvents((current) => {
        const seen = new Set(current.map((e) => e.seq));
        const added = fresh.filter((e) => !seen.has(e.seq) && seen.add(e.seq));
        return added.length ? [...current, ...added].sort((a, b) => a.seq - b.seq) : current;
      });
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    async function run() {
      // What is there now, page by page: a page shorter than the limit is the last one (while the
      // job runs the API always offers a next cursor, to poll from).
      let cursor: string | null = null;
      try {
        for (;;) {
          const page: JobEventPage = await getJson<JobEventPage>('orchestrator', `/api/v1/jobs/${jobId}/events`, { query: { limit: PAGE, cursor }, signal: abort.signal });
          add(page.events);
          if (!page.next_cursor || page.events.length < PAGE || abort.signal.aborted) {
            cursor = page.next_cursor;
            break;
          }
          cursor = page.next_cursor;
        }
        setMode('events');
      } catch (e) {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404) setMode('logs');
        else setError(e);
        return;
      }
      // Live: `id: <seq>` + `data: <event>` until `event: end`; a dropped stream reconnects after
      // the last seq seen (Last-Event-ID).
      let first = true;
      while (liveRef.current && !abort.signal.aborted) {
        try {
          const response = await send('orchestrator', `/api/v1/jobs/${jobId}/events`, {
            accept: 'text/event-stream',
            query: first && cursor ? { cursor } : {},
            headers: !first && lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {},
            signal: abort.signal,
          });
          first = false;
          let ended = false;
          setError(null);
          await readSse(response, (message) => {
            if (message.event === 'end') {
              ended = true;
              return;
            }
            try {
              const parsed = JSON.parse(message.data) as JobEvent;
              if (parsed && typeof parsed === 'object' && 'kind' in parsed) add([parsed]);
            } catch {
              // not an event
            }
          });
          if (ended) break;
        } catch (e) {
          if (abort.signal.aborted) return;
          setError(e);
        }
        await sleep(1500);
      }
    }
    void run();
    return () => abort.abort();
  }, [jobId, enabled]);

  return { mode, events, error };
}

const KIND_LABELS: Record<string, string> = {
  agent_text: 'agent',
  tool_call: 'tool',
  tool_result: 'result',
  usage: 'usage',
  session: 'session',
  permission_denied: 'denied',
  rate_limit: 'limit',
  result: 'done',
  error: 'error',
  note: 'note',
  output: 'output',
  qa_check: 'QA',
  unknown: 'unknown',
};

/** A path inside the job's worktree, as the agent sees it (relative). */
function relativeTo(worktree: string | undefined, text: string): string {
  if (!worktree) return text;
  return text.split(`${worktree.replace(/\/$/, '')}/`).join('');
}

function UsageLine({ e }: { e: Record<string, unknown> }) {
  const usage = (e.usage ?? {}) as Partial<Record<string, number>>;
  const cache = (usage.cache_read_input_tokens ?? 0) + (usage.cache_creation_input_tokens ?? 0);
  const parts = [`${formatTokens(usage.input_tokens)} in`, `${formatTokens(usage.output_tokens)} out`];
  if (cache > 0) parts.push(`${formatTokens(cache)} cache`);
  if (typeof e.cost_usd === 'number') parts.push(formatCost(e.cost_usd));
  if (typeof e.num_turns === 'number') parts.push(`${e.num_turns} ${e.num_turns === 1 ? 'turn' : 'turns'}`);
  return <p>{parts.join(' · ')}</p>;
}

function EventLine({ event, worktree }: { event: JobEvent; worktree?: string }) {
  const e = event as JobEvent & Record<string, unknown>;
  const time = new Date(event.at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  const text = (key: string) => (typeof e[key] === 'string' ? (e[key] as string) : '');
  let body: ReactNode;
  let kindClass = `ev-${event.kind}`;
  let label = KIND_LABELS[event.kind] ?? event.kind.replace(/_/g, ' ');
  switch (event.kind) {
    case 'agent_text':
      body = <p className="ev-text">{text('text')}</p>;
      break;
    case 'tool_call':
      body = (
        <p>
          <span className="tool">{text('tool')}</span> <span className="mono">{relativeTo(worktree, text('summary'))}</span>
        </p>
      );
      break;
    case 'tool_result': {
      const failed = Boolean(e.is_error);
      if (failed) kindClass += ' ev-bad';
      body = (
        <p>
          <span className={failed ? 'mark bad' : 'mark ok'} aria-label={failed ? 'failed' : 'ok'}>
            {failed ? '✗' : '✓'}
          </span>{' '}
          <span className="tool">{text('tool')}</span> <span className="mono summary">{relativeTo(worktree, text('summary'))}</span>
        </p>
      );
      break;
    }
    case 'qa_check': {
      const passed = Boolean(e.passed);
      if (!passed) kindClass += ' ev-bad';
      label = passed ? 'QA ✓' : 'QA ✗';
      const command = Array.isArray(e.command) ? (e.command as string[]).join(' ') : '';
      const tail = text('output_tail').trimEnd();
      body = (
        <div>
          <p>
            <span className={passed ? 'mark ok' : 'mark bad'} aria-hidden="true">
              {passed ? '✓' : '✗'}
            </span>{' '}
            <strong>{text('name')}</strong> {passed ? 'passed' : 'failed'}
            <span className="muted">
              {' '}
              (exit {String(e.exit_code ?? '—')}
              {typeof e.duration_ms === 'number' ? ` in ${checkTime(e.duration_ms)}` : ''})
            </span>
          </p>
          {command ? <p className="mono muted">{command}</p> : null}
          {tail ? (
            <details open={!passed}>
              <summary>{passed ? 'Output' : 'Output (the last lines)'}</summary>
              <pre className="tail">{tail}</pre>
            </details>
          ) : null}
        </div>
      );
      break;
    }
    case 'usage':
      body = <UsageLine e={e} />;
      break;
    case 'error':
      kindClass += ' ev-bad';
      body = <p>{text('message') || text('text')}</p>;
      break;
    case 'permission_denied':
      kindClass += ' ev-bad';
      body = (
        <p>
          <strong>Permission denied:</strong> <span className="tool">{text('tool')}</span> <span className="mono">{relativeTo(worktree, text('summary'))}</span>
        </p>
      );
      break;
    case 'rate_limit': {
      const rejected = text('status') === 'rejected';
      if (rejected) kindClass += ' ev-warn';
      const resets = text('resets_at');
      body = (
        <p>
          {text('message') || `rate limit ${text('status') || 'reached'}`}
          {resets ? <span className="muted"> · resets {formatTime(resets)}</span> : null}
        </p>
      );
      break;
    }
    case 'session': {
      const tools = Array.isArray(e.tools) ? (e.tools as string[]) : [];
      const mode = text('permission_mode');
      body = (
        <p>
          session <span className="mono">{text('session_id')}</span>
          {text('model') ? (
            <>
              {' '}
              · <span className="mono">{text('model')}</span>
            </>
          ) : null}
          {mode ? ` · ${mode}` : null}
          {tools.length ? <span title={tools.join(', ')}> · {tools.length} tools</span> : null}
        </p>
      );
      break;
    }
    case 'result': {
      const failed = Boolean(e.is_error);
      kindClass += failed ? ' ev-bad' : ' ev-ok';
      label = failed ? 'failed' : 'done';
      const subtype = text('subtype');
      body = (
        <div>
          {text('text') ? <p className="ev-text">{text('text')}</p> : <p>{failed ? 'The run ended with an error' : 'Done'}</p>}
          {failed && subtype && subtype !== 'success' ? <p className="muted mono">{subtype}</p> : null}
        </div>
      );
      break;
    }
    case 'note': {
      // The QA loop's own lines (which checks, a round failed and the agent sent back, passed).
      const note = text('text');
      if (/^QA\b/.test(note)) {
        label = 'QA';
        kindClass += /^QA failed/.test(note) ? ' ev-warn ev-qa' : /^QA passed/.test(note) ? ' ev-qa ev-qa-ok' : ' ev-qa';
      }
      body = <p>{note}</p>;
      break;
    }
    case 'output':
      body = <pre className="ev-output">{text('text')}</pre>;
      break;
    case 'unknown':
      label = text('type') || 'unknown';
      body = <p className="mono">{text('summary') || JSON.stringify(e)}</p>;
      break;
    default:
      body = <p className="mono">{text('summary') || text('text') || JSON.stringify(e)}</p>;
  }
  return (
    <li className={`event ${kindClass}`} data-seq={event.seq}>
      <time dateTime={event.at}>{time}</time>
      <span className="kind">{label}</span>
      <div className="ev-body">{body}</div>
    </li>
  );
}

/**
 * What is worth a line: usage is cumulative, so of consecutive usage events only the last; the
 * run's last words (the agent's text, an API error) are also the result's text, so they are said
 * once, by the result. The plain log (/logs) keeps every line.
 */
function visibleEvents(events: JobEvent[]): JobEvent[] {
  const said = (event: JobEvent) => (event.kind === 'agent_text' ? event.text : event.kind === 'error' ? event.message : null);
  return events.filter((event, i) => {
    const next = events[i + 1];
    if (event.kind === 'usage' && next?.kind === 'usage') return false;
    // "QA: test (npm test)" says a check started; once its row is there, the row says it all.
    if (event.kind === 'note' && typeof event.text === 'string' && next?.kind === 'qa_check' && event.text.startsWith(`QA: ${String(next.name)} (`)) return false;
    const words = said(event);
    if (words) {
      for (const later of events.slice(i + 1, i + 6)) {
        if (later.kind === 'result') return later.text !== words;
        if (later.kind !== 'usage' && later.kind !== 'error' && later.kind !== 'agent_text') break;
      }
    }
    return true;
  });
}

/**
 * Keeps a scroll box pinned to its bottom while new lines come, unless the person scrolled up; a
 * run that has already ended opens at its start.
 */
function useStickToBottom(dependency: unknown, follow = true) {
  const box = useRef<HTMLDivElement>(null);
  const pinned = useRef(follow);
  useLayoutEffect(() => {
    const element = box.current;
    if (element && pinned.current) element.scrollTop = element.scrollHeight;
  }, [dependency]);
  const onScroll = () => {
    const element = box.current;
    if (element) pinned.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
  };
  return { box, onScroll };
}

function PlainLog({ jobId, live }: { jobId: string; live: boolean }) {
  const log = useQuery({
    queryKey: ['logs', jobId],
    queryFn: ({ signal }) => getText('orchestrator', `/api/v1/jobs/${jobId}/logs`, { signal }),
    refetchInterval: live ? backoff(1500) : false,
  });
  const { box, onScroll } = useStickToBottom(log.data, live);
  return (
    <div className="run-box" ref={box} onScroll={onScroll} tabIndex={0} aria-label="Job log" data-testid="job-log">
      {log.isError ? <p className="error-note">{(log.error as Error).message}</p> : <pre className="log">{log.data || (live ? 'Waiting for output…' : 'No output.')}</pre>}
    </div>
  );
}

export function RunLog({ jobId, live, worktree }: { jobId: string; live: boolean; worktree?: string }) {
  const routes = useOrchestratorRoutes();
  const hasEvents = routes.data?.has('/api/v1/jobs/{id}/events') ?? false;
  const { mode, events, error } = useRunEvents(jobId, live, hasEvents);
  const { box, onScroll } = useStickToBottom(events.length, live);
  if ((routes.data && !hasEvents) || mode === 'logs') return <PlainLog jobId={jobId} live={live} />;
  return (
    <div className="run-box" ref={box} onScroll={onScroll} tabIndex={0} aria-label="Agent run" data-testid="job-events">
      {error ? <p className="error-note">{(error as Error).message}</p> : null}
      {mode === 'loading' ? <p className="muted pad">Loading…</p> : events.length === 0 ? <p className="muted pad">{live ? 'Waiting for the agent…' : 'No events.'}</p> : null}
      <ol className="events">
        {visibleEvents(events).map((event) => (
          <EventLine key={event.seq} event={event} worktree={worktree} />
        ))}
      </ol>
    </div>
  );
}
