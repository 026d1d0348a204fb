// The job record: its row in the database and its shape on the wire (API.md "Job object").

export const PRIORITIES = ['critical', 'high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const JOB_STATUSES = ['queued', 'preparing', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled', 'timed_out'];
export const ACTIVE_STATUSES: readonly JobStatus[] = ['preparing', 'running'];

export const EXECUTORS = ['local', 'github-actions'] as const;
export type ExecutorName = (typeof EXECUTORS)[number];

export type AgentSpec =
  | { type: 'command'; command: string[]; env?: Record<string, string> }
  | { type: 'claude-code'; model?: string; max_turns?: number; allowed_tools?: string[]; permission_mode?: string }
  | { type: 'codex'; model?: string; sandbox?: string };

export interface QaCheckResult {
  name: string;
  passed: boolean;
  command?: string[];
  exit_code?: number | null;
  duration_ms?: number | null;
  output_tail?: string | null;
}

export interface JobResult {
  commits: Array<{ sha: string; message: string }>;
  files_changed: string[];
  diff_stat: { files: number; insertions: number; deletions: number };
  qa: { passed: boolean; rounds?: number; checks: QaCheckResult[] } | null;
  pr_url: string | null;
  pr_number?: number | null;
  summary: string | null;
  /** Tokens of every run of the job (a resume after a rate limit included); null when the agent reported none. */
  usage?: TokenUsage | null;
  /** Dollars spent by every run of the job: as the agent reported it, or priced from tokens (cost_source says which). */
  cost_usd?: number | null;
  /** 'agent': the agent's own figure; 'price_table': tokens × the configured price (the agent reported no cost). */
  cost_source?: 'agent' | 'price_table' | null;
  num_turns?: number | null;
  model?: string | null;
  session_id?: string | null;
  permission_denials?: number;
  /** The tools the agent was denied, e.g. "Write hello.txt". */
  denied_tools?: string[];
}

import type { TokenUsage } from '../agents/runEvents.js';

export interface JobRow {
  id: string;
  seq: string | number;
  project_id: string;
  ticket_id: string | null;
  title: string;
  prompt: string;
  priority: number;
  status: JobStatus;
  executor: ExecutorName;
  agent: AgentSpec;
  repo: string;
  base_branch: string;
  branch: string;
  timeout_s: number;
  attempt: number;
  max_attempts: number;
  idempotency_key: string | null;
  request_hash: string | null;
  run_at: Date;
  locked_by: string | null;
  locked_at: Date | null;
  lease_expires_at: Date | null;
  cancel_requested_at: Date | null;
  agent_pid: number | null;
  worktree_id: string | null;
  worktree_path: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  exit_code: number | null;
  error: string | null;
  result: JobResult | null;
  external_run: Record<string, unknown> | null;
  parent_job_id: string | null;
  thread_id: string | null;
  session_id: string | null;
  runs: number;
  parks: number;
  /** QA rounds the current attempt has used before a provider's limit parked it (0 otherwise). */
  qa_rounds: number;
  waiting_reason: string | null;
  max_cost_usd: number | null;
  cost_usd: number;
  usage: TokenUsage | null;
  spent_at: Date | null;
}

export interface Job {
  id: string;
  project_id: string;
  ticket_id: string | null;
  title: string;
  prompt: string;
  priority: Priority;
  status: JobStatus;
  executor: ExecutorName;
  agent: AgentSpec;
  repo: string;
  base_branch: string;
  branch: string;
  worktree: { id: string; path: string } | null;
  attempt: number;
  max_attempts: number;
  timeout_s: number;
  queue_position: number | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  exit_code: number | null;
  error: string | null;
  result: JobResult | null;
  parent_job_id: string | null;
  /** While queued: not started before this time (retry backoff, a provider's limit). */
  not_before: string | null;
  waiting_reason: string | null;
  max_cost_usd: number | null;
}

export const priorityRank = (priority: Priority): number => PRIORITIES.indexOf(priority);
export const priorityName = (rank: number): Priority => PRIORITIES[rank] ?? 'normal';
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);

const iso = (value: Date | string | null): string | null => (value === null ? null : new Date(value).toISOString());

/** Agent env values may hold secrets: the wire shows the names only. */
function publicAgent(agent: AgentSpec): AgentSpec {
  if (agent.type !== 'command' || !agent.env) return agent;
  return { ...agent, env: Object.fromEntries(Object.keys(agent.env).map((name) => [name, '[REDACTED]'])) };
}

/**
 * A job on the wire. While a queued job waits out a time (a provider's limit, a retry backoff) its
 * stored reason says why; after that, waitingReason is what the queue knows now (a project over its
 * budget or at its cap, no free slot).
 */
export function toJob(row: JobRow, queuePosition: number | null, waitingReason?: string | null): Job {
  const notBefore = row.status === 'queued' && new Date(row.run_at).getTime() > Date.now() ? iso(row.run_at) : null;
  return {
    id: row.id,
    project_id: row.project_id,
    ticket_id: row.ticket_id,
    title: row.title,
    prompt: row.prompt,
    priority: priorityName(row.priority),
    status: row.status,
    executor: row.executor,
    agent: publicAgent(row.agent),
    repo: row.repo,
    base_branch: row.base_branch,
    branch: row.branch,
    worktree: row.worktree_id && row.worktree_path ? { id: row.worktree_id, path: row.worktree_path } : null,
    attempt: row.attempt,
    max_attempts: row.max_attempts,
    timeout_s: row.timeout_s,
    queue_position: row.status === 'queued' ? queuePosition : null,
    created_at: iso(row.created_at)!,
    started_at: iso(row.started_at),
    finished_at: iso(row.finished_at),
    exit_code: row.exit_code,
    error: row.error,
    result: row.result,
    parent_job_id: row.parent_job_id,
    not_before: notBefore,
    waiting_reason: row.status !== 'queued' ? null : notBefore ? (row.waiting_reason ?? 'retry backoff') : (waitingReason ?? null),
    max_cost_usd: row.max_cost_usd,
  };
}
