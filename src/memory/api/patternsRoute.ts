// GET /api/v1/insights/patterns: a project's patterns learned from verified execution outcomes,
// best first (confidence, then newest), optionally of one type, page by page.
import type { HttpApp } from '../../platform/http/app.js';
import type { Queryable } from '../../platform/database/database.js';
import { listPatterns } from '../patterns/patterns.js';
import { PatternsQuery } from './schemas.js';

export function registerPatternsRoute(app: HttpApp, deps: { db: Queryable }): void {
  app.get(
    '/api/v1/insights/patterns',
    { schema: { summary: 'Patterns learned from verified execution outcomes, best first', tags: ['insights'], querystring: PatternsQuery } },
    async (request) => {
      const { project_id, type, limit = 50, cursor } = request.query;
      return listPatterns(deps.db, { projectId: project_id, type, limit, cursor });
    },
  );
}
