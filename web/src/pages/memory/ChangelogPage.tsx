// A changelog from Conventional Commits: repository (or project) and range in, markdown out, with
// a copy button.
import { useState, type FormEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import Markdown from 'react-markdown';
import { ApiError, getJson } from '../../api/client';
import type { Changelog } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';

export function ChangelogPage() {
  const [form, setForm] = useState({ repo: '', from: '', to: '', version: '' });
  const [copied, setCopied] = useState(false);
  const [view, setView] = useState<'rendered' | 'markdown'>('rendered');
  const generate = useMutation({
    mutationFn: () => {
      const source = form.repo.trim();
      const body: Record<string, string> = source.includes('/') || source.startsWith('.') ? { repo: source } : { project_id: source };
      for (const key of ['from', 'to', 'version'] as const) if (form[key].trim()) body[key] = form[key].trim();
      return getJson<Changelog>('memory', '/api/v1/changelog/generate', { method: 'POST', body });
    },
    onSuccess: () => setCopied(false),
  });
  const errors = generate.error instanceof ApiError ? new Map(generate.error.details.map((d) => [d.field, d.message])) : new Map<string, string>();
  const set = (key: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [key]: e.target.value });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    generate.mutate();
  };
  const copy = async () => {
    if (!generate.data) return;
    await navigator.clipboard.writeText(generate.data.changelog);
    setCopied(true);
  };
  const field = (key: keyof typeof form, label: string, placeholder: string, apiField: string = key) => (
    <div className={`field${errors.has(apiField) ? ' has-error' : ''}`}>
      <label htmlFor={`cl-${key}`}>{label}</label>
      <input id={`cl-${key}`} value={form[key]} onChange={set(key)} placeholder={placeholder} aria-invalid={errors.has(apiField)} />
      {errors.has(apiField) ? <p className="field-error">{errors.get(apiField)}</p> : null}
    </div>
  );
  return (
    <div className="page narrow">
      <h1>Changelog</h1>
      <form className="job-form" onSubmit={submit} noValidate>
        {field('repo', 'Repository or project', '/path/to/repo or a project id', form.repo.includes('/') ? 'repo' : 'project_id')}
        <div className="grid-4">
          {field('from', 'From', 'latest tag')}
          {field('to', 'To', 'HEAD')}
          {field('version', 'Version', 'Unreleased')}
        </div>
        {generate.error && errors.size === 0 ? <ErrorNote error={generate.error} /> : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={generate.isPending || !form.repo.trim()}>
            Generate
          </button>
        </div>
      </form>
      {generate.data ? (
        <section className="changelog-out" aria-label="Changelog">
          <div className="diff-summary">
            <span className="muted">{generate.data.entries.length} entries</span>
            <div className="actions">
              <div className="segmented" role="group" aria-label="Show as">
                <button type="button" aria-pressed={view === 'rendered'} onClick={() => setView('rendered')}>
                  Rendered
                </button>
                <button type="button" aria-pressed={view === 'markdown'} onClick={() => setView('markdown')}>
                  Markdown
                </button>
              </div>
              <button type="button" onClick={() => void copy()}>
                {copied ? 'Copied' : 'Copy markdown'}
              </button>
            </div>
          </div>
          {view === 'rendered' ? (
            <div className="markdown">
              <Markdown>{generate.data.changelog || '_No changes in this range._'}</Markdown>
            </div>
          ) : (
            <pre className="tail">{generate.data.changelog}</pre>
          )}
        </section>
      ) : null}
    </div>
  );
}
