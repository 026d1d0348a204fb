// The memory service's response bodies as named OpenAPI components (API.md's objects): the one
// source the generated wire types (src/clients/generated/memory.ts) and the dashboard are built
// from. Registered with addSchema (registerComponents): they document, they do not filter.
import { Type, type TSchema } from 'typebox';
import { componentRef as Ref, nullable as Nullable, sharedComponents } from '../../platform/http/components.js';

const Iso = Type.String({ format: 'date-time' });
const Content = Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]);
const SourceRange = Type.Object({ path: Type.String(), start_line: Type.Integer(), end_line: Type.Integer() });

export const memoryComponents: Record<string, TSchema> = {
  SourceRange,
  SearchResult: Type.Object({
    path: Type.String(),
    start_line: Type.Integer(),
    end_line: Type.Integer(),
    language: Type.String(),
    symbol: Type.Optional(Type.String()),
    content: Type.String(),
    score: Type.Number(),
  }),
  SearchResponse: Type.Object({ results: Type.Array(Ref('SearchResult')) }),
  IndexResult: Type.Object({
    indexed_files: Type.Integer(),
    skipped_files: Type.Integer(),
    chunks_added: Type.Integer(),
    chunks_unchanged: Type.Integer(),
    chunks_removed: Type.Integer(),
    duration_ms: Type.Number(),
    embedding_model: Type.String(),
  }),
  Memory: Type.Object({
    id: Type.String({ format: 'uuid' }),
    project_id: Type.String(),
    type: Type.String(),
    content: Content,
    tags: Type.Array(Type.String()),
    ticket_id: Nullable(Type.String()),
    job_id: Nullable(Type.String()),
    seen_count: Type.Integer({ description: 'how many times it was written (near-duplicates merge into it)' }),
    created_at: Iso,
    updated_at: Iso,
    superseded_by: Nullable(Type.String()),
    superseded_at: Nullable(Iso),
    history: Type.Optional(Type.Array(Type.Object({ content: Content, replaced_at: Iso }), { description: 'wordings that merges replaced, oldest first (the last 20): in a write\'s answer, and in lists with include_history' })),
    score: Type.Optional(Type.Number({ description: 'cosine similarity to the query, in semantic recall only' })),
  }),
  MemoryPage: Type.Object({ memories: Type.Array(Ref('Memory')), next_cursor: Nullable(Type.String()) }),
  Pattern: Type.Object({
    id: Type.String(),
    type: Type.Union([Type.Literal('co_change'), Type.Literal('task_files'), Type.Literal('qa_failure'), Type.Literal('agent_stats')]),
    description: Type.String({ description: 'one readable sentence with the evidence' }),
    content: Type.Record(Type.String(), Type.Unknown(), {
      description:
        'what it relates: co_change {scope, paths, tasks_changing_either}; task_files {term, path, tasks_with_term}; qa_failure {check, runs, failure_rate}; agent_stats {agent, runs, success_rate, median_duration_s, duration_samples}',
    }),
    success_count: Type.Integer(),
    failure_count: Type.Integer(),
    confidence: Type.Number({ description: '0..1: a Wilson lower bound, so it grows with evidence' }),
    last_seen_at: Iso,
  }),
  PatternPage: Type.Object({ patterns: Type.Array(Ref('Pattern')), next_cursor: Nullable(Type.String()) }),
  TaskContext: Type.Object({
    context: Type.String(),
    tokens: Type.Integer(),
    sources: Type.Array(Ref('SourceRange')),
    memories: Type.Array(Ref('Memory'), { description: 'the memories rendered into `context` (their tokens count towards max_tokens)' }),
    patterns: Type.Array(Ref('Pattern'), { description: 'the patterns rendered into `context`' }),
  }),
  ChatMessage: Type.Object({ role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]), content: Type.String() }),
  ChatAnswer: Type.Object({ response: Type.String(), sources: Type.Array(Ref('SourceRange')), model: Nullable(Type.String()) }),
  ChangelogEntry: Type.Object({
    type: Type.String(),
    scope: Nullable(Type.String()),
    description: Type.String(),
    sha: Type.String(),
    breaking: Type.Boolean(),
    pr: Type.Optional(Nullable(Type.Integer())),
  }),
  Changelog: Type.Object({ changelog: Type.String(), entries: Type.Array(Ref('ChangelogEntry')) }),
  // The same in both services (API.md's health and error bodies).
  ...sharedComponents,
};
