// Benchmark: retrieval quality of the memory service's code search on a real codebase no one here
// wrote — the JavaScript sources of fastify, pino, commander and pg as installed in node_modules —
// against a plain BM25 over whole files in the same run. The labelled queries (natural-language,
// architecture and identifier ones, each with the files that answer it) are in retrieval/queries.ts
// (the development set, which ranking work is tuned on) and retrieval/heldOutQueries.ts (written
// and labelled before the changes they judge, never tuned on); every table is printed per set.
//
// The service runs in this process (buildMemory over embedded PGlite on disk, real HTTP on
// 127.0.0.1) with the built-in offline embedder; the corpus is indexed through POST
// /api/v1/index/files and each query asked of POST /api/v1/search with limit 10. Its chunk hits
// become a file ranking by first occurrence. Metrics: nDCG@10, Recall@10 and MRR@10 with binary
// relevance, per query, then averaged. Diagnostic rows (not the measured figure) show the same
// search asked for 30 chunks, each half of the hybrid alone, and a BM25 over the chunks and code
// tokens the service stores: how much of the gap is the ranking of the text half.
//
//   node dist/bench/retrievalQuality.js
//   BENCH_VERBOSE=1: every query with both rankings' scores and the service's top files
//   BENCH_HELDOUT=0: the development set only (while tuning, so that the held-out set stays unseen)
import { performance } from 'node:perf_hooks';
import { parseQuery } from '../src/memory/retrieval/queryTerms.js';
import { searchCode, type SearchMode } from '../src/memory/retrieval/search.js';
import { percentile, round, table } from './support/harness.js';
import { expectJson, startBenchMemory, type IndexResult, type SearchResult } from './support/memoryBench.js';
import { Bm25, bm25Tokens, distinctPaths, meanScores, scoreRanking, type RankingScores } from './retrieval/metrics.js';
import { loadCorpus } from './retrieval/corpus.js';
import { HELD_OUT_QUERIES } from './retrieval/heldOutQueries.js';
import { QUERIES as DEVELOPMENT_QUERIES, type LabelledQuery, type QueryKind } from './retrieval/queries.js';

const GOAL_NDCG_RATIO = 1.15;
const K = 10;
const PROJECT = 'retrieval-bench';
const KINDS: QueryKind[] = ['natural', 'architecture', 'identifier'];

interface QuerySet {
  name: string;
  /** One line on what the set is for. */
  about: string;
  queries: readonly LabelledQuery[];
}

interface Run {
  name: string;
  /** File rankings per query id. */
  rankings: Map<string, string[]>;
  scores: Map<string, RankingScores>;
}

function evaluate(name: string, queries: readonly LabelledQuery[], rankings: Map<string, string[]>): Run {
  const scores = new Map(queries.map((q) => [q.id, scoreRanking(rankings.get(q.id) ?? [], q.relevant, K)] as const));
  return { name, rankings, scores };
}

function mean(run: Run, queries: readonly LabelledQuery[]): RankingScores {
  return meanScores(queries.map((q) => run.scores.get(q.id)!));
}

function fmt(value: number): string {
  return value.toFixed(3);
}

function ratioOf(service: number, baseline: number): number {
  return baseline > 0 ? service / baseline : Number.POSITIVE_INFINITY;
}

function kindCounts(queries: readonly LabelledQuery[]): Record<QueryKind, number> {
  return Object.fromEntries(KINDS.map((kind) => [kind, queries.filter((q) => q.kind === kind).length])) as Record<QueryKind, number>;
}

