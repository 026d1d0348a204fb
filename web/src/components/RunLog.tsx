// A job's run as the agent's events (GET /jobs/:id/events: JSON pages, then SSE while it runs),
// or, where the orchestrator has no events for it (404), the plain log text (/logs).
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { ApiError, backoff, getJson, getText, readSse, send } from '../api/client';
import { useOrchestratorRoutes } from '../api/queries';
import type { JobEvent, JobEventPage } from '../api/types';
import { formatCost, formatTokens } from '../format';

type Mode = 'loading' | 'events' | 'logs';

function useRunEvents(jobId: string, live: boolean, enabled: boolean): { mode: Mode; events: JobEvent[]; error: unknown } {
  const [mode, setMode] = useState<Mode>('loading');
  const [events, setEvents] = useState<JobEvent[]>([]);
  const [error, setError] = useState<unknown>(null);
  const liveRef = useRef(live);
  liveRef.current = live;

  useEffect(() => {
    if (!enabled) return;
    const abort = new AbortController();
    const seen = new Set<number>();
    const add = (incoming: JobEvent[]) => {
      const fresh = incoming.filter((e) => typeof e.seq === 'number' && !seen.has(e.seq));
      if (fresh.length === 0) return;
      for (const e of fresh) seen.add(e.seq);
      setEvents((current) => [...current, ...fresh].sort((a, b) => a.seq - b.seq));
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    async function run() {
      try {
        let cursor: string | null = null;
        do {
          const page: JobEventPage = await getJson<JobEventPage>('orchestrator', `/api/v1/jobs/${jobId}/events`, { query: { limit: 500, cursor }, signal: abort.signal });
          add(page.events);
          cursor = page.next_cursor;
        } while (cursor && !abort.signal.aborted);
        setMode('events');
      } catch (e) {
        if (abort.signal.aborted) return;
        if (e instanceof ApiError && e.status === 404) setMode('logs');
        else setError(e);
        return;
      }
      // Live: the stream until the job ends; reconnect (events are deduplicated by seq) if it drops.
      while (liveRef.current && !abort.signal.aborted) {
        try {
          const response = await send('orchestrator', `/api/v1/jobs/${jobId}/events`, { accept: 'text/event-stream', signal: abort.signal });
          let ended = false;
          await readSse(response, (message) => {
            if (message.event === 'end') ended = true;
            try {
              const parsed = JSON.parse(message.data) as JobEvent | JobEvent[] | JobEventPage;
              if (Array.isArray(parsed)) add(parsed);
              else if ('events' in parsed && Array.isArray(parsed.events)) add(parsed.events);
              else if ('kind' in parsed) add([parsed as JobEvent]);
            } catch {
              // a keep-alive or a line that is not an event
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
  }, [jobId, live, enabled]);

  return { mode, events, error };
}

function EventLine({ event }: { event: JobEvent }) {
  const e = event as JobEvent & Record<string, unknown>;
  const time = new Date(event.at).toLocaleTimeString();
  const text = (key: string) => (typeof e[key] === 'string' ? (e[key] as string) : '');
  let body: ReactNode;
  let kindClass = `ev-${event.kind}`;
  switch (event.kind) {
    case 'agent_text':
      body = <p className="ev-text">{text('text')}</p>;
      break;
    case 'tool_call':
      body = (
        <p>
          <span className="tool">{text('tool')}</span> <span className="mono">{text('summary')}</span>
        </p>
      );
      break;
    case 'tool_result':
      if (e.is_error) kindClass += ' ev-bad';
      body = (
        <p>
          <span className="tool">{text('tool')}</span> {e.is_error ? <strong>error</strong> : '→'} <span className="mono">{text('summary')}</span>
        </p>
      );
      break;
    case 'qa_check': {
      const passed = Boolean(e.passed);
      if (!passed) kindClass += ' ev-bad';
      body = (
        <div>
          <p>
            QA <strong>{text('name')}</strong> {passed ? 'passed' : `failed (exit ${String(e.exit_code ?? '?')})`}
            {typeof e.duration_ms === 'number' ? <span className="muted"> in {(e.duration_ms / 1000).toFixed(1)}s</span> : null}
          </p>
          {!passed && text('output_tail') ? <pre className="tail">{text('output_tail')}</pre> : null}
        </div>
      );
      break;
    }
    case 'usage': {
      const usage = (e.usage ?? {}) as Record<string, number>;
      body = (
        <p className="muted">
          tokens in {formatTokens(usage.input_tokens)} · out {formatTokens(usage.output_tokens)}
          {typeof e.cost_usd === 'number' ? ` · ${formatCost(e.cost_usd)}` : ''}
        </p>
      );
      break;
    }
    case 'error':
      kindClass += ' ev-bad';
      body = <p>{text('message') || text('text')}</p>;
      break;
    case 'permission_denied':
      kindClass += ' ev-bad';
      body = (
        <p>
          denied <span className="tool">{text('tool')}</span> <span className="mono">{text('summary')}</span>
        </p>
      );
      break;
    case 'rate_limit':
      body = <p>{text('message') || `rate limit: ${text('status')}`}</p>;
      break;
    case 'session':
      body = <p className="muted">session {text('session_id')}{text('model') ? ` · ${text('model')}` : ''}</p>;
      break;
    case 'result':
      if (e.is_error) kindClass += ' ev-bad';
      body = <p>{text('text') || (e.is_error ? 'the run ended with an error' : 'done')}</p>;
      break;
    case 'note':
    case 'output':
      body = <p className="mono">{text('text')}</p>;
      break;
    default:
      body = <p className="mono">{text('summary') || text('text') || JSON.stringify(e)}</p>;
  }
  return (
    <li className={`event ${kindClass}`}>
      <time dateTime={event.at}>{time}</time>
      <span className="kind">{event.kind.replace('_', ' ')}</span>
      <div className="ev-body">{body}</div>
    </li>
  );
}

/** Keeps a scroll box pinned to its bottom while new lines come, unless the person scrolled up. */
function useStickToBottom(dependency: unknown) {
  const box = useRef<HTMLDivElement>(null);
  const pinned = useRef(true);
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
  const { box, onScroll } = useStickToBottom(log.data);
  return (
    <div className="run-box" ref={box} onScroll={onScroll} tabIndex={0} aria-label="Job log" data-testid="job-log">
      {log.isError ? <p className="error-note">{(log.error as Error).message}</p> : <pre className="log">{log.data || (live ? 'Waiting for output…' : 'No output.')}</pre>}
    </div>
  );
}

export function RunLog({ jobId, live }: { jobId: string; live: boolean }) {
  const routes = useOrchestratorRoutes();
  const hasEvents = routes.data?.has('/api/v1/jobs/{id}/events') ?? false;
  const { mode, events, error } = useRunEvents(jobId, live, hasEvents);
  const { box, onScroll } = useStickToBottom(events.length);
  if ((routes.data && !hasEvents) || mode === 'logs') return <PlainLog jobId={jobId} live={live} />;
  return (
    <div className="run-box" ref={box} onScroll={onScroll} tabIndex={0} aria-label="Agent run" data-testid="job-events">
      {error ? <p className="error-note">{(error as Error).message}</p> : null}
      {mode === 'loading' ? <p className="muted pad">Loading…</p> : events.length === 0 ? <p className="muted pad">{live ? 'Waiting for the agent…' : 'No events.'}</p> : null}
      <ol className="events">
        {events.map((event) => (
          <EventLine key={event.seq} event={event} />
        ))}
      </ol>
    </div>
  );
}
