// A local HTTP server speaking the Anthropic Messages API wire format, for tests of Claude Code
// (through ANTHROPIC_BASE_URL) and of the Anthropic SDK (through baseURL). POST /v1/messages
// (with or without ?beta=true) answers as JSON or, when the request says `stream: true`, as SSE
// (message_start, content_block_start/delta/stop with text_delta and input_json_delta,
// message_delta with stop_reason and usage, message_stop). The test scripts the answers: a function
// of the request body and its index among /v1/messages requests returns text and tool_use blocks,
// or an API error; a streamed text can be cut into chosen pieces and held between them. POST /v1/messages/count_tokens answers a rough estimate; any other path a 404 in
// the API's error shape (HEAD / a 200: Claude Code's connectivity check). Every request is recorded (secrets redacted) for assertions.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeBlock = { type: 'text'; text: string } | { type: 'tool_use'; id?: string; name: string; input: Record<string, unknown> };

export interface FakeMessage {
  content: FakeBlock[];
  /** Defaults to 'tool_use' when a tool_use block is present, else 'end_turn'. */
  stop_reason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  usage?: { input_tokens: number; output_tokens: number };
  model?: string;
  /** Streaming only: after the first text delta, an `error` event of this kind, then the stream ends. */
  streamError?: { type: string; message: string };
  /** Streaming only: after the first text delta, nothing more (the connection stays open). */
  streamStall?: boolean;
  /** Streaming only: how each text block is cut into text_delta events (default: two halves, or whole when short). */
  textPieces?: (text: string) => string[];
  /**
   * Streaming only: awaited before each text delta after the message's first (n = 1, 2, ...), so a
   * test can hold the answer mid-stream (a promise it resolves) or pace it (a delay).
   */
  beforeTextDelta?: (n: number) => Promise<void> | void;
}

export interface FakeError {
  /** HTTP status: 400, 401, 429, 500, 529 (overloaded)... */
  status: number;
  error: { type: string; message: string };
  /** Response headers (e.g. retry-after, x-should-retry), over the defaults (retry-after 0 for 429 and 529). */
  headers?: Record<string, string>;
}

export type FakeResponse = FakeMessage | FakeError;

/** The body Claude Code or an SDK posts to /v1/messages (the fields tests look at). */
export interface MessagesRequest {
  model: string;
  /** Claude Code also sends mid-conversation `system` messages. */
  messages: Array<{ role: 'user' | 'assistant' | 'system'; content: string | Array<Record<string, any>> }>;
  system?: string | Array<{ type: string; text: string }>;
  tools?: Array<{ name: string; description?: string; input_schema?: Record<string, any> }>;
  stream?: boolean;
  max_tokens?: number;
  [key: string]: unknown;
}

/** Answers the index-th request to /v1/messages (0-based, counting every messages request). */
export type FakeScript = (body: MessagesRequest, index: number) => FakeResponse | Promise<FakeResponse>;

export interface RecordedRequest {
  method: string;
  /** The path with its query string, e.g. /v1/messages?beta=true */
  path: string;
  headers: Record<string, string>;
  body: any;
  at: number;
  /** The status the fake answered, once it has (404: an endpoint the fake does not know). */
  status?: number;
}

export interface FakeAnthropic {
  /** The base URL (no /v1), for ANTHROPIC_BASE_URL or the SDK's baseURL. */
  url: string;
  requests: RecordedRequest[];
  /** The recorded POSTs to /v1/messages, in order. */
  messages(): MessagesRequest[];
  close(): Promise<void>;
}

const SECRET_HEADERS = new Set(['x-api-key', 'authorization', 'cookie', 'proxy-authorization']);

export const text = (value: string): FakeBlock => ({ type: 'text', text: value });
export const toolUse = (name: string, input: Record<string, unknown>, id?: string): FakeBlock => ({ type: 'tool_use', name, input, id });
export const apiError = (status: number, type: string, message: string, headers?: Record<string, string>): FakeError => ({
  status,
  error: { type, message },
  ...(headers ? { headers } : {}),
});

/** The text of a message's content (string or blocks), text and tool_result blocks joined. */
export function contentText(content: MessagesRequest['messages'][number]['content']): string {
  if (typeof content === 'string') return content;
  return content
    .map((block) => (block.type === 'text' ? String(block.text) : block.type === 'tool_result' ? contentText(block.content ?? '') : ''))
    .join('\n');
}

