// Patterns the memory service learned from verified outcomes, best first.
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { getJson } from '../../api/client';
import type { PatternPage } from '../../api/types';
import { ErrorNote } from '../../components/ErrorNote';
import { ProjectPicker, useProjectChoice } from '../../components/ProjectPicker';
import { formatTime } from '../../format';

const TYPES = [
  ['', 'all'],
  ['co_change', 'changed together'],
  ['task_files', 'task words → files'],
  ['qa_failure', 'QA failures'],
  ['agent_stats', 'agent statistics'],
];

export function PatternsPage() {
  const [project, setProject] = useProjectChoice();
  const [type, setType] = useState('');
  const id = project.trim();
  const patterns = useQuery({
    queryKey: ['patterns', id, type],
    enabled: Boolean(id),
    queryFn: ({ signal }) => getJson<PatternPage>('memory', '/api/v1/insights/patterns', { query: { project_id: id, type, limit: 200 }, signal }),
  });
  return (
    <div className="page">
      <h1>Patterns</h1>
      <div className="toolbar">
        <ProjectPicker value={project} onChange={setProject} id="patterns-project" />
        <div className="field">
          <label htmlFor="patterns-type">Kind</label>
          <select id="patterns-type" value={type} onChange={(e) => setType(e.target.value)}>
            {TYPES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </div>
      <ErrorNote error={patterns.error} />
      {!id ? <p className="muted">Choose a project.</p> : null}
      {patterns.data ? (
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th>Pattern</th>
                <th>Kind</th>
                <th>Confidence</th>
                <th>Evidence</th>
                <th>Last seen</th>
              </tr>
            </thead>
            <tbody>
              {patterns.data.patterns.length === 0 ? (
                <tr>
                  <td colSpan={5} className="muted">
                    No patterns yet: they are learned from finished jobs' outcomes.
                  </td>
                </tr>
              ) : null}
              {patterns.data.patterns.map((p) => (
                <tr key={p.id}>
                  <td>{p.description}</td>
                  <td>
                    <span className="chip">{p.type}</span>
                  </td>
                  <td>
                    <span className="meter small" aria-hidden="true">
                      <span style={{ width: `${Math.round(p.confidence * 100)}%` }} />
                    </span>{' '}
                    {Math.round(p.confidence * 100)}%
                  </td>
                  <td>
                    <span className="ins">{p.success_count} ✓</span> <span className="del">{p.failure_count} ✗</span>
                  </td>
                  <td>{formatTime(p.last_seen_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </div>
  );
}
