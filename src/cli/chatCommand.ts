// `autobuild chat --project P [MESSAGE]`: ask the memory service about a project's code. The answer
// streams to stdout (SSE from POST /api/v1/insights/chat), then its sources; `--json` prints the
// JSON body instead. Without MESSAGE: the message is read from stdin, or, when stdin is a terminal,
// an interactive conversation (history kept) until an empty line, "exit" or end of input.
import { createInterface } from 'node:readline/promises';
import { type Command, Option } from 'commander';
import { hasField } from '../clients/http.js';
import { ApiError, memoryTransportError, MemoryUnreachableError, notMemoryApi } from '../clients/memory.js';
import { checkedToken, requestTimeoutMs } from './connection.js';
import { CliError, reportFailure } from './failure.js';

const DEFAULT_MEMORY_URL = 'http://127.0.0.1:8000';
/** A whole answer, retrieval and model retries included, is given this long. */
const REQUEST_TIMEOUT_MS = 5 * 60_000;

interface ChatOptions {
  project: string;
  json?: boolean;
  memoryUrl?: string;
  token?: string;
}

interface Turn {
  role: 'user' | 'assistant';
  content: string;
}

interface Source {
  path: string;
  start_line: number;
  end_line: number;
}

interface ChatAnswer {
  response: string;
  sources: Source[];
  model: string | null;
}

async function apiErrorFrom(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  const retryAfter = response.headers.get('retry-after');
  const hint = retryAfter ? ` (retry after ${retryAfter} s)` : '';
  try {
    const error = (JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } }).error;
    if (error && typeof error.code === 'string' && typeof error.message === 'string') return new ApiError(response.status, error.code, `${error.message}${hint}`, error.details);
  } catch {
    // not the contract's error body
  }
  return new ApiError(response.status, `http_${response.status}`, `HTTP ${response.status} ${response.statusText || 'error'}${hint}`);
}

class ChatClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs: number,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  private async answerOf(response: Response): Promise<ChatAnswer> {
    let answer: unknown;
    try {
      answer = await response.json();
    } catch (error) {
      // Not JSON (another server) or the connection failed mid-answer.
      throw this.unreachable(error);
    }
    if (!hasField(answer, 'response')) throw notMemoryApi(this.baseUrl);
    return answer as ChatAnswer;
  }

  private unreachable(error: unknown): MemoryUnreachableError {
    return memoryTransportError(error, this.baseUrl, this.token, this.timeoutMs);
  }

  private async post(body: unknown, accept: string): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}/api/v1/insights/chat`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (error) {
      throw this.unreachable(error);
    }
    if (!response.ok) throw await apiErrorFrom(response);
    return response;
  }

  async ask(body: unknown): Promise<ChatAnswer> {
    return this.answerOf(await this.post(body, 'application/json'));
  }

  /** Streams the answer's text to onText; resolves to the whole answer. */
  async stream(body: unknown, onText: (text: string) => void): Promise<ChatAnswer> {
    const response = await this.post(body, 'text/event-stream');
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream') || !response.body) {
      return this.answerOf(response);
    }
    const answer: ChatAnswer = { response: '', sources: [], model: null };
    const decoder = new TextDecoder();
    let pending = '';
    let failure: ApiError | undefined;
    const handle = (block: string) => {
      const event = /^event: ?(.*)$/m.exec(block)?.[1]?.trim() ?? 'message';
      const raw = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''))
        .join('\n');
      if (!raw) return;
      let data: { sources?: Source[]; text?: string; model?: string | null; error?: { code?: string; message?: string } };
      try {
        data = JSON.parse(raw) as typeof data;
      } catch {
        throw notMemoryApi(this.baseUrl);
      }
      if (!hasField(data, undefined)) throw notMemoryApi(this.baseUrl);
      if (event === 'sources') answer.sources = data.sources ?? [];
      else if (event === 'delta') {
        answer.response += data.text ?? '';
        onText(data.text ?? '');
      } else if (event === 'done') answer.model = data.model ?? null;
      else if (event === 'error') failure = new ApiError(data.error?.code === 'rate_limited' ? 429 : 503, data.error?.code ?? 'dependency_unavailable', data.error?.message ?? 'the answer failed mid-stream');
    };
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        pending += decoder.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = pending.search(/\r?\n\r?\n/)) >= 0) {
          const block = pending.slice(0, cut);
          pending = pending.slice(cut).replace(/^\r?\n\r?\n/, '');
          handle(block);
        }
      }
    } catch (error) {
      throw error instanceof MemoryUnreachableError ? error : this.unreachable(error);
    }
    if (pending.trim()) handle(pending);
    if (failure) throw failure;
    return answer;
  }
}

function printSources(sources: Source[]): void {
  if (sources.length === 0) return;
  process.stdout.write(`\nSources:\n${sources.map((s) => `  ${s.path}:${s.start_line}-${s.end_line}`).join('\n')}\n`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

async function once(client: ChatClient, options: ChatOptions, message: string, history: Turn[]): Promise<ChatAnswer> {
  const body = { project_id: options.project, message, ...(history.length > 0 ? { conversation_history: history.slice(-50) } : {}) };
  if (options.json) {
    const answer = await client.ask(body);
    process.stdout.write(`${JSON.stringify(answer, null, 2)}\n`);
    return answer;
  }
  const answer = await client.stream(body, (text) => process.stdout.write(text));
  process.stdout.write('\n');
  printSources(answer.sources);
  return answer;
}

async function interactive(client: ChatClient, options: ChatOptions): Promise<void> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const history: Turn[] = [];
  try {
    for (;;) {
      let message: string;
      try {
        message = (await rl.question('\nyou> ')).trim();
      } catch {
        break; // end of input
      }
      if (!message || message === 'exit' || message === 'quit') break;
      try {
        const answer = await once(client, options, message, history);
        history.push({ role: 'user', content: message }, { role: 'assistant', content: answer.response });
      } catch (error) {
        // One failed question does not end the conversation.
        if (error instanceof ApiError || error instanceof MemoryUnreachableError) process.stderr.write(`autobuild: ${error.message}\n`);
        else throw error;
      }
    }
  } finally {
    rl.close();
  }
}

export function registerChatCommand(program: Command): void {
  program
    .command('chat')
    .description("ask about a project's code (answers stream; sources listed after)")
    .argument('[message...]', 'the question (omitted: read from stdin, or a conversation when stdin is a terminal)')
    .requiredOption('--project <id>', 'the project')
    .option('--json', 'print the JSON body instead of streaming text')
    .addOption(new Option('--memory-url <url>', 'memory service base URL').env('MEMORY_SERVICE_URL').default(DEFAULT_MEMORY_URL))
    .addOption(new Option('--token <token>', 'API bearer token').env('AUTOBUILD_API_TOKEN'))
    .action(async (words: string[], options: ChatOptions) => {
      try {
        const client = new ChatClient(options.memoryUrl || DEFAULT_MEMORY_URL, checkedToken(options.token), requestTimeoutMs(REQUEST_TIMEOUT_MS));
        const message = words.join(' ').trim();
        if (message) await once(client, options, message, []);
        else if (process.stdin.isTTY) await interactive(client, options);
        else {
          const piped = await readStdin();
          if (!piped) throw new CliError('give a message: autobuild chat --project P "your question"');
          await once(client, options, piped, []);
        }
      } catch (error) {
        reportFailure(error);
      }
    });
}
