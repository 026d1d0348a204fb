// Indexing end to end over HTTP: chunks stored per language, a git work tree walked honouring
// .gitignore, skipped files counted, incremental re-indexing (nothing re-embedded when nothing
// changed, only a changed file's new chunks otherwise), sync removals, globs, and dropping an index.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/orchestrator.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';
import { GO_SERVER, MD_GUIDE, PY_CLI, TS_CALLER, TS_SCHEDULER } from './fixtures.js';
import { EmbeddingUnavailableError } from '../../src/memory/embeddings/embedder.js';
import { embedderFactoryWith, resetMemoryDb, startTestMemory, type TestMemory } from './memoryKit.js';

let t: TestMemory;
beforeAll(async () => {
  t = await startTestMemory();
});
afterAll(async () => t?.stop());
afterEach(async () => {
  await resetMemoryDb(t.db);
  t.stats.texts = 0;
  t.stats.calls = 0;
});

const index = (body: Record<string, unknown>) => api(t.url, 'POST', '/api/v1/index/files', body);

async function storedChunks(project: string) {
  return t.db.query<{ path: string; language: string; symbol: string | null; kind: string; start_line: number; end_line: number }>(
    `select c.path, c.language, c.symbol, c.kind, c.start_line, c.end_line from memory.chunks c
     join memory.indexes i on i.id = c.index_id where i.project_id = $1 order by c.path, c.start_line`,
    [project],
  );
}

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    writeFileSync(path.join(root, file), content);
  }
}

const SOURCES = {
  'src/jobs/claim.ts': TS_SCHEDULER,
  'src/jobs/loop.ts': TS_CALLER,
  'tools/cli.py': PY_CLI,
  'server/server.go': GO_SERVER,
  'docs/guide.md': MD_GUIDE,
};

