// Calls to the two public APIs through the dashboard's same-origin proxy (/api/orchestrator,
// /api/memory), with the bearer token the person gave (kept in localStorage). A 401 clears it and
// asks again (TokenGate); errors carry the contract's {code, message, details}.
import type { FieldProblem } from './types';

export type Service = 'orchestrator' | 'memory';
const BASE: Record<Service, string> = { orchestrator: '/api/orchestrator', memory: '/api/memory' };
const TOKEN_KEY = 'autobuild.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: FieldProblem[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Listener = () => void;

/** The token and whether the services asked for one; TokenGate subscribes. */
export const auth = {
  listeners: new Set<Listener>(),
  needed: false,
  token(): string | null {
    try {
      return localStorage.getItem(TOKEN_KEY);
    } catch {
      return null;
    }
  },
  setToken(token: string): void {
    localStorage.setItem(TOKEN_KEY, token);
    auth.needed = false;
    auth.emit();
  },
  /** A 401: the stored token (if any) is wrong; ask for one. */
  reject(): void {
    localStorage.removeItem(TOKEN_KEY);
    if (!auth.needed) {
      auth.needed = true;
      auth.emit();
    }
  },
  subscribe(listener: Listener): () => void {
    auth.listeners.add(listener);
    return () => auth.listeners.delete(listener);
  },
  emit(): void {
    for (const listener of auth.listeners) listener();
  },
};

export interface RequestOptions {
  method?: string;
  query?: Record<string, string | number | boolean | undefined | null>;
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export function url(service: Service, path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const qs = params.toString();
  return `${BASE[service]}${path}${qs ? `?${qs}` : ''}`;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; details?: unknown } };
    if (body.error && typeof body.error.message === 'string') {
      const details = Array.isArray(body.error.details) ? (body.error.details as FieldProblem[]).filter((d) => typeof d?.field === 'string') : [];
      return new ApiError(response.status, body.error.code ?? 'error', body.error.message, details);
    }
  } catch {
    // not the contract's body
  }
  return new ApiError(response.status, 'http_error', `${response.status} ${response.statusText || 'error'}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

/** fetch with the token; a non-2xx answer throws ApiError (a 401 also asks for the token). */
export async function send(service: Service, path: string, options: RequestOptions & { accept?: string } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...options.headers };
  const token = auth.token();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url(service, path, options.query), {
      method: options.method ?? 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'unreachable', `the dashboard server did not answer (${(error as Error).message})`);
  }
  if (response.status === 401) auth.reject();
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getJson<T>(service: Service, path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(service, path, options);
  return (await response.json()) as T;
}

export async function getText(service: Service, path: string, options: RequestOptions = {}): Promise<string> {
  const response = await send(service, path, { ...options, accept: 'text/plain' });
  return response.text();
}

export interface SseMessage {
  event: string;
  data: string;
}

/** Reads a text/event-stream answer message by message (EventSource cannot send the token). */
export async function readSse(response: Response, onMessage: (message: SseMessage) => void): Promise<void> {
  if (!response.body) return;
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let event = 'message';
  let data: string[] = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let cut: number;
    while ((cut = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, cut);
      buffer = buffer.slice(cut + (buffer.startsWith('\r\n', cut) ? 2 : 1));
      if (line === '') {
        if (data.length > 0) onMessage({ event, data: data.join('\n') });
        event = 'message';
        data = [];
      } else if (line.startsWith(':')) {
        // comment (keep-alive)
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const raw = colon < 0 ? '' : line.slice(colon + 1);
        const fieldValue = raw.startsWith(' ') ? raw.slice(1) : raw;
        if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
      }
    }
  }
  if (data.length > 0) onMessage({ event, data: data.join('\n') });
}

/** Polling interval that backs off while the service keeps failing (2 s → 30 s). */
export function backoff(baseMs: number) {
  return (query: { state: { fetchFailureCount: number; status: string } }): number =>
    query.state.status === 'error' || query.state.fetchFailureCount > 0 ? Math.min(30_000, baseMs * 2 ** Math.min(query.state.fetchFailureCount, 4)) : baseMs;
}