/** The tables of one query set: every ranking, then by kind, then the queries BM25 ranks better. */
function report(set: QuerySet, serviceRun: Run, bm25Run: Run, diagnostics: Run[], verbose: boolean): void {
  const { queries } = set;
  const byKind = kindCounts(queries);
  const row = (run: Run) => {
    const m = mean(run, queries);
    return [run.name, fmt(m.ndcg), fmt(m.recall), fmt(m.mrr)];
  };
  console.log(`\n${set.name}: ${queries.length} queries (${KINDS.map((k) => `${byKind[k]} ${k}`).join(', ')}) — ${set.about}`);
  console.log(table(['ranking', `nDCG@${K}`, `Recall@${K}`, `MRR@${K}`], [serviceRun, bm25Run, ...diagnostics].map(row)));

  const kindRows = KINDS.filter((kind) => byKind[kind] > 0).map((kind) => {
    const ofKind = queries.filter((q) => q.kind === kind);
    const s = mean(serviceRun, ofKind);
    const b = mean(bm25Run, ofKind);
    return [`${kind} (${byKind[kind]})`, fmt(s.ndcg), fmt(b.ndcg), b.ndcg > 0 ? `${round(s.ndcg / b.ndcg, 2)}x` : '-', fmt(s.recall), fmt(b.recall), fmt(s.mrr), fmt(b.mrr)];
  });
  console.log(`\n${set.name} by query kind (service vs BM25)`);
  console.log(table(['kind', 'nDCG svc', 'nDCG bm25', 'ratio', 'R@10 svc', 'R@10 bm25', 'MRR svc', 'MRR bm25'], kindRows));

  const worse = queries.filter((q) => serviceRun.scores.get(q.id)!.ndcg < bm25Run.scores.get(q.id)!.ndcg - 1e-9);
  const better = queries.filter((q) => serviceRun.scores.get(q.id)!.ndcg > bm25Run.scores.get(q.id)!.ndcg + 1e-9);
  console.log(`\n${set.name}, per query: the service ranks better on ${better.length}, worse on ${worse.length}, the same on ${queries.length - better.length - worse.length}`);
  const perQuery = verbose ? queries : worse;
  if (perQuery.length > 0) {
    console.log(verbose ? `\n${set.name}: every query` : `\n${set.name}: queries where BM25 ranks better`);
    console.log(
      table(
        ['query', 'kind', 'nDCG svc', 'nDCG bm25', 'service top files'],
        perQuery.map((q) => [
          q.id,
          q.kind,
          fmt(serviceRun.scores.get(q.id)!.ndcg),
          fmt(bm25Run.scores.get(q.id)!.ndcg),
          (serviceRun.rankings.get(q.id) ?? []).slice(0, 4).map((p) => (q.relevant.includes(p) ? `*${p}` : p)).join(' '),
        ]),
      ),
    );
  }
}

