// Registered projects: the list, and one form to register a project or edit one (registering an
// existing id updates it): repository, default branch, cap, GitHub, QA commands, budget, pull requests.
import { useState, type FormEvent } from 'react';
import { Link } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, getJson } from '../api/client';
import type { Project } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { useProjects } from '../components/ProjectPicker';
import { formatCost, formatTime } from '../format';

interface Draft {
  id: string;
  repo: string;
  default_branch: string;
  max_parallel: string;
  owner: string;
  ghRepo: string;
  workflow: string;
  qa: string;
  qaRounds: string;
  qaRequired: boolean;
  budget: string;
  pull_requests: boolean;
}

const EMPTY: Draft = { id: '', repo: '', default_branch: '', max_parallel: '', owner: '', ghRepo: '', workflow: '', qa: '', qaRounds: '', qaRequired: true, budget: '', pull_requests: false };

function draftOf(p: Project): Draft {
  return {
    id: p.id,
    repo: p.repo,
    default_branch: p.default_branch ?? '',
    max_parallel: p.max_parallel ? String(p.max_parallel) : '',
    owner: p.github?.owner ?? '',
    ghRepo: p.github?.repo ?? '',
    workflow: p.github?.workflow ?? '',
    qa: (p.qa?.commands ?? []).map((c) => `${c.name}: ${c.command.join(' ')}`).join('\n'),
    qaRounds: p.qa?.rounds ? String(p.qa.rounds) : '',
    qaRequired: p.qa?.required ?? true,
    budget: p.budget?.daily_cost_usd ? String(p.budget.daily_cost_usd) : '',
    pull_requests: p.pull_requests ?? false,
  };
}

/** "name: argv words" per line → QA commands (words split on spaces; no shell). */
function qaCommands(text: string) {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon).trim() : line.split(/\s+/)[0]!;
      const command = (colon > 0 ? line.slice(colon + 1) : line).trim().split(/\s+/).filter(Boolean);
      return { name, command };
    });
}

function bodyOf(d: Draft, original: Project | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { id: d.id.trim(), repo: d.repo.trim() };
  if (d.default_branch.trim()) body.default_branch = d.default_branch.trim();
  if (d.max_parallel.trim()) body.max_parallel = Number(d.max_parallel);
  if (d.owner.trim() || d.ghRepo.trim() || d.workflow.trim()) body.github = { owner: d.owner.trim(), repo: d.ghRepo.trim(), workflow: d.workflow.trim() };
  // The agent-era settings are sent only when given (or when the project already had them).
  if (d.qa.trim() || d.qaRounds.trim() || original?.qa) {
    body.qa = { ...(d.qa.trim() ? { commands: qaCommands(d.qa) } : {}), ...(d.qaRounds.trim() ? { rounds: Number(d.qaRounds) } : {}), required: d.qaRequired };
  }
  if (d.budget.trim()) body.budget = { daily_cost_usd: Number(d.budget) };
  if (d.pull_requests || original?.pull_requests !== undefined) body.pull_requests = d.pull_requests;
  return body;
}

const FIELD_OF: Record<string, string> = { 'github.owner': 'owner', 'github.repo': 'ghRepo', 'github.workflow': 'workflow', budget: 'budget', 'budget.daily_cost_usd': 'budget', 'qa.rounds': 'qaRounds' };
const fieldKey = (apiField: string) => FIELD_OF[apiField] ?? (apiField.startsWith('qa') ? 'qa' : apiField.startsWith('github') ? 'owner' : apiField);

