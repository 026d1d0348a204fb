// The language model client both services may use: Claude through @anthropic-ai/sdk, built from
// config.anthropic (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL, AUTOBUILD_LLM_MODEL). Every failure of
// the model comes out as an AppError: 429 `rate_limited` for rate limits, 503
// `dependency_unavailable` for anything else the caller cannot fix (bad key, overload, 5xx,
// timeouts, connection errors), with the server's Retry-After when it gave one. The key is never
// echoed. Without a key there is no client (createLlm answers undefined): callers degrade.
import Anthropic, { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from '@anthropic-ai/sdk';
import type { Config } from './config.js';
import { AppError, type ErrorCode } from './errors.js';

export interface LlmMessage {
  role: 'user' | 'assistant';
  content: string;
}

export interface LlmRequest {
  system: string;
  messages: LlmMessage[];
  maxTokens: number;
  /** Sampling temperature (the API's default when absent); 0 for judgements that should not vary. */
  temperature?: number;
  /** Aborts the call (e.g. the HTTP client went away). */
  signal?: AbortSignal;
}

export interface LlmCompletion {
  text: string;
  /** The model that answered (as the API names it). */
  model: string;
}

export interface LlmClient {
  /** The configured model. */
  readonly model: string;
  complete(request: LlmRequest): Promise<LlmCompletion>;
  /** The answer's text deltas; throws an AppError (see toLlmError) on failure, also mid-stream. */
  stream(request: LlmRequest): AsyncGenerator<string, void, undefined>;
}

export interface LlmOptions {
  /**
   * Per attempt: the wait for the response (non-streaming), or between two stream events
   * (streaming). Default 60 s.
   */
  timeoutMs?: number;
  /** Retries of retryable failures (429, 5xx, 529, timeouts, connection errors). Default 2. */
  maxRetries?: number;
}

/** A model failure mapped for the API; retryAfterS is the server's Retry-After when it sent one. */
export class LlmError extends AppError {
  readonly retryAfterS: number | undefined;

  constructor(code: ErrorCode, message: string, retryAfterS?: number) {
    super(code, message, retryAfterS === undefined ? undefined : { retry_after_s: retryAfterS });
    this.name = 'LlmError';
    this.retryAfterS = retryAfterS;
  }
}

export function llmAvailable(config: Pick<Config, 'anthropic'>): boolean {
  return Boolean(config.anthropic.apiKey);
}

/** Whole seconds from retry-after-ms / retry-after (seconds or an HTTP date), when present and sane. */
export function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  if (!headers) return undefined;
  const ms = Number.parseFloat(headers.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const raw = headers.get('retry-after')?.trim();
  if (!raw) return undefined;
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.ceil(Number(raw));
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

/** An SDK (or any) error as the AppError the API answers with. */
export function toLlmError(error: unknown, timeoutMs: number): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof APIConnectionTimeoutError) {
    return new LlmError('dependency_unavailable', `the language model did not answer within ${Math.round(timeoutMs / 1000)} s`);
  }
  if (error instanceof APIUserAbortError) return new LlmError('dependency_unavailable', 'the language model request was aborted');
  if (error instanceof APIConnectionError) return new LlmError('dependency_unavailable', 'the language model API could not be reached');
  if (error instanceof APIError) {
    const status = error.status;
    const retryAfter = retryAfterSeconds(error.headers);
    if (status === 429) return new LlmError('rate_limited', 'the language model API is rate limiting requests; try again later', retryAfter);
    if (status === 401 || status === 403) return new LlmError('dependency_unavailable', 'the language model rejected the API key (check ANTHROPIC_API_KEY)');
    if (status === 529) return new LlmError('dependency_unavailable', 'the language model is overloaded; try again later', retryAfter);
    if (status === undefined || status >= 500) return new LlmError('dependency_unavailable', `the language model API failed (HTTP ${status ?? 'error'}); try again later`, retryAfter);
    if (status === 413) return new LlmError('dependency_unavailable', 'the request was too large for the language model');
    // Any other 4xx is our request's fault (bad model name, ...): still the dependency's answer, not the caller's.
    const reason = error.type ? ` (${error.type})` : '';
    return new LlmError('dependency_unavailable', `the language model API refused the request: HTTP ${status}${reason}; check AUTOBUILD_LLM_MODEL`);
  }
  return new LlmError('dependency_unavailable', 'the language model call failed unexpectedly');
}

class AnthropicLlm implements LlmClient {
  readonly model: string;
  private readonly client: Anthropic;
  private readonly timeoutMs: number;

  constructor(settings: Config['anthropic'] & { apiKey: string }, options: LlmOptions) {
    this.model = settings.model;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.client = new Anthropic({
      // Everything explicit: nothing read from the process environment behind config's back.
      apiKey: settings.apiKey,
      authToken: null,
      baseURL: settings.baseUrl ?? 'https://api.anthropic.com',
      timeout: this.timeoutMs,
      maxRetries: options.maxRetries ?? 2,
      logLevel: 'off',
      openTelemetry: false,
    });
  }

  async complete(request: LlmRequest): Promise<LlmCompletion> {
    try {
      const message = await this.client.messages.create(
        {
          model: this.model,
          max_tokens: request.maxTokens,
          system: request.system,
          messages: request.messages,
          ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
        },
        { signal: request.signal },
      );
      const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
      return { text, model: message.model || this.model };
    } catch (error) {
      throw toLlmError(error, this.timeoutMs);
    }
  }

  async *stream(request: LlmRequest): AsyncGenerator<string, void, undefined> {
    // The SDK's timeout covers the wait for the response head; a stream that stalls afterwards is
    // cut by this idle timer, reset at each event.
    const controller = new AbortController();
    let idle = false;
    const onAbort = () => controller.abort();
    request.signal?.addEventListener('abort', onAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        controller.abort();
      }, this.timeoutMs);
    };
    try {
      const events = await this.client.messages.create(
        { model: this.model, max_tokens: request.maxTokens, system: request.system, messages: request.messages, stream: true },
        { signal: controller.signal },
      );
      arm();
      for await (const event of events) {
        arm();
        if (event.type === 'content_block_delta' && event.delta.type === 'text_delta' && event.delta.text) yield event.delta.text;
      }
      // An aborted stream can end quietly: a cut answer must not pass for a whole one.
      if (idle) throw new Error('idle');
      if (request.signal?.aborted) throw new APIUserAbortError();
    } catch (error) {
      if (idle) throw new LlmError('dependency_unavailable', `the language model stopped sending for ${Math.round(this.timeoutMs / 1000)} s`);
      throw toLlmError(error, this.timeoutMs);
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      controller.abort();
    }
  }
}

/** The client for the configured model, or undefined without ANTHROPIC_API_KEY. */
export function createLlm(settings: Config['anthropic'], options: LlmOptions = {}): LlmClient | undefined {
  const { apiKey } = settings;
  if (!apiKey) return undefined;
  return new AnthropicLlm({ ...settings, apiKey }, options);
}
