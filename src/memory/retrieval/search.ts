// Owns hybrid code search over one project's index: the query embedded with the index's own
// model, nearest chunks and BM25-scored full-text matches (and symbol-name matches for
// identifiers) fetched, then fused and ranked (ranking.ts). Single halves can be asked for, to
// compare against.
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { embedQueryText, sameModel, type EmbedderPool } from '../embeddings/embedderPool.js';
import { codeIndexColumn, findCodeIndex, parseCodeIndexColumn, type CodeIndexRecord } from '../store/codeIndexes.js';
import {
  candidateRows,
  chunkContents,
  nearestChunks,
  nearestInTransaction,
  readsRareFirst,
  restOfTextMatches,
  scoreTextAnswer,
  textMatches,
  textMatchesQuery,
  textQueryText,
  withFields,
  withVectorSettings,
  type CandidateFilters,
  type CandidateQuery,
  type CandidateRow,
  type ScoredId,
  type SymbolLookup,
  type TextAnswer,
  type TextCandidates,
  type TextRead,
  type VectorSearchSettings,
} from './candidates.js';
import { parseQuery, type QueryTerms } from './queryTerms.js';
import { textQueryPlan, type TermStats, type TextQueryPlan } from './termStats.js';
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

/** What one search asks, read once: its terms, filters and how many candidates each list brings. */
interface Asked {
  request: SearchRequest;
  mode: SearchMode;
  terms: QueryTerms;
  filters: CandidateFilters;
  /** Candidates per list. */
  k: number;
  /** The symbol-name lookup (hybrid searches of a query naming identifiers). */
  symbol: SymbolLookup | undefined;
}

/** The candidate lists of one search, by name (vector, text, symbol: ranking's order), ids and scores only. */
type FoundLists = Array<{ name: ListRun['name']; ids: ScoredId[] }>;

