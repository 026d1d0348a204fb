// Submit a job: the API's validation errors (400 details [{field, message}]) appear beside the
// fields they name; anything else above the form.
import { useMemo, useState, type FormEvent, type ReactNode } from 'react';
import { useNavigate } from 'react-router';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiError, getJson } from '../api/client';
import { myJobs } from '../api/queries';
import { PRIORITIES, type AgentSpec, type FieldProblem, type Job, type Priority, type SubmitJobRequest } from '../api/types';
import { useProjects } from '../components/ProjectPicker';

type AgentChoice = '' | AgentSpec['type'];

/** Which form field an API field name belongs to (agent.command → the argv box, …). */
function fieldOf(apiField: string): string {
  if (apiField.startsWith('agent.command') || apiField === 'agent.env') return 'command';
  if (apiField.startsWith('agent')) return 'agent';
  if (apiField === 'project_id') return 'project';
  if (apiField === 'max_cost_usd') return 'max_cost';
  return apiField;
}

function Field(props: { id: string; label: string; errors: Map<string, string[]>; hint?: string; children: (describedBy: string | undefined, invalid: boolean) => ReactNode }) {
  const problems = props.errors.get(props.id) ?? [];
  const describedBy = [props.hint ? `${props.id}-hint` : '', problems.length ? `${props.id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${problems.length ? ' has-error' : ''}`}>
      <label htmlFor={props.id}>{props.label}</label>
      {props.children(describedBy, problems.length > 0)}
      {props.hint ? (
        <p className="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {problems.length ? (
        <p className="field-error" id={`${props.id}-error`} data-field={props.id}>
          {problems.join('; ')}
        </p>
      ) : null}
    </div>
  );
}