describe('inline files', () => {
  it('stores syntax-aware chunks per language, with symbols, kinds and lines', async () => {
    const files = Object.entries(SOURCES).map(([file, content]) => ({ path: file, content }));
    const res = await index({ project_id: 'langs', files });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ indexed_files: 5, skipped_files: 0, chunks_added: 10, chunks_unchanged: 0, chunks_removed: 0, embedding_model: 'autobuild-hash-v1-384' });
    expect(res.body.duration_ms).toBeGreaterThanOrEqual(0);
    const chunks = await storedChunks('langs');
    const summary = chunks.map((c) => `${c.path}:${c.start_line}-${c.end_line} ${c.language} ${c.kind} ${c.symbol}`);
    expect(summary).toEqual([
      'docs/guide.md:1-3 markdown section # Guide',
      'docs/guide.md:5-8 markdown section ## Installation',
      'docs/guide.md:10-13 markdown section ## Usage',
      'server/server.go:1-13 go type Server',
      'server/server.go:15-26 go method Server.ListenAndServe',
      'src/jobs/claim.ts:1-14 typescript function claimJobs',
      'src/jobs/claim.ts:16-40 typescript class Scheduler',
      'src/jobs/loop.ts:1-15 typescript function runLoop',
      'tools/cli.py:1-13 python function parse_args',
      'tools/cli.py:16-34 python class Runner',
    ]);
    expect(t.stats.texts).toBe(10);
    const [record] = await t.db.query<any>(`select provider, model, dimension, file_count, chunk_count from memory.indexes where project_id = 'langs'`);
    expect(record).toEqual({ provider: 'hash', model: 'autobuild-hash-v1-384', dimension: 384, file_count: 5, chunk_count: 10 });
  });

  it('takes a language from the request over the one its name suggests', async () => {
    const res = await index({ project_id: 'override', files: [{ path: 'scripts/build', content: PY_CLI, language: 'python' }] });
    expect(res.status).toBe(200);
    const chunks = await storedChunks('override');
    expect(chunks.map((c) => `${c.language} ${c.kind} ${c.symbol}`)).toEqual(['python function parse_args', 'python class Runner']);
  });

  it('re-indexing the same files embeds nothing; a changed function re-embeds only its own chunk', async () => {
    const files = Object.entries(SOURCES).map(([file, content]) => ({ path: file, content }));
    await index({ project_id: 'inc', files });
    expect(t.stats.texts).toBe(10);

    const again = await index({ project_id: 'inc', files });
    expect(again.body).toMatchObject({ indexed_files: 5, chunks_added: 0, chunks_unchanged: 10, chunks_removed: 0 });
    expect(t.stats.texts).toBe(10);

    // One method of the class changes: the class chunk is new, the function chunk before it is reused.
    const changed = files.map((f) => (f.path === 'tools/cli.py' ? { ...f, content: f.content.replace('print("hello", self.name, i)', 'print("goodbye", self.name, i)') } : f));
    const third = await index({ project_id: 'inc', files: changed });
    expect(third.body).toMatchObject({ indexed_files: 5, chunks_added: 1, chunks_unchanged: 9, chunks_removed: 1 });
    expect(t.stats.texts).toBe(11);

    // Blank lines inserted above a definition move it without re-embedding it.
    const shifted = changed.map((f) => (f.path === 'src/jobs/claim.ts' ? { ...f, content: f.content.replace('export class Scheduler', '\n\n\nexport class Scheduler') } : f));
    const fourth = await index({ project_id: 'inc', files: shifted });
    expect(fourth.body).toMatchObject({ chunks_added: 0, chunks_unchanged: 10, chunks_removed: 0 });
    expect(t.stats.texts).toBe(11);
    const claim = (await storedChunks('inc')).filter((c) => c.path === 'src/jobs/claim.ts');
    expect(claim.map((c) => [c.symbol, c.start_line, c.end_line])).toEqual([['claimJobs', 1, 14], ['Scheduler', 19, 43]]);
  });

  it('sync removes the files the call did not include; without sync they stay', async () => {
    const files = Object.entries(SOURCES).map(([file, content]) => ({ path: file, content }));
    await index({ project_id: 'sync', files });
    const fewer = files.filter((f) => f.path !== 'tools/cli.py');
    const kept = await index({ project_id: 'sync', files: fewer });
    expect(kept.body.chunks_removed).toBe(0);
    expect((await storedChunks('sync')).some((c) => c.path === 'tools/cli.py')).toBe(true);

    const synced = await index({ project_id: 'sync', files: fewer, sync: true });
    expect(synced.body).toMatchObject({ indexed_files: 4, chunks_added: 0, chunks_unchanged: 8, chunks_removed: 2 });
    expect((await storedChunks('sync')).some((c) => c.path === 'tools/cli.py')).toBe(false);
    const [files_] = await t.db.query<any>(`select count(*)::int as n from memory.files f join memory.indexes i on i.id = f.index_id where i.project_id = 'sync'`);
    expect(files_.n).toBe(4);
  });

  it("keeps the term counts BM25 normalises by in step with the chunks: new, changed, moved and removed files", async () => {
    /** The stored totals next to what the chunks hold (distinct tokens per chunk, summed). */
    const counts = async (project: string) => {
      const [index] = await t.db.query<{ stored: string; actual: string | null; chunks: number }>(
        `select i.term_count::text as stored, (select sum(length(c.search))::text from memory.chunks c where c.index_id = i.id) as actual, i.chunk_count as chunks
         from memory.indexes i where i.project_id = $1`,
        [project],
      );
      const files = await t.db.query<{ path: string; stored: string; actual: string | null }>(
        `select f.path, f.term_count::text as stored,
           (select sum(length(c.search))::text from memory.chunks c where c.index_id = f.index_id and c.path = f.path) as actual
         from memory.files f join memory.indexes i on i.id = f.index_id where i.project_id = $1 order by f.path`,
        [project],
      );
      return { index: index!, files };
    };
    const expectInStep = async (project: string) => {
      const { index: totals, files } = await counts(project);
      expect(Number(totals.stored)).toBe(Number(totals.actual ?? 0));
      for (const file of files) expect(Number(file.stored), file.path).toBe(Number(file.actual ?? 0));
      return Number(totals.stored);
    };
    const files = Object.entries(SOURCES).map(([file, content]) => ({ path: file, content }));
    await index({ project_id: 'terms', files });
    const first = await expectInStep('terms');
    expect(first).toBeGreaterThan(100);

    // A longer function: more distinct tokens.
    const grown = files.map((f) =>
      f.path === 'tools/cli.py' ? { ...f, content: f.content.replace('print("hello", self.name, i)', 'print("hello", self.name, i, frobnicate, quuxify, zorblat)') } : f,
    );
    await index({ project_id: 'terms', files: grown });
    expect(await expectInStep('terms')).toBe(first + 3);

    // Moved without re-embedding, then a file removed.
    const shifted = grown.map((f) => (f.path === 'src/jobs/claim.ts' ? { ...f, content: `\n\n${f.content}` } : f));
    await index({ project_id: 'terms', files: shifted });
    expect(await expectInStep('terms')).toBe(first + 3);
    await index({ project_id: 'terms', files: shifted.filter((f) => f.path !== 'tools/cli.py'), sync: true });
    expect(await expectInStep('terms')).toBeLessThan(first);
  });

  it('globs select files, and sync only removes files within them', async () => {
    const files = Object.entries(SOURCES).map(([file, content]) => ({ path: file, content }));
    const ts = await index({ project_id: 'globs', files, paths: ['src/**/*.ts'] });
    expect(ts.body).toMatchObject({ indexed_files: 2, chunks_added: 3 });
    expect(new Set((await storedChunks('globs')).map((c) => c.path))).toEqual(new Set(['src/jobs/claim.ts', 'src/jobs/loop.ts']));

    await index({ project_id: 'globs', files, paths: ['**/*.py', 'docs/**'] });
    // Sync within *.py: the TypeScript files stay, although this call did not include them.
    const synced = await index({ project_id: 'globs', files: [], paths: ['**/*.py'], sync: true });
    expect(synced.body.chunks_removed).toBe(2);
    expect(new Set((await storedChunks('globs')).map((c) => c.path))).toEqual(new Set(['src/jobs/claim.ts', 'src/jobs/loop.ts', 'docs/guide.md']));
  });

  it('counts skipped files (binary, minified, generated, lockfiles, vendored) and removes an indexed file that became one', async () => {
    const files = [
      { path: 'src/ok.ts', content: TS_CALLER },
      { path: 'public/app.min.js', content: 'var a=1;' },
      { path: 'dist/bundle.js', content: 'console.log(1)' },
      { path: 'package-lock.json', content: '{}' },
      { path: 'vendor/lib/x.go', content: GO_SERVER },
      { path: 'src/gen.ts', content: '// Code generated by protoc. DO NOT EDIT.\nexport const x = 1;\n' },
      { path: 'src/blob.dat2', content: 'abc\u0000def' },
      { path: 'src/long.js', content: `var x = "${'y'.repeat(6000)}";\n` },
    ];
    const res = await index({ project_id: 'skips', files });
    expect(res.body).toMatchObject({ indexed_files: 1, skipped_files: 7, chunks_added: 1 });

    const now = await index({ project_id: 'skips', files: [{ path: 'src/ok.ts', content: `// @generated\n${TS_CALLER}` }] });
    expect(now.body).toMatchObject({ indexed_files: 0, skipped_files: 1, chunks_removed: 1 });
    expect(await storedChunks('skips')).toEqual([]);
  });

  it('drops a project index: DELETE answers the chunk count, then the project is unknown', async () => {
    const files = Object.entries(SOURCES).map(([file, content]) => ({ path: file, content }));
    await index({ project_id: 'drop', files });
    await index({ project_id: 'other', files: files.slice(0, 1) });
    const res = await api(t.url, 'DELETE', '/api/v1/index/drop');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ deleted_chunks: 10 });
    expect(await storedChunks('drop')).toEqual([]);
    expect((await storedChunks('other')).length).toBe(2);
    const search = await api(t.url, 'POST', '/api/v1/search', { project_id: 'drop', query: 'claimJobs' });
    expect(search.status).toBe(404);
    expect(search.body.error.code).toBe('project_not_found');
    const again = await api(t.url, 'DELETE', '/api/v1/index/drop');
    expect(again.status).toBe(404);
    expect(again.body.error.code).toBe('project_not_found');
    const [left] = await t.db.query<any>(`select count(*)::int as n from pg_indexes where schemaname = 'memory' and indexname ~ '^chunks_embedding_'`);
    expect(left.n).toBe(1); // only the other project's HNSW index remains
  });
});

