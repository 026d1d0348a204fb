// Where the memory service's time goes, measured in the benchmark's own process (bench/memoryScale,
// bench/searchSmall with BENCH_PROFILE): every statement timed by kind through a wrapped database
// handle, every embedding through a wrapped embedder. Neither changes the code under test.
import { performance } from 'node:perf_hooks';
import type { Database, Queryable, QueryOptions } from '../../src/platform/database/database.js';
import { createEmbedder } from '../../src/memory/embeddings/embedder.js';
import type { EmbedderFactory } from '../../src/memory/embeddings/embedderPool.js';

export interface Tally {
  count: number;
  ms: number;
}

/** Time and calls by key. */
export class Timings {
  readonly byKey = new Map<string, Tally>();

  add(key: string, ms: number, count = 1): void {
    const tally = this.byKey.get(key) ?? { count: 0, ms: 0 };
    tally.count += count;
    tally.ms += ms;
    this.byKey.set(key, tally);
  }

  reset(): void {
    this.byKey.clear();
  }

  total(filter: (key: string) => boolean = () => true): number {
    return [...this.byKey].filter(([key]) => filter(key)).reduce((sum, [, tally]) => sum + tally.ms, 0);
  }

  /** A copy, largest first. */
  sorted(): Array<[string, Tally]> {
    return [...this.byKey].map(([key, tally]): [string, Tally] => [key, { ...tally }]).sort((a, b) => b[1].ms - a[1].ms);
  }
}

/** A statement as the kinds below read it: one line, lower case. */
export function flatSql(sql: string): string {
  return sql.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The kind of a search's statement (flatSql), or undefined for any other. */
export function searchStatementKind(flat: string): string | undefined {
  if (flat.includes('with nearest as materialized')) return 'SQL: nearest chunks (HNSW)';
  if (flat.includes('setweight(search')) return 'SQL: full-text matches (term frequencies for BM25) and symbol names, with the settings';
  if (flat.includes('symbol_search @@')) return 'SQL: symbol-name matches';
  if (flat.startsWith('select id, content from memory.chunks')) return 'SQL: text of the hits returned';
  if (/from memory\.chunks (c )?where id = any/.test(flat)) return "SQL: candidates' columns (every list's)";
  if (flat.includes('from pg_stats')) return 'SQL: term statistics';
  if (flat.includes('from memory.indexes')) return 'SQL: find index';
  if (flat.startsWith('select set_config')) return 'SQL: settings (set_config)';
  return undefined;
}

/** Keys of the transaction rounds, with `transactions` (begin and commit are not statements through query). */
export const TRANSACTION_KEY = 'transaction (whole, incl. begin/commit)';
export const BEGIN_COMMIT_KEY = 'SQL: begin and commit';

interface Inside {
  started: number;
  beginMs?: number;
}

/**
 * Times every statement by kind. PGlite is one connection that runs one statement at a time, so a
 * statement's own time is from the later of its call and the previous statement's answer to its
 * answer: waiting behind the concurrent statements of the same search is not counted twice. With
 * `transactions`, each transaction's whole time and its begin and commit rounds are tallied too.
 */
export function timedDb(db: Database, timings: Timings, kindOf: (sql: string) => string, options: { transactions?: boolean } = {}): Database {
  let lastEnd = 0;
  const timed = async <T>(sql: string, run: () => Promise<T>, inside?: Inside): Promise<T> => {
    const started = performance.now();
    // A transaction's first statement is sent once its begin is answered: that round's own time.
    if (inside && inside.beginMs === undefined) inside.beginMs = started - Math.max(inside.started, lastEnd);
    try {
      return await run();
    } finally {
      const end = performance.now();
      timings.add(kindOf(sql), end - Math.max(started, lastEnd));
      lastEnd = end;
    }
  };
  const wrap = (q: Queryable, inside?: Inside): Queryable => ({
    // The options go through: without them every prepared statement would be planned afresh.
    query: <Row>(sql: string, params?: readonly unknown[], queryOptions?: QueryOptions) => timed(sql, () => q.query<Row>(sql, params, queryOptions), inside),
    exec: (sql: string) => timed(sql, () => q.exec(sql), inside),
  });
  const root = wrap(db);
  return {
    kind: db.kind,
    query: root.query,
    exec: root.exec,
    transaction: (fn) => {
      if (!options.transactions) return db.transaction((tx) => fn(wrap(tx)));
      const inside: Inside = { started: performance.now() };
      return db.transaction((tx) => fn(wrap(tx, inside))).finally(() => {
        const end = performance.now();
        timings.add(TRANSACTION_KEY, end - inside.started);
        timings.add(BEGIN_COMMIT_KEY, (inside.beginMs ?? 0) + end - Math.max(lastEnd, inside.started));
        lastEnd = end;
      });
    },
    // Locks and sessions go through too: without them a server's HNSW builds would lock the table.
    ...(db.exclusive ? { exclusive: db.exclusive.bind(db) } : {}),
    ...(db.session ? { session: <T>(fn: (q: Queryable) => Promise<T>) => db.session!((q) => fn(wrap(q))) } : {}),
    listen: (channel, onNotify, onGap) => db.listen(channel, onNotify, onGap),
    close: () => db.close(),
  };
}

/** The embedders the service would make, each embedding timed: onEmbed(ms, how many texts). */
export function timedEmbedders(onEmbed: (ms: number, texts: number) => void): EmbedderFactory {
  return async (settings) => {
    const made = await createEmbedder(settings);
    const inner = made.embedder;
    return {
      ...made,
      embedder: {
        provider: inner.provider,
        model: inner.model,
        dimension: inner.dimension,
        async embed(texts: string[]) {
          const started = performance.now();
          try {
            return await inner.embed(texts);
          } finally {
            onEmbed(performance.now() - started, texts.length);
          }
        },
      },
    };
  };
}