async function main(): Promise<void> {
  const verbose = process.env.BENCH_VERBOSE === '1';
  const withHeldOut = process.env.BENCH_HELDOUT !== '0';
  const sets: QuerySet[] = [
    { name: 'development set', about: 'ranking changes were tuned on these', queries: DEVELOPMENT_QUERIES },
    ...(withHeldOut ? [{ name: 'held-out set', about: 'labelled before the changes they judge, never tuned on', queries: HELD_OUT_QUERIES }] : []),
  ];
  const queries = sets.flatMap((set) => set.queries);
  if (new Set(queries.map((q) => q.id)).size !== queries.length) throw new Error('query ids must be unique across the sets');
  const { files, excluded, versions } = loadCorpus();
  const known = new Set(files.map((f) => f.path));
  const unlabelled = queries.flatMap((q) => q.relevant.filter((p) => !known.has(p)).map((p) => `${q.id}: ${p}`));
  if (unlabelled.length > 0) throw new Error(`labelled files missing from the corpus (other package versions installed?):\n  ${unlabelled.join('\n  ')}`);
  const lines = files.reduce((n, f) => n + f.content.split('\n').length, 0);
  console.log(
    `retrieval quality: ${versions.join(', ')} — ${files.length} files, ${lines} lines` +
      (excluded.length > 0 ? ` (left out by the service's skip rules: ${excluded.join(', ')})` : '') +
      `\n${queries.length} labelled queries (${sets.map((set) => `${set.queries.length} ${set.name}`).join(', ')}), metrics @${K}, binary relevance` +
      (withHeldOut ? '' : '\nBENCH_HELDOUT=0: the held-out set is not run'),
  );

  // BM25 first: it needs no service.
  const bm25Started = performance.now();
  const bm25 = Bm25.overFiles(files);
  const bm25Rankings = new Map(queries.map((q) => [q.id, bm25.search(bm25Tokens(q.query), K)] as const));
  const bm25Ms = performance.now() - bm25Started;

  const service = await startBenchMemory();
  let indexed: IndexResult;
  const serviceRankings = new Map<string, string[]>();
  const wideRankings = new Map<string, string[]>();
  const modeRankings = new Map<SearchMode, Map<string, string[]>>();
  const latencies: number[] = [];
  let indexMs: number;
  let chunkBm25Rankings: Map<string, string[]>;
  try {
    const indexStarted = performance.now();
    indexed = await expectJson<IndexResult>(service.url, 'POST', '/api/v1/index/files', { project_id: PROJECT, files });
    indexMs = performance.now() - indexStarted;
    if (indexed.skipped_files > 0) console.log(`note: the service skipped ${indexed.skipped_files} of the files it was given`);

    for (const q of queries) {
      const started = performance.now();
      const { results } = await expectJson<{ results: SearchResult[] }>(service.url, 'POST', '/api/v1/search', { project_id: PROJECT, query: q.query, limit: K });
      latencies.push(performance.now() - started);
      serviceRankings.set(q.id, distinctPaths(results.map((r) => r.path)).slice(0, K));
    }
    // Diagnostics, not the measured figure: the same search asked for more chunks (so that ten
    // distinct files are ranked), and each half of the hybrid on its own (in process: the API
    // has no mode switch).
    for (const q of queries) {
      const { results } = await expectJson<{ results: SearchResult[] }>(service.url, 'POST', '/api/v1/search', { project_id: PROJECT, query: q.query, limit: 3 * K });
      wideRankings.set(q.id, distinctPaths(results.map((r) => r.path)).slice(0, K));
    }
    for (const mode of ['vector', 'text'] as const) {
      const rankings = new Map<string, string[]>();
      for (const q of queries) {
        const hits = await searchCode(service.memory.search, { projectId: PROJECT, query: q.query, limit: K }, mode);
        rankings.set(q.id, distinctPaths(hits.map((h) => h.path)).slice(0, K));
      }
      modeRankings.set(mode, rankings);
    }
    // A reference for the text half: a plain BM25 in JavaScript over the same chunks and code tokens
    // the service stores (symbol tokens counted three times, path tokens twice, content once).
    const chunks = await service.db.query<{ id: string | number; path: string; symbol_tokens: string; path_tokens: string; content_tokens: string }>(
      'select id, path, symbol_tokens, path_tokens, content_tokens from memory.chunks',
    );
    const chunkPath = new Map(chunks.map((c) => [String(c.id), c.path]));
    const split = (text: string) => text.split(' ').filter((token) => token.length > 0);
    const chunkBm25 = new Bm25(
      chunks.map((c) => ({ key: String(c.id), tokens: [...split(c.symbol_tokens), ...split(c.symbol_tokens), ...split(c.symbol_tokens), ...split(c.path_tokens), ...split(c.path_tokens), ...split(c.content_tokens)] })),
    );
    chunkBm25Rankings = new Map(
      queries.map((q) => [q.id, distinctPaths(chunkBm25.search(parseQuery(q.query).tokens, K).map((id) => chunkPath.get(id)!)).slice(0, K)] as const),
    );
  } finally {
    await service.stop();
  }

  const serviceRun = evaluate('service (POST /api/v1/search, limit 10)', queries, serviceRankings);
  const bm25Run = evaluate('BM25 over whole files (baseline)', queries, bm25Rankings);
  const diagnostics = [
    evaluate('  diag: service, limit 30 -> first 10 files', queries, wideRankings),
    evaluate('  diag: vector half only (hash embedder)', queries, modeRankings.get('vector')!),
    evaluate('  diag: full-text half only', queries, modeRankings.get('text')!),
    evaluate('  diag: BM25 in JS over the stored chunk tokens', queries, chunkBm25Rankings),
  ];

  const sortedLatency = [...latencies].sort((a, b) => a - b);
  console.log(
    `\nindexed through the API: ${indexed.indexed_files} files, ${indexed.chunks_added} chunks in ${round(indexMs / 1000, 2)} s (${indexed.embedding_model}); ` +
      `search p50 ${round(percentile(sortedLatency, 50), 1)} ms, p99 ${round(percentile(sortedLatency, 99), 1)} ms over ${latencies.length} queries; ` +
      `BM25 built and queried in ${round(bm25Ms, 0)} ms`,
  );
  for (const set of sets) report(set, serviceRun, bm25Run, diagnostics, verbose);

  const measured = [...sets, ...(sets.length > 1 ? [{ name: 'all queries', about: '', queries }] : [])].map((set) => {
    const s = mean(serviceRun, set.queries);
    const b = mean(bm25Run, set.queries);
    return { set, s, b, ratio: ratioOf(s.ndcg, b.ndcg) };
  });
  const overall = measured[measured.length - 1]!;
  const met = overall.ratio >= GOAL_NDCG_RATIO;
  console.log(`\nservice / BM25 nDCG@${K} (goal ≥ ${GOAL_NDCG_RATIO}x with the offline embedder, over ${overall.set.name === 'all queries' ? 'all queries' : 'the development set'})`);
  console.log(
    table(
      ['queries', 'n', `nDCG@${K} svc`, `nDCG@${K} bm25`, 'ratio', 'goal'],
      measured.map(({ set, s, b, ratio }) => [set.name, set.queries.length, fmt(s.ndcg), fmt(b.ndcg), `${round(ratio, 3)}x`, ratio >= GOAL_NDCG_RATIO ? 'met' : 'NOT met']),
    ),
  );
  console.log(
    'with a real model: not measured. No real embedding weights can be downloaded here, and the tiny BERT-shaped ' +
      'model the tests generate has random weights, so its rankings say nothing about quality; that run is skipped.',
  );

  const scoresJson = (m: RankingScores) => ({ ndcg_at_10: round(m.ndcg, 4), recall_at_10: round(m.recall, 4), mrr_at_10: round(m.mrr, 4) });
  const setJson = (set: QuerySet) => ({
    queries: set.queries.length,
    queries_by_kind: kindCounts(set.queries),
    service: scoresJson(mean(serviceRun, set.queries)),
    bm25: scoresJson(mean(bm25Run, set.queries)),
    ndcg_ratio_vs_bm25: round(ratioOf(mean(serviceRun, set.queries).ndcg, mean(bm25Run, set.queries).ndcg), 4),
    by_kind: Object.fromEntries(
      KINDS.map((kind) => {
        const ofKind = set.queries.filter((q) => q.kind === kind);
        return [kind, { service: scoresJson(mean(serviceRun, ofKind)), bm25: scoresJson(mean(bm25Run, ofKind)) }];
      }),
    ),
    diagnostics: Object.fromEntries(diagnostics.map((run) => [run.name.replace(/^\s*diag: /, ''), scoresJson(mean(run, set.queries))])),
  });
  console.log(
    JSON.stringify({
      benchmark: 'retrieval_quality',
      corpus: { packages: versions, files: files.length, lines, chunks: indexed.chunks_added, embedding_model: indexed.embedding_model },
      queries: queries.length,
      development: setJson(sets[0]!),
      ...(sets[1] ? { held_out: setJson(sets[1]) } : {}),
      all: setJson({ name: 'all', about: '', queries }),
      search_p50_ms: round(percentile(sortedLatency, 50), 2),
      ndcg_ratio_vs_bm25: round(overall.ratio, 4),
      goal_ndcg_ratio_min: GOAL_NDCG_RATIO,
      goal_met: met,
      real_model: 'not measured (offline: no real weights available)',
      ok: true,
    }),
  );
}

main().catch((error: Error) => {
  console.error(error.stack ?? error.message);
  process.exitCode = 1;
});
