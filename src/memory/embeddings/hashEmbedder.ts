// Owns the built-in offline embedder: code-aware tokens, their adjacent bigrams and character
// 3/4-grams, each signed-feature-hashed (FNV-1a + a murmur3 finaliser) into a fixed dimension with
// sublinear weights, then L2-normalised. No model, no dependency, deterministic across runs and machines.
// Changing anything that moves a vector means a new model name (v2), since indexes record the name.
import { l2Normalize, type Embedder } from './embedder.js';
import { identifierTerms } from './codeTokens.js';

export const HASH_MODEL_PREFIX = 'autobuild-hash-v1-';
export const DEFAULT_HASH_DIMENSION = 384;

// Feature weights, relative to a whole word (1). Each token's n-grams together weigh NGRAM_WEIGHT
// (divided by √count), so long words do not drown the rest.
const WHOLE_IDENTIFIER_WEIGHT = 0.7;
const BIGRAM_WEIGHT = 0.5;
const NGRAM_WEIGHT = 1;
const MIN_NGRAM_TOKEN_LENGTH = 5;

// Seeds keep the feature kinds apart: the word `user` and the 3-gram `use` never share a slot by design.
const WORD_SEED = 0x811c9dc5;
const BIGRAM_SEED = 0x01000193;
const NGRAM_SEED = 0x9e3779b9;
const EMPTY_SEED = 0x2545f491;

/** Whether a model name is one of this embedder's (`autobuild-hash-v1-<dimension>`). */
export function isHashModel(model: string): boolean {
  return model.startsWith(HASH_MODEL_PREFIX);
}

export class HashEmbedder implements Embedder {
  readonly provider = 'hash' as const;
  readonly model: string;
  readonly dimension: number;

  constructor(dimension = DEFAULT_HASH_DIMENSION) {
    if (!Number.isInteger(dimension) || dimension < 16 || dimension > 16384) {
      throw new RangeError(`hash embedder dimension must be an integer in 16..16384, got ${dimension}`);
    }
    this.dimension = dimension;
    this.model = `${HASH_MODEL_PREFIX}${dimension}`;
  }

  /** The embedder a recorded model name stands for; the default one when no name is given. */
  static forModel(model: string | undefined): HashEmbedder {
    if (model === undefined || model === '') return new HashEmbedder();
    const dimension = isHashModel(model) ? Number(model.slice(HASH_MODEL_PREFIX.length)) : Number.NaN;
    if (!Number.isInteger(dimension)) {
      throw new RangeError(`unknown hash embedding model "${model}" (expected ${HASH_MODEL_PREFIX}<dimension>, e.g. ${HASH_MODEL_PREFIX}${DEFAULT_HASH_DIMENSION})`);
    }
    return new HashEmbedder(dimension);
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    return texts.map((text) => this.embedOne(text));
  }

  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimension);
    const words = new Map<string, number>();
    const wholes = new Map<string, number>();
    const bigrams = new Map<string, number>();
    let previous: string | undefined;
    for (const terms of identifierTerms(text)) {
      if (terms.whole !== undefined) increment(wholes, terms.whole);
      for (const part of terms.parts) {
        increment(words, part);
        if (previous !== undefined) increment(bigrams, `${previous} ${part}`);
        previous = part;
      }
    }
    for (const [word, count] of words) {
      const weight = sublinear(count);
      this.add(vector, hashString(word, WORD_SEED), weight);
      if (word.length >= MIN_NGRAM_TOKEN_LENGTH) this.addNgrams(vector, word, weight * NGRAM_WEIGHT);
    }
    // Same seed as words: a query that spells the identifier (`authenticateUser`) meets it whole.
    for (const [whole, count] of wholes) this.add(vector, hashString(whole, WORD_SEED), sublinear(count) * WHOLE_IDENTIFIER_WEIGHT);
    for (const [bigram, count] of bigrams) this.add(vector, hashString(bigram, BIGRAM_SEED), sublinear(count) * BIGRAM_WEIGHT);
    if (words.size === 0) this.add(vector, EMPTY_SEED, 1); // nothing meaningful: one fixed unit vector
    return l2Normalize(vector);
  }

  /** Character 3- and 4-grams of `<word>` (with boundary marks), weighing `total` together. */
  private addNgrams(vector: Float32Array, word: string, total: number): void {
    const padded = `<${word}>`;
    const count = (padded.length - 2) + (padded.length - 3);
    const weight = total / Math.sqrt(count);
    for (let n = 3; n <= 4; n++) {
      for (let start = 0; start + n <= padded.length; start++) {
        this.add(vector, hashRange(padded, start, start + n, NGRAM_SEED + n), weight);
      }
    }
  }

  private add(vector: Float32Array, hash: number, weight: number): void {
    const mixed = fmix32(hash);
    const index = (mixed & 0x7fffffff) % this.dimension;
    vector[index] = (vector[index] ?? 0) + (mixed & 0x80000000 ? -weight : weight);
  }
}

function increment(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** 1, 1.69, 2.10, ...: repeating a term adds evidence with diminishing returns. */
function sublinear(count: number): number {
  return 1 + Math.log(count);
}

/** FNV-1a over UTF-16 code units, from a seed. */
function hashString(text: string, seed: number): number {
  return hashRange(text, 0, text.length, seed);
}

function hashRange(text: string, start: number, end: number, seed: number): number {
  let h = seed >>> 0;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** murmur3's finaliser: spreads FNV's weak high bits, which pick the sign. */
function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
