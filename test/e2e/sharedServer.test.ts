// The seed's deployment: both services on one PostgreSQL server with pgvector (a throwaway cluster
// started here), two replicas of each, four processes of the built CLI (`autobuild memory` ×2,
// `autobuild orchestrator` ×2, each orchestrator sending its jobs' outcomes to its own memory
// replica). Two replicas indexing one project at once end with one consistent index; near-duplicate
// memories written at once through both merge into one; outcomes delivered twice count once;
// every search answers the same on both replicas; a memory replica killed with -9 mid-index leaves
// the index usable, and the next index repairs it; a restart of the database is ridden out.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outcome } from '../memory/outcomes.js';
import { api, isDone, waitForJob } from '../support/orchestrator.js';
import { pgvectorSkipReason, requirePg, startPgCluster, type PgCluster } from '../support/pgCluster.js';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { createTestRepo, tempDir } from '../support/repo.js';

const skipReason = requirePg ? undefined : pgvectorSkipReason();
if (skipReason) console.warn(`skipping the shared-server tests: ${skipReason}`);

/** `autobuild memory` as its own process (the built-in embedder, as every replica must share one). */
const startMemoryProcess = (env: Record<string, string>): Promise<ServerProcess> => startServerProcess({ EMBEDDING_PROVIDER: 'hash', ...env }, 'memory');

/** Source files with distinct identifiers: `count` modules of three functions each, all about `topic`. */
function writeCorpus(root: string, count: number, from = 0, topic = 'record'): string[] {
  const paths: string[] = [];
  for (let i = from; i < from + count; i++) {
    const name = `module${i}`;
    const fn = (verb: string) =>
      `export function ${verb}Record${i}(input: Input): Output {\n${Array.from({ length: 6 }, (_, j) => `  const ${verb}Step${j} = transform(input, '${verb} ${topic} ${i}', ${j});`).join('\n')}\n  return ${verb}Step0;\n}\n`;
    const file = `pkg${i % 8}/${name}.ts`;
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), [fn('load'), fn('store'), fn('check')].join('\n'));
    paths.push(file);
  }
  return paths;
}

