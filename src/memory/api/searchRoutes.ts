// /api/v1/search and /api/v1/context: ranked code for a query, markdown context for a task.
import { invalid } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/app.js';
import { taskContext } from '../retrieval/context.js';
import { searchCode, type SearchDeps } from '../retrieval/search.js';
import { textProblem } from '../../platform/database/storable.js';
import { ContextBody, SearchBody } from './schemas.js';

export function registerSearchRoutes(app: HttpApp, deps: SearchDeps): void {
  app.post('/api/v1/search', { schema: { summary: 'Hybrid code search, best first', tags: ['search'], body: SearchBody } }, async (request) => {
    const { project_id, query, limit = 10, filters } = request.body;
    // A text parameter of PostgreSQL cannot hold a NUL: a 400, not the store's error.
    const prefixProblem = filters?.path_prefix === undefined ? undefined : textProblem(filters.path_prefix);
    if (prefixProblem) throw invalid('filters.path_prefix', prefixProblem);
    const hits = await searchCode(deps, {
      projectId: project_id,
      query,
      limit,
      filters: { pathPrefix: filters?.path_prefix, language: filters?.language },
    });
    return { results: hits.map(({ kind: _kind, ...hit }) => hit) };
  });

  app.post('/api/v1/context', { schema: { summary: 'Context for a task, within a token budget', tags: ['search'], body: ContextBody } }, async (request) => {
    const { project_id, task_description, max_tokens = 2000 } = request.body;
    return taskContext(deps, { projectId: project_id, taskDescription: task_description, maxTokens: max_tokens });
  });
}
