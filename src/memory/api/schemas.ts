// Request schemas of the memory service's API: one schema gives validation (400s naming the field),
// TypeScript types and the OpenAPI document.
import { Type } from 'typebox';

export const ProjectId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'letters, digits, ".", "_" and "-"; at most 100' });

const Language = Type.String({ pattern: '^[a-z0-9][a-z0-9_+#.-]{0,39}$', description: 'e.g. typescript, python, go; detected from the path when absent' });

export const IndexFilesBody = Type.Object(
  {
    project_id: ProjectId,
    files: Type.Optional(
      Type.Array(
        Type.Object(
          {
            path: Type.String({ minLength: 1, maxLength: 4096, description: 'relative to the project root, "/"-separated' }),
            content: Type.String(),
            language: Type.Optional(Language),
          },
          { additionalProperties: false },
        ),
        { description: 'inline files; give either files or root' },
      ),
    ),
    root: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'an absolute directory on the service machine, walked honouring .gitignore' })),
    paths: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 1000 }), {
        maxItems: 200,
        description:
          'globs selecting files (e.g. "src/**/*.ts"): *, **, ?, [...], and up to 2 flat brace lists ("*.{ts,tsx}"); no extglobs (parentheses, "|"); at most 3 "*" or "**" per glob, 2 in one segment, 2 "**"',
      }),
    ),
    sync: Type.Optional(Type.Boolean({ description: 'remove files of the project (within the globs) that this call did not see' })),
  },
  { additionalProperties: false },
);

export const ProjectParams = Type.Object({ project_id: ProjectId });

export const SearchBody = Type.Object(
  {
    project_id: ProjectId,
    query: Type.String({ minLength: 1, maxLength: 10_000, pattern: '\\S' }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 10 })),
    filters: Type.Optional(
      Type.Object(
        {
          path_prefix: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
          language: Type.Optional(Language),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ContextBody = Type.Object(
  {
    project_id: ProjectId,
    task_description: Type.String({ minLength: 1, maxLength: 100_000, pattern: '\\S' }),
    max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000, default: 2000 })),
  },
  { additionalProperties: false },
);

export const PatternsQuery = Type.Object(
  {
    project_id: ProjectId,
    type: Type.Optional(
      Type.Union([Type.Literal('co_change'), Type.Literal('task_files'), Type.Literal('qa_failure'), Type.Literal('agent_stats')], {
        description: 'co_change (files or areas changed together), task_files (task words → files), qa_failure, agent_stats',
      }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);
