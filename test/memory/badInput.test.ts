// Every bad input to the memory service is a 4xx with the contract's error body (details naming
// the field where there is one), and nothing of it is written.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { api } from '../support/orchestrator.js';
import { tempDir } from '../support/repo.js';
import { PY_CLI, TS_CALLER } from './fixtures.js';
import { resetMemoryDb, startTestMemory, type TestMemory } from './memoryKit.js';

let t: TestMemory;
beforeAll(async () => {
  t = await startTestMemory({ env: { MEMORY_INDEX_MAX_FILES: '3', MEMORY_INDEX_BODY_LIMIT_BYTES: String(3 * 1024 * 1024) } });
});
afterAll(async () => t?.stop());
afterEach(async () => resetMemoryDb(t.db));

async function rowCounts(): Promise<number[]> {
  const [row] = await t.db.query<{ i: number; f: number; c: number }>(
    `select (select count(*)::int from memory.indexes) as i, (select count(*)::int from memory.files) as f, (select count(*)::int from memory.chunks) as c`,
  );
  return [row!.i, row!.f, row!.c];
}

function expectError(res: { status: number; body: any }, status: number, code: string, field?: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.body.error.code).toBe(code);
  expect(typeof res.body.error.message).toBe('string');
  expect(JSON.stringify(res.body)).not.toMatch(/\n\s+at /); // never a stack trace
  if (field) expect(res.body.error.details.map((d: any) => d.field)).toContain(field);
}

const good = { path: 'src/ok.ts', content: TS_CALLER };

describe('POST /api/v1/index/files', () => {
  const cases: Array<[string, unknown, number, string, string?]> = [
    ['no project_id', { files: [good] }, 400, 'validation_failed', 'project_id'],
    ['a project_id with a slash', { project_id: 'a/b', files: [good] }, 400, 'validation_failed', 'project_id'],
    ['neither files nor root', { project_id: 'p' }, 400, 'validation_failed', 'files'],
    ['both files and root', { project_id: 'p', files: [good], root: '/tmp' }, 400, 'validation_failed', 'root'],
    ['a file without content', { project_id: 'p', files: [{ path: 'a.ts' }] }, 400, 'validation_failed', 'files.0.content'],
    ['a file path with ..', { project_id: 'p', files: [good, { path: 'src/../../etc/passwd', content: 'x' }] }, 400, 'validation_failed', 'files.1.path'],
    ['a path that is only ..', { project_id: 'p', files: [{ path: '..', content: 'x' }] }, 400, 'validation_failed', 'files.0.path'],
    ['an absolute path', { project_id: 'p', files: [good, { path: '/etc/passwd', content: 'x' }] }, 400, 'validation_failed', 'files.1.path'],
    ['a Windows absolute path', { project_id: 'p', files: [{ path: 'C:/x.ts', content: 'x' }] }, 400, 'validation_failed', 'files.0.path'],
    ['a NUL in a path', { project_id: 'p', files: [{ path: 'a\u0000.ts', content: 'x' }] }, 400, 'validation_failed', 'files.0.path'],
    ['a backslash path', { project_id: 'p', files: [{ path: 'src\\a.ts', content: 'x' }] }, 400, 'validation_failed', 'files.0.path'],
    ['a ./ path', { project_id: 'p', files: [{ path: './a.ts', content: 'x' }] }, 400, 'validation_failed', 'files.0.path'],
    ['a duplicate path', { project_id: 'p', files: [good, good] }, 400, 'validation_failed', 'files.1.path'],
    ['an unknown field', { project_id: 'p', files: [good], force: true }, 400, 'validation_failed', 'force'],
    ['a bad language', { project_id: 'p', files: [{ ...good, language: 'Type Script' }] }, 400, 'validation_failed', 'files.0.language'],
    ['sync that is not a boolean', { project_id: 'p', files: [good], sync: 'yes' }, 400, 'validation_failed', 'sync'],
    ['an absolute glob', { project_id: 'p', files: [good], paths: ['/etc/**'] }, 400, 'validation_failed', 'paths.0'],
    ['a glob with ..', { project_id: 'p', files: [good], paths: ['../**'] }, 400, 'validation_failed', 'paths.0'],
    ['a relative root', { project_id: 'p', root: 'some/dir' }, 400, 'validation_failed', 'root'],
    ['a root that does not exist', { project_id: 'p', root: '/nonexistent/autobuild/root' }, 400, 'validation_failed', 'root'],
    ['too many inline files', { project_id: 'p', files: ['a', 'b', 'c', 'd'].map((n) => ({ path: `${n}.ts`, content: 'x' })) }, 413, 'payload_too_large', 'files'],
    ['an inline file over 1 MiB', { project_id: 'p', files: [good, { path: 'big.ts', content: 'x'.repeat(1024 * 1024 + 1) }] }, 413, 'payload_too_large', 'files.1.content'],
  ];
  for (const [name, body, status, code, field] of cases) {
    it(`${name} → ${status} ${code}, nothing written`, async () => {
      expectError(await api(t.url, 'POST', '/api/v1/index/files', body), status, code, field);
      expect(await rowCounts()).toEqual([0, 0, 0]);
    });
  }

  it('a root that is a file → 400', async () => {
    const dir = tempDir('autobuild-root-file-');
    const file = path.join(dir, 'f.ts');
    writeFileSync(file, TS_CALLER);
    expectError(await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'p', root: file }), 400, 'validation_failed', 'root');
    expect(await rowCounts()).toEqual([0, 0, 0]);
  });

  it('a body over the index route limit → 413; malformed JSON → 400; not JSON → 415', async () => {
    const huge = { project_id: 'p', files: [{ path: 'a.py', content: PY_CLI.repeat(2000) }, { path: 'b.py', content: PY_CLI.repeat(2000) }] };
    expectError(await api(t.url, 'POST', '/api/v1/index/files', huge), 413, 'payload_too_large');
    expectError(await api(t.url, 'POST', '/api/v1/index/files', '{"project_id": "p", "files": ['), 400, 'malformed_json');
    const plain = await fetch(`${t.url}/api/v1/index/files`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    expectError({ status: plain.status, body: await plain.json() }, 415, 'unsupported_media_type');
    expect(await rowCounts()).toEqual([0, 0, 0]);
  });

  it('a bad project id in DELETE → 400; an unknown one → 404', async () => {
    expectError(await api(t.url, 'DELETE', '/api/v1/index/bad%20id'), 400, 'validation_failed');
    expectError(await api(t.url, 'DELETE', '/api/v1/index/nobody'), 404, 'project_not_found');
  });
});

