// Chat with a project's code: the answer streams in (SSE), with the passages it drew on; the
// conversation stays while the page is open; a service without a model says so plainly.
import { useRef, useState, type FormEvent } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import Markdown from 'react-markdown';
import { ApiError, getJson, readSse, send } from '../../api/client';
import type { ChatMessage, MemoryHealth, SourceRange } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { ProjectPicker, useProjectChoice } from '../../components/ProjectPicker';

/** The chat API's limits on conversation_history: turns kept (the latest) and characters a turn. */
const HISTORY_TURNS = 50;
const TURN_CHARS = 16_000;

interface Turn {
  role: 'user' | 'assistant';
  content: string;
  sources?: SourceRange[];
  model?: string | null;
  streaming?: boolean;
}

export function ChatPage() {
  const [project, setProject] = useProjectChoice();
  const [turns, setTurns] = useState<Turn[]>([]);
  const [message, setMessage] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const health = useQuery({ queryKey: ['health', 'memory'], queryFn: () => getJson<MemoryHealth>('memory', '/health'), staleTime: 30_000 });
  const llm = health.data?.checks.llm;
  const noModel = llm !== undefined && !llm.startsWith('configured');

  const update = (patch: (turn: Turn) => Turn) => setTurns((all) => [...all.slice(0, -1), patch(all[all.length - 1]!)]);

  const ask = async (event: FormEvent) => {
    event.preventDefault();
    const text = message.trim();
    if (!text || !project.trim() || busy) return;
    // The whole conversation so far (a stopped answer as far as it got), within the API's limits.
    const history: ChatMessage[] = turns
      .filter((t) => t.content.trim())
      .slice(-HISTORY_TURNS)
      .map((t) => ({ role: t.role, content: t.content.slice(0, TURN_CHARS) }));
    setTurns((all) => [...all, { role: 'user', content: text }, { role: 'assistant', content: '', streaming: true }]);
    setMessage('');
    setError(null);
    setBusy(true);
    abort.current = new AbortController();
    try {
      const response = await send('memory', '/api/v1/insights/chat', {
        method: 'POST',
        accept: 'text/event-stream',
        body: { project_id: project.trim(), message: text, conversation_history: history },
        signal: abort.current.signal,
      });
      await readSse(response, ({ event, data }) => {
        const body = JSON.parse(data) as { text?: string; sources?: SourceRange[]; model?: string | null; error?: { message: string } };
        if (event === 'delta' && body.text) update((t) => ({ ...t, content: t.content + body.text }));
        else if (event === 'sources') update((t) => ({ ...t, sources: body.sources ?? [] }));
        else if (event === 'done') update((t) => ({ ...t, model: body.model ?? null, streaming: false }));
        else if (event === 'error') setError(new ApiError(502, 'stream_error', body.error?.message ?? 'the answer stopped'));
      });
      update((t) => ({ ...t, streaming: false }));
    } catch (e) {
      if ((e as Error).name !== 'AbortError') setError(e);
      setTurns((all) => (all[all.length - 1]?.content ? all.map((t) => ({ ...t, streaming: false })) : all.slice(0, -1)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="page narrow">
      <h1>Chat with the code</h1>
      {noModel ? (
        <p className="note" role="note">
          No language model is configured for the memory service ({llm}): answers are the most relevant passages of the code, not written
          answers. Set ANTHROPIC_API_KEY to enable Claude.
        </p>
      ) : null}
      <ProjectPicker value={project} onChange={setProject} id="chat-project" />
      <div className="chat" aria-live="polite" aria-label="Conversation">
        {turns.map((turn, i) => (
          <div key={i} className={`bubble ${turn.role}`} aria-busy={turn.streaming ? true : undefined}>
            {turn.role === 'assistant' ? (
              <>
                <div className="markdown">{turn.content ? <Markdown>{turn.content}</Markdown> : <p className="muted">Thinking…</p>}</div>
                {turn.sources && turn.sources.length ? (
                  <>
                    <p className="muted sources-title">Sources</p>
                    <ol className="sources">
                      {turn.sources.map((s) => (
                        <li key={`${s.path}:${s.start_line}`}>
                          <Link to={`/memory/search?path=${encodeURIComponent(s.path)}`} className="mono">
                            {s.path}:{s.start_line}–{s.end_line}
                          </Link>
                        </li>
                      ))}
                    </ol>
                  </>
                ) : null}
                {turn.streaming && turn.content ? <p className="muted small streaming-note">Writing the answer…</p> : null}
                {!turn.streaming && turn.model !== undefined ? <p className="muted small">{turn.model ? `answered by ${turn.model}` : 'no model: retrieved passages'}</p> : null}
              </>
            ) : (
              <p>{turn.content}</p>
            )}
          </div>
        ))}
      </div>
      <ErrorNote error={error} />
      <form className="chat-form" onSubmit={ask}>
        <div className="field">
          <label htmlFor="chat-message">Message</label>
          <textarea
            id="chat-message"
            rows={3}
            value={message}
            onChange={(e) => setMessage(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) void ask(e);
            }}
            placeholder="How are jobs claimed?"
          />
        </div>
        <div className="actions">
          <button type="submit" className="primary" disabled={busy || !message.trim() || !project.trim()}>
            {busy ? 'Answering…' : 'Send'}
          </button>
          {busy ? (
            <button type="button" onClick={() => abort.current?.abort()}>
              Stop
            </button>
          ) : null}
          {turns.length && !busy ? (
            <button type="button" onClick={() => setTurns([])}>
              New conversation
            </button>
          ) : null}
        </div>
      </form>
    </div>
  );
}
