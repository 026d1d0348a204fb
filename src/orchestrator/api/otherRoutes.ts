// /api/v1/queue, /api/v1/worktrees, /api/v1/projects, /api/v1/health, /api/v1/metrics.
import { Type } from 'typebox';
import type { Config } from '../../platform/config.js';
import type { Database } from '../../platform/database/database.js';
import { AppError, invalid } from '../../platform/errors.js';
import { git, refExists, repositoryTopLevel } from '../../platform/git.js';
import type { HttpApp } from '../../platform/http/app.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import type { JobMetrics } from '../metrics.js';
import { listProjects, toProject, upsertProject, getProject } from '../projects/projects.js';
import type { QueueOrder } from '../jobs/queue.js';
import type { WorktreeManager } from '../worktrees/worktreeManager.js';
import { assertStorable } from '../../platform/database/storable.js';
import { ListQuery, ProjectId, RegisterProjectBody } from './schemas.js';

export interface OtherRouteDeps {
  db: Database;
  queue: QueueOrder;
  config: Config;
  worktrees: WorktreeManager;
  metrics: JobMetrics;
  version: string;
  startedAt: number;
  memoryServiceUrl: () => string | undefined;
}

async function checkMemoryService(url: string | undefined): Promise<'ok' | 'unreachable' | 'disabled'> {
  if (!url) return 'disabled';
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
    return response.ok ? 'ok' : 'unreachable';
  } catch {
    return 'unreachable';
  }
}

/** `git --version` costs a process; health answers from a result at most 30 s old. */
function cachedGitCheck(): () => Promise<'ok' | 'missing'> {
  let last: { at: number; value: Promise<'ok' | 'missing'> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > 30_000) {
      last = { at: Date.now(), value: git(['--version'], { cwd: '/' }).then(() => 'ok' as const, () => 'missing' as const) };
    }
    return last.value;
  };
}

export function registerOtherRoutes(app: HttpApp, deps: OtherRouteDeps): void {
  const { db, config, worktrees, metrics } = deps;
  const gitCheck = cachedGitCheck();

  app.get('/api/v1/queue', { schema: { summary: 'The queue in start order', tags: ['queue'] } }, async () => ({
    max_parallel: config.maxParallel,
    ...(await deps.queue.snapshot()),
  }));

  app.get(
    '/api/v1/worktrees',
    {
      schema: {
        summary: 'Worktrees on disk (add include_removed=true for history)',
        tags: ['worktrees'],
        querystring: Type.Object({ ...ListQuery, include_removed: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
      },
    },
    async (request) => {
      const { limit = 50, cursor, include_removed = false } = request.query;
      const after = cursor ? decodeCursor<{ at: string; id: string }>(cursor, { at: 'string', id: 'string' }) : undefined;
      if (after && (Number.isNaN(Date.parse(after.at)) || !/^[0-9a-f-]{36}$/.test(after.id))) {
        throw new AppError('invalid_cursor', 'cursor is not one this service issued');
      }
      const rows = await worktrees.list({ limit: limit + 1, afterCreated: after, includeRemoved: include_removed });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        worktrees: page.map((row) => ({
          id: row.id,
          job_id: row.job_id,
          project_id: row.project_id,
          path: row.path,
          branch: row.branch,
          status: row.status,
          created_at: new Date(row.created_at).toISOString(),
          last_used_at: new Date(row.last_used_at).toISOString(),
        })),
        next_cursor: rows.length > limit && last ? encodeCursor({ at: new Date(last.created_at).toISOString(), id: last.id }) : null,
      };
    },
  );

  app.post('/api/v1/projects', { schema: { summary: 'Register or update a project', tags: ['projects'], body: RegisterProjectBody } }, async (request, reply) => {
    const body = request.body;
    assertStorable(body);
    const repo = await repositoryTopLevel(body.repo);
    if (!repo) throw invalid('repo', `${body.repo} does not exist or is not a git repository`);
    if (body.default_branch && !(await refExists(repo, body.default_branch))) {
      throw invalid('default_branch', `${body.default_branch} is not a branch of ${repo}`);
    }
    const { project, created } = await upsertProject(db, { ...body, repo });
    return reply.status(created ? 201 : 200).send(toProject(project));
  });

  app.get(
    '/api/v1/projects',
    { schema: { summary: 'Registered projects', tags: ['projects'], querystring: Type.Object(ListQuery, { additionalProperties: false }) } },
    async (request) => {
      const { limit = 50, cursor } = request.query;
      const after = cursor ? decodeCursor<{ id: string }>(cursor, { id: 'string' }) : undefined;
      const rows = await listProjects(db, limit + 1, after?.id);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { projects: page.map(toProject), next_cursor: rows.length > limit && last ? encodeCursor({ id: last.id }) : null };
    },
  );

  app.get('/api/v1/projects/:id', { schema: { summary: 'One project', tags: ['projects'], params: Type.Object({ id: ProjectId }) } }, async (request) => {
    const project = await getProject(db, request.params.id);
    if (!project) throw new AppError('project_not_found', `no project with id ${request.params.id}`);
    return toProject(project);
  });

  app.get('/api/v1/health', { schema: { summary: 'Health of the orchestrator and what it depends on', tags: ['health'] } }, async (_request, reply) => {
    const [database, gitStatus, memory] = await Promise.all([
      db.query('select 1').then(() => 'ok' as const, () => 'down' as const),
      gitCheck(),
      checkMemoryService(deps.memoryServiceUrl()),
    ]);
    const status = database !== 'ok' || gitStatus !== 'ok' ? 'down' : memory === 'unreachable' ? 'degraded' : 'ok';
    return reply.status(status === 'down' ? 503 : 200).send({
      status,
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      checks: { database, git: gitStatus, memory_service: memory },
    });
  });

  app.get('/api/v1/metrics', { schema: { summary: 'Prometheus metrics', tags: ['metrics'] } }, async (_request, reply) => {
    const body = await metrics.registry.metrics();
    return reply.type(metrics.registry.contentType).send(body);
  });
}
