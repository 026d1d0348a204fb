// Owns the embedders the memory service holds: the configured one (what new indexes are built
// with; `auto` may have fallen back, and says why) and, for queries, the one each index recorded,
// created on first use and kept. A backend that cannot be created is a 503 that says why.
import { AppError } from '../../platform/errors.js';
import { createEmbedder, EmbeddingUnavailableError, type CreatedEmbedder, type Embedder, type EmbeddingSettings } from './embedder.js';

export type EmbedderFactory = (settings: EmbeddingSettings) => Promise<CreatedEmbedder>;

export interface RecordedModel {
  provider: string;
  model: string;
  dimension: number;
}

export type EmbedderStatus =
  | { state: 'loading' }
  | { state: 'ready'; embedder: Embedder; note?: string }
  | { state: 'unavailable'; reason: string };

export class EmbedderPool {
  private configuredLoad: Promise<CreatedEmbedder> | undefined;
  private status: EmbedderStatus = { state: 'loading' };
  private readonly byModel = new Map<string, Promise<Embedder>>();

  constructor(
    private readonly settings: EmbeddingSettings,
    private readonly factory: EmbedderFactory = createEmbedder,
  ) {}

  /** The configured embedder; a failed attempt is retried on the next call. */
  async configured(): Promise<Embedder> {
    this.configuredLoad ??= this.factory(this.settings);
    try {
      const created = await this.configuredLoad;
      this.status = { state: 'ready', embedder: created.embedder, ...(created.note ? { note: created.note } : {}) };
      return created.embedder;
    } catch (error) {
      this.configuredLoad = undefined;
      const reason = messageOf(error);
      this.status = { state: 'unavailable', reason };
      throw unavailable(`the configured embedder (${this.settings.provider}) cannot be used: ${reason}`);
    }
  }

  /** What /health reports: the configured embedder as last seen (no load is started here). */
  current(): EmbedderStatus {
    return this.status;
  }

  /** The embedder an index was built with, so that queries and vectors come from the same model. */
  async forModel(recorded: RecordedModel): Promise<Embedder> {
    const configured = this.status.state === 'ready' ? this.status.embedder : undefined;
    if (configured && sameModel(configured, recorded)) return configured;
    const key = `${recorded.provider}\u0000${recorded.model}`;
    let loading = this.byModel.get(key);
    if (!loading) {
      loading = this.create(recorded);
      this.byModel.set(key, loading);
      loading.catch(() => this.byModel.delete(key));
    }
    const embedder = await loading;
    if (embedder.dimension !== recorded.dimension) {
      throw unavailable(`model ${recorded.provider} ${recorded.model} now gives ${embedder.dimension}-d vectors but the index holds ${recorded.dimension}-d ones: re-index the project`);
    }
    return embedder;
  }

  private async create(recorded: RecordedModel): Promise<Embedder> {
    const provider = recorded.provider;
    if (provider !== 'hash' && provider !== 'minilm' && provider !== 'openai') {
      throw unavailable(`the index was built with an unknown embedding provider "${provider}": re-index the project`);
    }
    try {
      const created = await this.factory({
        ...this.settings,
        provider,
        model: recorded.model,
        // A vector size asked of the server only when it is the recorded one.
        openai: { ...this.settings.openai, dimensions: this.settings.openai?.dimensions === recorded.dimension ? recorded.dimension : undefined },
      });
      return created.embedder;
    } catch (error) {
      throw unavailable(`the index's embedding model ${provider} ${recorded.model} cannot be loaded, so it cannot be queried: ${messageOf(error)}`);
    }
  }
}

/** Embed, with a backend's failure (server down, model error) said as a 503 rather than a 500. */
export async function embedTexts(embedder: Embedder, texts: string[]): Promise<Float32Array[]> {
  try {
    return await embedder.embed(texts);
  } catch (error) {
    throw unavailable(`embedding with ${modelName(embedder)} failed: ${messageOf(error)}`);
  }
}

/**
 * Query vectors embedded lately, per embedder (one object per model in the pool), by text. Why: a
 * task's context embeds the task twice, for the code search and for the memories' recall (same text,
 * same model as a rule); with a local model that is ~10 – 30 ms of CPU each. A vector is a pure
 * function of the model and the text; callers only read it. Pending embeddings are shared too, so
 * two identical queries at once embed once. Long texts are not kept (memory), and a failure is
 * forgotten at once (the next call tries again).
 */
const QUERY_VECTORS = 256;
const MAX_CACHED_QUERY = 16_384;
const queryVectors = new WeakMap<Embedder, Map<string, Promise<Float32Array | undefined>>>();

/** A query's vector (undefined if the embedder returned none), embedded once for repeated queries. */
export function embedQueryText(embedder: Embedder, text: string): Promise<Float32Array | undefined> {
  const embed = () => embedTexts(embedder, [text]).then(([vector]) => vector);
  if (text.length > MAX_CACHED_QUERY) return embed();
  let cache = queryVectors.get(embedder);
  if (!cache) {
    cache = new Map();
    queryVectors.set(embedder, cache);
  }
  const known = cache.get(text);
  if (known) {
    cache.delete(text);
    cache.set(text, known);
    return known;
  }
  const pending = embed();
  const entries = cache;
  entries.set(text, pending);
  pending.then(
    (vector) => {
      if (vector === undefined && entries.get(text) === pending) entries.delete(text);
    },
    () => {
      if (entries.get(text) === pending) entries.delete(text);
    },
  );
  if (entries.size > QUERY_VECTORS) entries.delete(entries.keys().next().value!);
  return pending;
}

export function sameModel(embedder: RecordedModel, recorded: RecordedModel): boolean {
  return embedder.provider === recorded.provider && embedder.model === recorded.model && embedder.dimension === recorded.dimension;
}

/** `hash autobuild-hash-v1-384 (384-d)`. */
export function modelName(model: RecordedModel): string {
  return `${model.provider} ${model.model} (${model.dimension}-d)`;
}

function messageOf(error: unknown): string {
  if (error instanceof EmbeddingUnavailableError || error instanceof Error) return error.message;
  return String(error);
}

function unavailable(message: string): AppError {
  return new AppError('dependency_unavailable', message);
}
