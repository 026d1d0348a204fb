// A local HTTP server speaking the OpenAI Responses API streaming wire format, for tests of the
// Codex CLI (through a `model_providers.<name>.base_url` with `wire_api="responses"`: Codex ignores
// OPENAI_BASE_URL). POST /v1/responses answers as SSE (response.created, response.output_item.added/
// done, response.output_text.delta, response.completed with usage, or response.failed) or, when
// the request says `stream: false`, as the JSON response object. The test scripts the answers: a
// function of the request body and its index among /v1/responses requests returns assistant text,
// reasoning and tool calls (Codex 0.171 sends `exec_command` as a function tool and `apply_patch` as
// a freeform custom tool; its code-mode models get one custom `exec` tool running JavaScript), or an
// API error (429 usage/rate limits with their headers). Any other path is a 404 in the API's error
// shape. Every request is recorded (secrets redacted) for assertions.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

export type FakeItem =
  | { type: 'message'; text: string }
  | { type: 'reasoning'; summary: string }
  /** A JSON function tool call (Codex's `exec_command`, `write_stdin`...); `namespace` for a tool found by tool_search ("mcp__<server>"). */
  | { type: 'function_call'; name: string; arguments: Record<string, unknown> | string; call_id?: string; namespace?: string }
  /** A freeform tool call (Codex's `apply_patch`, and code mode's `exec`). */
  | { type: 'custom_tool_call'; name: string; input: string; call_id?: string }
  /** Any other output item, written as given (e.g. a hosted `web_search_call`). */
  | { type: 'raw'; item: Record<string, unknown> };

export interface FakeTurn {
  output: FakeItem[];
  /** Defaults to a rough estimate from the request and the output. */
  usage?: { input_tokens: number; output_tokens: number; cached_tokens?: number; reasoning_tokens?: number };
  model?: string;
  /** After the output items, `response.failed` with this error instead of `response.completed`. */
  failure?: { code: string; message: string };
  /** After the output items, nothing more (the connection stays open until the fake closes). */
  stall?: boolean;
}

export interface FakeApiError {
  /** HTTP status: 400, 401, 429, 500, 503... */
  status: number;
  /** The body's `error` object: `type`, `message` and whatever else the API sends (code, plan_type, resets_at...). */
  error: { type: string; message: string; [key: string]: unknown };
  /** Response headers (e.g. retry-after, x-codex-primary-used-percent), over the defaults. */
  headers?: Record<string, string>;
}

export type FakeAnswer = FakeTurn | FakeApiError;

/** An item of the request's `input` (the fields tests look at). */
export interface InputItem {
  type: string;
  role?: string;
  content?: Array<{ type: string; text?: string; [key: string]: unknown }> | string;
  call_id?: string;
  name?: string;
  output?: unknown;
  input?: string;
  arguments?: string;
  [key: string]: unknown;
}

/** The body Codex posts to /v1/responses. */
export interface ResponsesRequest {
  model: string;
  input: InputItem[];
  instructions?: string;
  tools?: Array<{ type: string; name?: string; [key: string]: unknown }>;
  stream?: boolean;
  [key: string]: unknown;
}

/** Answers the index-th request to /v1/responses (0-based, counting every one, retries included). */
export type FakeScript = (body: ResponsesRequest, index: number) => FakeAnswer | Promise<FakeAnswer>;

export interface RecordedRequest {
  method: string;
  /** The path with its query string. */
  path: string;
  headers: Record<string, string>;
  body: any;
  at: number;
  /** The status the fake answered, once it has (404: an endpoint the fake does not know). */
  status?: number;
}

export interface FakeOpenAIResponses {
  /** The base URL including /v1, for a Codex model provider's `base_url`. */
  url: string;
  requests: RecordedRequest[];
  /** The recorded POSTs to /v1/responses, in order. */
  responses(): ResponsesRequest[];
  close(): Promise<void>;
}