/** The tool_result blocks of the request's last user message. */
export function toolResults(body: MessagesRequest): Array<Record<string, any>> {
  const last = body.messages.findLast((message) => message.role === 'user');
  if (!last || typeof last.content === 'string') return [];
  return last.content.filter((block) => block.type === 'tool_result');
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_${randomUUID()}`, ...headers });
  res.end(JSON.stringify(body));
}

/** A rough token count (4 characters a token), enough for clients that budget context. */
const estimateTokens = (value: unknown) => Math.max(1, Math.ceil(JSON.stringify(value ?? '').length / 4));

function assistantMessage(spec: FakeMessage, body: MessagesRequest) {
  const content = spec.content.map((block): FakeBlock & { id?: string } =>
    block.type === 'tool_use' ? { type: 'tool_use', id: block.id ?? `toolu_${randomUUID().replace(/-/g, '').slice(0, 24)}`, name: block.name, input: block.input } : block,
  );
  const stopReason = spec.stop_reason ?? (content.some((block) => block.type === 'tool_use') ? 'tool_use' : 'end_turn');
  const usage = spec.usage ?? { input_tokens: estimateTokens(body.messages), output_tokens: estimateTokens(content) };
  return {
    id: `msg_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
    type: 'message' as const,
    role: 'assistant' as const,
    model: spec.model ?? body.model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { ...usage, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

/** Writes a message as the Messages API's server-sent events, splitting text and JSON into a few deltas. */
async function streamMessage(res: ServerResponse, message: ReturnType<typeof assistantMessage>, spec: FakeMessage = { content: [] }): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'request-id': `req_${randomUUID()}` });
  const send = (event: string, data: Record<string, unknown>) => res.write(`event: ${event}\ndata: ${JSON.stringify({ type: event, ...data })}\n\n`);
  const pieces = (value: string) => (value.length <= 8 ? [value] : [value.slice(0, Math.ceil(value.length / 2)), value.slice(Math.ceil(value.length / 2))]);
  send('message_start', { message: { ...message, content: [], stop_reason: null, usage: { ...message.usage, output_tokens: 1 } } });
  send('ping', {});
  const interrupt = spec.streamError !== undefined || spec.streamStall === true;
  let textDeltas = 0;
  for (const [index, block] of message.content.entries()) {
    if (interrupt && block.type === 'text') {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      send('content_block_delta', { index, delta: { type: 'text_delta', text: pieces(block.text)[0] } });
      if (spec.streamError) {
        send('error', { error: spec.streamError });
        res.end();
      }
      return;
    }
    if (block.type === 'tool_use') {
      send('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      for (const partial of pieces(JSON.stringify(block.input))) send('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: partial } });
    } else {
      send('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const piece of (spec.textPieces ?? pieces)(block.text)) {
        if (textDeltas > 0 && spec.beforeTextDelta) {
          await spec.beforeTextDelta(textDeltas);
          if (res.destroyed) return;
        }
        textDeltas++;
        send('content_block_delta', { index, delta: { type: 'text_delta', text: piece } });
      }
    }
    send('content_block_stop', { index });
  }
  send('message_delta', { delta: { stop_reason: message.stop_reason, stop_sequence: null }, usage: { output_tokens: message.usage.output_tokens } });
  send('message_stop', {});
  res.end();
}

export async function startFakeAnthropic(script: FakeScript): Promise<FakeAnthropic> {
  const requests: RecordedRequest[] = [];
  let messagesIndex = 0;

  const server = createServer((req, res) => {
    void (async () => {
      const raw = await readBody(req);
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

      if (pathname === '' && (req.method === 'HEAD' || req.method === 'GET')) {
        // Claude Code's connectivity check (HEAD /) before its first request.
        res.writeHead(200).end();
        return;
      }
      if (req.method === 'POST' && pathname === '/v1/messages/count_tokens') {
        sendJson(res, 200, { input_tokens: estimateTokens([body?.system, body?.messages, body?.tools]) });
        return;
      }
      if (req.method === 'POST' && pathname === '/v1/messages') {
        if (!body || typeof body !== 'object' || !Array.isArray(body.messages)) {
          sendJson(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'messages: field required' } });
          return;
        }
        const spec = await script(body as MessagesRequest, messagesIndex++);
        if ('status' in spec) {
          const defaults: Record<string, string> = spec.status === 529 || spec.status === 429 ? { 'retry-after': '0' } : {};
          sendJson(res, spec.status, { type: 'error', error: spec.error }, { ...defaults, ...spec.headers });
          return;
        }
        const message = assistantMessage(spec, body as MessagesRequest);
        if (body.stream) await streamMessage(res, message, spec);
        else sendJson(res, 200, message);
        return;
      }
      sendJson(res, 404, { type: 'error', error: { type: 'not_found_error', message: `no fake for ${req.method} ${pathname}` } });
    })().catch((error: Error) => {
      if (!res.headersSent) sendJson(res, 500, { type: 'error', error: { type: 'api_error', message: `fake failed: ${error.message}` } });
      else res.end();
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    messages: () => requests.filter((r) => r.method === 'POST' && r.path.split('?')[0] === '/v1/messages').map((r) => r.body as MessagesRequest),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
