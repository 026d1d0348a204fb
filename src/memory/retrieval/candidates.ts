// Owns the SQL of search candidates from one project's index: nearest chunks by cosine distance
// through the project's HNSW index (with iterative scans, so that path/language filters do not
// starve the results), full-text matches through the GIN index scored by BM25 (bm25.ts), and
// symbol-name matches ranked by ts_rank.
import type { Database, Queryable } from '../../platform/database/database.js';
import type { CodeIndexRecord } from '../store/codeIndexes.js';
import { embeddingExpression, sqlInteger, vectorParam } from '../store/vectors.js';
import { scoreBound, scoreChunks, termFrequencies, type MatchedChunk } from './bm25.js';
import type { TextQueryPlan } from './termStats.js';

export interface CandidateRow {
  id: number;
  path: string;
  start_line: number;
  end_line: number;
  language: string;
  symbol: string | null;
  kind: string;
  /**
   * The chunk's text: not read with the candidates (ranking never looks at it), only for the hits
   * a search returns (chunkContents). bench/searchSmall: the candidate lists carried ~100 chunks'
   * text per search to hand over and parse, for the 10 returned.
   */
  content?: string;
  symbol_tokens: string;
  path_tokens: string;
  /** How many chunks the row's file has in the index (file-level aggregation weighs by it). */
  file_chunks: number;
  /** Cosine similarity (vector), BM25 (text) or ts_rank (symbol names): higher is better. */
  score: number;
}

export interface CandidateFilters {
  pathPrefix?: string;
  language?: string;
}

export interface VectorSearchSettings {
  /** pgvector ≥ 0.8: keep scanning the graph until enough rows pass the filters. */
  iterativeScan: boolean;
  /** Candidates examined per query (hnsw.ef_search); at least the number of rows asked for. */
  efSearch: number;
}

const COLUMNS = 'id, path, start_line, end_line, language, symbol, kind, symbol_tokens, path_tokens';
/** The chunk count of a candidate's file, looked up per returned row, so that ranking needs no statement of its own for it. */
const FILE_CHUNKS = `coalesce((select f.chunk_count from memory.files f where f.index_id = c.index_id and f.path = c.path), 1) as file_chunks`;

// ts_rank weights for {D, C, B, A}: content, (unused), path, symbol name; normalisation 1 divides
// by 1 + log(length). Used for symbol-name lookups, where the vector holds the names alone.
const TEXT_WEIGHTS = '{0.1, 0.2, 0.5, 1.0}';
const TEXT_NORMALISATION = 1;

/**
 * Search statements whose best plan does not depend on their values (rows by key, the GIN lookups,
 * the unfiltered HNSW scan) are prepared once and their plans reused: planning in WASM cost PGlite
 * ~2 ms a search at 100k chunks (HNSW statement 10.0 -> 8.9 ms, BM25 matches 4.8 -> 4.0 ms p50).
 */
const REUSE_PLAN = { reusePlan: true } as const;

function hasFilters(filters: CandidateFilters): boolean {
  return Boolean(filters.pathPrefix || filters.language);
}

function filterSql(filters: CandidateFilters, params: unknown[]): string {
  let sql = '';
  if (filters.pathPrefix) {
    params.push(filters.pathPrefix);
    sql += ` and starts_with(path, $${params.length})`;
  }
  if (filters.language) {
    params.push(filters.language);
    sql += ` and language = $${params.length}`;
  }
  return sql;
}


export interface CandidateQuery {
  sql: string;
  params: unknown[];
}

/**
 * How the search statements answer: one value of JSON text (rows as arrays), parsed here by
 * JSON.parse. Rows, or arrays of PostgreSQL's text form, cost the embedded database's thread more
 * to hand over than to find: each field decoded from the protocol on its own and parsed
 * character by character (arrays), then every row copied to this thread as an object. A CPU
 * profile of bench/searchSmall (1,366 chunks) had ~1.5 ms of a search's 7 ms on the database
 * thread in that; ~90 candidates' columns took 1.9 ms as rows, 1.1 ms as one JSON value.
 */