describe('an index call that fails half way', () => {
  it('leaves the batches it wrote searchable, counted as written; the next call finishes the work', async () => {
    let calls = 0;
    const failing = await startTestMemory({
      reset: false,
      // The first batch of files embeds; the second finds the embedder gone.
      factory: embedderFactoryWith(() => {
        if (++calls === 2) throw new EmbeddingUnavailableError('embedding server http://127.0.0.1:1/v1 is unreachable');
      }),
    });
    try {
      // 260 one-chunk files: two batches (200 files each at most).
      const files = Array.from({ length: 260 }, (_, i) => ({ path: `src/part${i}.ts`, content: `export function partNumber${i}(): number {\n  return ${i};\n}\n` }));
      const first = await api(failing.url, 'POST', '/api/v1/index/files', { project_id: 'half', files });
      expect(first.status).toBe(503);
      const [index] = await t.db.query<{ files: number; chunks: number; actual_files: number; actual_chunks: number }>(
        `select file_count as files, chunk_count as chunks,
                (select count(*)::int from memory.files f where f.index_id = i.id) as actual_files,
                (select count(*)::int from memory.chunks c where c.index_id = i.id) as actual_chunks
           from memory.indexes i where project_id = 'half'`,
      );
      expect(index).toEqual({ files: 200, chunks: 200, actual_files: 200, actual_chunks: 200 });
      const found = await api(failing.url, 'POST', '/api/v1/search', { project_id: 'half', query: 'partNumber7' });
      expect(found.body.results[0]).toMatchObject({ path: 'src/part7.ts', symbol: 'partNumber7' });

      const again = await api(failing.url, 'POST', '/api/v1/index/files', { project_id: 'half', files });
      expect(again.body).toMatchObject({ indexed_files: 260, chunks_added: 60, chunks_unchanged: 200 });
      const [after] = await t.db.query<{ files: number; chunks: number }>(`select file_count as files, chunk_count as chunks from memory.indexes where project_id = 'half'`);
      expect(after).toEqual({ files: 260, chunks: 260 });
    } finally {
      await failing.stop();
    }
  });
});

