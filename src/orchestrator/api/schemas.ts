// Request schemas of the orchestrator API: one schema gives validation (400s naming the field),
// TypeScript types and the OpenAPI document.
import { Type } from 'typebox';
import { EXECUTORS, JOB_STATUSES, PRIORITIES, type AgentSpec } from '../jobs/job.js';

export const ProjectId = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$', description: 'letters, digits, ".", "_" and "-"; at most 100' });

const EnvName = '^[A-Za-z_][A-Za-z0-9_]{0,127}$';

const agentVariants = [
  Type.Object(
    {
      type: Type.Literal('command'),
      command: Type.Array(Type.String({ minLength: 1, maxLength: 10_000 }), { minItems: 1, maxItems: 1000, description: 'argv; never run through a shell' }),
      env: Type.Optional(Type.Record(Type.String({ pattern: EnvName }), Type.String({ maxLength: 100_000 }))),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('claude-code'),
      model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      max_turns: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
      allowed_tools: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 200 })),
      permission_mode: Type.Optional(Type.Enum(['default', 'acceptEdits', 'bypassPermissions', 'plan'])),
    },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('codex'),
      model: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
      sandbox: Type.Optional(Type.Enum(['read-only', 'workspace-write', 'danger-full-access'])),
    },
    { additionalProperties: false },
  ),
];

/** oneOf with a discriminator, so an error names the problem in the variant the `type` selects. */
export const AgentSchema = Type.Unsafe<AgentSpec>({
  type: 'object',
  required: ['type'],
  discriminator: { propertyName: 'type' },
  oneOf: agentVariants,
});

export const SubmitJobBody = Type.Object(
  {
    project_id: ProjectId,
    prompt: Type.String({ minLength: 1, maxLength: 200_000, pattern: '\\S', description: 'what the agent is asked to do; not blank' }),
    repo: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    title: Type.Optional(Type.String({ maxLength: 500 })),
    ticket_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    priority: Type.Optional(Type.Enum([...PRIORITIES])),
    agent: Type.Optional(AgentSchema),
    executor: Type.Optional(Type.Enum([...EXECUTORS])),
    base_branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 7 * 24 * 3600 })),
    max_attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    idempotency_key: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    max_cost_usd: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000_000, description: 'stop the run and fail the job once it has spent more (dollars); default AUTOBUILD_MAX_COST_USD' })),
  },
  { additionalProperties: false },
);

export const JobIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const ListQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
};

export const ListJobsQuery = Type.Object(
  {
    ...ListQuery,
    status: Type.Optional(Type.Enum([...JOB_STATUSES])),
    project_id: Type.Optional(ProjectId),
  },
  { additionalProperties: false },
);

export const RegisterProjectBody = Type.Object(
  {
    id: ProjectId,
    repo: Type.String({ minLength: 1, maxLength: 4096 }),
    default_branch: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    max_parallel: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    github: Type.Optional(
      Type.Object(
        {
          owner: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9-]{0,38}$' }),
          repo: Type.String({ pattern: '^[A-Za-z0-9._-]{1,100}$' }),
          workflow: Type.String({ minLength: 1, maxLength: 255 }),
        },
        { additionalProperties: false },
      ),
    ),
    qa: Type.Optional(
      Type.Object(
        {
          commands: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9 ._:-]{0,99}$' }),
                  command: Type.Array(Type.String({ minLength: 1, maxLength: 10_000 }), { minItems: 1, maxItems: 1000, description: 'argv; never run through a shell' }),
                  timeout_s: Type.Optional(Type.Integer({ minimum: 1, maximum: 24 * 3600 })),
                },
                { additionalProperties: false },
              ),
              { maxItems: 50, description: 'the checks; absent: detected from the repository; []: QA off' },
            ),
          ),
          rounds: Type.Optional(Type.Integer({ minimum: 0, maximum: 20, description: 'more tries the agent gets after failing checks (default 2)' })),
          required: Type.Optional(Type.Boolean({ description: 'checks still failing fail the job (default true)' })),
        },
        { additionalProperties: false },
      ),
    ),
    budget: Type.Optional(
      Type.Object({ daily_cost_usd: Type.Number({ minimum: 0, maximum: 1_000_000, description: 'dollars in a rolling 24 h window' }) }, { additionalProperties: false }),
    ),
    pull_requests: Type.Optional(Type.Boolean({ description: 'open a pull request for every succeeded job (needs github)' })),
  },
  { additionalProperties: false },
);