function parseAnswer<T>(text: string | null | undefined): T[] {
  return text ? (JSON.parse(text) as T[]) : [];
}

/** A candidate as a list finds it: its id and its score in that list (higher is better). */
export interface ScoredId {
  id: number;
  score: number;
}

/**
 * The vector half's settings, as select-list items of set_config (transaction-local), the ef_search
 * value being the parameter `param`. At a few thousand chunks the planner prefers a table scan,
 * but distances cost ~4 us a row on PGlite (5k chunks: 14.7 ms scanning against 3.1 ms through
 * HNSW); narrow filters still use their btree index, enable_seqscan off only takes the full scan
 * off the table. Without filters, below ~2k chunks the planner still read every vector, through a
 * bitmap scan of the project's btree and a top-N sort (each vector read from TOAST, ~3 us a row:
 * 2.3-3 ms at 779 chunks, bench/searchSmall); enable_sort off leaves it the HNSW scan, which hands
 * rows over in order (0.6-1 ms there, ef_search 400 visiting nearly the whole small graph). With
 * filters it stays on: a narrow one is best ranked exactly. The final sort (relaxed order) still
 * runs, but priced as disabled (PostgreSQL before 18 adds 1e10 to its cost), which on a server
 * with JIT compiled the statement each time: 132 ms of 143 at 100k chunks (bench/memoryScale on
 * PostgreSQL 15); JIT off with it (PGlite has none).
 *
 * Without filters the statement's plan is also taken generic: PostgreSQL's own choice ("auto")
 * planned it afresh on every search (a plan for the parameters' values costs less than one for
 * any values, `limit $2` estimated at a tenth of the rows), though both are the same HNSW scan.
 * bench/searchSmall, 1,379 chunks: 2.2-3.4 -> 1.8-2.5 ms for the settings and the statement,
 * identical answers.
 */
export function vectorSettingsColumns(filters: CandidateFilters, settings: VectorSearchSettings, param: string): string {
  return (
    `set_config('hnsw.ef_search', ${param}, true), set_config('enable_seqscan', 'off', true)` +
    (hasFilters(filters) ? '' : `, set_config('enable_sort', 'off', true), set_config('jit', 'off', true), set_config('plan_cache_mode', 'force_generic_plan', true)`) +
    (settings.iterativeScan ? `, set_config('hnsw.iterative_scan', 'relaxed_order', true)` : '')
  );
}

/** The ef_search value for `limit` rows: the setting, at least the rows wanted, at most 1000. */
export function efSearchValue(settings: VectorSearchSettings, limit: number): string {
  return String(Math.min(1000, Math.max(settings.efSearch, limit)));
}

/**
 * The nearest-chunks statement (exported so that tests can EXPLAIN exactly what runs): ids and
 * cosine similarities only, as one JSON array (see parseAnswer). The candidates' other columns come in
 * one statement for all lists (candidateRows); carried here, with each one's file chunk count, they
 * cost ~1 ms a search more than the ids (bench/searchSmall, 1,366 chunks).
 */
export function nearestChunksQuery(record: CodeIndexRecord, vector: Float32Array, filters: CandidateFilters, limit: number): CandidateQuery {
  const expression = embeddingExpression(record.dimension);
  const params: unknown[] = [vectorParam(vector), limit];
  const where = `index_id = ${sqlInteger(record.id, 'index id')}${filterSql(filters, params)}`;
  // The predicate and the expression are repeated literally so that the planner uses the partial
  // HNSW index; the CTE re-sorts because relaxed-order iterative scans may return rows slightly out of order.
  const sql = `with nearest as materialized (
      select id, ${expression} <=> $1::vector(${record.dimension}) as distance
      from memory.chunks where ${where}
      order by ${expression} <=> $1::vector(${record.dimension}) limit $2
    ) select json_agg(json_build_array(id, 1 - distance) order by distance)::text as found from nearest`;
  return { sql, params };
}

/** What a full-text query looks in: all code tokens (weighted), or symbol names only. */
export type TextField = 'search' | 'symbol_search';