const shortId = (prefix: string) => `${prefix}_${randomUUID().replace(/-/g, '')}`;
const SECRET_HEADERS = new Set(['authorization', 'x-api-key', 'api-key', 'cookie', 'proxy-authorization', 'openai-organization', 'openai-project', 'chatgpt-account-id']);

export const say = (text: string): FakeItem => ({ type: 'message', text });
export const reasoning = (summary: string): FakeItem => ({ type: 'reasoning', summary });
export const functionCall = (name: string, args: Record<string, unknown>, callId?: string): FakeItem => ({ type: 'function_call', name, arguments: args, ...(callId ? { call_id: callId } : {}) });
/**
 * Codex offers MCP tools only through its client-side `tool_search` (deferred tools): the model
 * searches, Codex answers with a `tool_search_output` naming namespace `mcp__<server>`, then the
 * model calls the tool in that namespace (`mcpToolCall`).
 */
export const toolSearch = (query: string, callId = shortId('ts')): FakeItem => ({
  type: 'raw',
  item: { type: 'tool_search_call', call_id: callId, status: 'completed', execution: 'client', arguments: { query } },
});
export const mcpToolCall = (server: string, tool: string, args: Record<string, unknown>, callId?: string): FakeItem => ({
  type: 'function_call',
  name: tool,
  namespace: `mcp__${server}`,
  arguments: args,
  ...(callId ? { call_id: callId } : {}),
});
export const customToolCall = (name: string, input: string, callId?: string): FakeItem => ({ type: 'custom_tool_call', name, input, ...(callId ? { call_id: callId } : {}) });
/** Codex's shell tool: `exec_command` with the command line in `cmd`. */
export const execCommand = (cmd: string, extra: Record<string, unknown> = {}, callId?: string): FakeItem => functionCall('exec_command', { cmd, ...extra }, callId);
/** Codex's freeform `apply_patch` tool: the patch text ("*** Begin Patch ... *** End Patch"). */
export const applyPatch = (patch: string, callId?: string): FakeItem => customToolCall('apply_patch', patch, callId);
/** An apply_patch body that adds one file. */
export const addFilePatch = (path: string, content: string): string =>
  `*** Begin Patch\n*** Add File: ${path}\n${content.replace(/\n$/, '').split('\n').map((line) => `+${line}`).join('\n')}\n*** End Patch\n`;
/** Code mode (the default gpt-6.x models): one `exec` tool running JavaScript that calls `tools.*`. */
/** The hosted web search's output item (Codex shows it as a `web_search` item). */
export const webSearchCall = (query: string): FakeItem => ({ type: 'raw', item: { type: 'web_search_call', status: 'completed', action: { type: 'search', query } } });
export const codeModeExec = (javascript: string, callId?: string): FakeItem => customToolCall('exec', javascript, callId);

export const apiError = (status: number, type: string, message: string, extra: Record<string, unknown> = {}, headers?: Record<string, string>): FakeApiError => ({
  status,
  error: { type, message, ...extra },
  ...(headers ? { headers } : {}),
});

/**
 * A ChatGPT plan's usage limit as the Codex backend answers it: 429 with `usage_limit_reached`,
 * resetting in `resetsInSeconds` (null: a limit that names no reset time).
 */
export function usageLimitError(resetsInSeconds: number | null, planType = 'plus'): FakeApiError {
  if (resetsInSeconds === null) {
    return { status: 429, error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: planType }, headers: { 'x-codex-primary-used-percent': '100' } };
  }
  const resetsAt = Math.floor(Date.now() / 1000) + resetsInSeconds;
  return {
    status: 429,
    error: { type: 'usage_limit_reached', message: 'The usage limit has been reached', plan_type: planType, resets_at: resetsAt, resets_in_seconds: resetsInSeconds },
    headers: { 'x-codex-primary-used-percent': '100', 'x-codex-primary-window-minutes': '300', 'x-codex-primary-reset-after-seconds': String(resetsInSeconds) },
  };
}

