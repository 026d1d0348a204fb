// Submitting a job: defaults from the project and the configuration, the repository and refs
// checked before anything is stored, and the idempotency key honoured (same key, same job).
import { createHash, randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Config } from '../../platform/config.js';
import type { Database, Queryable } from '../../platform/database/database.js';
import { AppError, invalid } from '../../platform/errors.js';
import { isValidBranchName, refExists, repositoryHead } from '../../platform/git.js';
import { getProject } from '../projects/projects.js';
import { priorityRank, type AgentSpec, type ExecutorName, type JobRow, type Priority } from './job.js';

export interface SubmitJobInput {
  project_id: string;
  prompt: string;
  repo?: string;
  title?: string;
  ticket_id?: string;
  priority?: Priority;
  agent?: AgentSpec;
  executor?: ExecutorName;
  base_branch?: string;
  branch?: string;
  timeout_s?: number;
  max_attempts?: number;
  idempotency_key?: string;
  max_cost_usd?: number;
}

export function slugify(text: string, max = 40): string {
  const slug = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
    .replace(/-+$/, '');
  return slug || 'job';
}

function defaultTitle(prompt: string): string {
  const firstLine = prompt.trim().split('\n')[0] ?? '';
  return firstLine.length > 80 ? `${firstLine.slice(0, 77)}...` : firstLine || 'Untitled job';
}

function requestHash(input: SubmitJobInput): string {
  const { idempotency_key: _ignored, ...rest } = input;
  const canonical = JSON.stringify(rest, Object.keys(rest).sort());
  return createHash('sha256').update(canonical + JSON.stringify(rest.agent ?? null)).digest('hex');
}

/**
 * Submit-time checks of a repository and its refs, remembered for a few seconds: a burst of
 * submissions to one repository asks git once. A repository or branch that disappears within that
 * window fails the job at preparation instead, with git's own message.
 */
const CHECK_TTL_MS = 5000;
const headChecks = new Map<string, { at: number; head: Promise<{ top: string; branch: string | null } | undefined> }>();
const refChecks = new Map<string, { at: number; exists: Promise<boolean> }>();

function remembered<T>(cache: Map<string, { at: number } & T>, key: string, make: () => T): T {
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && now - hit.at < CHECK_TTL_MS) return hit;
  if (cache.size > 1000) cache.clear();
  const entry = { at: now, ...make() };
  cache.set(key, entry);
  return entry;
}

async function resolveRepository(repo: string): Promise<{ top: string; branch: string | null }> {
  const dir = path.resolve(repo);
  const head = await remembered(headChecks, dir, () => ({ head: repositoryHead(dir) })).head;
  if (!head) {
    headChecks.delete(dir);
    throw invalid('repo', `${repo} does not exist or is not a git repository`);
  }
  return head;
}

async function baseExists(repo: string, ref: string): Promise<boolean> {
  const key = `${repo}\0${ref}`;
  const exists = await remembered(refChecks, key, () => ({ exists: refExists(repo, ref) })).exists;
  if (!exists) refChecks.delete(key);
  return exists;
}

export interface SubmittedJob {
  job: JobRow;
  /** False when the idempotency key named an existing job. */
  created: boolean;
  /** Known for a job just created. */
  queuePosition?: number;
}