function rankedMatchesSql(field: TextField, indexId: string, tsquery: string, limit: string, filters: string): string {
  return `select id, ts_rank('${TEXT_WEIGHTS}', ${field}, query, ${TEXT_NORMALISATION}) as score
      from memory.chunks, to_tsquery('simple', ${tsquery}) as query
      where index_id = ${indexId} and ${field} @@ query${filters}
      order by score desc, id limit ${limit}`;
}

/** The symbol-name half of textMatchesQuery: a to_tsquery text of identifiers and how many matches to keep. */
export interface SymbolLookup {
  tsquery: string;
  limit: number;
}

/**
 * The statement BM25 scores from: every chunk matching the plan's to_tsquery text (through the GIN
 * index), with its length (distinct tokens: length() of its vector), the query's tokens it holds
 * with their positions (the rest of its vector dropped in SQL: setweight marks the query's lexemes,
 * ts_filter keeps them), and whether it passes the filters. Filters do not remove chunks here:
 * those outside them still count in the tokens' document frequencies, which belong to the whole
 * index. The answer is one value (see parseAnswer): a row per chunk cost more to hand over than to find (at
 * 100k chunks, p50 7-11 ms against 5.6-6.4 ms). The marked vector is made once per chunk in a
 * subquery (offset 0 keeps it there), so that a compressed vector is decompressed once (-0.7 ms).
 *
 * The same statement answers the symbol-name lookup (`symbol`: best ts_rank first, within the
 * filters), as a second value: one round to the database a search instead of two. Either half may
 * be absent (a null to_tsquery text matches nothing); the statement's shape stays the same, so its
 * plan is prepared once. `read`: which of the plan's matches (see TextRead).
 */
export function textMatchesQuery(
  indexId: number,
  plan: TextQueryPlan | undefined,
  tokens: string[],
  filters: CandidateFilters,
  symbol?: SymbolLookup,
  read: TextRead = 'all',
): CandidateQuery {
  const tsquery = plan ? textQueryText(plan, read) : null;
  const params: unknown[] = [indexId, tsquery, tokens, symbol?.tsquery ?? null, symbol?.limit ?? 0];
  const filters_ = filterSql(filters, params);
  const passes = filters_.replace(/^ and /, '') || 'true';
  const sql = `select (
      select json_agg(json_build_array(id, length(marked), ts_filter(marked, '{c}')::text, passes))::text
      from (
        select id, setweight(search, 'C', $3::text[]) as marked, ${passes} as passes
        from memory.chunks, to_tsquery('simple', $2) as query
        where index_id = $1 and search @@ query
        offset 0
      ) matches
    ) as matches, (
      select json_agg(json_build_array(id, score) order by score desc, id)::text
      from (${rankedMatchesSql('symbol_search', '$1', '$4', '$5', filters_)}) best
    ) as symbols`;
  return { sql, params };
}

/**
 * A statement that makes the vector half's settings for the rest of its transaction and answers
 * what `inner` answers (its columns, after the settings'), with the settings' parameter appended:
 * on the embedded database one round instead of two in the vector half's transaction.
 */
export function withVectorSettings(inner: CandidateQuery, filters: CandidateFilters, settings: VectorSearchSettings, limit: number): CandidateQuery {
  const params = [...inner.params, efSearchValue(settings, limit)];
  return { sql: `select ${vectorSettingsColumns(filters, settings, `$${params.length}`)}, inner_.* from (${inner.sql}) inner_`, params };
}

/** Nearest chunks, best first, in the caller's transaction whose vector settings are already made (vectorSettingsColumns). */
export async function nearestInTransaction(tx: Queryable, record: CodeIndexRecord, vector: Float32Array, filters: CandidateFilters, limit: number): Promise<ScoredId[]> {
  const { sql, params } = nearestChunksQuery(record, vector, filters, limit);
  // Without filters the plan is always the HNSW scan: prepared once. With filters the planner
  // must see their values (a narrow one is answered through its btree index instead).
  const [row] = await tx.query<{ found: string | null }>(sql, params, hasFilters(filters) ? undefined : REUSE_PLAN);
  return parseAnswer<[number, number]>(row?.found).map(([id, score]) => ({ id, score }));
}