/** The text of an input item's content. */
export function itemText(item: InputItem): string {
  if (typeof item.content === 'string') return item.content;
  return (item.content ?? []).map((part) => (typeof part.text === 'string' ? part.text : '')).join('\n');
}

/** The text of the request's last user message (Codex's prompt, after its environment context). */
export function lastUserText(body: ResponsesRequest): string {
  const last = body.input.findLast((item) => item.type === 'message' && item.role === 'user');
  return last ? itemText(last) : '';
}

/** The tool outputs the request carries back (function_call_output and custom_tool_call_output), by call id. */
export function toolOutputs(body: ResponsesRequest): Array<{ call_id: string; output: string }> {
  return body.input
    .filter((item) => item.type === 'function_call_output' || item.type === 'custom_tool_call_output')
    .map((item) => ({ call_id: String(item.call_id), output: typeof item.output === 'string' ? item.output : JSON.stringify(item.output) }));
}

/** Every tool the request offers, namespaces flattened ("exec_command", "apply_patch", "collaboration.spawn_agent"...), top-level and in `additional_tools` input items. */
export function toolNames(body: ResponsesRequest): string[] {
  const names: string[] = [];
  const walk = (tools: unknown, prefix: string) => {
    if (!Array.isArray(tools)) return;
    for (const tool of tools as Array<{ type?: string; name?: string; tools?: unknown }>) {
      const name = tool.name ?? tool.type ?? '?';
      if (tool.type === 'namespace') walk(tool.tools, prefix || name === 'functions' ? `${prefix}` : `${name}.`);
      else names.push(`${prefix}${name}`);
    }
  };
  walk(body.tools, '');
  for (const item of body.input ?? []) if (item.type === 'additional_tools') walk(item.tools, '');
  return names;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function decode(raw: Buffer, encoding: string | undefined): string {
  switch (encoding) {
    case 'gzip':
      return gunzipSync(raw).toString('utf8');
    case 'deflate':
      return inflateSync(raw).toString('utf8');
    case 'br':
      return brotliDecompressSync(raw).toString('utf8');
    default:
      return raw.toString('utf8');
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${randomUUID()}`, ...headers });
  res.end(JSON.stringify(body));
}

/** A rough token count (4 characters a token). */
const estimateTokens = (value: unknown) => Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));

/** An output item as the Responses API writes it in output_item.done and in the response's `output`. */
function wireItem(item: FakeItem): Record<string, unknown> {
  switch (item.type) {
    case 'message':
      return { type: 'message', id: shortId('msg'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: item.text, annotations: [] }] };
    case 'reasoning':
      return { type: 'reasoning', id: shortId('rs'), summary: [{ type: 'summary_text', text: item.summary }] };
    case 'function_call':
      return {
        type: 'function_call',
        id: shortId('fc'),
        status: 'completed',
        call_id: item.call_id ?? shortId('call'),
        name: item.name,
        ...(item.namespace ? { namespace: item.namespace } : {}),
        arguments: typeof item.arguments === 'string' ? item.arguments : JSON.stringify(item.arguments),
      };
    case 'custom_tool_call':
      return { type: 'custom_tool_call', id: shortId('ctc'), status: 'completed', call_id: item.call_id ?? shortId('call'), name: item.name, input: item.input };
    case 'raw':
      return { id: shortId('item'), ...item.item };
  }
}

function responseObject(turn: FakeTurn, body: ResponsesRequest, id: string, items: Array<Record<string, unknown>>, status: string) {
  const usage = turn.usage ?? { input_tokens: estimateTokens(body.input), output_tokens: estimateTokens(items) };
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    model: turn.model ?? body.model,
    output: items,
    usage: {
      input_tokens: usage.input_tokens,
      input_tokens_details: { cached_tokens: usage.cached_tokens ?? 0 },
      output_tokens: usage.output_tokens,
      output_tokens_details: { reasoning_tokens: usage.reasoning_tokens ?? 0 },
      total_tokens: usage.input_tokens + usage.output_tokens,
    },
  };
}

/** Writes one turn as the Responses API's server-sent events, text split into a few deltas. */
function streamTurn(res: ServerResponse, turn: FakeTurn, body: ResponsesRequest): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': `req_${randomUUID()}` });
  let sequence = 0;
  const send = (type: string, data: Record<string, unknown>) => res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence++, ...data })}\n\n`);
  const id = shortId('resp');
  const items = turn.output.map(wireItem);
  send('response.created', { response: { ...responseObject(turn, body, id, [], 'in_progress'), usage: null } });
  send('response.in_progress', { response: { ...responseObject(turn, body, id, [], 'in_progress'), usage: null } });
  for (const [index, item] of items.entries()) {
    if (item.type === 'message') {
      const text = (turn.output[index] as { text: string }).text;
      send('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress', content: [] } });
      send('response.content_part.added', { item_id: item.id, output_index: index, content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
      const cut = Math.ceil(text.length / 2);
      for (const delta of text.length > 8 ? [text.slice(0, cut), text.slice(cut)] : [text]) {
        send('response.output_text.delta', { item_id: item.id, output_index: index, content_index: 0, delta });
      }
      send('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text });
      send('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part: { type: 'output_text', text, annotations: [] } });
    } else {
      send('response.output_item.added', { output_index: index, item: { ...item, status: 'in_progress' } });
    }
    send('response.output_item.done', { output_index: index, item });
  }
  if (turn.stall) return;
  if (turn.failure) send('response.failed', { response: { ...responseObject(turn, body, id, items, 'failed'), error: turn.failure } });
  else send('response.completed', { response: responseObject(turn, body, id, items, 'completed') });
  res.end();
}

export async function startFakeOpenAIResponses(script: FakeScript): Promise<FakeOpenAIResponses> {
  const requests: RecordedRequest[] = [];
  let responsesIndex = 0;

  const server = createServer((req, res) => {
    void (async () => {
      const raw = decode(await readBody(req), req.headers['content-encoding']);
      let body: any = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        // not JSON: keep the text
      }
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = SECRET_HEADERS.has(name) ? '[redacted]' : String(value);
      }
      const url = req.url ?? '/';
      const pathname = url.split('?')[0]!.replace(/\/+$/, '');
      const record: RecordedRequest = { method: req.method ?? 'GET', path: url, headers, body, at: Date.now() };
      requests.push(record);
      res.on('finish', () => (record.status = res.statusCode));

      if (req.method === 'POST' && pathname === '/v1/responses') {
        if (!body || typeof body !== 'object' || !Array.isArray(body.input)) {
          sendJson(res, 400, { error: { type: 'invalid_request_error', code: null, param: 'input', message: "Missing required parameter: 'input'." } });
          return;
        }
        const answer = await script(body as ResponsesRequest, responsesIndex++);
        if ('status' in answer) {
          const defaults: Record<string, string> = answer.status === 429 ? { 'retry-after': '0' } : {};
          sendJson(res, answer.status, { error: { code: null, param: null, ...answer.error } }, { ...defaults, ...answer.headers });
          return;
        }
        if (body.stream === false) {
          const items = answer.output.map(wireItem);
          sendJson(res, 200, responseObject(answer, body as ResponsesRequest, shortId('resp'), items, answer.failure ? 'failed' : 'completed'));
          return;
        }
        streamTurn(res, answer, body as ResponsesRequest);
        return;
      }
      sendJson(res, 404, { error: { type: 'invalid_request_error', code: 'not_found', param: null, message: `no fake for ${req.method} ${pathname}` } });
    })().catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { error: { type: 'server_error', code: null, param: null, message: `fake failed: ${error.message}` } });
      else res.end();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    responses: () => requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/responses').map((r) => r.body as ResponsesRequest),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
