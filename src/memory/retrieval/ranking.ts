// Owns the ranking stage of hybrid search: the candidate lists (vector, BM25 text, symbol) fused by
// reciprocal rank, then re-scored with features of code, then overlapping chunks deduplicated.
// Every feature and its weight is here; scores are additive so that each one's effect is readable.
import type { CandidateRow } from './candidates.js';
import { identifierKey, type QueryTerms } from './queryTerms.js';

export const WEIGHTS = {
  /** Reciprocal rank fusion constant (the usual 60): rank 1 and rank 5 differ little, rank 1 and 50 a lot. */
  rrfK: 60,
  /** The fused score, normalised to [0, 1] (1: first in every list that ran). The base of everything. */
  fused: 1,
  /** The chunk defines (function/method/class/type) a symbol the query names exactly: it goes first. */
  exactDefinition: 1,
  /** The chunk's symbol is named by the query but is not a definition (a module's code, a heading). */
  exactSymbol: 0.35,
  /** Share of the query's tokens found in the symbol name: `parse config` → `parseConfig`. */
  symbolTerms: 0.3,
  /** Share of the query's tokens found in the path: `scheduler` → `src/scheduler/claim.ts`. */
  pathTerms: 0.2,
  /** Definitions over mere mentions: a function/method/class/type chunk rather than loose code. */
  definition: 0.1,
  /**
   * File-level aggregation: a file's other candidates lift its chunks, by the sum of their fused
   * scores over the file's chunk count — the share of the file that answers the query, not how many
   * of its chunks do, which would favour the longest files (a 40-chunk module mentions everything
   * somewhere). Windows of one long definition share its symbol and do not lift each other.
   * bench/retrievalQuality (development set, BM25 text half): file-level nDCG@10 0.898 with the
   * share, 0.890 with no aggregation, 0.858 summed (capped at 1) as it was.
   */
  fileAggregation: 0.15,
  /** Tests mention everything; they are demoted unless the query is about tests. */
  testFile: -0.1,
  /**
   * Diversity: past a file's first chunk, each further one keeps this share of its rank
   * (compounding: the second 0.6, the third 0.36), so that ten results name more than three files
   * while a file's strong second chunk still stays in. bench/retrievalQuality: file-level nDCG@10
   * 0.807 -> 0.833, Recall@10 0.875 -> 0.932 when introduced (two free chunks); one free chunk,
   * chosen on the development set (service/BM25 1.144x -> 1.154x), held-out set 1.161x -> 1.171x.
   */
  perFileDecay: 0.6,
  perFileFree: 1,
} as const;

const DEFINITION_KINDS = new Set(['function', 'method', 'class', 'type']);
const TEST_PATH = /(^|\/)(tests?|__tests__|specs?|testdata|fixtures)\/|[._-](test|spec)s?\.[A-Za-z0-9]+$|(^|\/)test_[^/]*$/i;

export interface ListRun {
  name: 'vector' | 'text' | 'symbol';
  rows: CandidateRow[];
}

export interface RankedChunk extends CandidateRow {
  /** The final score, higher is better. */
  rank: number;
}

/** Names a symbol answers to: `AuthService.login, logout` → authservicelogin, login, logout. */
function symbolKeys(symbol: string | null): Set<string> {
  const keys = new Set<string>();
  for (const part of (symbol ?? '').split(/,\s*/)) {
    const name = part.replace(/^#+\s*/, '').trim();
    if (!name || name === '…') continue;
    keys.add(identifierKey(name));
    keys.add(identifierKey(name.split('.').pop() ?? name));
  }
  return keys;
}

function coverage(tokens: string[], field: string): number {
  if (tokens.length === 0 || field.length === 0) return 0;
  // A token is one of the field's space-separated words (compared in place: no word list made per candidate).
  const padded = ` ${field} `;
  let found = 0;
  for (const token of tokens) if (padded.includes(` ${token} `)) found++;
  return found / tokens.length;
}

/** The fused and re-scored candidates, best first. */
export function rankCandidates(lists: ListRun[], terms: QueryTerms): RankedChunk[] {
  const ran = lists.length;
  const fused = new Map<number, { row: CandidateRow; sum: number }>();
  for (const list of lists) {
    list.rows.forEach((row, i) => {
      const entry = fused.get(row.id) ?? { row, sum: 0 };
      entry.sum += 1 / (WEIGHTS.rrfK + i + 1);
      fused.set(row.id, entry);
    });
  }
  const best = ran / (WEIGHTS.rrfK + 1);
  const normalised = [...fused.values()].map(({ row, sum }) => ({ row, fused: sum / best }));
  const perFile = new Map<string, Array<{ row: CandidateRow; score: number }>>();
  for (const { row, fused: score } of normalised) {
    const same = perFile.get(row.path);
    if (same) same.push({ row, score });
    else perFile.set(row.path, [{ row, score }]);
  }
  const sameDefinition = (a: CandidateRow, b: CandidateRow) => a.id === b.id || (a.symbol !== null && a.symbol === b.symbol);
  const fileSize = (row: CandidateRow) => Math.max(1, row.file_chunks, perFile.get(row.path)?.length ?? 1);
  const fileSupport = (row: CandidateRow) =>
    (perFile.get(row.path) ?? []).reduce((sum, other) => (sameDefinition(row, other.row) ? sum : sum + other.score), 0) / fileSize(row);

  const scored = normalised.map(({ row, fused: score }): RankedChunk => {
    let rank = WEIGHTS.fused * score;
    const definition = DEFINITION_KINDS.has(row.kind);
    const keys = symbolKeys(row.symbol);
    if (terms.identifiers.some((identifier) => keys.has(identifier.key))) rank += definition ? WEIGHTS.exactDefinition : WEIGHTS.exactSymbol;
    rank += WEIGHTS.symbolTerms * coverage(terms.tokens, row.symbol_tokens);
    rank += WEIGHTS.pathTerms * coverage(terms.tokens, row.path_tokens);
    if (definition) rank += WEIGHTS.definition;
    rank += WEIGHTS.fileAggregation * Math.min(1, fileSupport(row));
    if (!terms.mentionsTests && TEST_PATH.test(row.path)) rank += WEIGHTS.testFile;
    return { ...row, rank };
  });
  const order = (a: RankedChunk, b: RankedChunk) => b.rank - a.rank || a.path.localeCompare(b.path) || a.start_line - b.start_line;
  return diversify(dedupeOverlapping(scored.sort(order))).sort(order);
}

/** Each chunk past a file's first WEIGHTS.perFileFree keeps WEIGHTS.perFileDecay of its rank, compounding. */
function diversify(sorted: RankedChunk[]): RankedChunk[] {
  const seen = new Map<string, number>();
  return sorted.map((chunk) => {
    const nth = (seen.get(chunk.path) ?? 0) + 1;
    seen.set(chunk.path, nth);
    const extra = nth - WEIGHTS.perFileFree;
    return extra > 0 ? { ...chunk, rank: chunk.rank * WEIGHTS.perFileDecay ** extra } : chunk;
  });
}

/** Keeps the better of chunks that share lines of a file (windows of a long definition overlap). */
export function dedupeOverlapping<T extends { path: string; start_line: number; end_line: number }>(sorted: T[]): T[] {
  const kept: T[] = [];
  const byPath = new Map<string, T[]>();
  for (const chunk of sorted) {
    const same = byPath.get(chunk.path) ?? [];
    if (same.some((other) => chunk.start_line <= other.end_line && other.start_line <= chunk.end_line)) continue;
    same.push(chunk);
    byPath.set(chunk.path, same);
    kept.push(chunk);
  }
  return kept;
}
