// /api/v1/memory: store a memory (201 new; 200 when it merged into a near-duplicate, same id),
// list a project's memories (type/tag filters, cursor; `query` for semantic recall, best first),
// delete one.
import { Type } from 'typebox';
import { AppError, type FieldProblem } from '../../platform/errors.js';
import { assertStorable } from '../../platform/database/storable.js';
import type { HttpApp } from '../../platform/http/app.js';
import { createMemory, deleteMemory, listMemories, type MemoryDeps } from '../memories/memories.js';
import { renderContent, type MemoryContent } from '../memories/render.js';
import type { MemoryWriteHealth } from '../memories/writeHealth.js';
import { ProjectId, ProjectParams } from './schemas.js';

/** Largest content accepted, in UTF-8 bytes of the text or of the JSON object's serialisation. */
export const MAX_CONTENT_BYTES = 64 * 1024;
/** Deepest JSON content accepted (the top object is 1): deeper overflows the stack of JSON.stringify and the renderer. */
export const MAX_CONTENT_DEPTH = 32;

const Tag = Type.String({ minLength: 1, maxLength: 100, pattern: '^\\S(.*\\S)?$', description: 'no leading or trailing spaces' });
const MemoryType = Type.String({
  pattern: '^[A-Za-z][A-Za-z0-9_.:-]{0,63}$',
  description: 'execution_success, execution_failure, insight, decision, feedback, pattern, or a custom type',
});

export const CreateMemoryBody = Type.Object(
  {
    project_id: ProjectId,
    type: MemoryType,
    content: Type.Union([Type.String({ minLength: 1, pattern: '\\S' }), Type.Object({}, { additionalProperties: true, minProperties: 1 })], {
      description: 'text, or a JSON object (embedded through a "key: value" rendering); at most 64 KB',
    }),
    ticket_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    job_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
  },
  { additionalProperties: false },
);

export const ListMemoriesQuery = Type.Object(
  {
    type: Type.Optional(MemoryType),
    tag: Type.Optional(Tag),
    query: Type.Optional(Type.String({ minLength: 1, maxLength: 10_000, pattern: '\\S', description: 'semantic recall: best first, with a score; no cursor' })),
    include_superseded: Type.Optional(Type.Boolean({ description: 'also list memories superseded by a contradicting newer one (history)' })),
    include_history: Type.Optional(Type.Boolean({ description: 'with each memory, the wordings merges replaced (`history`, oldest first); not with `query`' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

export const MemoryIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

function checkContent(content: MemoryContent): void {
  // Structure first: a document too deep to serialise is refused before anything walks it recursively.
  assertStorable(content, { prefix: 'content', maxDepth: MAX_CONTENT_DEPTH });
  const bytes = Buffer.byteLength(typeof content === 'string' ? content : JSON.stringify(content), 'utf8');
  const problems: FieldProblem[] = [];
  if (bytes > MAX_CONTENT_BYTES) problems.push({ field: 'content', message: `is ${bytes} bytes; at most ${MAX_CONTENT_BYTES}` });
  else if (renderContent(content).trim() === '') problems.push({ field: 'content', message: 'has nothing to remember' });
  const [problem] = problems;
  if (problem) throw new AppError('validation_failed', `content ${problem.message}`, problems);
}

export function registerMemoryRoutes(app: HttpApp, deps: MemoryDeps & { writes?: MemoryWriteHealth }): void {
  app.post('/api/v1/memory', { schema: { summary: 'Store a memory (a near-duplicate updates the existing one)', tags: ['memory'], body: CreateMemoryBody } }, async (request, reply) => {
    const body = request.body;
    const content = body.content as MemoryContent;
    // Strings the store cannot keep (NUL, unpaired surrogates): a 400 naming the field, not a refused write.
    assertStorable({ ticket_id: body.ticket_id, job_id: body.job_id, tags: body.tags });
    checkContent(content);
    // /health hears how real writes went; a store that refuses the write is a 503, not a 500.
    const { memory, outcome, superseded } = await createMemory(deps, {
      projectId: body.project_id,
      type: body.type,
      content,
      ticketId: body.ticket_id,
      jobId: body.job_id,
      tags: body.tags,
    }).catch((error: unknown) => {
      const answer = deps.writes ? deps.writes.recordFailure(error) : error;
      if (answer instanceof AppError && answer.status === 503) request.log.warn({ err: answer.message }, 'memory not stored');
      throw answer;
    });
    deps.writes?.recordWritten();
    if (outcome === 'merged') return reply.status(200).send({ ...memory, merged_into: memory.id, supersedes: superseded });
    return reply.status(201).send({ ...memory, supersedes: superseded });
  });

  app.get(
    '/api/v1/memory/:project_id',
    { schema: { summary: "A project's memories, newest first; with `query`, best first", tags: ['memory'], params: ProjectParams, querystring: ListMemoriesQuery } },
    async (request) => {
      const { type, tag, query, include_superseded = false, include_history = false, limit = 50, cursor } = request.query;
      assertStorable({ tag });
      if (query !== undefined && cursor !== undefined) {
        throw new AppError('validation_failed', 'cursor: recall with query returns one ranked page', [{ field: 'cursor', message: 'is not used with query' }]);
      }
      if (query !== undefined && include_history) {
        throw new AppError('validation_failed', 'include_history: recall with query returns memories without their history', [{ field: 'include_history', message: 'is not used with query' }]);
      }
      return listMemories(deps, { projectId: request.params.project_id, type, tag, query, includeSuperseded: include_superseded, includeHistory: include_history, limit, cursor });
    },
  );

  app.delete('/api/v1/memory/:id', { schema: { summary: 'Delete one memory', tags: ['memory'], params: MemoryIdParams } }, async (request) => {
    await deleteMemory(deps, request.params.id);
    return { id: request.params.id, deleted: true };
  });
}