describe.skipIf(skipReason !== undefined)('both services on one PostgreSQL server, two replicas of each', () => {
  let cluster: PgCluster;
  let databaseUrl: string;
  let sql: pg.Pool;
  const memories: ServerProcess[] = [];
  const orchestrators: ServerProcess[] = [];
  const m = (i: number): ServerProcess => memories[i]!;

  beforeAll(async () => {
    cluster = await startPgCluster();
    databaseUrl = await cluster.createDatabase('autobuild');
    sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    // All four start at once: both services' migrations race on one database.
    const home = tempDir('autobuild-shared-');
    const started = await Promise.all([
      startMemoryProcess({ DATABASE_URL: databaseUrl, AUTOBUILD_HOME: home }),
      startMemoryProcess({ DATABASE_URL: databaseUrl, AUTOBUILD_HOME: home }),
    ]);
    memories.push(...started);
    orchestrators.push(
      ...(await Promise.all(
        started.map((memory) =>
          startServerProcess({ DATABASE_URL: databaseUrl, AUTOBUILD_HOME: home, MEMORY_SERVICE_URL: memory.url, AUTOBUILD_RETRY_BACKOFF_S: '0', AUTOBUILD_DEFAULT_AGENT: 'command' }),
        ),
      )),
    );
  }, 120_000);

  afterAll(async () => {
    if (process.env.DEBUG_SHARED) for (const s of memories) console.log(s.output());
    for (const s of orchestrators) await s.stop();
    for (const s of memories) await s.stop();
    await sql?.end();
    await cluster?.stop();
  });

  /** Everything the index of `project` records agrees with its rows; the files indexed. */
  async function consistentIndex(project: string): Promise<string[]> {
    const indexes = (await sql.query(`select id, file_count, chunk_count, term_count::int from memory.indexes where project_id = $1`, [project])).rows;
    expect(indexes).toHaveLength(1);
    const [index] = indexes;
    const [actual] = (
      await sql.query(
        `select (select count(*)::int from memory.files where index_id = $1) as files,
                (select count(*)::int from memory.chunks where index_id = $1) as chunks,
                (select coalesce(sum(length(search)), 0)::int from memory.chunks where index_id = $1) as terms`,
        [index.id],
      )
    ).rows;
    expect({ files: index.file_count, chunks: index.chunk_count, terms: index.term_count }).toEqual(actual);
    // No chunk twice, and each file's counts are its chunks'.
    const duplicates = (await sql.query(`select path, start_line from memory.chunks where index_id = $1 group by 1, 2 having count(*) > 1 limit 5`, [index.id])).rows;
    expect(duplicates).toEqual([]);
    const wrongFiles = (
      await sql.query(
        `select f.path from memory.files f
           left join (select path, count(*)::int as n, sum(length(search))::int as terms from memory.chunks where index_id = $1 group by path) c on c.path = f.path
          where f.index_id = $1 and (f.chunk_count <> coalesce(c.n, 0) or f.term_count <> coalesce(c.terms, 0)) limit 5`,
        [index.id],
      )
    ).rows;
    expect(wrongFiles).toEqual([]);
    // The project's HNSW index is there and valid (a concurrent build that died leaves an invalid one).
    const [hnsw] = (await sql.query(`select indisvalid as valid from pg_index where indexrelid = to_regclass($1)`, [`memory.chunks_embedding_${index.id}`])).rows;
    expect(hnsw).toEqual({ valid: true });
    return (await sql.query<{ path: string }>(`select path from memory.files where index_id = $1 order by path`, [index.id])).rows.map((row) => row.path);
  }

  /** The parts of a search answer that must not depend on the replica. */
  async function answers(url: string, project: string, queries: string[]): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const query of queries) {
      const res = await api(url, 'POST', '/api/v1/search', { project_id: project, query, limit: 10 });
      expect(res.status).toBe(200);
      out.push(res.body.results.map((r: any) => [r.path, r.start_line, r.symbol, Number(r.score).toFixed(6)]));
    }
    const context = await api(url, 'POST', '/api/v1/context', { project_id: project, task_description: 'make storeRecord7 check its input first', max_tokens: 800 });
    expect(context.status).toBe(200);
    out.push(context.body.markdown ?? context.body);
    return out;
  }

  it('two replicas indexing the same project at once end with one consistent index, which both search alike', async () => {
    const root = tempDir('autobuild-shared-corpus-');
    const files = writeCorpus(root, 420);
    const queries = ['loadRecord12', 'store record 301', 'check the record input', 'transform input step', 'pkg3 check', 'ledger'];

    const [one, two] = (await Promise.all(memories.map((r) => api(r.url, 'POST', '/api/v1/index/files', { project_id: 'race', root })))) as [any, any];
    expect([one.status, one.body]).toEqual([200, expect.anything()]);
    expect([two.status, two.body]).toEqual([200, expect.anything()]);
    // Whoever came second found the other's work: together they added each chunk once.
    expect(one.body.chunks_added + two.body.chunks_added).toBe(3 * files.length);
    expect(await consistentIndex('race')).toEqual([...files].sort());
    expect(await answers(m(0).url, 'race', queries)).toEqual(await answers(m(1).url, 'race', queries));

    // Both replicas have now read the search statistics; a large change through one of them
    // (ANALYZE runs) must not leave the other answering from the old ones: "ledger", unknown so
    // far, is now in most chunks, too common for the full-text half (searched alone: not at all).
    writeCorpus(root, 700, 420, 'ledger');
    const more = await api(m(0).url, 'POST', '/api/v1/index/files', { project_id: 'race', root });
    expect(more.body.chunks_added).toBe(3 * 700);
    await consistentIndex('race');
    const after = await answers(m(0).url, 'race', queries);
    expect(await answers(m(1).url, 'race', queries)).toEqual(after);

    // Changed, removed and unchanged files at once, again through both replicas together.
    writeFileSync(path.join(root, files[0]!), 'export const replaced = 1;\n');
    const [again1, again2] = (await Promise.all(memories.map((r) => api(r.url, 'POST', '/api/v1/index/files', { project_id: 'race', root, paths: ['pkg0/**'], sync: true })))) as [any, any];
    expect(again1.status).toBe(200);
    expect(again2.status).toBe(200);
    await consistentIndex('race');
    const [row] = (await sql.query(`select c.content from memory.chunks c join memory.indexes i on i.id = c.index_id where i.project_id = 'race' and c.path = $1`, [files[0]])).rows;
    expect(row.content).toContain('export const replaced = 1;');
  });

  it('near-duplicate memories written at once through two replicas merge into one', async () => {
    const pairs = [
      ['The staging database is reset every night', 'the staging database is reset every night.'],
      ['Deploys need a green canary first', 'Deploys need a green canary first!'],
      ['Integration tests need Redis running on port 6379', 'integration tests need redis running on port 6379'],
      ['Run the migrations before starting the API server', 'Run the migrations before starting the API server.'],
    ];
    const writes = pairs.flatMap(([a, b]) => [
      api(m(0).url, 'POST', '/api/v1/memory', { project_id: 'notes', type: 'insight', content: a }),
      api(m(1).url, 'POST', '/api/v1/memory', { project_id: 'notes', type: 'insight', content: b }),
    ]);
    const results = await Promise.all(writes);
    for (const res of results) expect([200, 201]).toContain(res.status);
    expect(results.filter((res) => res.status === 201)).toHaveLength(pairs.length);
    const listed = (await api(m(1).url, 'GET', '/api/v1/memory/notes?limit=50')).body.memories;
    expect(listed).toHaveLength(pairs.length);
    for (const memory of listed) expect(memory.seen_count).toBe(2);
  });

  it("outcomes delivered twice count once: jobs through both orchestrators, then every outcome sent again to both memory replicas", async () => {
    const repo = createTestRepo();
    const submitted = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        api(orchestrators[i % 2]!.url, 'POST', '/api/v1/jobs', {
          project_id: 'shop',
          repo,
          prompt: `add invoice footer ${i}`,
          agent: { type: 'command', command: ['sh', '-c', `echo ${i} > footer${i % 2}.txt`] },
        }),
      ),
    );
    const ids = submitted.map((res) => {
      expect(res.status).toBe(201);
      return res.body.id as string;
    });
    for (const id of ids) expect((await waitForJob(orchestrators[0]!.url, id, isDone, 60_000)).status).toBe('succeeded');
    // The outboxes deliver each outcome to their own memory replica.
    const deadline = Date.now() + 30_000;
    let delivered: any[] = [];
    while (Date.now() < deadline) {
      delivered = (await api(m(0).url, 'GET', '/api/v1/memory/shop?limit=50')).body.memories;
      if (ids.every((id) => delivered.some((memory: any) => memory.job_id === id))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(delivered.filter((memory: any) => ids.includes(memory.job_id))).toHaveLength(ids.length);
    const stats = async (url: string) => {
      const res = await api(url, 'GET', '/api/v1/insights/patterns?project_id=shop&type=agent_stats');
      expect(res.status).toBe(200);
      return res.body.patterns.map((p: any) => [p.description, p.success_count, p.failure_count]);
    };
    const before = await stats(m(0).url);
    expect(before).toEqual([[expect.stringContaining('command'), ids.length, 0]]);

    // Delivered again, twice, through both replicas at once (an outbox that died before deleting).
    const again = delivered.filter((memory: any) => ids.includes(memory.job_id));
    const redelivery = await Promise.all(
      again.flatMap((memory: any) =>
        memories.map((r) => api(r.url, 'POST', '/api/v1/memory', { project_id: 'shop', type: memory.type, content: memory.content, job_id: memory.job_id, tags: memory.tags })),
      ),
    );
    for (const res of redelivery) expect(res.status).toBe(200); // merged into the memory already there
    expect(await stats(m(0).url)).toEqual(before);
    expect(await stats(m(1).url)).toEqual(before);
    const counted = (await sql.query(`select count(*)::int as n from memory.pattern_jobs where project_id = 'shop'`)).rows[0];
    expect(counted.n).toBe(ids.length);

    // A fresh outcome sent to both replicas at once for the first time is counted once too.
    const fresh = outcome({ project: 'shop', title: 'fix the tax rounding', status: 'succeeded', agent: 'command' as never, files: ['src/tax.ts'] });
    const both = await Promise.all(memories.map((r) => api(r.url, 'POST', '/api/v1/memory', fresh)));
    expect(both.map((res) => res.status).sort()).toEqual([200, 201]);
    expect((await stats(m(1).url))[0][1]).toBe(ids.length + 1);
  });

  it('a memory replica killed with -9 mid-index leaves the index usable, and the next index repairs it', async () => {
    const root = tempDir('autobuild-shared-kill-');
    const files = writeCorpus(root, 1600);
    // A first index: chunks are written batch by batch, the HNSW graph built at the end.
    const call = api(m(0).url, 'POST', '/api/v1/index/files', { project_id: 'killed', root }).catch((error: unknown) => error);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const [row] = (await sql.query(`select count(*)::int as n from memory.files f join memory.indexes i on i.id = f.index_id where i.project_id = 'killed'`)).rows;
      if (row.n > 0) break;
      if (Date.now() > deadline) throw new Error('no batch was written');
      await new Promise((r) => setTimeout(r, 10));
    }
    await m(0).kill9();
    await call;
    const [partial] = (await sql.query(`select count(*)::int as n from memory.files f join memory.indexes i on i.id = f.index_id where i.project_id = 'killed'`)).rows;
    expect(partial.n).toBeGreaterThan(0);
    expect(partial.n).toBeLessThan(files.length);

    // Usable: the other replica searches what was written.
    const [written] = (await sql.query(`select f.path from memory.files f join memory.indexes i on i.id = f.index_id where i.project_id = 'killed' order by f.path desc limit 1`)).rows;
    const n = /module(\d+)/.exec(written.path)![1];
    const search = await api(m(1).url, 'POST', '/api/v1/search', { project_id: 'killed', query: `loadRecord${n}`, limit: 5 });
    expect(search.status).toBe(200);
    expect(search.body.results[0]).toMatchObject({ path: written.path, symbol: `loadRecord${n}` });

    // The next index (on the surviving replica) finishes the work and builds the graph.
    const repaired = await api(m(1).url, 'POST', '/api/v1/index/files', { project_id: 'killed', root });
    expect(repaired.status).toBe(200);
    expect(repaired.body.chunks_added + repaired.body.chunks_unchanged).toBe(3 * files.length);
    expect(await consistentIndex('killed')).toEqual([...files].sort());
    const found = await api(m(1).url, 'POST', '/api/v1/search', { project_id: 'killed', query: 'checkRecord1599', limit: 5 });
    expect(found.body.results[0]).toMatchObject({ path: 'pkg7/module1599.ts', symbol: 'checkRecord1599' });

    // A replica started again in its place answers the same.
    memories[0] = await startMemoryProcess({ DATABASE_URL: databaseUrl, AUTOBUILD_HOME: tempDir('autobuild-shared-again-') });
    const queries = ['checkRecord1599', 'store record 42', 'transform input'];
    expect(await answers(m(0).url, 'killed', queries)).toEqual(await answers(m(1).url, 'killed', queries));
  });

  it('rides out a restart of the database: 503s meanwhile, then every replica answers as before and jobs learn again', async () => {
    const queries = ['checkRecord1599', 'store record 42'];
    const before = await answers(m(1).url, 'killed', queries);
    // Orchestrator 0 sent its outcomes to the memory replica killed above: it follows the new one.
    // (Any orchestrator's outbox delivers any job's outcome.)
    await orchestrators[0]!.stop();
    orchestrators[0] = await startServerProcess({
      DATABASE_URL: databaseUrl, AUTOBUILD_HOME: tempDir('autobuild-shared-again-'), MEMORY_SERVICE_URL: m(0).url, AUTOBUILD_RETRY_BACKOFF_S: '0', AUTOBUILD_DEFAULT_AGENT: 'command',
    });
    const orchestrator = orchestrators[1]!;
    const repo = createTestRepo();
    const job = (prompt: string) => api(orchestrator.url, 'POST', '/api/v1/jobs', { project_id: 'restart', repo, prompt, agent: { type: 'command', command: ['sh', '-c', 'echo ok > ok.txt'] } });
    await sql.end();
    await cluster.pause();
    try {
      for (const memory of memories) {
        expect((await api(memory.url, 'POST', '/api/v1/search', { project_id: 'killed', query: 'checkRecord1599' })).status).toBe(503);
        expect((await api(memory.url, 'GET', '/health')).body.status).toBe('down');
      }
      const refused = await job('while the database is away');
      expect(refused.status).toBe(503);
      expect(refused.body.error.code).toBe('dependency_unavailable');
    } finally {
      await cluster.resume();
      sql = new pg.Pool({ connectionString: databaseUrl, max: 2 });
    }
    expect(await answers(m(0).url, 'killed', queries)).toEqual(before);
    expect(await answers(m(1).url, 'killed', queries)).toEqual(before);
    const after = await job('after the restart');
    expect(after.status).toBe(201);
    expect((await waitForJob(orchestrator.url, after.body.id, isDone, 30_000)).status).toBe('succeeded');
    const deadline = Date.now() + 30_000;
    let learned = false;
    while (!learned && Date.now() < deadline) {
      learned = (await api(m(1).url, 'GET', '/api/v1/memory/restart?limit=10')).body.memories?.some((memory: any) => memory.job_id === after.body.id);
      if (!learned) await new Promise((r) => setTimeout(r, 100));
    }
    expect(learned).toBe(true);
  });
});
