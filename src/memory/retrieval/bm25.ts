// Owns the scoring of the full-text half of search: Okapi BM25 over chunks, a chunk being one
// document of its code tokens (symbol names, path and content, as stored). Rare query tokens
// outweigh common ones (IDF), repeats of a token count with diminishing returns (k1), and a long
// chunk does not win by length alone (b, against the index's average chunk length).
//
// A chunk's length is its number of distinct tokens (Singhal, Buckley and Mitra's "unique"
// length normalisation): PostgreSQL keeps it in the full-text vector's header, where counting
// every token would mean reading the chunk's token text (+6 ms a search at 100k chunks). Measured
// on bench/retrievalQuality's development set, BM25 alone: nDCG@10 0.859 against 0.864 with token counts.
//
// PostgreSQL finds the matching chunks through the GIN index and hands over, per chunk, only the
// query's tokens with their positions (candidates.ts); the arithmetic is here, where it costs
// microseconds (written as SQL aggregates it took longer than the rest of the search).

/** The usual Okapi parameters (Lucene's and Elasticsearch's defaults). */
export const BM25 = { k1: 1.2, b: 0.75 } as const;

/** Lucene's BM25 IDF: ln(1 + (N - df + 0.5) / (df + 0.5)); never negative, so a common token never counts against a chunk. */
export function idf(documentFrequency: number, documents: number): number {
  const df = Math.min(Math.max(documentFrequency, 0), documents);
  return Math.log(1 + (documents - df + 0.5) / (df + 0.5));
}

/** One term's BM25 contribution to a chunk: IDF times its saturated, length-normalised frequency. */
export function termScore(tf: number, termIdf: number, length: number, averageLength: number): number {
  if (tf <= 0) return 0;
  const norm = BM25.k1 * (1 - BM25.b + (BM25.b * length) / Math.max(averageLength, 1e-9));
  return (termIdf * (tf * (BM25.k1 + 1))) / (tf + norm);
}

/**
 * The most a chunk can score from these tokens alone, whatever their frequencies and its length:
 * each term's score stays below idf × (k1 + 1) (termScore), `documentFrequency` giving their
 * document frequencies.
 */
export function scoreBound(tokens: Iterable<string>, documentFrequency: (token: string) => number, documents: number): number {
  let bound = 0;
  for (const token of tokens) bound += idf(documentFrequency(token), documents) * (BM25.k1 + 1);
  return bound;
}

/**
 * Term frequencies from a tsvector's text form (`'claim':1,7 'job':3A`): each lexeme with the
 * number of its positions. Lexemes are quoted, quotes inside doubled; a position may carry a weight
 * letter; a lexeme without positions counts once.
 */
export function termFrequencies(tsvector: string): Map<string, number> {
  // Read with indexOf rather than a regular expression: this runs for every matching chunk of
  // every search (~400 a search at 1,379 chunks), and the expression took ~1.8 us a chunk, this ~0.45.
  const out = new Map<string, number>();
  const end = tsvector.length;
  let at = tsvector.indexOf("'");
  while (at >= 0) {
    let lexeme = '';
    let from = at + 1;
    for (;;) {
      const quote = tsvector.indexOf("'", from);
      if (quote < 0) return out;
      if (tsvector.charCodeAt(quote + 1) === QUOTE) {
        lexeme += tsvector.slice(from, quote + 1);
        from = quote + 2;
        continue;
      }
      lexeme += tsvector.slice(from, quote);
      from = quote + 1;
      break;
    }
    let positions = 1;
    if (tsvector.charCodeAt(from) === COLON) {
      for (from++; from < end; from++) {
        const char = tsvector.charCodeAt(from);
        if (char === COMMA) positions++;
        else if (char === SPACE) break;
      }
    }
    out.set(lexeme, (out.get(lexeme) ?? 0) + positions);
    at = tsvector.indexOf("'", from);
  }
  return out;
}

const QUOTE = 39;
const COLON = 58;
const COMMA = 44;
const SPACE = 32;

export interface MatchedChunk {
  id: number;
  /** The chunk's BM25 length: its number of distinct tokens. */
  length: number;
  /** The query's tokens found in the chunk, with their frequencies. */
  tf: Map<string, number>;
}

export interface CollectionStats {
  /** Chunks in the index (N). */
  documents: number;
  /** Average chunk length; when unknown (0), the matched chunks' average stands in. */
  averageLength: number;
  /**
   * A token's document frequency when it cannot be counted among the matches (a common token that
   * only reached the query ANDed with others); undefined: count it among the matched chunks.
   */
  knownFrequency(token: string): number | undefined;
}

/**
 * BM25 scores of matched chunks by id (chunks with no query token left out). `matched` must hold
 * every chunk of the index that holds a counted token (the full-text query ORs them), so that
 * counting them there gives their exact document frequency; `scored` picks the ones to score
 * (those that pass the path/language filters: the others still count in the frequencies).
 */
export function scoreChunks<T extends MatchedChunk>(matched: readonly T[], stats: CollectionStats, scored: (chunk: T) => boolean = () => true): Map<number, number> {
  const counted = new Map<string, number>();
  for (const chunk of matched) for (const token of chunk.tf.keys()) counted.set(token, (counted.get(token) ?? 0) + 1);
  const weights = new Map<string, number>();
  for (const [token, inMatches] of counted) weights.set(token, idf(stats.knownFrequency(token) ?? inMatches, stats.documents));
  const averageLength = stats.averageLength > 0 ? stats.averageLength : matched.reduce((sum, c) => sum + c.length, 0) / Math.max(1, matched.length);
  const scores = new Map<number, number>();
  for (const chunk of matched) {
    if (!scored(chunk)) continue;
    let score = 0;
    for (const [token, tf] of chunk.tf) score += termScore(tf, weights.get(token) ?? 0, chunk.length, averageLength);
    if (score > 0) scores.set(chunk.id, score);
  }
  return scores;
}