export function ProjectsPage() {
  const projects = useProjects();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(EMPTY);
  const [editing, setEditing] = useState<Project | undefined>();
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) => getJson<Project>('orchestrator', '/api/v1/projects', { method: 'POST', body }),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['projects'] });
      setDraft(EMPTY);
      setEditing(undefined);
    },
  });
  const errors = new Map<string, string>();
  if (save.error instanceof ApiError) for (const d of save.error.details) errors.set(fieldKey(d.field), `${d.field} ${d.message}`);
  const text = (key: keyof Draft, label: string, props: { type?: string; placeholder?: string; hint?: string } = {}) => (
    <div className={`field${errors.has(key) ? ' has-error' : ''}`}>
      <label htmlFor={`p-${key}`}>{label}</label>
      <input
        id={`p-${key}`}
        type={props.type ?? 'text'}
        value={draft[key] as string}
        placeholder={props.placeholder}
        onChange={(e) => setDraft({ ...draft, [key]: e.target.value })}
        aria-invalid={errors.has(key)}
        aria-describedby={errors.has(key) ? `p-${key}-error` : undefined}
      />
      {props.hint ? <p className="hint">{props.hint}</p> : null}
      {errors.has(key) ? (
        <p className="field-error" id={`p-${key}-error`}>
          {errors.get(key)}
        </p>
      ) : null}
    </div>
  );
  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate(bodyOf(draft, editing));
  };

  return (
    <div className="page">
      <h1>Projects</h1>
      <ErrorNote error={projects.error} />
      <div className="table-wrap">
        <table className="data">
          <thead>
            <tr>
              <th>Project</th>
              <th>Repository</th>
              <th>Branch</th>
              <th>Cap</th>
              <th>GitHub</th>
              <th>QA</th>
              <th>Budget/day</th>
              <th>Updated</th>
              <th>
                <span className="visually-hidden">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {projects.data?.projects.length === 0 ? (
              <tr>
                <td colSpan={9} className="muted">
                  No projects registered yet: jobs can still name any project with a repository.
                </td>
              </tr>
            ) : null}
            {projects.data?.projects.map((p) => (
              <tr key={p.id}>
                <td>
                  <Link to={`/?project=${encodeURIComponent(p.id)}`}>{p.id}</Link>
                </td>
                <td className="mono">{p.repo}</td>
                <td className="mono">{p.default_branch ?? '—'}</td>
                <td>{p.max_parallel ?? '—'}</td>
                <td>{p.github ? `${p.github.owner}/${p.github.repo}` : '—'}</td>
                <td>{p.qa ? (p.qa.commands ? p.qa.commands.map((c) => c.name).join(', ') || 'off' : 'detected') : '—'}</td>
                <td>{p.budget ? formatCost(p.budget.daily_cost_usd) : '—'}</td>
                <td>{formatTime(p.updated_at)}</td>
                <td>
                  <button
                    type="button"
                    onClick={() => {
                      setEditing(p);
                      setDraft(draftOf(p));
                      save.reset();
                    }}
                    aria-label={`Edit ${p.id}`}
                  >
                    Edit
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2 className="section-title">{editing ? `Edit ${editing.id}` : 'Register a project'}</h2>
      <form className="job-form" onSubmit={onSubmit} noValidate>
        {save.error && !(save.error instanceof ApiError && save.error.details.length) ? <ErrorNote error={save.error} /> : null}
        <div className="grid-2">
          {text('id', 'Project id', { placeholder: 'my-service' })}
          {text('repo', 'Repository', { placeholder: '/path/to/repo' })}
          {text('default_branch', 'Default branch', { placeholder: 'main' })}
          {text('max_parallel', 'Max parallel jobs', { type: 'number' })}
        </div>
        <fieldset>
          <legend>GitHub (for the github-actions executor and pull requests)</legend>
          <div className="grid-4">
            {text('owner', 'Owner')}
            {text('ghRepo', 'GitHub repository')}
            {text('workflow', 'Workflow', { placeholder: 'autobuild.yml' })}
            <div className="field checkbox">
              <label htmlFor="p-pull_requests">
                <input id="p-pull_requests" type="checkbox" checked={draft.pull_requests} onChange={(e) => setDraft({ ...draft, pull_requests: e.target.checked })} /> Open a pull request for every succeeded job
              </label>
            </div>
          </div>
        </fieldset>
        <fieldset>
          <legend>QA and budget</legend>
          <div className={`field${errors.has('qa') ? ' has-error' : ''}`}>
            <label htmlFor="p-qa">QA commands</label>
            <textarea id="p-qa" rows={3} className="mono" value={draft.qa} placeholder={'test: npm test\nlint: npm run lint'} onChange={(e) => setDraft({ ...draft, qa: e.target.value })} />
            <p className="hint">One check per line, "name: command args" (split on spaces, no shell). Empty: detected from the repository.</p>
            {errors.has('qa') ? <p className="field-error">{errors.get('qa')}</p> : null}
          </div>
          <div className="grid-4">
            {text('qaRounds', 'QA rounds', { type: 'number' })}
            <div className="field checkbox">
              <label htmlFor="p-qaRequired">
                <input id="p-qaRequired" type="checkbox" checked={draft.qaRequired} onChange={(e) => setDraft({ ...draft, qaRequired: e.target.checked })} /> QA must pass
              </label>
            </div>
            {text('budget', 'Daily budget (USD)', { type: 'number' })}
          </div>
        </fieldset>
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {editing ? 'Save project' : 'Register project'}
          </button>
          {editing ? (
            <button
              type="button"
              onClick={() => {
                setEditing(undefined);
                setDraft(EMPTY);
                save.reset();
              }}
            >
              Cancel editing
            </button>
          ) : null}
        </div>
      </form>
    </div>
  );
}
