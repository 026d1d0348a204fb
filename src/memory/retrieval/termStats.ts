// Owns how common each code token is (the share of chunks holding it, from the statistics ANALYZE
// keeps for the full-text column) and the full-text query that follows from it: every matching
// row is read and scored, so a token in half the chunks would cost tens of milliseconds alone.
// Rare tokens are ORed; common ones must all appear together, and only when that is still selective.
// The same split says where BM25 takes each token's document frequency from: rare tokens are
// counted among the matches (exact), common ones are estimated from the statistics.
import type { Queryable } from '../../platform/database/database.js';

/**
 * A token expected in at most this many of the project's chunks is rare: ORed on its own. (A
 * count, not a share: in a small index every token is in a large share of a few chunks.)
 */
const RARE_MATCHES = 500;
/**
 * The most rows the text query is expected to read and score (estimates assume independent tokens);
 * measured on PGlite at 8-12 µs per row read, handed over and scored by BM25 (5-7 µs when ts_rank
 * scored them in SQL), so ~20 ms at most.
 */
const MAX_EXPECTED_MATCHES = 2000;
/** On the embedded database statistics change only when this process runs ANALYZE: reading them again once a minute is plenty. */
const REFRESH_MS = 60_000;

export interface TermFrequencies {
  /** Share of chunks holding each of the most common tokens. */
  shares: Map<string, number>;
  /** Tokens not listed are rarer than this (the least common listed share), or 0 without statistics. */
  unlisted: number;
}

/** Statistics younger than this (by the server's clock) are read again: see sharedFrequencies. */
const SETTLE_S = 2;

export class TermStats {
  private cached: { at: number; value: Promise<TermFrequencies>; version?: string } | undefined;

  /**
   * `shared`: other processes (replicas, autovacuum's ANALYZE) change the statistics too, as on a
   * PostgreSQL server; each search then checks they are still those it cached.
   */
  constructor(
    private readonly db: Queryable,
    private readonly options: { shared?: boolean } = {},
  ) {}

  /** Forget the cached statistics (after an index call ran ANALYZE). */
  invalidate(): void {
    this.cached = undefined;
  }

  frequencies(): Promise<TermFrequencies> {
    if (this.options.shared) return this.sharedFrequencies();
    if (!this.cached || Date.now() - this.cached.at > REFRESH_MS) {
      const value = this.load();
      this.cached = { at: Date.now(), value };
      value.catch(() => (this.cached = undefined));
    }
    return this.cached.value;
  }

  /**
   * On a server, another replica's index call or autovacuum may have run ANALYZE since: a replica
   * answering from older statistics would plan the full-text half differently and rank otherwise
   * than its peers. So each search reads when the table was last analysed (one small statement) and
   * reloads when that changed. ANALYZE reports its time before its new statistics commit, so
   * statistics read within SETTLE_S of that time are not trusted for long: read again next time.
   */
  private async sharedFrequencies(): Promise<TermFrequencies> {
    const [row] = await this.db.query<{ version: string | null; settled: boolean }>(
      `select t::text as version, coalesce(now() - t > make_interval(secs => $1), true) as settled
         from (select greatest(pg_stat_get_last_analyze_time(c.oid), pg_stat_get_last_autoanalyze_time(c.oid)) as t
                 from pg_class c where c.oid = 'memory.chunks'::regclass) analysed`,
      [SETTLE_S],
      { reusePlan: true },
    );
    const version = `${row?.version ?? 'never'}${row?.settled ? '' : ' (settling)'}`;
    if (this.cached?.version === version && row?.settled) return this.cached.value;
    const value = this.load();
    this.cached = { at: Date.now(), value, version };
    value.catch(() => (this.cached = undefined));
    return value;
  }

  private async load(): Promise<TermFrequencies> {
    const rows = await this.db.query<{ token: string; share: number }>(
      `select token, share from pg_stats, unnest(most_common_elems::text::text[], most_common_elem_freqs) as u(token, share)
       where schemaname = 'memory' and tablename = 'chunks' and attname = 'search'`,
    );
    const shares = new Map(rows.map((row) => [row.token, Number(row.share)]));
    return { shares, unlisted: rows.length > 0 ? Math.min(...shares.values()) : 0 };
  }
}

export interface TextQueryPlan {
  /** to_tsquery text: the rare tokens ORed, then the common ones ANDed as one more alternative. */
  tsquery: string;
  /**
   * Tokens ORed on their own: every chunk holding one matches the query, so their document
   * frequency is counted exactly among the matches (BM25's IDF).
   */
  counted: string[];
  /** The other tokens' expected document frequency in the project (share of chunks × chunks). */
  estimated: Map<string, number>;
  /**
   * The rare tokens alone, when `tsquery` also has the common ones' alternative: what search reads
   * first. A chunk that holds common tokens only scores less than each of them can add at most
   * (BM25 saturates: idf × (k1 + 1)); when the best chunks holding a rare token all score more,
   * those others need not be read, else they are read next (bm25.ts scoreBound, candidates.ts textMatches).
   */
  rareQuery?: string;
  /** With rareQuery: the common tokens' alternative alone (a token, or their conjunction). */
  commonQuery?: string;
}

/**
 * The full-text query for `tokens` over an index of `chunks` chunks: rare tokens ORed (the rarest
 * first, while their expected matches fit), then the common ones ANDed as one more alternative
 * when all of them together are expected to be selective enough. Undefined when nothing is.
 */
export function textQueryPlan(tokens: string[], frequencies: TermFrequencies, chunks: number): TextQueryPlan | undefined {
  const share = (token: string) => frequencies.shares.get(token) ?? frequencies.unlisted / 2;
  const byRarity = [...tokens].sort((a, b) => share(a) - share(b));
  const rare: string[] = [];
  const common: string[] = [];
  let expected = 0;
  for (const token of byRarity) {
    const matches = share(token) * chunks;
    if (matches <= RARE_MATCHES && expected + matches <= MAX_EXPECTED_MATCHES) {
      rare.push(token);
      expected += matches;
    } else {
      common.push(token);
    }
  }
  const together = common.reduce((product, token) => product * share(token), 1) * chunks;
  const parts = [...rare];
  const commonQuery = common.length === 1 ? common[0]! : `(${common.join(' & ')})`;
  if (common.length > 0 && expected + together <= MAX_EXPECTED_MATCHES) parts.push(commonQuery);
  if (parts.length === 0) return undefined;
  const estimated = new Map(common.map((token) => [token, share(token) * chunks]));
  const tsquery = parts.join(' | ');
  return rare.length > 0 && parts.length > rare.length
    ? { tsquery, counted: rare, estimated, rareQuery: rare.join(' | '), commonQuery }
    : { tsquery, counted: rare, estimated };
}

/** The to_tsquery text of textQueryPlan alone. */
export function selectiveTextQuery(tokens: string[], frequencies: TermFrequencies, chunks: number): string | undefined {
  return textQueryPlan(tokens, frequencies, chunks)?.tsquery;
}
