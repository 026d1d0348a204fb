// The orchestrator's response bodies as named OpenAPI components (API.md's objects): the one source
// the generated wire types (src/clients/generated/orchestrator.ts) and the dashboard are built from.
// Registered with addSchema (registerComponents), so they document the wire without filtering what
// a route sends.
import { Type, type TSchema } from 'typebox';
import { componentRef as Ref, nullable as Nullable, sharedComponents } from '../../platform/http/components.js';
import { AgentSchema } from './schemas.js';

const Iso = Type.String({ format: 'date-time' });
const Priority = Type.Union([Type.Literal('critical'), Type.Literal('high'), Type.Literal('normal'), Type.Literal('low')]);
const JobStatus = Type.Union(
  ['queued', 'preparing', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'].map((s) => Type.Literal(s)),
  { description: 'queued → preparing → running → succeeded | failed | cancelled | timed_out' },
);


const QaCheck = Type.Object({
  name: Type.String(),
  passed: Type.Boolean(),
  command: Type.Optional(Type.Array(Type.String())),
  exit_code: Type.Optional(Nullable(Type.Integer())),
  duration_ms: Type.Optional(Nullable(Type.Number())),
  output_tail: Type.Optional(Nullable(Type.String())),
});

const Usage = Type.Object({
  input_tokens: Type.Number(),
  output_tokens: Type.Number(),
  cache_read_input_tokens: Type.Optional(Type.Number()),
  cache_creation_input_tokens: Type.Optional(Type.Number()),
});

export const orchestratorComponents: Record<string, TSchema> = {
  Priority,
  JobStatus,
  Agent: AgentSchema,
  Usage,
  QaReport: Type.Object({ passed: Type.Boolean(), rounds: Type.Optional(Type.Integer()), checks: Type.Array(QaCheck) }),
  JobResult: Type.Object({
    commits: Type.Array(Type.Object({ sha: Type.String(), message: Type.String() })),
    files_changed: Type.Array(Type.String()),
    diff_stat: Type.Object({ files: Type.Integer(), insertions: Type.Integer(), deletions: Type.Integer() }),
    qa: Nullable(Ref('QaReport')),
    pr_url: Nullable(Type.String()),
    pr_number: Type.Optional(Nullable(Type.Integer())),
    summary: Nullable(Type.String()),
    usage: Type.Optional(Nullable(Ref('Usage'))),
    cost_usd: Type.Optional(Nullable(Type.Number())),
    num_turns: Type.Optional(Nullable(Type.Integer())),
    session_id: Type.Optional(Nullable(Type.String())),
    permission_denials: Type.Optional(Type.Integer()),
    cost_source: Type.Optional(Nullable(Type.Union([Type.Literal('agent'), Type.Literal('price_table')], { description: "agent: the agent's own figure; price_table: tokens priced by the configured table" }))),
    model: Type.Optional(Nullable(Type.String())),
    denied_tools: Type.Optional(Type.Array(Type.String(), { description: 'the tool calls the agent was denied, e.g. "Write hello.txt"' })),
  }),
  Job: Type.Object({
    id: Type.String({ format: 'uuid' }),
    project_id: Type.String(),
    ticket_id: Nullable(Type.String()),
    title: Type.String(),
    prompt: Type.String(),
    priority: Ref('Priority'),
    status: Ref('JobStatus'),
    executor: Type.Union([Type.Literal('local'), Type.Literal('github-actions')]),
    agent: Ref('Agent'),
    repo: Type.String(),
    base_branch: Type.String(),
    branch: Type.String(),
    worktree: Nullable(Type.Object({ id: Type.String(), path: Type.String() })),
    attempt: Type.Integer(),
    max_attempts: Type.Integer(),
    timeout_s: Type.Optional(Type.Integer()),
    queue_position: Nullable(Type.Integer({ description: 'only while queued; 1 = next to start' })),
    created_at: Iso,
    started_at: Nullable(Iso),
    finished_at: Nullable(Iso),
    exit_code: Nullable(Type.Integer()),
    error: Nullable(Type.String()),
    result: Nullable(Ref('JobResult')),
    parent_job_id: Type.Optional(Nullable(Type.String({ format: 'uuid' }))),
    not_before: Type.Optional(Nullable(Iso)),
    waiting_reason: Type.Optional(Nullable(Type.String({ description: 'why a queued job is not started yet' }))),
    max_cost_usd: Type.Optional(Nullable(Type.Number())),
  }),
  JobPage: Type.Object({ jobs: Type.Array(Ref('Job')), next_cursor: Nullable(Type.String()) }),
  QueueSnapshot: Type.Object({
    max_parallel: Type.Integer(),
    running: Type.Integer(),
    queued: Type.Integer(),
    by_priority: Type.Object({ critical: Type.Integer(), high: Type.Integer(), normal: Type.Integer(), low: Type.Integer() }),
    queued_jobs: Type.Array(
      Type.Object({ id: Type.String(), priority: Ref('Priority'), queue_position: Type.Integer(), project_id: Type.String(), title: Type.String() }),
    ),
  }),
  JobEvent: Type.Object(
    {
      seq: Type.Integer(),
      at: Iso,
      kind: Type.String({
        description:
          'agent_text (text), tool_call (tool, summary, call_id), tool_result (tool, is_error, summary, call_id), usage (usage, cost_usd, num_turns), session (session_id, model, permission_mode), permission_denied (tool, summary), rate_limit (status, resets_at, message), result (is_error, subtype, text), error (message), note (text), output (text), qa_check (name, command, passed, exit_code, duration_ms, output_tail), unknown (type, summary)',
      }),
      text: Type.Optional(Nullable(Type.String())),
      tool: Type.Optional(Type.String()),
      summary: Type.Optional(Type.String()),
      is_error: Type.Optional(Type.Boolean()),
      call_id: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
      usage: Type.Optional(Ref('Usage')),
      cost_usd: Type.Optional(Nullable(Type.Number())),
      session_id: Type.Optional(Type.String()),
    },
    { additionalProperties: true },
  ),
  JobEventPage: Type.Object({ events: Type.Array(Ref('JobEvent')), next_cursor: Nullable(Type.String()) }),
  DiffFile: Type.Object({
    path: Type.String(),
    status: Type.String({ description: 'added, modified, deleted, renamed, copied, type_changed' }),
    old_path: Type.Optional(Type.String({ description: 'the path before a rename or copy' })),
    insertions: Type.Integer(),
    deletions: Type.Integer(),
    patch: Type.String({ description: 'the unified diff of this file' }),
  }),
  JobDiff: Type.Object({ files: Type.Array(Ref('DiffFile')) }),
  FollowUpRequest: Type.Object({ prompt: Type.String(), priority: Type.Optional(Ref('Priority')) }),
  PullRequest: Type.Object({ pr_url: Type.String(), pr_number: Type.Integer() }),
  ProjectQa: Type.Object({
    commands: Type.Optional(Type.Array(Type.Object({ name: Type.String(), command: Type.Array(Type.String()) }))),
    rounds: Type.Optional(Type.Integer()),
    required: Type.Optional(Type.Boolean()),
  }),
  Project: Type.Object({
    id: Type.String(),
    repo: Type.String(),
    default_branch: Nullable(Type.String()),
    max_parallel: Nullable(Type.Integer()),
    github: Nullable(Type.Object({ owner: Type.String(), repo: Type.String(), workflow: Type.String() })),
    qa: Type.Optional(Nullable(Ref('ProjectQa'))),
    budget: Type.Optional(Nullable(Type.Object({ daily_cost_usd: Type.Number() }))),
    pull_requests: Type.Optional(Type.Boolean()),
    created_at: Iso,
    updated_at: Iso,
  }),
  ProjectPage: Type.Object({ projects: Type.Array(Ref('Project')), next_cursor: Nullable(Type.String()) }),
  Worktree: Type.Object({
    id: Type.String(),
    job_id: Nullable(Type.String()),
    project_id: Type.String(),
    path: Type.String(),
    branch: Type.String(),
    status: Type.Union([Type.Literal('active'), Type.Literal('cleanup'), Type.Literal('removed')]),
    created_at: Iso,
    last_used_at: Iso,
  }),
  WorktreePage: Type.Object({ worktrees: Type.Array(Ref('Worktree')), next_cursor: Nullable(Type.String()) }),
  // The same in both services (API.md's health and error bodies).
  ...sharedComponents,
};
