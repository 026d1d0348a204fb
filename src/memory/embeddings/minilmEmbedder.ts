// Owns the transformers.js embedder (all-MiniLM-L6-v2 by default): finding the model in the local
// models directory or the file cache, downloading it only when allowed, mean-pooled normalised
// sentence vectors in batches, inputs truncated to the model's length.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { env, LogLevel, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { EmbeddingUnavailableError, l2Normalize, type Embedder } from './embedder.js';

export const DEFAULT_MINILM_MODEL = 'Xenova/all-MiniLM-L6-v2';
const DEFAULT_BATCH_SIZE = 32;
const DEFAULT_LOAD_TIMEOUT_MS = 10 * 60_000; // a download of ~90 MB on a slow line; local loads take ~1 s

// transformers.js' own defaults, before any load below changes its global `env`.
const LIBRARY_MODEL_DIR = env.localModelPath;
const LIBRARY_CACHE_DIR = env.cacheDir;

export interface MiniLmOptions {
  model?: string | undefined;
  modelDir?: string | undefined;
  cacheDir?: string | undefined;
  allowDownload?: boolean | undefined;
  batchSize?: number | undefined;
  loadTimeoutMs?: number | undefined;
}

// transformers.js reads its settings from one global object, so loads take turns.
let loadQueue: Promise<unknown> = Promise.resolve();

export class MiniLmEmbedder implements Embedder {
  readonly provider = 'minilm' as const;

  private constructor(
    readonly model: string,
    readonly dimension: number,
    private readonly extractor: FeatureExtractionPipeline,
    private readonly batchSize: number,
  ) {}

  /** Loads the model, or throws an EmbeddingUnavailableError naming every place it looked. */
  static async load(options: MiniLmOptions = {}): Promise<MiniLmEmbedder> {
    const loaded = loadQueue.then(() => loadPipeline(options));
    loadQueue = loaded.catch(() => undefined);
    const { model, extractor } = await loaded;
    try {
      return await MiniLmEmbedder.fromPipeline(model, extractor, options);
    } catch (error) {
      await extractor.dispose().catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new EmbeddingUnavailableError(`MiniLM model "${model}" loaded but failed its first embedding: ${reason}`, { cause: error });
    }
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      const batch = texts.slice(start, start + this.batchSize);
      const tensor = await this.extractor(batch, { pooling: 'mean', normalize: true });
      const data = tensor.data as Float32Array;
      const width = Number(tensor.dims[tensor.dims.length - 1]);
      if (width !== this.dimension || data.length !== width * batch.length) {
        throw new Error(`MiniLM model ${this.model} returned vectors of shape [${tensor.dims.join(', ')}], expected [${batch.length}, ${this.dimension}]`);
      }
      for (let i = 0; i < batch.length; i++) out.push(l2Normalize(data.slice(i * width, (i + 1) * width)));
      tensor.dispose();
    }
    return out;
  }

  /** Releases the ONNX session. */
  async dispose(): Promise<void> {
    await this.extractor.dispose();
  }

  /** The dimension is what the model really outputs, read from a first embedding. */
  private static async fromPipeline(model: string, extractor: FeatureExtractionPipeline, options: MiniLmOptions): Promise<MiniLmEmbedder> {
    capTokenizerLength(extractor);
    const probe = await extractor(['dimension probe'], { pooling: 'mean', normalize: true });
    const dimension = Number(probe.dims[probe.dims.length - 1]);
    probe.dispose();
    return new MiniLmEmbedder(model, dimension, extractor, Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE));
  }
}

async function loadPipeline(options: MiniLmOptions): Promise<{ model: string; extractor: FeatureExtractionPipeline }> {
  const model = options.model?.trim() || DEFAULT_MINILM_MODEL;
  const modelDir = path.resolve(options.modelDir ?? LIBRARY_MODEL_DIR);
  const cacheDir = path.resolve(options.cacheDir ?? LIBRARY_CACHE_DIR ?? path.join(modelDir, '.cache'));
  const allowDownload = options.allowDownload ?? false;
  // A path names one directory; a model id is looked up in the cache, then the models directory.
  const candidates = isPathLike(model) ? [path.resolve(model)] : [path.join(cacheDir, model), path.join(modelDir, model)];
  const where = candidates.map((c) => `"${c}"`).join(' and ');
  const found = (file: string): boolean => candidates.some((dir) => existsSync(path.join(dir, file)));

  if (!allowDownload && !(found('config.json') && found('tokenizer.json'))) {
    throw new EmbeddingUnavailableError(
      `MiniLM model "${model}" was not found locally (looked for config.json and tokenizer.json in ${where}) and downloads are not allowed; ` +
        'put the model there (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx) or allow downloads',
    );
  }
  // Full precision when present (the default file of a download), else the quantised export.
  const dtype = !found('onnx/model.onnx') && found('onnx/model_quantized.onnx') ? 'q8' : 'fp32';

  const previousLogLevel = env.logLevel;
  env.localModelPath = modelDir;
  env.cacheDir = cacheDir;
  env.allowLocalModels = true;
  env.useFSCache = true;
  env.allowRemoteModels = allowDownload;
  env.logLevel = LogLevel.ERROR; // its per-file "not found locally" warnings: our error says it better
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeoutMs = options.loadTimeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`loading took longer than ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    });
    const extractor = await Promise.race([
      pipeline('feature-extraction', model, { dtype, device: 'cpu', local_files_only: !allowDownload }),
      timeout,
    ]);
    return { model, extractor };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const download = allowDownload ? 'downloading was allowed but did not succeed' : 'downloads are not allowed';
    throw new EmbeddingUnavailableError(`MiniLM model "${model}" could not be loaded from ${where} (${download}): ${reason}`, { cause: error });
  } finally {
    clearTimeout(timer);
    env.logLevel = previousLogLevel;
  }
}

/** Absolute or explicitly relative paths name a model directory; `owner/name` is a model id. */
function isPathLike(model: string): boolean {
  return path.isAbsolute(model) || model.startsWith('./') || model.startsWith('../');
}

/**
 * The pipeline truncates to the tokenizer's model_max_length; a tokenizer_config without one would
 * let long inputs overflow the position table, so cap it at the config's max_position_embeddings.
 */
function capTokenizerLength(extractor: FeatureExtractionPipeline): void {
  const tokenizer = extractor.tokenizer as unknown as { model_max_length?: number; _tokenizerConfig?: Record<string, unknown> };
  const config = extractor.model.config as unknown as { max_position_embeddings?: unknown };
  const positions = typeof config.max_position_embeddings === 'number' ? config.max_position_embeddings : undefined;
  const current = tokenizer.model_max_length;
  if (positions !== undefined && (current === undefined || !Number.isFinite(current) || current > positions) && tokenizer._tokenizerConfig) {
    tokenizer._tokenizerConfig.model_max_length = positions;
  }
}
