// Typed HTTP client of the orchestrator API (API.md), over global fetch. It imports no service
// code: its wire types are generated from the service's OpenAPI document (./generated), and errors
// come back as ApiError.

import { ApiError, displayUrl, errorFrom, hasField, scrubbed } from './http.js';

export { ApiError };

import type { components, paths } from './generated/orchestrator.js';

type Schemas = components['schemas'];

// The wire types, generated from the orchestrator's OpenAPI document (npm run gen:types).
export type Priority = Schemas['Priority'];
export type JobStatus = Schemas['JobStatus'];
export type ExecutorName = Schemas['Job']['executor'];
export type AgentSpec = Schemas['Agent'];
export type AgentType = AgentSpec['type'];

export const PRIORITIES: readonly Priority[] = ['critical', 'high', 'normal', 'low'];
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'preparing', 'running', 'succeeded', 'failed', 'cancelled', 'timed_out'];
export const EXECUTORS: readonly ExecutorName[] = ['local', 'github-actions'];
export const AGENT_TYPES: readonly AgentType[] = ['claude-code', 'codex', 'command'];

export type JobResult = Schemas['JobResult'];
export type Job = Schemas['Job'];
export type SubmitJobRequest = NonNullable<paths['/api/v1/jobs']['post']['requestBody']>['content']['application/json'];
export type JobPage = Schemas['JobPage'];
export type QueueSnapshot = Schemas['QueueSnapshot'];
export type Worktree = Schemas['Worktree'];
export type Project = Schemas['Project'];
export type RegisterProjectRequest = NonNullable<paths['/api/v1/projects']['post']['requestBody']>['content']['application/json'];
export type Health = Schemas['Health'];
export type JobEvent = Schemas['JobEvent'];
export type JobDiff = Schemas['JobDiff'];
export type DiffFile = Schemas['DiffFile'];
export type FollowUpRequest = Schemas['FollowUpRequest'];
export type PullRequest = Schemas['PullRequest'];
export type Usage = Schemas['Usage'];

export interface ListJobsQuery {
  status?: JobStatus;
  project_id?: string;
  limit?: number;
  cursor?: string;
}

export interface PageQuery {
  limit?: number;
  cursor?: string;
}

/** A non-2xx answer, with the contract's error body (or what could be made of another body). */
/** The orchestrator could not be reached (refused, DNS, reset, timeout) or answered nonsense. */
export class OrchestratorUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OrchestratorUnreachableError';
  }
}

export interface OrchestratorClientOptions {
  baseUrl: string;
  token?: string;
  /** Per request; for a live stream, until its headers (default 60 s: a cancel may wait for the agent to stop). */
  timeoutMs?: number;
}

type Query = Record<string, string | number | boolean | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** A live stream: the time limit covers the answer's headers only (the stream itself may last hours). */
  stream?: boolean;
}