export async function searchCode(deps: SearchDeps, request: SearchRequest, mode: SearchMode = 'hybrid'): Promise<SearchHit[]> {
  const terms = parseQuery(request.query);
  const symbolQuery = mode === 'hybrid' ? terms.symbolQuery : undefined;
  const asked: Asked = {
    request,
    mode,
    terms,
    filters: request.filters ?? {},
    k: candidateCount(request.limit),
    symbol: symbolQuery ? { tsquery: symbolQuery, limit: SYMBOL_CANDIDATES } : undefined,
  };
  const found = deps.db.kind === 'pglite' ? await embeddedLists(deps, asked) : await serverLists(deps, asked);
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

function notFound(projectId: string): AppError {
  return new AppError('project_not_found', `project "${projectId}" has no index; index it first (POST /api/v1/index/files)`);
}

/** The full-text query of the search, for an index of this many chunks; undefined when the text half does not run. */
async function textPlanFor(deps: SearchDeps, asked: Asked, chunks: number): Promise<TextQueryPlan | undefined> {
  if (asked.mode === 'vector' || asked.terms.tokens.length === 0) return undefined;
  return textQueryPlan(asked.terms.tokens, await deps.terms.frequencies(), chunks);
}

async function embedQuery(deps: SearchDeps, record: CodeIndexRecord, asked: Asked): Promise<Float32Array | undefined> {
  if (asked.mode === 'text') return undefined;
  return embedQueryText(await deps.embedders.forModel(record), asked.request.query);
}

function listsOf(vector: ScoredId[] | undefined, text: Partial<TextCandidates>): FoundLists {
  const lists: FoundLists = [];
  if (vector) lists.push({ name: 'vector', ids: vector });
  if (text.text) lists.push({ name: 'text', ids: text.text });
  if (text.symbol) lists.push({ name: 'symbol', ids: text.symbol });
  return lists;
}

/** The lists a text statement answered: the text half when it ran (a plan), the symbol names when asked. */
function textLists(found: TextCandidates, plan: TextQueryPlan | undefined, asked: Asked): Partial<TextCandidates> {
  return { ...(plan ? { text: found.text } : {}), ...(asked.symbol ? { symbol: found.symbol } : {}) };
}

/**
 * On a PostgreSQL server: the index looked up, then the full-text half (with the symbol names) on
 * one pooled connection while the query is embedded and the vector half runs in a transaction of
 * its own on another. (Also the embedded database's way out when its record keeps changing.)
 */
async function serverLists(deps: SearchDeps, asked: Asked): Promise<FoundLists> {
  const record = await findCodeIndex(deps.db, asked.request.projectId);
  if (!record) throw notFound(asked.request.projectId);
  if (record.chunkCount === 0) return [];
  // Sent first, so that the database runs it while this thread embeds the query.
  const text = async (): Promise<Partial<TextCandidates>> => {
    const plan = await textPlanFor(deps, asked, record.chunkCount);
    if (!plan && !asked.symbol) return {};
    return textLists(await textMatches(deps.db, record, plan, asked.terms.tokens, asked.filters, asked.k, asked.symbol), plan, asked);
  };
  const vector = async (): Promise<ScoredId[] | undefined> => {
    const embedded = await embedQuery(deps, record, asked);
    return embedded ? nearestChunks(deps.db, record, embedded, asked.filters, asked.k, deps.vector) : undefined;
  };
  const [texts, nearest] = await Promise.all([text(), vector()]);
  return listsOf(nearest, texts);
}

/**
 * Each project's index record as the last search on this database found it. On the embedded
 * database statements run one at a time, each a round between threads; a search starts from the
 * record it knew, and its first statement reads the record again to check it (see embeddedLists).
 */
const knownIndexes = new WeakMap<Database, Map<string, CodeIndexRecord>>();

/** Which of the plan's matches the search's text statement reads first. */
function textRead(record: CodeIndexRecord, plan: TextQueryPlan | undefined): TextRead {
  return readsRareFirst(record, plan) ? 'rare' : 'all';
}

/** The to_tsquery text a text statement sends for this plan. */
function textSent(plan: TextQueryPlan | undefined, read: TextRead): string | undefined {
  return plan ? textQueryText(plan, read) : undefined;
}

/** The search's first statement, in its transaction: the vector settings, the index row, and the full-text half (with the symbol names) when asked. */
function firstStatement(record: CodeIndexRecord, plan: TextQueryPlan | undefined, asked: Asked, settings: VectorSearchSettings): CandidateQuery {
  const text = plan || asked.symbol ? textMatchesQuery(record.id, plan, asked.terms.tokens, asked.filters, asked.symbol, textRead(record, plan)) : undefined;
  const params = [...(text?.params ?? []), asked.request.projectId];
  const inner = { sql: `select ${codeIndexColumn(`$${params.length}`)}${text ? `, text_.* from (${text.sql}) text_` : ''}`, params };
  return withVectorSettings(inner, asked.filters, settings, asked.k);
}

/**
 * On the embedded database: one transaction, whose first statement makes the vector half's
 * settings, reads the project's index row and runs the full-text half with the symbol names; then
 * the nearest chunks. The query is embedded before it begins (a transaction holds the one
 * connection, and an embedder may call a remote API), with the record the last search found; the
 * first statement's row says whether that record still holds. Counts that moved (an index call)
 * score BM25 with the new ones, and a full-text query they change runs again; another index (the
 * project re-indexed with another model, or deleted) starts the search over. bench/searchSmall,
 * 1,366 chunks: 6 rounds to the database thread a search instead of 8 (the lookup and the settings
 * each a round of their own, as on a server).
 */
async function embeddedLists(deps: SearchDeps, asked: Asked): Promise<FoundLists> {
  const projectId = asked.request.projectId;
  let known = knownIndexes.get(deps.db);
  if (!known) knownIndexes.set(deps.db, (known = new Map()));
  let remembered = known.get(projectId);
  let record = remembered ?? (await findCodeIndex(deps.db, projectId));
  for (let attempt = 1; ; attempt++) {
    if (!record) {
      known.delete(projectId);
      throw notFound(projectId);
    }
    // An empty index (only ever read afresh: an empty one is not remembered) needs no embedding.
    if (record.chunkCount === 0) return [];
    const began = record;
    let vector: Float32Array | undefined;
    let plan: TextQueryPlan | undefined;
    try {
      vector = await embedQuery(deps, began, asked);
      plan = await textPlanFor(deps, asked, began.chunkCount);
    } catch (error) {
      // A remembered record may be of an index deleted or rebuilt since: what fails (an embedder
      // down, a model gone) is said of the index as it is now — a deleted project is a 404, not a 503.
      if (began !== remembered) throw error;
      known.delete(projectId);
      remembered = undefined;
      record = await findCodeIndex(deps.db, projectId);
      if (record && record.id === began.id && sameModel(record, began)) throw error;
      continue;
    }
    const outcome = await deps.db.transaction(async (tx): Promise<{ record: CodeIndexRecord | undefined; lists?: FoundLists }> => {
      const first = firstStatement(began, plan, asked, deps.vector);
      const firstRow = tx.query<Partial<TextAnswer> & { code_index: string | null }>(first.sql, first.params, { reusePlan: true });
      // Sent at once, not after the first answer: the database thread runs it straight after the
      // first statement (whose settings it needs) while this thread scores the full-text matches.
      // Should the record have changed, its answer is not used.
      const nearestIds = vector ? nearestInTransaction(tx, began, vector, asked.filters, asked.k) : Promise.resolve(undefined);
      nearestIds.catch(() => undefined); // awaited below; a failure of the first statement is the one thrown
      const [row] = await firstRow;
      const current = parseCodeIndexColumn(row?.code_index);
      if (!current || current.id !== began.id || !sameModel(current, began) || current.chunkCount === 0) {
        await nearestIds;
        return { record: current, ...(current?.chunkCount === 0 ? { lists: [] } : {}) };
      }
      // The full-text query and BM25's counts as the index now is (the same unless an index call moved them).
      const now = current.chunkCount === began.chunkCount && current.termCount === began.termCount ? plan : await textPlanFor(deps, asked, current.chunkCount);
      const read = textRead(began, plan);
      let texts: Partial<TextCandidates> = {};
      if (read === textRead(current, now) && textSent(plan, read) === textSent(now, read) && (plan || asked.symbol)) {
        const scored = scoreTextAnswer({ matches: row?.matches ?? null, symbols: row?.symbols ?? null }, current, now, asked.k, read);
        const text = scored.complete ? scored.text : await restOfTextMatches(tx, current, now!, asked.terms.tokens, asked.filters, asked.k, scored.matched);
        texts = textLists({ text, symbol: scored.symbol }, now, asked);
      } else if (now || asked.symbol) {
        texts = textLists(await textMatches(tx, current, now, asked.terms.tokens, asked.filters, asked.k, asked.symbol), now, asked);
      }
      return { record: current, lists: listsOf(await nearestIds, texts) };
    });
    record = outcome.record;
    if (outcome.lists) {
      if (record!.chunkCount > 0) known.set(projectId, record!);
      else known.delete(projectId);
      return outcome.lists;
    }
    // Another index than the one the search began with: once more with it; should it change again
    // meanwhile, the server's way, which checks nothing it did not read.
    if (attempt >= 2 && record) {
      known.delete(projectId);
      return serverLists(deps, asked);
    }
  }
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
