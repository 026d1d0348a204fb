// Typed HTTP client of the memory service API (API.md): index, drop an index, search, context and
// health, over global fetch. It imports no service code: the wire types are declared here, and
// errors come back as ApiError (the contract's error body) or MemoryUnreachableError.
import { ApiError, displayUrl, errorFrom } from './http.js';

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

export interface IndexFilesResult {
  indexed_files: number;
  skipped_files: number;
  chunks_added: number;
  chunks_unchanged: number;
  chunks_removed: number;
  duration_ms: number;
  embedding_model: string;
}

export interface SearchRequest {
  project_id: string;
  query: string;
  /** Default 10, at most 100. */
  limit?: number;
  filters?: { path_prefix?: string; language?: string };
}

export interface SearchResult {
  path: string;
  start_line: number;
  end_line: number;
  language: string;
  symbol?: string;
  content: string;
  score: number;
}

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

export interface SourceRange {
  path: string;
  start_line: number;
  end_line: number;
}

export interface TaskContext {
  context: string;
  tokens: number;
  sources: SourceRange[];
  memories: unknown[];
  patterns: unknown[];
}

export interface MemoryHealth {
  status: 'ok' | 'degraded' | 'down';
  version: string;
  uptime_s: number;
  checks: { database: string; embeddings: string; llm: string } & Record<string, string>;
}

export interface MemoryClientOptions {
  baseUrl: string;
  token?: string;
  /** Per request (default 10 minutes: indexing a large root takes a while). */
  timeoutMs?: number;
}

/** The memory service could not be reached (refused, DNS, reset, timeout). */
export class MemoryUnreachableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MemoryUnreachableError';
  }
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
    return this.request<IndexFilesResult>('POST', '/api/v1/index/files', body);
  }

  /** Drop a project's index; the number of chunks removed. */
  async deleteIndex(projectId: string): Promise<number> {
    const result = await this.request<{ deleted_chunks: number }>('DELETE', `/api/v1/index/${encodeURIComponent(projectId)}`);
    return result.deleted_chunks;
  }

  async search(body: SearchRequest): Promise<SearchResult[]> {
    return (await this.request<{ results: SearchResult[] }>('POST', '/api/v1/search', body)).results;
  }

  context(body: ContextRequest): Promise<TaskContext> {
    return this.request<TaskContext>('POST', '/api/v1/context', body);
  }

  /** Store a memory (a near-duplicate of an existing one updates it instead). */
  remember(body: RememberRequest): Promise<{ id: string }> {
    return this.request<{ id: string }>('POST', '/api/v1/memory', body);
  }

  /** Health answers 503 with its body when down: that body is returned, not thrown. */
  health(): Promise<MemoryHealth> {
    return this.request<MemoryHealth>('GET', '/health', undefined, 503);
  }

  private async request<T>(method: string, path: string, body?: unknown, allowStatus?: number): Promise<T> {
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
      return (await response.json()) as T;
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw this.transportError(error);
    }
  }

  private transportError(error: unknown): Error {
    const where = displayUrl(this.baseUrl);
    if (error instanceof Error && error.name === 'TimeoutError') {
      return new MemoryUnreachableError(`the memory service at ${where} did not answer within ${Math.round(this.timeoutMs / 1000)} s`, { cause: error });
    }
    const cause = error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error);
    return new MemoryUnreachableError(`could not reach the memory service at ${where}: ${cause}`, { cause: error });
  }
}