describe('a root directory', () => {
  const cleanup: string[] = [];
  afterAll(() => cleanup.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

  it('in a git work tree: tracked and untracked files, minus what .gitignore ignores; skipped files counted', async () => {
    const repo = createTestRepo({
      ...SOURCES,
      '.gitignore': 'secret/\n*.log\nbuild-output/\n',
      'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]) as unknown as string,
      'package-lock.json': '{"lockfileVersion": 3}\n',
    });
    cleanup.push(repo);
    writeTree(repo, {
      'src/untracked.ts': TS_CALLER.replace('runLoop', 'untrackedLoop'),
      'secret/keys.ts': 'export const key = "do not index";\n',
      'debug.log': 'log line\n',
      'build-output/out.js': 'x()\n',
      'big/huge.txt': 'word '.repeat(300_000),
    });
    const res = await index({ project_id: 'repo', root: repo });
    expect(res.status).toBe(200);
    // Indexed: the 5 sources, .gitignore and the untracked file; skipped: png, lockfile, huge text.
    expect(res.body).toMatchObject({ indexed_files: 7, skipped_files: 3 });
    const paths = new Set((await storedChunks('repo')).map((c) => c.path));
    expect(paths).toContain('src/untracked.ts');
    expect(paths).toContain('tools/cli.py');
    for (const ignored of ['secret/keys.ts', 'debug.log', 'build-output/out.js', 'assets/logo.png', 'package-lock.json', 'big/huge.txt']) expect(paths).not.toContain(ignored);

    // Unchanged tree: nothing embedded. A deleted file goes with sync.
    const before = t.stats.texts;
    const again = await index({ project_id: 'repo', root: repo });
    expect(again.body).toMatchObject({ chunks_added: 0, chunks_removed: 0 });
    expect(t.stats.texts).toBe(before);
    gitIn(repo, 'rm', '-q', 'tools/cli.py');
    const synced = await index({ project_id: 'repo', root: repo, sync: true });
    expect(synced.body).toMatchObject({ chunks_added: 0, chunks_removed: 2, indexed_files: 6 });
    expect(t.stats.texts).toBe(before);
  });

  it('outside git (or ignored by the enclosing repository): walks it honouring nested .gitignore files', async () => {
    const repo = createTestRepo({ '.gitignore': 'vendored/\n', 'README.md': '# top\n' });
    cleanup.push(repo);
    const root = path.join(repo, 'vendored', 'pkg');
    writeTree(root, {
      '.gitignore': 'tmp/\n',
      'lib/a.ts': TS_SCHEDULER,
      'lib/.gitignore': 'private.ts\n!keep.ts\n',
      'lib/private.ts': 'export const p = 1;\n',
      'tmp/scratch.ts': 'export const s = 1;\n',
      'lib/nested/b.py': PY_CLI,
    });
    const res = await index({ project_id: 'walked', root });
    expect(res.status).toBe(200);
    const paths = new Set((await storedChunks('walked')).map((c) => c.path));
    expect(paths).toEqual(new Set(['lib/a.ts', 'lib/nested/b.py', '.gitignore', 'lib/.gitignore']));

    const plain = tempDir('autobuild-plain-');
    cleanup.push(plain);
    writeTree(plain, { 'main.go': GO_SERVER, '.gitignore': '*.md\n', 'notes.md': '# notes\n' });
    const walked = await index({ project_id: 'plain', root: plain, paths: ['**/*.go'] });
    expect(walked.body).toMatchObject({ indexed_files: 1, chunks_added: 2 });
  });
});