export async function submitJob(db: Database, config: Config, input: SubmitJobInput): Promise<SubmittedJob> {
  const hash = requestHash(input);
  if (input.idempotency_key) {
    const existing = await findByIdempotencyKey(db, input.idempotency_key, hash);
    if (existing) return { job: existing, created: false };
  }

  const executor = input.executor ?? 'local';
  const project = await getProject(db, input.project_id);
  let repo: string;
  let baseBranch: string;
  if (executor === 'github-actions') {
    const missing = [
      !project?.github && `project ${input.project_id} registered with github {owner, repo, workflow}`,
      !config.publicUrl && 'AUTOBUILD_PUBLIC_URL',
      !config.callbackSecret && !config.github.oidc.enabled && 'AUTOBUILD_CALLBACK_SECRET (or AUTOBUILD_GITHUB_OIDC)',
      !config.github.token && 'GITHUB_TOKEN',
    ].filter((m): m is string => typeof m === 'string');
    if (missing.length > 0) {
      throw new AppError('unprocessable', `the github-actions executor needs: ${missing.join(', ')}`, missing.map((m) => ({ field: 'executor', message: `needs ${m}` })));
    }
    repo = input.repo ?? project?.repo ?? `${project!.github!.owner}/${project!.github!.repo}`;
    baseBranch = input.base_branch ?? project?.default_branch ?? 'main';
    if (!(await isValidBranchName(baseBranch))) throw invalid('base_branch', `${baseBranch} is not a valid branch name`);
  } else {
    const repoInput = input.repo ?? project?.repo;
    if (!repoInput) throw invalid('repo', 'is required unless the project is registered');
    const head = await resolveRepository(repoInput);
    repo = head.top;
    const named = input.base_branch ?? project?.default_branch;
    if (named === undefined || named === null) {
      if (!head.branch) throw invalid('base_branch', 'the repository has a detached HEAD; name a base_branch');
      baseBranch = head.branch;
    } else {
      baseBranch = named;
      if (baseBranch.startsWith('-') || !(await baseExists(repo, baseBranch))) {
        throw invalid('base_branch', `${baseBranch} is not a branch or commit of ${repo}`);
      }
    }
  }
  const id = randomUUID();
  const title = input.title?.trim() || defaultTitle(input.prompt);
  // A generated name is valid by construction (a slug of [a-z0-9-]); a given one is checked by git.
  const branch = input.branch ?? `autobuild/${id.slice(0, 8)}-${slugify(title)}`;
  if (input.branch !== undefined && !(await isValidBranchName(branch))) throw invalid('branch', `${branch} is not a valid branch name`);
  if (!input.agent && config.jobs.defaultAgent === 'command') {
    throw invalid('agent', 'is required: the default agent type is "command", which needs an argv');
  }
  const agent: AgentSpec = input.agent ?? ({ type: config.jobs.defaultAgent } as AgentSpec);

  const rows = await insertJob(db, {
    id,
    project_id: input.project_id,
    ticket_id: input.ticket_id ?? null,
    title,
    prompt: input.prompt,
    priority: priorityRank(input.priority ?? 'normal'),
    executor,
    agent,
    repo,
    base_branch: baseBranch,
    branch,
    timeout_s: input.timeout_s ?? config.jobs.defaultTimeoutS,
    max_attempts: input.max_attempts ?? 1,
    idempotency_key: input.idempotency_key ?? null,
    request_hash: hash,
    max_cost_usd: input.max_cost_usd ?? config.costs.maxCostUsd ?? null,
    parent_job_id: null,
    thread_id: null,
    session_id: null,
  });
  if (rows[0]) {
    const { queue_position, ...job } = rows[0];
    return { job: job as JobRow, created: true, queuePosition: queue_position };
  }
  // Lost a race with the same key: the other request's job is the answer.
  const existing = await findByIdempotencyKey(db, input.idempotency_key!, hash);
  if (!existing) throw new AppError('state_conflict', 'the job could not be stored; try again');
  return { job: existing, created: false };
}

async function findByIdempotencyKey(db: Database, key: string, hash: string): Promise<JobRow | undefined> {
  const rows = await db.query<JobRow>(`select * from orchestrator.jobs where idempotency_key = $1`, [key], { reusePlan: true });
  const job = rows[0];
  if (job && job.request_hash !== hash) {
    throw new AppError('idempotency_key_reused', 'this Idempotency-Key was already used for a different request', [
      { field: 'idempotency_key', message: `already names job ${job.id}` },
    ]);
  }
  return job;
}

export interface NewJobRow {
  id: string;
  project_id: string;
  ticket_id: string | null;
  title: string;
  prompt: string;
  priority: number;
  executor: ExecutorName;
  agent: AgentSpec;
  repo: string;
  base_branch: string;
  branch: string;
  timeout_s: number;
  max_attempts: number;
  idempotency_key: string | null;
  request_hash: string | null;
  max_cost_usd: number | null;
  parent_job_id: string | null;
  thread_id: string | null;
  session_id: string | null;
}

/** Store a queued job (nothing when its idempotency key is taken) with its place in the queue, and wake the schedulers. */
export async function insertJob(db: Queryable, job: NewJobRow): Promise<Array<JobRow & { queue_position: number }>> {
  return db.query<JobRow & { queue_position: number }>(
    `with inserted as (
       insert into orchestrator.jobs
         (id, project_id, ticket_id, title, prompt, priority, status, executor, agent, repo, base_branch, branch,
          timeout_s, max_attempts, idempotency_key, request_hash, max_cost_usd, parent_job_id, thread_id, session_id)
       values ($1, $2, $3, $4, $5, $6, 'queued', $7, $8::jsonb, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
       on conflict (idempotency_key) do nothing
       returning *
     ), notified as (
       select pg_notify('autobuild_jobs', 'queued') from inserted
     )
     select inserted.*,
            -- Its place in the queue, from the same statement: the jobs ahead of it, plus itself.
            (select count(*)::int from orchestrator.jobs q
              where q.status = 'queued' and (q.priority, q.seq) < (inserted.priority, inserted.seq)) + 1 as queue_position
       from inserted left join notified on true`,
    [
      job.id,
      job.project_id,
      job.ticket_id,
      job.title,
      job.prompt,
      job.priority,
      job.executor,
      JSON.stringify(job.agent),
      job.repo,
      job.base_branch,
      job.branch,
      job.timeout_s,
      job.max_attempts,
      job.idempotency_key,
      job.request_hash,
      job.max_cost_usd,
      job.parent_job_id,
      job.thread_id,
      job.session_id,
    ],
    { reusePlan: true },
  );
}
