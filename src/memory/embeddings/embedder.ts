// Owns the one interface every embedding backend implements and the choice among them
// (EMBEDDING_PROVIDER): `auto` uses a local MiniLM model when one loads and the hash embedder otherwise.
// Backends are imported lazily so that choosing `hash` never loads transformers.js or the OpenAI SDK.

export type EmbeddingProvider = 'minilm' | 'openai' | 'hash';

export interface Embedder {
  readonly provider: EmbeddingProvider;
  /** The model's name as recorded with an index (`Xenova/all-MiniLM-L6-v2`, `autobuild-hash-v1-384`, ...). */
  readonly model: string;
  readonly dimension: number;
  /** One L2-normalised vector of `dimension` per text, in order. */
  embed(texts: string[]): Promise<Float32Array[]>;
}

export interface EmbeddingSettings {
  provider: 'auto' | EmbeddingProvider;
  /** The model of the chosen provider; each provider has a default. */
  model?: string;
  /** Root of local models for transformers.js (`<modelDir>/<model>/config.json`, `onnx/model.onnx`, ...). */
  modelDir?: string;
  /** transformers.js file cache, same layout; checked before `modelDir`. */
  cacheDir?: string;
  /** Whether MiniLM may be downloaded from the Hugging Face Hub when it is found nowhere locally (default false). */
  allowDownload?: boolean;
  openai?: {
    /** An OpenAI-compatible API root, e.g. `http://localhost:11434/v1` for Ollama (default the OpenAI API). */
    baseUrl?: string;
    apiKey?: string;
    /** Ask the server for vectors of this size (text-embedding-3-*); otherwise learnt from the first response. */
    dimensions?: number;
    /** Per-request timeout (default 60 s) and retries of transient failures (default 2). */
    timeoutMs?: number;
    maxRetries?: number;
  };
}

export interface CreatedEmbedder {
  embedder: Embedder;
  /** Why `auto` did not use MiniLM, when it fell back to the hash embedder. */
  note?: string;
}

/** Raised when a backend cannot be used; the message says why and never contains a secret. */
export class EmbeddingUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddingUnavailableError';
  }
}

export async function createEmbedder(settings: EmbeddingSettings): Promise<CreatedEmbedder> {
  switch (settings.provider) {
    case 'hash': {
      const { HashEmbedder } = await import('./hashEmbedder.js');
      return { embedder: HashEmbedder.forModel(settings.model) };
    }
    case 'minilm':
      return { embedder: await loadMiniLm(settings) };
    case 'openai': {
      const { OpenAiEmbedder } = await import('./openaiEmbedder.js');
      return { embedder: await OpenAiEmbedder.connect({ ...settings.openai, model: settings.model }) };
    }
    case 'auto': {
      const { HashEmbedder, isHashModel } = await import('./hashEmbedder.js');
      // An index recorded with the hash embedder asks for it by name: no need to look for MiniLM.
      if (settings.model !== undefined && isHashModel(settings.model)) return { embedder: HashEmbedder.forModel(settings.model) };
      try {
        return { embedder: await loadMiniLm(settings) };
      } catch (error) {
        const fallback = new HashEmbedder();
        const reason = error instanceof Error ? error.message : String(error);
        return { embedder: fallback, note: `MiniLM is not available, so the built-in ${fallback.model} embedder is in use: ${reason}` };
      }
    }
  }
}

/** How /health and logs name the embedder in use: `minilm Xenova/all-MiniLM-L6-v2 (384-d)`. */
export function describeEmbedder(embedder: Pick<Embedder, 'provider' | 'model' | 'dimension'>): string {
  return `${embedder.provider} ${embedder.model} (${embedder.dimension}-d)`;
}

/** Scales a vector in place to unit length (a zero vector stays zero) and returns it. */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] ?? 0) ** 2;
  if (sum > 0) {
    const scale = 1 / Math.sqrt(sum);
    for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] ?? 0) * scale;
  }
  return vector;
}

async function loadMiniLm(settings: EmbeddingSettings): Promise<Embedder> {
  const { MiniLmEmbedder } = await import('./minilmEmbedder.js');
  return MiniLmEmbedder.load({
    model: settings.model,
    modelDir: settings.modelDir,
    cacheDir: settings.cacheDir,
    allowDownload: settings.allowDownload ?? false,
  });
}
