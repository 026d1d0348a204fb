// Typed HTTP client of the memory service API (API.md): index, drop an index, search, context,
// memories (store, list, recall, delete) and health, over global fetch. It imports no service
// code: its wire types are generated from the service's OpenAPI document (./generated), and errors
// come back as ApiError (the contract's error body) or MemoryUnreachableError.
import type { components } from './generated/memory.js';
import { ApiError, displayUrl, errorFrom, hasField, scrubbed } from './http.js';

/** The wire types, generated from the memory service's OpenAPI document (npm run gen:types). */
type Schemas = components['schemas'];

export { ApiError };

export interface InlineFile {
  path: string;
  content: string;
  language?: string;
}

export type IndexFilesRequest = {
  project_id: string;
  /** Globs selecting files, e.g. "src/**\/*.ts". */
  paths?: string[];
  /** Remove files of the project (within the globs) that this call did not see. */
  sync?: boolean;
} & ({ files: InlineFile[]; root?: never } | { root: string; files?: never });

export type IndexFilesResult = Schemas['IndexResult'];

export interface SearchRequest {
  project_id: string;
  query: string;
  /** Default 10, at most 100. */
  limit?: number;
  filters?: { path_prefix?: string; language?: string };
}

export type SearchResult = Schemas['SearchResult'];

export interface ContextRequest {
  project_id: string;
  task_description: string;
  /** Default 2000. */
  max_tokens?: number;
}

export interface RememberRequest {
  project_id: string;
  type: string;
  content: string | Record<string, unknown>;
  ticket_id?: string;
  job_id?: string;
  tags?: string[];
}

/** A stored memory as the API returns it. */
export type StoredMemory = Schemas['Memory'];

/** What storing a memory did: created (201), or merged into a near-duplicate (200, its id), and what it superseded. */
export interface RememberOutcome {
  memory: StoredMemory;
  created: boolean;
  supersedes: string[];
}

export interface ListMemoriesOptions {
  type?: string;
  tag?: string;
  /** Also memories superseded by a contradicting newer one. */
  include_superseded?: boolean;
  /** One page: default 50, at most 500. */
  limit?: number;
  cursor?: string;
}

export type MemoryPage = Schemas['MemoryPage'];

export type SourceRange = Schemas['SourceRange'];

/** A pattern learned from verified execution outcomes (GET /api/v1/insights/patterns). */
export type LearnedPattern = Schemas['Pattern'];

export type TaskContext = Schemas['TaskContext'];

export interface MemoryHealth {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  uptime_s: number;
  checks: { database: string; embeddings: string; llm: string } & Record<string, string>;
}

export interface ChangelogRequest {
  repo?: string;
  project_id?: string;
  from?: string;
  to?: string;
  version?: string;
  format?: 'markdown' | 'json';
}

export interface ChangelogResult {
  changelog: string;
  entries: unknown[];
}

export interface MemoryClientOptions {
  baseUrl: string;
  token?: string;
  /** Per request (default 10 minutes: indexing a large root takes a while). */
  timeoutMs?: number;
}

/** `?a=1&b=x` of the defined values, or nothing. */
function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** The memory service could not be reached (refused, DNS, reset, timeout). */
export class MemoryUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MemoryUnreachableError';
  }
}

/** Some other server (or a broken one) at the memory service's URL: its answer is not the API's JSON. */
export function notMemoryApi(baseUrl: string): MemoryUnreachableError {
  return new MemoryUnreachableError(`the memory service at ${displayUrl(baseUrl)} did not answer with the API's JSON: is that the memory service's URL?`);
}

/**
 * Why a request to the memory service failed short of an answer: the time limit, an answer that is
 * not JSON, or no connection (the cause shown without credentials or the token).
 */
export function memoryTransportError(error: unknown, baseUrl: string, token: string | undefined, timeoutMs: number): MemoryUnreachableError {
  const where = displayUrl(baseUrl);
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new MemoryUnreachableError(`the memory service at ${where} did not answer within ${Math.round(timeoutMs / 1000)} s`, { cause: error });
  }
  if (error instanceof SyntaxError) return notMemoryApi(baseUrl);
  const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
  return new MemoryUnreachableError(`could not reach the memory service at ${where}: ${scrubbed(cause, token)}`, { cause: error });
}

