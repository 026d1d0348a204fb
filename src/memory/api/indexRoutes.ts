// /api/v1/index/files and /api/v1/index/:project_id: index code, drop a project's index.
import type { HttpApp } from '../../platform/http/app.js';
import type { CodeIndexer } from '../indexing/indexer.js';
import { IndexFilesBody, ProjectParams } from './schemas.js';

export interface IndexRouteDeps {
  indexer: CodeIndexer;
  /** Inline files make big bodies: this route's own limit. */
  bodyLimitBytes: number;
}

export function registerIndexRoutes(app: HttpApp, deps: IndexRouteDeps): void {
  app.post(
    '/api/v1/index/files',
    { bodyLimit: deps.bodyLimitBytes, schema: { summary: 'Index code files (inline, or a directory on the service machine)', tags: ['index'], body: IndexFilesBody } },
    async (request) => {
      const body = request.body;
      return deps.indexer.index({ projectId: body.project_id, files: body.files, root: body.root, paths: body.paths, sync: body.sync });
    },
  );

  app.delete('/api/v1/index/:project_id', { schema: { summary: "Drop a project's index", tags: ['index'], params: ProjectParams } }, async (request) => ({
    deleted_chunks: await deps.indexer.deleteIndex(request.params.project_id),
  }));
}
