// A server only: every project's chunks share one table, and one project's HNSW index build must
// not stop the others. A build is held open by a transaction that writes to the table (a build,
// concurrent or not, waits for the table's writers before it starts), which lets the test look at
// the table while it runs: another project's index writes go through, and a build cancelled there
// leaves an invalid index that the next index call replaces.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../../support/orchestrator.js';
import { onPostgresServer, startTestMemory, testServer, type TestMemory } from '../memoryKit.js';

await onPostgresServer(async () => {
  let t: TestMemory;
  let admin: pg.Client;
  beforeAll(async () => {
    t = await startTestMemory();
    admin = new pg.Client({ connectionString: testServer()!.url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.stop();
  });

  const files = (name: string, count: number) =>
    Array.from({ length: count }, (_, i) => ({ path: `src/${name}${i}.ts`, content: `export function ${name}Part${i}(): number {\n  return ${i};\n}\n` }));
  const index = (project: string, body: Record<string, unknown>) => api(t.url, 'POST', '/api/v1/index/files', { project_id: project, ...body });

  /** A transaction holding the chunks table's write lock until `release`. */
  async function holdTableWriters(): Promise<{ release: () => Promise<void> }> {
    const holder = new pg.Client({ connectionString: testServer()!.url });
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table memory.chunks in row exclusive mode');
    let released = false;
    return {
      async release() {
        if (released) return;
        released = true;
        await holder.query('commit').catch(() => undefined);
        await holder.end();
      },
    };
  }

  /** The backend building an HNSW index on memory.chunks, once it waits for the table's writers. */
  async function waitingBuild(): Promise<number> {
    for (let tries = 0; tries < 200; tries++) {
      const { rows } = await admin.query<{ pid: number }>(
        `select pid from pg_stat_activity where query ilike 'create index%chunks_embedding_%' and wait_event_type = 'Lock'`,
      );
      if (rows[0]) return rows[0].pid;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error('no HNSW build started waiting within 10 s');
  }

  async function indexState(project: string): Promise<{ valid: boolean } | undefined> {
    const { rows } = await admin.query<{ valid: boolean }>(
      `select x.indisvalid as valid from memory.indexes i join pg_index x on x.indexrelid = to_regclass('memory.chunks_embedding_' || i.id) where i.project_id = $1`,
      [project],
    );
    return rows[0];
  }

  function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)));
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  describe("a project's HNSW index build on a server", () => {
    it("lets another project's index writes and searches go through while it runs", async () => {
      expect((await index('other', { files: files('other', 3) })).status).toBe(200);
      expect(await indexState('other')).toEqual({ valid: true });

      const writers = await holdTableWriters();
      let building: Promise<Awaited<ReturnType<typeof index>>> | undefined;
      try {
        // A first index: its graph is built at the end, and waits for the holder.
        building = index('first', { files: files('first', 5) });
        await waitingBuild();

        // A plain CREATE INDEX would queue for its table lock ahead of these writes and hold them
        // back. The change is large for the table (ANALYZE is due), which must not wait either.
        const added = [...files('added', 5), { path: 'src/added.ts', content: 'export function addedWhileBuilding(): string {\n  return "x";\n}\n' }];
        const other = await within(15_000, "another project's index call", index('other', { files: [...files('other', 3), ...added] }));
        expect(other.status).toBe(200);
        expect(other.body).toMatchObject({ indexed_files: 9, chunks_added: 6, chunks_unchanged: 3 });
        const found = await within(15_000, 'a search', api(t.url, 'POST', '/api/v1/search', { project_id: 'other', query: 'addedWhileBuilding' }));
        expect(found.body.results[0]).toMatchObject({ path: 'src/added.ts' });
      } finally {
        await writers.release();
      }
      expect((await building!).status).toBe(200);
      expect(await indexState('first')).toEqual({ valid: true });
      const search = await api(t.url, 'POST', '/api/v1/search', { project_id: 'first', query: 'firstPart2' });
      expect(search.body.results[0]).toMatchObject({ path: 'src/first2.ts' });
    });

    it('builds two projects’ indexes asked for at once, one after the other (at once they would deadlock)', async () => {
      const writers = await holdTableWriters();
      let both: Array<Awaited<ReturnType<typeof index>>>;
      try {
        const building = Promise.all([index('left', { files: files('left', 3) }), index('right', { files: files('right', 3) })]);
        await waitingBuild();
        // Both index calls are at their build by now: the second waits for the first's lock.
        await new Promise((resolve) => setTimeout(resolve, 500));
        await writers.release();
        both = await within(30_000, 'two builds', building);
      } finally {
        await writers.release();
      }
      expect(both.map((answer) => answer.status)).toEqual([200, 200]);
      expect(await indexState('left')).toEqual({ valid: true });
      expect(await indexState('right')).toEqual({ valid: true });
    });

    it('finishes when two replicas index the same new project at once (the second waits without holding the build up)', async () => {
      const replica = await startTestMemory({ reset: false });
      try {
        const both = await within(
          30_000,
          'two replicas indexing one project',
          Promise.all([index('twice', { files: files('twice', 30) }), api(replica.url, 'POST', '/api/v1/index/files', { project_id: 'twice', files: files('twice', 30) })]),
        );
        expect(both.map((answer) => answer.status)).toEqual([200, 200]);
        expect(both.map((answer) => answer.body.chunks_added).sort()).toEqual([0, 30]);
        expect(await indexState('twice')).toEqual({ valid: true });
      } finally {
        await replica.stop();
      }
    });

    it('cancelled half way, answers 503 and leaves an invalid index that the next index call replaces', async () => {
      const writers = await holdTableWriters();
      let answer: Awaited<ReturnType<typeof index>>;
      try {
        const building = index('dying', { files: files('dying', 4) });
        const pid = await waitingBuild();
        await admin.query('select pg_cancel_backend($1)', [pid]);
        answer = await building;
      } finally {
        await writers.release();
      }
      expect(answer.status).toBe(503);
      expect(answer.body.error.code).toBe('dependency_unavailable');
      expect(await indexState('dying')).toEqual({ valid: false });
      // The chunks were written: search answers without the graph.
      const meanwhile = await api(t.url, 'POST', '/api/v1/search', { project_id: 'dying', query: 'dyingPart1' });
      expect(meanwhile.body.results[0]).toMatchObject({ path: 'src/dying1.ts' });

      const again = await index('dying', { files: files('dying', 4) });
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ chunks_added: 0, chunks_unchanged: 4 });
      expect(await indexState('dying')).toEqual({ valid: true });
    });
  });
});