export class MemoryClient {
  readonly baseUrl: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: MemoryClientOptions) {
    let parsed: URL;
    try {
      parsed = new URL(options.baseUrl);
    } catch {
      throw new TypeError(`the memory service URL must be an http(s) URL, not "${options.baseUrl}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new TypeError(`the memory service URL must be an http(s) URL, not "${displayUrl(options.baseUrl)}"`);
    }
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token || undefined;
    this.timeoutMs = options.timeoutMs ?? 600_000;
  }

  index(body: IndexFilesRequest): Promise<IndexFilesResult> {
    return this.request<IndexFilesResult>('POST', '/api/v1/index/files', body, 'indexed_files');
  }

  /** Drop a project's index; the number of chunks removed. */
  async deleteIndex(projectId: string): Promise<number> {
    const result = await this.request<{ deleted_chunks: number }>('DELETE', `/api/v1/index/${encodeURIComponent(projectId)}`, undefined, 'deleted_chunks');
    return result.deleted_chunks;
  }

  async search(body: SearchRequest): Promise<SearchResult[]> {
    return (await this.request<{ results: SearchResult[] }>('POST', '/api/v1/search', body, 'results')).results;
  }

  context(body: ContextRequest): Promise<TaskContext> {
    return this.request<TaskContext>('POST', '/api/v1/context', body, 'context');
  }

  /** Store a memory (a near-duplicate of an existing one updates it instead). */
  remember(body: RememberRequest): Promise<{ id: string }> {
    return this.request<{ id: string }>('POST', '/api/v1/memory', body, 'id');
  }

  /** Store a memory and say whether it was created or merged into a near-duplicate. */
  async rememberMemory(body: RememberRequest): Promise<RememberOutcome> {
    const { status, body: answer } = await this.send<StoredMemory & { supersedes?: string[]; merged_into?: string }>('POST', '/api/v1/memory', body, 'id');
    const { supersedes = [], merged_into: _mergedInto, ...memory } = answer;
    return { memory, created: status === 201, supersedes };
  }

  /** One page of a project's memories, newest first; follow next_cursor for the next. */
  listMemories(projectId: string, options: ListMemoriesOptions = {}): Promise<MemoryPage> {
    return this.request<MemoryPage>('GET', `/api/v1/memory/${encodeURIComponent(projectId)}${queryString({ ...options })}`, undefined, 'memories');
  }

  /** Semantic recall: the project's live memories nearest to `query`, best first, with scores. */
  async recallMemories(projectId: string, query: string, options: { type?: string; tag?: string; limit?: number } = {}): Promise<StoredMemory[]> {
    return (await this.request<MemoryPage>('GET', `/api/v1/memory/${encodeURIComponent(projectId)}${queryString({ ...options, query })}`, undefined, 'memories')).memories;
  }

  async deleteMemory(id: string): Promise<void> {
    // The contract names no field of this answer: any JSON object will do.
    await this.request<{ deleted: boolean }>('DELETE', `/api/v1/memory/${encodeURIComponent(id)}`, undefined, undefined);
  }

  /** The changelog of a git range; its markdown must be text (else another server answered). */
  async changelog(body: ChangelogRequest): Promise<ChangelogResult> {
    const result = await this.request<ChangelogResult>('POST', '/api/v1/changelog/generate', body, 'changelog');
    if (typeof result.changelog !== 'string') throw notMemoryApi(this.baseUrl);
    return result;
  }

  /** Health answers 503 with its body when down: that body is returned, not thrown. */
  health(): Promise<MemoryHealth> {
    return this.request<MemoryHealth>('GET', '/health', undefined, 'status', 503);
  }

  /** The answer's JSON, which must be an object (with `field` when given: another server on that port answers something else). */
  private async request<T>(method: string, path: string, body: unknown, field: string | undefined, allowStatus?: number): Promise<T> {
    return (await this.send<T>(method, path, body, field, allowStatus)).body;
  }

  private async send<T>(method: string, path: string, body: unknown, field: string | undefined, allowStatus?: number): Promise<{ status: number; body: T }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!response.ok && response.status !== allowStatus) throw await errorFrom(response);
      const answer: unknown = await response.json();
      if (!hasField(answer, field)) throw notMemoryApi(this.baseUrl);
      return { status: response.status, body: answer as T };
    } catch (error) {
      if (error instanceof ApiError || error instanceof MemoryUnreachableError) throw error;
      throw memoryTransportError(error, this.baseUrl, this.token, this.timeoutMs);
    }
  }
}