/** Nearest chunks, best first: a transaction of their own, its settings made by one statement. */
export async function nearestChunks(
  db: Database,
  record: CodeIndexRecord,
  vector: Float32Array,
  filters: CandidateFilters,
  limit: number,
  settings: VectorSearchSettings,
): Promise<ScoredId[]> {
  return db.transaction(async (tx: Queryable) => {
    await tx.query(`select ${vectorSettingsColumns(filters, settings, '$1')}`, [efSearchValue(settings, limit)], REUSE_PLAN);
    return nearestInTransaction(tx, record, vector, filters, limit);
  });
}

/**
 * Which matches of a plan a text statement reads: all; the chunks holding a rare token (when the
 * plan has common ones too, see readsRareFirst); or the rest, chunks of the common tokens alone.
 */
export type TextRead = 'all' | 'rare' | 'rest';

/** The to_tsquery text of a plan's matches to read. */
export function textQueryText(plan: TextQueryPlan, read: TextRead): string {
  if (read === 'rare' && plan.rareQuery) return plan.rareQuery;
  if (read === 'rest' && plan.rareQuery && plan.commonQuery) return `${plan.commonQuery} & !(${plan.rareQuery})`;
  return plan.tsquery;
}

/** What textMatches found: the BM25 half's best chunks, and the symbol-name matches (when asked). */
export interface TextCandidates {
  text: ScoredId[];
  symbol: ScoredId[];
}

/**
 * Whether the text half reads the chunks holding the plan's rare tokens first (TextQueryPlan.rareQuery):
 * when the plan has common tokens too, and BM25's average chunk length is the index's (when it is
 * not known, the matches' average stands in, which depends on what was read).
 */
export function readsRareFirst(record: CodeIndexRecord, plan: TextQueryPlan | undefined): boolean {
  return plan?.rareQuery !== undefined && record.termCount > 0;
}

/**
 * The `limit` chunks with the best BM25 scores for the query's `tokens`, best first (ties by id):
 * matches and their term frequencies from SQL, scores in bm25.ts; and with `symbol`, the chunks
 * whose symbol names match, best ts_rank first, from the same statement.
 */
export async function textMatches(
  q: Queryable,
  record: CodeIndexRecord,
  plan: TextQueryPlan | undefined,
  tokens: string[],
  filters: CandidateFilters,
  limit: number,
  symbol?: SymbolLookup,
): Promise<TextCandidates> {
  const read = readsRareFirst(record, plan) ? 'rare' : 'all';
  const { sql, params } = textMatchesQuery(record.id, plan, tokens, filters, symbol, read);
  const [found] = await q.query<TextAnswer>(sql, params, REUSE_PLAN);
  const scored = scoreTextAnswer(found, record, plan, limit, read);
  return scored.complete ? scored : { text: await restOfTextMatches(q, record, plan!, tokens, filters, limit, scored.matched), symbol: scored.symbol };
}

/**
 * The BM25 half when reading the rare tokens' chunks first was not enough: the chunks of common
 * tokens alone read too, and all of them scored together (the rare tokens' frequencies, counted
 * among the first, are complete: those chunks hold none).
 */
export async function restOfTextMatches(
  q: Queryable,
  record: CodeIndexRecord,
  plan: TextQueryPlan,
  tokens: string[],
  filters: CandidateFilters,
  limit: number,
  first: TextMatch[],
): Promise<ScoredId[]> {
  const { sql, params } = textMatchesQuery(record.id, plan, tokens, filters, undefined, 'rest');
  const [found] = await q.query<TextAnswer>(sql, params, REUSE_PLAN);
  return bestTextMatches([...first, ...parseTextMatches(found?.matches)], record, plan, limit);
}

/** What textMatchesQuery answers (also as columns of a statement that wraps it). */
export interface TextAnswer {
  matches: string | null;
  symbols: string | null;
}

