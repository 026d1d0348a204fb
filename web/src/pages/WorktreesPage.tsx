// Worktrees on disk (and, when asked, the removed ones): where each job works, on which branch.
import { useState } from 'react';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { backoff, getJson } from '../api/client';
import type { WorktreePage } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { useNow } from '../components/useNow';
import { ago } from '../format';

export function WorktreesPage() {
  const [includeRemoved, setIncludeRemoved] = useState(false);
  const now = useNow(30_000);
  const worktrees = useQuery({
    queryKey: ['worktrees', includeRemoved],
    queryFn: ({ signal }) => getJson<WorktreePage>('orchestrator', '/api/v1/worktrees', { query: { limit: 500, include_removed: includeRemoved || undefined }, signal }),
    refetchInterval: backoff(5000),
  });
  const list = worktrees.data?.worktrees ?? [];
  return (
    <div className="page">
      <div className="page-head">
        <h1>Worktrees</h1>
        <div className="field checkbox">
          <label htmlFor="include-removed">
            <input id="include-removed" type="checkbox" checked={includeRemoved} onChange={(e) => setIncludeRemoved(e.target.checked)} /> Include removed
          </label>
        </div>
      </div>
      <ErrorNote error={worktrees.error} />
      <div className="table-wrap">
        <table className="data">
          <thead>
            <tr>
              <th>Status</th>
              <th>Project</th>
              <th>Job</th>
              <th>Branch</th>
              <th>Path</th>
              <th>Created</th>
              <th>Last used</th>
            </tr>
          </thead>
          <tbody>
            {worktrees.isSuccess && list.length === 0 ? (
              <tr>
                <td colSpan={7} className="muted">
                  No worktrees{includeRemoved ? '' : ' on disk'}: each running job gets one, removed after it ends (its branch stays).
                </td>
              </tr>
            ) : null}
            {list.map((w) => (
              <tr key={w.id}>
                <td>
                  <span className={`badge wt-${w.status}`}>{w.status}</span>
                </td>
                <td>{w.project_id}</td>
                <td>{w.job_id ? <Link to={`/jobs/${w.job_id}`}>{w.job_id.slice(0, 8)}</Link> : '—'}</td>
                <td className="mono">{w.branch}</td>
                <td className="mono">{w.path}</td>
                <td>{ago(w.created_at, now)}</td>
                <td>{ago(w.last_used_at, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
