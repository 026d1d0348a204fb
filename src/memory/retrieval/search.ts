// Owns hybrid code search over one project's index: the query embedded with the index's own
// model, nearest chunks and BM25-scored full-text matches (and symbol-name matches for
// identifiers) fetched, then fused and ranked (ranking.ts). Single halves can be asked for, to
// compare against.
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { embedTexts, type EmbedderPool } from '../embeddings/embedderPool.js';
import { findCodeIndex } from '../store/codeIndexes.js';
import {
  candidateRows,
  chunkContents,
  nearestChunks,
  textMatches,
  withFields,
  type CandidateFilters,
  type CandidateRow,
  type ScoredId,
  type TextCandidates,
  type VectorSearchSettings,
} from './candidates.js';
import { parseQuery } from './queryTerms.js';
import { textQueryPlan, type TermStats } from './termStats.js';
import { dedupeOverlapping, rankCandidates, type ListRun } from './ranking.js';

export interface SearchRequest {
  projectId: string;
  query: string;
  limit: number;
  filters?: CandidateFilters;
}

export interface SearchHit {
  path: string;
  start_line: number;
  end_line: number;
  language: string;
  symbol?: string;
  kind: string;
  content: string;
  score: number;
}

export type SearchMode = 'hybrid' | 'vector' | 'text';

export interface SearchDeps {
  db: Database;
  embedders: EmbedderPool;
  vector: VectorSearchSettings;
  terms: TermStats;
}

/** Candidates per list: enough for the ranking stage to reorder, few enough to stay fast. */
function candidateCount(limit: number): number {
  return Math.min(400, Math.max(40, limit * 4));
}

const SYMBOL_CANDIDATES = 20;

export async function searchCode(deps: SearchDeps, request: SearchRequest, mode: SearchMode = 'hybrid'): Promise<SearchHit[]> {
  const record = await findCodeIndex(deps.db, request.projectId);
  if (!record) throw new AppError('project_not_found', `project "${request.projectId}" has no index; index it first (POST /api/v1/index/files)`);
  if (record.chunkCount === 0) return [];
  const terms = parseQuery(request.query);
  const filters = request.filters ?? {};
  const k = candidateCount(request.limit);

  const symbolQuery = mode === 'hybrid' ? terms.symbolQuery : undefined;

  // The full-text half and the symbol-name lookup are one statement; it is sent first, so that the
  // database runs it while this thread embeds the query.
  const textLists = async (): Promise<Partial<TextCandidates>> => {
    const plan = mode !== 'vector' && terms.tokens.length > 0 ? textQueryPlan(terms.tokens, await deps.terms.frequencies(), record.chunkCount) : undefined;
    if (!plan && !symbolQuery) return {};
    const symbol = symbolQuery ? { tsquery: symbolQuery, limit: SYMBOL_CANDIDATES } : undefined;
    const found = await textMatches(deps.db, record, plan, terms.tokens, filters, k, symbol);
    return { ...(plan ? { text: found.text } : {}), ...(symbol ? { symbol: found.symbol } : {}) };
  };
  const vectorList = async (): Promise<ScoredId[] | undefined> => {
    if (mode === 'text') return undefined;
    const embedder = await deps.embedders.forModel(record);
    const [vector] = await embedTexts(embedder, [request.query]);
    return vector ? nearestChunks(deps.db, record, vector, filters, k, deps.vector) : undefined;
  };
  const [text, vector] = await Promise.all([textLists(), vectorList()]);
  const found: Array<{ name: ListRun['name']; ids: ScoredId[] }> = [];
  if (vector) found.push({ name: 'vector', ids: vector });
  if (text.text) found.push({ name: 'text', ids: text.text });
  if (text.symbol) found.push({ name: 'symbol', ids: text.symbol });
  // The candidates' columns, for every list at once.
  const fields = await candidateRows(deps.db, [...new Set(found.flatMap((list) => list.ids.map(({ id }) => id)))]);
  const lists: ListRun[] = found.map(({ name, ids }) => ({ name, rows: withFields(ids, fields) }));
  const hits =
    mode !== 'hybrid'
      ? dedupeOverlapping(lists[0]?.rows ?? []).slice(0, request.limit).map((row) => ({ row, score: row.score }))
      : rankCandidates(lists, terms).slice(0, request.limit).map((row) => ({ row, score: row.rank }));
  // The candidates came without their text: one statement reads it for the hits returned.
  const contents = await chunkContents(deps.db, hits.map(({ row }) => row.id));
  return hits.flatMap(({ row, score }) => {
    const content = contents.get(row.id);
    return content === undefined ? [] : [toHit(row, content, score)];
  });
}

function toHit(row: CandidateRow, content: string, score: number): SearchHit {
  return {
    path: row.path,
    start_line: row.start_line,
    end_line: row.end_line,
    language: row.language,
    ...(row.symbol ? { symbol: row.symbol } : {}),
    kind: row.kind,
    content,
    score: Math.round(score * 10_000) / 10_000,
  };
}
