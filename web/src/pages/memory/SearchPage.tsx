// Hybrid code search over a project's index: path, lines, symbol and highlighted code per result.
import { useEffect, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { useMutation } from '@tanstack/react-query';
import { getJson } from '../../api/client';
import type { SearchResponse } from '../../api/types';
import { CodeBlock } from '../../components/CodeBlock';
import { ErrorNote } from '../../components/ErrorNote';
import { ProjectPicker, useProjectChoice } from '../../components/ProjectPicker';

export function SearchPage() {
  const [project, setProject] = useProjectChoice();
  // A chat answer's source links here with ?path=: that file's passages.
  const [params] = useSearchParams();
  const linkedPath = params.get('path') ?? '';
  const [query, setQuery] = useState(params.get('q') ?? (linkedPath.split('/').pop() || ''));
  const [pathPrefix, setPathPrefix] = useState(linkedPath);
  const search = useMutation({
    mutationFn: () =>
      getJson<SearchResponse>('memory', '/api/v1/search', {
        method: 'POST',
        body: { project_id: project.trim(), query, limit: 20, ...(pathPrefix.trim() ? { filters: { path_prefix: pathPrefix.trim() } } : {}) },
      }),
  });
  useEffect(() => {
    if (linkedPath && project.trim() && query.trim()) search.mutate();
    // Once, for the linked path.
  }, [linkedPath]);
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    if (project.trim() && query.trim()) search.mutate();
  };
  return (
    <div className="page">
      <h1>Search the code</h1>
      <form className="toolbar search-form" onSubmit={onSubmit} role="search">
        <ProjectPicker value={project} onChange={setProject} id="search-project" />
        <div className="field grow">
          <label htmlFor="search-query">Search</label>
          <input id="search-query" type="search" value={query} onChange={(e) => setQuery(e.target.value)} placeholder="where are jobs claimed" />
        </div>
        <div className="field">
          <label htmlFor="search-prefix">Path prefix</label>
          <input id="search-prefix" value={pathPrefix} onChange={(e) => setPathPrefix(e.target.value)} placeholder="src/" />
        </div>
        <button type="submit" className="primary" disabled={search.isPending || !project.trim() || !query.trim()}>
          Search
        </button>
      </form>
      <ErrorNote error={search.error} />
      {search.data ? (
        search.data.results.length === 0 ? (
          <p className="muted">No results. Is the project indexed (autobuild index DIR --project {project})?</p>
        ) : (
          <ol className="results" aria-label="Results">
            {search.data.results.map((r) => (
              <li key={`${r.path}:${r.start_line}`} className="result">
                <header>
                  <strong className="mono">{r.path}</strong>
                  <span className="muted">
                    lines {r.start_line}–{r.end_line}
                  </span>
                  {r.symbol ? <code>{r.symbol}</code> : null}
                  <span className="chip">{r.language}</span>
                  <span className="muted score">score {r.score.toFixed(3)}</span>
                </header>
                <CodeBlock code={r.content} language={r.language} startLine={r.start_line} />
              </li>
            ))}
          </ol>
        )
      ) : null}
    </div>
  );
}
