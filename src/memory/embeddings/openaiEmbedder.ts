// Owns embeddings from any OpenAI-compatible `/v1/embeddings` server (OpenAI, Ollama, vLLM, ...)
// through the official SDK: batching, the dimension learnt from the first response (or requested),
// and failures turned into plain messages (auth, unknown model, server down) that never hold the key.
import OpenAI from 'openai';
import { makeRedactor, redactUrlCredentials } from '../../platform/redact.js';
import { EmbeddingUnavailableError, l2Normalize, type Embedder } from './embedder.js';

export const DEFAULT_OPENAI_EMBEDDING_MODEL = 'text-embedding-3-small';
export const DEFAULT_OPENAI_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_BATCH_SIZE = 64;
const DEFAULT_TIMEOUT_MS = 60_000;
// Servers such as Ollama need no key, but the SDK insists on one.
const PLACEHOLDER_KEY = 'no-key';

export interface OpenAiEmbedderOptions {
  model?: string | undefined;
  baseUrl?: string | undefined;
  apiKey?: string | undefined;
  dimensions?: number | undefined;
  batchSize?: number | undefined;
  timeoutMs?: number | undefined;
  maxRetries?: number | undefined;
}

export class OpenAiEmbedder implements Embedder {
  readonly provider = 'openai' as const;

  private constructor(
    readonly model: string,
    readonly dimension: number,
    private readonly client: OpenAI,
    private readonly where: string,
    private readonly apiKey: string | undefined,
    private readonly requestedDimensions: number | undefined,
    private readonly batchSize: number,
  ) {}

  /** Builds the client and embeds one probe text, so a bad key, model or URL fails here, clearly. */
  static async connect(options: OpenAiEmbedderOptions = {}): Promise<OpenAiEmbedder> {
    const model = options.model?.trim() || DEFAULT_OPENAI_EMBEDDING_MODEL;
    const baseUrl = normaliseBaseUrl(options.baseUrl?.trim() || DEFAULT_OPENAI_BASE_URL);
    const apiKey = options.apiKey || PLACEHOLDER_KEY;
    const client = new OpenAI({
      apiKey,
      baseURL: baseUrl,
      organization: null, // explicit, so the SDK reads nothing from the environment
      project: null,
      timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: options.maxRetries ?? 2,
    });
    const where = redactUrlCredentials(baseUrl);
    const dimensions = options.dimensions;
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions <= 0)) {
      throw new EmbeddingUnavailableError(`openai.dimensions must be a positive integer, got ${dimensions}`);
    }
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
    const probe = new OpenAiEmbedder(model, dimensions ?? 0, client, where, options.apiKey, dimensions, batchSize);
    const [first] = await probe.request(['dimension probe']);
    const dimension = first?.length ?? 0;
    if (dimension === 0) throw new EmbeddingUnavailableError(`embedding server ${where} returned an empty vector for model "${model}"`);
    if (dimensions !== undefined && dimension !== dimensions) {
      throw new EmbeddingUnavailableError(`embedding server ${where} returned ${dimension}-d vectors for model "${model}" although ${dimensions} were requested`);
    }
    return new OpenAiEmbedder(model, dimension, client, where, options.apiKey, dimensions, batchSize);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      for (const vector of await this.request(texts.slice(start, start + this.batchSize))) {
        if (vector.length !== this.dimension) {
          throw new EmbeddingUnavailableError(`embedding server ${this.where} returned a ${vector.length}-d vector for model "${this.model}", expected ${this.dimension}`);
        }
        out.push(vector);
      }
    }
    return out;
  }

  private async request(inputs: string[]): Promise<Float32Array[]> {
    let response: OpenAI.CreateEmbeddingResponse;
    try {
      response = await this.client.embeddings.create({
        model: this.model,
        // The API refuses empty strings; a space embeds as "nothing" just as well.
        input: inputs.map((text) => (text.length === 0 ? ' ' : text)),
        encoding_format: 'float',
        ...(this.requestedDimensions !== undefined ? { dimensions: this.requestedDimensions } : {}),
      });
    } catch (error) {
      throw new EmbeddingUnavailableError(this.explain(error), { cause: error });
    }
    const vectors: Float32Array[] = new Array<Float32Array>(inputs.length);
    for (const item of response.data ?? []) {
      if (!Array.isArray(item.embedding) || item.index < 0 || item.index >= inputs.length) continue;
      vectors[item.index] = l2Normalize(Float32Array.from(item.embedding));
    }
    for (let i = 0; i < inputs.length; i++) {
      if (vectors[i] === undefined) {
        throw new EmbeddingUnavailableError(`embedding server ${this.where} answered ${response.data?.length ?? 0} embeddings for ${inputs.length} inputs (model "${this.model}")`);
      }
    }
    return vectors;
  }

  /** One sentence on what went wrong and what to check; the server's own words only when they hold no secret. */
  private explain(error: unknown): string {
    const at = `embedding server ${this.where}`;
    const detail = error instanceof Error ? ` (${this.serverWords(error.message)})` : '';
    if (error instanceof OpenAI.AuthenticationError) return `${at} rejected the API key (401): check the openai API key setting${detail}`;
    if (error instanceof OpenAI.PermissionDeniedError) return `${at} refused access (403) to model "${this.model}"${detail}`;
    if (error instanceof OpenAI.NotFoundError) return `${at} does not know model "${this.model}" or has no /embeddings route (404)${detail}`;
    if (error instanceof OpenAI.RateLimitError) return `${at} is rate-limiting requests (429)${detail}`;
    if (error instanceof OpenAI.APIConnectionTimeoutError) return `${at} did not answer in time`;
    if (error instanceof OpenAI.APIConnectionError) return `${at} is unreachable: is it running, and is the base URL right?${detail}`;
    if (error instanceof OpenAI.APIError) return `${at} failed with status ${error.status ?? 'unknown'} for model "${this.model}"${detail}`;
    return `${at} request failed${detail}`;
  }

  private serverWords(message: string): string {
    const apiKey = this.apiKey;
    // Servers like OpenAI echo part of a bad key ("sk-ab***yz"); any 6-character piece of it means: say nothing.
    if (apiKey && apiKey.length >= 6) {
      for (let i = 0; i + 6 <= apiKey.length; i++) if (message.includes(apiKey.slice(i, i + 6))) return 'details withheld: they quote the key';
    }
    return makeRedactor([apiKey])(message).slice(0, 300);
  }
}

/** `http://host:11434` → `http://host:11434/v1`: a bare server root means its OpenAI-compatible API. */
function normaliseBaseUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1';
    return url.toString().replace(/\/+$/, '');
  } catch {
    throw new EmbeddingUnavailableError(`openai.baseUrl is not a URL: ${redactUrlCredentials(baseUrl)}`);
  }
}
