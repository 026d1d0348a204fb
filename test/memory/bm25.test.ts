// BM25 scoring of the full-text half (src/memory/retrieval/bm25.ts): rarity, saturation, length
// normalisation, term frequencies read from PostgreSQL's tsvector text, and document frequencies
// counted among the matches (filtered-out chunks still counting).
import { describe, expect, it } from 'vitest';
import { BM25, idf, scoreChunks, termFrequencies, termScore, type MatchedChunk } from '../../src/memory/retrieval/bm25.js';

describe('idf', () => {
  it('is higher for rarer tokens and never negative, even for a token in every chunk', () => {
    expect(idf(1, 1000)).toBeGreaterThan(idf(10, 1000));
    expect(idf(10, 1000)).toBeGreaterThan(idf(500, 1000));
    expect(idf(1000, 1000)).toBeGreaterThan(0);
    expect(idf(5000, 1000)).toBe(idf(1000, 1000));
  });
});

describe('termScore', () => {
  it('grows with repeats but saturates below idf × (k1 + 1)', () => {
    const at = (tf: number) => termScore(tf, 2, 50, 50);
    expect(at(2)).toBeGreaterThan(at(1));
    expect(at(2) - at(1)).toBeGreaterThan(at(20) - at(19));
    expect(at(1000)).toBeLessThan(2 * (BM25.k1 + 1));
    expect(at(0)).toBe(0);
  });

  it('is lower in a longer chunk for the same repeats', () => {
    expect(termScore(1, 2, 20, 50)).toBeGreaterThan(termScore(1, 2, 50, 50));
    expect(termScore(1, 2, 50, 50)).toBeGreaterThan(termScore(1, 2, 200, 50));
  });
});

describe('termFrequencies', () => {
  it("counts each lexeme's positions in a tsvector's text form, weights and quotes included", () => {
    const tf = termFrequencies(`'claim':1,7,9 'job':3A 'it''s':4C,5 'bare'`);
    expect([...tf]).toEqual([
      ['claim', 3],
      ['job', 1],
      ["it's", 2],
      ['bare', 1],
    ]);
    expect(termFrequencies('').size).toBe(0);
  });
});

describe('scoreChunks', () => {
  const chunk = (id: number, length: number, tf: Record<string, number>): MatchedChunk & { passes: boolean } => ({
    id,
    length,
    tf: new Map(Object.entries(tf)),
    passes: id !== 4,
  });
  // One rare token (in chunk 1 only) and one common one (in every match, repeated in chunk 2).
  const matched = [chunk(1, 30, { frobnicate: 1, widget: 1 }), chunk(2, 30, { widget: 9 }), chunk(3, 30, { widget: 1 }), chunk(4, 30, { widget: 1 })];
  const stats = { documents: 4, averageLength: 30, knownFrequency: () => undefined };

  it('puts the chunk with the rare token first, above one repeating the common token', () => {
    const scores = scoreChunks(matched, stats);
    expect(scores.get(1)!).toBeGreaterThan(scores.get(2)!);
    expect(scores.get(2)!).toBeGreaterThan(scores.get(3)!);
  });

  it('counts document frequencies among all matches, also those the filters leave out', () => {
    const filtered = scoreChunks(matched, stats, (c) => c.passes);
    expect(filtered.has(4)).toBe(false);
    expect(filtered.get(1)).toBe(scoreChunks(matched, stats).get(1));
  });

  it('takes a known document frequency over the count among the matches (a common token ANDed in the query)', () => {
    const commonWidget = scoreChunks(matched, { ...stats, documents: 1000, knownFrequency: (token) => (token === 'widget' ? 900 : undefined) });
    const rareWidget = scoreChunks(matched, { ...stats, documents: 1000 });
    expect(commonWidget.get(3)!).toBeLessThan(rareWidget.get(3)!);
  });

  it('uses the matches\' average length when the index has none recorded', () => {
    const scores = scoreChunks([chunk(1, 10, { a: 1 }), chunk(2, 50, { a: 1 })], { documents: 100, averageLength: 0, knownFrequency: () => undefined });
    expect(scores.get(1)!).toBeGreaterThan(scores.get(2)!);
  });
});