export function NewJobPage() {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const projects = useProjects();
  const [form, setForm] = useState({ project: '', repo: '', title: '', prompt: '', priority: 'normal' as Priority, agent: '' as AgentChoice, command: '', executor: 'local', maxCost: '' });
  const set = (key: keyof typeof form) => (event: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: event.target.value }));
  const registered = projects.data?.projects.find((p) => p.id === form.project);

  const submit = useMutation({
    mutationFn: async (body: SubmitJobRequest) => getJson<Job>('orchestrator', '/api/v1/jobs', { method: 'POST', body, headers: { 'idempotency-key': crypto.randomUUID() } }),
    onSuccess: (job) => {
      myJobs.add(job.id);
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      void navigate(`/jobs/${job.id}`);
    },
  });

  const errors = useMemo(() => {
    const map = new Map<string, string[]>();
    const error = submit.error;
    if (error instanceof ApiError && error.status === 400) {
      for (const problem of error.details as FieldProblem[]) {
        const key = fieldOf(problem.field);
        map.set(key, [...(map.get(key) ?? []), problem.field.includes('.') ? `${problem.field} ${problem.message}` : problem.message]);
      }
    }
    return map;
  }, [submit.error]);
  const known = new Set(['project', 'repo', 'title', 'prompt', 'priority', 'agent', 'command', 'executor', 'max_cost']);
  const unplaced = submit.error instanceof ApiError && submit.error.details.length > 0 ? submit.error.details.filter((d) => !known.has(fieldOf(d.field))) : [];
  const general = submit.error && (!(submit.error instanceof ApiError) || submit.error.details.length === 0 || unplaced.length > 0) ? submit.error : null;

  const onSubmit = (event: FormEvent) => {
    event.preventDefault();
    const body: SubmitJobRequest = { project_id: form.project.trim(), prompt: form.prompt, priority: form.priority };
    if (form.repo.trim()) body.repo = form.repo.trim();
    if (form.title.trim()) body.title = form.title.trim();
    if (form.executor) body.executor = form.executor as SubmitJobRequest['executor'];
    if (form.agent === 'command') {
      body.agent = { type: 'command', command: form.command.split('\n').filter((line) => line.length > 0) };
    } else if (form.agent) {
      body.agent = { type: form.agent } as AgentSpec;
    }
    if (form.maxCost.trim()) body.max_cost_usd = Number(form.maxCost);
    // Asked once, on this click: the job's end is announced as a notification if allowed.
    if ('Notification' in window && Notification.permission === 'default') void Notification.requestPermission().catch(() => undefined);
    submit.mutate(body);
  };

  return (
    <div className="page narrow">
      <h1>New job</h1>
      <form className="job-form" onSubmit={onSubmit} noValidate aria-describedby={general ? 'form-error' : undefined}>
        {general ? (
          <div className="error-note" role="alert" id="form-error">
            {general.message}
            {unplaced.length ? (
              <ul>
                {unplaced.map((d) => (
                  <li key={d.field}>
                    {d.field}: {d.message}
                  </li>
                ))}
              </ul>
            ) : null}
          </div>
        ) : null}
        <div className="grid-2">
          <Field id="project" label="Project" errors={errors}>
            {(describedBy, invalid) => (
              <>
                <input id="project" list="project-options" value={form.project} onChange={set('project')} aria-describedby={describedBy} aria-invalid={invalid} autoComplete="off" required />
                <datalist id="project-options">
                  {projects.data?.projects.map((p) => <option key={p.id} value={p.id} />)}
                </datalist>
              </>
            )}
          </Field>
          <Field id="repo" label="Repository" errors={errors} hint={registered ? `default: ${registered.repo}` : 'a path or git URL; optional for a registered project'}>
            {(describedBy, invalid) => <input id="repo" value={form.repo} onChange={set('repo')} aria-describedby={describedBy} aria-invalid={invalid} placeholder={registered?.repo ?? '/path/to/repo'} />}
          </Field>
        </div>
        <Field id="title" label="Title" errors={errors}>
          {(describedBy, invalid) => <input id="title" value={form.title} onChange={set('title')} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <Field id="prompt" label="Prompt" errors={errors}>
          {(describedBy, invalid) => <textarea id="prompt" rows={6} value={form.prompt} onChange={set('prompt')} aria-describedby={describedBy} aria-invalid={invalid} />}
        </Field>
        <div className="grid-4">
          <Field id="priority" label="Priority" errors={errors}>
            {(describedBy, invalid) => (
              <select id="priority" value={form.priority} onChange={set('priority')} aria-describedby={describedBy} aria-invalid={invalid}>
                {PRIORITIES.map((p) => (
                  <option key={p} value={p}>
                    {p}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id="agent" label="Agent" errors={errors}>
            {(describedBy, invalid) => (
              <select id="agent" value={form.agent} onChange={set('agent')} aria-describedby={describedBy} aria-invalid={invalid}>
                <option value="">default (configured)</option>
                <option value="claude-code">claude-code</option>
                <option value="codex">codex</option>
                <option value="command">command</option>
              </select>
            )}
          </Field>
          <Field id="executor" label="Executor" errors={errors}>
            {(describedBy, invalid) => (
              <select id="executor" value={form.executor} onChange={set('executor')} aria-describedby={describedBy} aria-invalid={invalid}>
                <option value="local">local</option>
                <option value="github-actions">github-actions</option>
              </select>
            )}
          </Field>
          <Field id="max_cost" label="Max cost" errors={errors} hint="USD; empty: the configured default">
            {(describedBy, invalid) => (
              <input id="max_cost" type="number" min="0" step="0.01" inputMode="decimal" value={form.maxCost} onChange={set('maxCost')} aria-describedby={describedBy} aria-invalid={invalid} />
            )}
          </Field>
        </div>
        {form.agent === 'command' ? (
          <Field id="command" label="Command (argv, one per line)" errors={errors} hint="never run through a shell: write sh, -c, and the script on three lines for one">
            {(describedBy, invalid) => <textarea id="command" rows={4} className="mono" value={form.command} onChange={set('command')} aria-describedby={describedBy} aria-invalid={invalid} />}
          </Field>
        ) : null}
        <div className="actions">
          <button type="submit" className="primary" disabled={submit.isPending}>
            {submit.isPending ? 'Submitting…' : 'Submit job'}
          </button>
        </div>
      </form>
    </div>
  );
}