/** A matching chunk as BM25 scores it, and whether it passes the filters. */
export type TextMatch = MatchedChunk & { passes: boolean };

function parseTextMatches(text: string | null | undefined): TextMatch[] {
  return parseAnswer<[number, number, string, boolean]>(text).map(([id, length, hits, passes]) => ({ id, length, tf: termFrequencies(hits), passes }));
}

/** The best `limit` of these matches by BM25 (within the filters), ties by id. */
function bestTextMatches(matched: TextMatch[], record: CodeIndexRecord, plan: TextQueryPlan, limit: number): ScoredId[] {
  const scores = scoreChunks(
    matched,
    {
      documents: record.chunkCount,
      averageLength: record.chunkCount > 0 ? record.termCount / record.chunkCount : 0,
      knownFrequency: (token) => plan.estimated.get(token),
    },
    (chunk) => chunk.passes,
  );
  return [...scores]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, limit)
    .map(([id, score]) => ({ id, score }));
}

/**
 * textMatchesQuery's answer scored: BM25 over the matches with the index's counts in `record`,
 * best `limit` first. Read 'rare' (the rare tokens' chunks only): `complete` says whether those
 * are the best `limit` of all matches, i.e. `limit` of them (within the filters) score more than a
 * chunk of common tokens alone can; else restOfTextMatches reads the others (`matched`: these).
 */
export function scoreTextAnswer(
  found: TextAnswer | undefined,
  record: CodeIndexRecord,
  plan: TextQueryPlan | undefined,
  limit: number,
  read: TextRead = 'all',
): TextCandidates & { complete: boolean; matched: TextMatch[] } {
  const symbol = parseAnswer<[number, number]>(found?.symbols).map(([id, score]) => ({ id, score }));
  if (!plan) return { text: [], symbol, complete: true, matched: [] };
  const matched = parseTextMatches(found?.matches);
  const text = bestTextMatches(matched, record, plan, limit);
  const last = text[limit - 1];
  const complete = read !== 'rare' || (last !== undefined && last.score > scoreBound(plan.estimated.keys(), (token) => plan.estimated.get(token)!, record.chunkCount));
  return { text, symbol, complete, matched };
}

/** A candidate's columns, without its score (which belongs to each list that found it). */
export type CandidateFields = Omit<CandidateRow, 'score'>;

/**
 * The columns ranking reads, for the candidates of every list at once (one statement, by primary
 * key), with each one's file chunk count; a chunk deleted meanwhile is absent.
 */
export async function candidateRows(q: Queryable, ids: number[]): Promise<Map<number, CandidateFields>> {
  if (ids.length === 0) return new Map();
  const [row] = await q.query<{ found: string | null }>(
    `select json_agg(json_build_array(${COLUMNS}, file_chunks))::text as found from (select ${COLUMNS}, ${FILE_CHUNKS} from memory.chunks c where id = any($1::bigint[])) c`,
    [ids],
    REUSE_PLAN,
  );
  type Fields = [number, string, number, number, string, string | null, string, string, string, number];
  return new Map(
    parseAnswer<Fields>(row?.found).map(([id, path, start_line, end_line, language, symbol, kind, symbol_tokens, path_tokens, file_chunks]) => [
      id,
      { id, path, start_line, end_line, language, symbol, kind, symbol_tokens, path_tokens, file_chunks },
    ]),
  );
}

/** The list's candidates with their columns and scores, in its order (chunks without columns left out). */
export function withFields(list: ScoredId[], fields: Map<number, CandidateFields>): CandidateRow[] {
  return list.flatMap(({ id, score }) => {
    const row = fields.get(id);
    return row ? [{ ...row, score }] : [];
  });
}

/** The text of these chunks (the hits a search returns), by id; a chunk deleted meanwhile is absent. */
export async function chunkContents(q: Queryable, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{ id: string | number; content: string }>(`select id, content from memory.chunks where id = any($1::bigint[])`, [ids], REUSE_PLAN);
  return new Map(rows.map((row) => [Number(row.id), row.content]));
}
