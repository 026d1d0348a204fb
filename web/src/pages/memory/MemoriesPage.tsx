// A project's memories: filter by type and tag, recall by meaning, add one, delete one, and see
// the wordings a merged memory replaced.
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, getJson } from '../../api/client';
import type { MemoryPage, StoredMemory } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { ProjectPicker, useProjectChoice } from '../../components/ProjectPicker';
import { formatTime } from '../../format';

const TYPES = ['execution_success', 'execution_failure', 'insight', 'decision', 'feedback', 'pattern'];

function contentText(content: StoredMemory['content']): string {
  return typeof content === 'string' ? content : JSON.stringify(content, null, 2);
}

export function MemoriesPage() {
  const [project, setProject] = useProjectChoice();
  const [type, setType] = useState('');
  const [tag, setTag] = useState('');
  const [recall, setRecall] = useState('');
  const [applied, setApplied] = useState({ type: '', tag: '', query: '' });
  const queryClient = useQueryClient();
  const id = project.trim();
  const memories = useQuery({
    queryKey: ['memories', id, applied],
    enabled: Boolean(id),
    queryFn: ({ signal }) =>
      getJson<MemoryPage>('memory', `/api/v1/memory/${encodeURIComponent(id)}`, {
        query: { limit: 100, type: applied.type, tag: applied.tag, query: applied.query, include_history: applied.query ? undefined : true },
        signal,
      }),
  });
  const remove = useMutation({
    mutationFn: (memoryId: string) => getJson('memory', `/api/v1/memory/${memoryId}`, { method: 'DELETE' }),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['memories', id] }),
  });
  const [draft, setDraft] = useState({ type: 'insight', content: '', tags: '' });
  const add = useMutation({
    mutationFn: () =>
      getJson<StoredMemory>('memory', '/api/v1/memory', {
        method: 'POST',
        body: { project_id: id, type: draft.type, content: draft.content, tags: draft.tags.split(',').map((t) => t.trim()).filter(Boolean) },
      }),
    onSuccess: () => {
      setDraft({ ...draft, content: '', tags: '' });
      void queryClient.invalidateQueries({ queryKey: ['memories', id] });
    },
  });
  const addErrors = add.error instanceof ApiError ? new Map(add.error.details.map((d) => [d.field.split('.')[0]!, d.message])) : new Map<string, string>();

  const filter = (event: FormEvent) => {
    event.preventDefault();
    setApplied({ type: type.trim(), tag: tag.trim(), query: recall.trim() });
  };

  return (
    <div className="page">
      <h1>Memories</h1>
      <form className="toolbar filters" onSubmit={filter}>
        <ProjectPicker value={project} onChange={setProject} id="memories-project" />
        <div className="field">
          <label htmlFor="memories-type">Type</label>
          <input id="memories-type" list="memory-types" value={type} onChange={(e) => setType(e.target.value)} placeholder="any" />
          <datalist id="memory-types">
            {TYPES.map((t) => (
              <option key={t} value={t} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor="memories-tag">Tag</label>
          <input id="memories-tag" value={tag} onChange={(e) => setTag(e.target.value)} placeholder="any" />
        </div>
        <div className="field grow">
          <label htmlFor="memories-recall">Recall by meaning</label>
          <input id="memories-recall" type="search" value={recall} onChange={(e) => setRecall(e.target.value)} placeholder="flaky tests in the scheduler" />
        </div>
        <button type="submit">Apply</button>
      </form>
      <ErrorNote error={memories.error} />
      <ErrorNote error={remove.error} what="Delete" />
      {!id ? <p className="muted">Choose a project.</p> : null}
      {memories.data ? (
        memories.data.memories.length === 0 ? (
          <p className="muted">No memories{applied.type || applied.tag || applied.query ? ' match' : ' yet'}.</p>
        ) : (
          <ul className="results" aria-label="Memories">
            {memories.data.memories.map((m) => (
              <li key={m.id} className="result">
                <header>
                  <span className="badge">{m.type}</span>
                  {m.tags.map((t) => (
                    <span key={t} className="chip">
                      {t}
                    </span>
                  ))}
                  {m.seen_count > 1 ? <span className="muted">seen {m.seen_count}×</span> : null}
                  {m.score !== undefined ? <span className="muted">score {m.score.toFixed(3)}</span> : null}
                  {m.superseded_by ? <span className="badge status-cancelled">superseded</span> : null}
                  <span className="muted">{formatTime(m.updated_at)}</span>
                  <button type="button" className="link push" onClick={() => remove.mutate(m.id)} aria-label={`Delete memory ${m.id.slice(0, 8)}`}>
                    Delete
                  </button>
                </header>
                <pre className="memory-content">{contentText(m.content)}</pre>
                {m.history && m.history.length ? (
                  <details className="history">
                    <summary>{m.history.length} earlier wording{m.history.length === 1 ? '' : 's'} (merged)</summary>
                    <ol>
                      {m.history.map((h, i) => (
                        <li key={i}>
                          <span className="muted">replaced {formatTime(h.replaced_at)}:</span> <pre>{contentText(h.content)}</pre>
                        </li>
                      ))}
                    </ol>
                  </details>
                ) : null}
              </li>
            ))}
          </ul>
        )
      ) : null}
      <h2 className="section-title">Add a memory</h2>
      <form
        className="job-form"
        onSubmit={(e) => {
          e.preventDefault();
          add.mutate();
        }}
        noValidate
      >
        <div className="grid-2">
          <div className={`field${addErrors.has('type') ? ' has-error' : ''}`}>
            <label htmlFor="memory-type">Memory type</label>
            <input id="memory-type" list="memory-types" value={draft.type} onChange={(e) => setDraft({ ...draft, type: e.target.value })} />
            {addErrors.has('type') ? <p className="field-error">{addErrors.get('type')}</p> : null}
          </div>
          <div className={`field${addErrors.has('tags') ? ' has-error' : ''}`}>
            <label htmlFor="memory-tags">Tags</label>
            <input id="memory-tags" value={draft.tags} onChange={(e) => setDraft({ ...draft, tags: e.target.value })} placeholder="comma, separated" />
            {addErrors.has('tags') ? <p className="field-error">{addErrors.get('tags')}</p> : null}
          </div>
        </div>
        <div className={`field${addErrors.has('content') ? ' has-error' : ''}`}>
          <label htmlFor="memory-content">Content</label>
          <textarea id="memory-content" rows={3} value={draft.content} onChange={(e) => setDraft({ ...draft, content: e.target.value })} />
          {addErrors.has('content') ? <p className="field-error">{addErrors.get('content')}</p> : null}
        </div>
        {add.error && addErrors.size === 0 ? <ErrorNote error={add.error} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={add.isPending || !id}>
            Add memory
          </button>
        </div>
      </form>
    </div>
  );
}
