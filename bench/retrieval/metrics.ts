// Ranking metrics with binary relevance, and the BM25 baseline of the retrieval benchmark: a plain
// Okapi BM25 (k1 1.2, b 0.75) over whole files, with the simplest tokenizer (lowercased runs of
// ASCII letters and digits: no identifier splitting, no stemming, no stop words).

export interface RankingScores {
  ndcg: number;
  recall: number;
  mrr: number;
}

/** nDCG@k, Recall@k and MRR@k of `ranked` (distinct paths, best first) against the relevant set. */
export function scoreRanking(ranked: readonly string[], relevant: readonly string[], k = 10): RankingScores {
  const wanted = new Set(relevant);
  const top = ranked.slice(0, k);
  let dcg = 0;
  let found = 0;
  let mrr = 0;
  top.forEach((path, i) => {
    if (!wanted.has(path)) return;
    dcg += 1 / Math.log2(i + 2);
    found++;
    if (mrr === 0) mrr = 1 / (i + 1);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, wanted.size); i++) ideal += 1 / Math.log2(i + 2);
  return { ndcg: ideal > 0 ? dcg / ideal : 0, recall: wanted.size > 0 ? found / wanted.size : 0, mrr };
}

export function meanScores(scores: readonly RankingScores[]): RankingScores {
  const n = Math.max(1, scores.length);
  return {
    ndcg: scores.reduce((sum, s) => sum + s.ndcg, 0) / n,
    recall: scores.reduce((sum, s) => sum + s.recall, 0) / n,
    mrr: scores.reduce((sum, s) => sum + s.mrr, 0) / n,
  };
}

/** Paths in the order of their first occurrence. */
export function distinctPaths(paths: Iterable<string>): string[] {
  return [...new Set(paths)];
}

export function bm25Tokens(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

interface Bm25Doc {
  key: string;
  length: number;
  tf: Map<string, number>;
}

/** Okapi BM25 over documents given as token lists (whole files, or chunks). */
export class Bm25 {
  private readonly docs: Bm25Doc[];
  private readonly df = new Map<string, number>();
  private readonly avgLength: number;

  constructor(
    documents: ReadonlyArray<{ key: string; tokens: readonly string[] }>,
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {
    this.docs = documents.map((document) => {
      const tf = new Map<string, number>();
      for (const token of document.tokens) tf.set(token, (tf.get(token) ?? 0) + 1);
      for (const token of tf.keys()) this.df.set(token, (this.df.get(token) ?? 0) + 1);
      return { key: document.key, length: document.tokens.length, tf };
    });
    this.avgLength = this.docs.reduce((sum, doc) => sum + doc.length, 0) / Math.max(1, this.docs.length);
  }

  /** The plain baseline: whole files, tokenized by bm25Tokens. */
  static overFiles(files: ReadonlyArray<{ path: string; content: string }>): Bm25 {
    return new Bm25(files.map((file) => ({ key: file.path, tokens: bm25Tokens(file.content) })));
  }

  /** Lucene's non-negative idf: ln(1 + (N - df + 0.5) / (df + 0.5)). */
  private idf(term: string): number {
    const df = this.df.get(term) ?? 0;
    return Math.log(1 + (this.docs.length - df + 0.5) / (df + 0.5));
  }

  /** The best `limit` documents for the query's distinct tokens, best first; ties by key. */
  search(queryTokens: readonly string[], limit = 10): string[] {
    const terms = [...new Set(queryTokens)].filter((term) => this.df.has(term));
    const scored: Array<{ key: string; score: number }> = [];
    for (const doc of this.docs) {
      let score = 0;
      for (const term of terms) {
        const tf = doc.tf.get(term);
        if (!tf) continue;
        const norm = this.k1 * (1 - this.b + (this.b * doc.length) / this.avgLength);
        score += this.idf(term) * ((tf * (this.k1 + 1)) / (tf + norm));
      }
      if (score > 0) scored.push({ key: doc.key, score });
    }
    scored.sort((x, y) => y.score - x.score || x.key.localeCompare(y.key));
    return scored.slice(0, limit).map((entry) => entry.key);
  }
}