export class OrchestratorClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: OrchestratorClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`the orchestrator URL must be an http(s) URL, not "${options.baseUrl}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`the orchestrator URL must be an http(s) URL, not "${displayUrl(options.baseUrl)}"`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  submitJob(body: SubmitJobRequest, options: { idempotencyKey?: string } = {}): Promise<Job> {
    const headers: Record<string, string> = options.idempotencyKey ? { 'idempotency-key': options.idempotencyKey } : {};
    return this.json<Job>('POST', '/api/v1/jobs', { body, headers }, 'id');
  }

  listJobs(query: ListJobsQuery = {}): Promise<JobPage> {
    return this.json<JobPage>('GET', '/api/v1/jobs', { query: { ...query } }, 'jobs');
  }

  getJob(id: string): Promise<Job> {
    return this.json<Job>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`, {}, 'id');
  }

  cancelJob(id: string): Promise<Job> {
    return this.json<Job>('DELETE', `/api/v1/jobs/${encodeURIComponent(id)}`, {}, 'id');
  }

  /** Continue a finished job: a new job on its branch (`parent_job_id` = id). 409 while the job or its thread is active. */
  followUp(id: string, body: FollowUpRequest): Promise<Job> {
    return this.json<Job>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/follow-ups`, { body }, 'id');
  }

  /** The job branch's changes against its merge base, as a unified diff. 404 branch_not_found while the branch does not exist. */
  async getDiff(id: string): Promise<string> {
    const response = await this.request('GET', `/api/v1/jobs/${encodeURIComponent(id)}/diff`, { headers: { accept: 'text/plain' } });
    return this.read(() => response.text());
  }

  /** The same changes per file (path, status, +/-, patch). */
  getDiffFiles(id: string): Promise<JobDiff> {
    return this.json<JobDiff>('GET', `/api/v1/jobs/${encodeURIComponent(id)}/diff`, { query: { format: 'json' } }, 'files');
  }

  /** Open (or return the existing) pull request of a finished job's branch. */
  openPullRequest(id: string): Promise<PullRequest> {
    return this.json<PullRequest>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/pull-request`, {}, 'pr_url');
  }

  /** The log so far, as text. */
  async getLogs(id: string): Promise<string> {
    const response = await this.request('GET', `/api/v1/jobs/${encodeURIComponent(id)}/logs`, { headers: { accept: 'text/plain' } });
    return this.read(() => response.text());
  }

  /**
   * Stream the log live (SSE) until the job ends: onChunk gets raw log text as it arrives.
   * Resolves with the job's final status; rejects if the stream breaks before the end.
   */
  async followLogs(id: string, onChunk: (text: string) => void, signal?: AbortSignal): Promise<JobStatus> {
    const path = `/api/v1/jobs/${encodeURIComponent(id)}/logs`;
    const response = await this.request('GET', path, { headers: { accept: 'text/event-stream' }, signal, stream: true });
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream') || !response.body) {
      await response.body?.cancel().catch(() => undefined);
      throw new OrchestratorUnreachableError(`the orchestrator at ${displayUrl(this.baseUrl)} did not answer with an event stream`);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await this.read(() => this.withinIdleLimit(reader.read()));
        buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
        let boundary: number;
        while ((boundary = buffer.indexOf('\n\n')) >= 0) {
          const event = parseEvent(buffer.slice(0, boundary));
          buffer = buffer.slice(boundary + 2);
          if (event.name === 'log' && event.data !== undefined) onChunk(`${event.data}\n`);
          if (event.name === 'end') return endStatus(event.data);
        }
        if (done) break;
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    throw new OrchestratorUnreachableError(`the log stream from ${displayUrl(this.baseUrl)} ended before the job did`);
  }

  getQueue(): Promise<QueueSnapshot> {
    return this.json<QueueSnapshot>('GET', '/api/v1/queue', {}, 'queued_jobs');
  }

  listWorktrees(query: PageQuery & { include_removed?: boolean } = {}): Promise<{ worktrees: Worktree[]; next_cursor: string | null }> {
    return this.json('GET', '/api/v1/worktrees', { query: { ...query } }, 'worktrees');
  }

  listProjects(query: PageQuery = {}): Promise<{ projects: Project[]; next_cursor: string | null }> {
    return this.json('GET', '/api/v1/projects', { query: { ...query } }, 'projects');
  }

  registerProject(body: RegisterProjectRequest): Promise<Project> {
    return this.json<Project>('POST', '/api/v1/projects', { body }, 'id');
  }

  /** Health answers 503 with its body when down: that body is returned, not thrown. */
  async health(): Promise<Health> {
    const response = await this.request('GET', '/api/v1/health', { allowStatus: 503 });
    return this.read(() => response.json() as Promise<Health>);
  }

  /** The answer's JSON, which must be an object with `field` (another server on that port answers something else). */
  private async json<T>(method: string, path: string, options: RequestOptions, field: string): Promise<T> {
    const response = await this.request(method, path, options);
    const body = await this.read(() => response.json() as Promise<unknown>);
    if (!hasField(body, field)) throw this.notTheApi();
    return body as T;
  }

  /**
   * A live log read: the orchestrator sends a keep-alive every 15 s, so a minute (or the request
   * limit, if longer) of silence is a dead connection, not a quiet job.
   */
  private async withinIdleLimit<T>(reading: Promise<T>): Promise<T> {
    const limitMs = Math.max(this.timeoutMs, 60_000);
    let timer: NodeJS.Timeout | undefined;
    const silence = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new OrchestratorUnreachableError(`the log stream from ${displayUrl(this.baseUrl)} sent nothing for ${Math.round(limitMs / 1000)} s, not even its keep-alive`)),
        limitMs,
      );
    });
    try {
      return await Promise.race([reading, silence]);
    } finally {
      clearTimeout(timer);
    }
  }

  private notTheApi(): OrchestratorUnreachableError {
    return new OrchestratorUnreachableError(`the orchestrator at ${displayUrl(this.baseUrl)} did not answer with the API's JSON: is that the orchestrator's URL?`);
  }

  /** Body reads can fail too (connection reset, timeout): those are unreachable errors. */
  private async read<T>(reading: () => Promise<T>): Promise<T> {
    try {
      return await reading();
    } catch (error) {
      throw this.transportError(error);
    }
  }

  private async request(method: string, path: string, options: RequestOptions & { allowStatus?: number } = {}): Promise<Response> {
    const url = new URL(`${this.baseUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    // A stream's limit stops once its headers are in; a plain request's covers its body too. A timer
    // and a controller of our own, not AbortSignal.timeout: AbortSignal.any holds its sources weakly
    // on Node 20, so an otherwise unreferenced timeout signal could be collected before it fired and
    // a server that stalls mid-body would hold the CLI until killed (seen intermittently in CI).
    const answered = new AbortController();
    const timer = setTimeout(() => answered.abort(new DOMException('no answer', 'TimeoutError')), this.timeoutMs);
    // A plain request's timer outlives the request (it covers the body read): it must not keep the process alive.
    timer.unref();
    const signals = [options.signal, answered.signal].filter((s): s is AbortSignal => s !== undefined);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: signals.length > 0 ? AbortSignal.any(signals) : undefined,
      });
    } catch (error) {
      throw this.transportError(error);
    } finally {
      if (options.stream) clearTimeout(timer);
    }
    if (!response.ok && response.status !== options.allowStatus) throw await errorFrom(response);
    return response;
  }

  private transportError(error: unknown): Error {
    if (error instanceof OrchestratorUnreachableError) return error;
    const where = displayUrl(this.baseUrl);
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new OrchestratorUnreachableError(`the orchestrator at ${where} did not answer within ${Math.round(this.timeoutMs / 1000)} s`, { cause: error });
    }
    if (error instanceof Error && error.name === 'AbortError') return error;
    if (error instanceof SyntaxError) return this.notTheApi();
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return new OrchestratorUnreachableError(`could not reach the orchestrator at ${where}: ${scrubbed(cause, this.token)}`, { cause: error });
  }
}

interface ServerEvent {
  name: string;
  data: string | undefined;
}

/**
 * One SSE event block. Lines are split on "\n" only: the server writes each log line as a data
 * line, so a "\r" inside the log is content, not a line break.
 */
function parseEvent(block: string): ServerEvent {
  let name = 'message';
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
  }
  return { name, data: data.length > 0 ? data.join('\n') : undefined };
}

function endStatus(data: string | undefined): JobStatus {
  try {
    const status = (JSON.parse(data ?? '') as { status?: unknown }).status;
    if (typeof status === 'string' && (JOB_STATUSES as readonly string[]).includes(status)) return status as JobStatus;
  } catch {
    // fall through
  }
  throw new OrchestratorUnreachableError(`the log stream ended with an unreadable end event: ${data ?? '(no data)'}`);
}