describe('search and context', () => {
  beforeAll(async () => {
    await api(t.url, 'POST', '/api/v1/index/files', { project_id: 'p', files: [good] });
  });
  const cases: Array<[string, string, unknown, string?]> = [
    ['search without query', '/api/v1/search', { project_id: 'p' }, 'query'],
    ['search with a blank query', '/api/v1/search', { project_id: 'p', query: '   ' }, 'query'],
    ['search with limit 0', '/api/v1/search', { project_id: 'p', query: 'x', limit: 0 }, 'limit'],
    ['search with limit 101', '/api/v1/search', { project_id: 'p', query: 'x', limit: 101 }, 'limit'],
    ['search with a string limit', '/api/v1/search', { project_id: 'p', query: 'x', limit: '5' }, 'limit'],
    ['search with an unknown filter', '/api/v1/search', { project_id: 'p', query: 'x', filters: { owner: 'me' } }, 'filters.owner'],
    ['search without project_id', '/api/v1/search', { query: 'x' }, 'project_id'],
    ['context without task_description', '/api/v1/context', { project_id: 'p' }, 'task_description'],
    ['context with max_tokens 0', '/api/v1/context', { project_id: 'p', task_description: 'x', max_tokens: 0 }, 'max_tokens'],
    ['context with fractional max_tokens', '/api/v1/context', { project_id: 'p', task_description: 'x', max_tokens: 10.5 }, 'max_tokens'],
  ];
  for (const [name, route, body, field] of cases) {
    it(`${name} → 400`, async () => {
      expectError(await api(t.url, 'POST', route, body), 400, 'validation_failed', field);
    });
  }
});
