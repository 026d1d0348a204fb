// Small pieces: vectors in pgvector's binary format through PGlite, project-relative path rules,
// reading a search query, and embedding settings from the configuration.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/platform/config.js';
import { embeddingSettings } from '../../src/memory/memory.js';
import { pathProblem } from '../../src/memory/indexing/pathRules.js';
import { parseQuery } from '../../src/memory/retrieval/queryTerms.js';
import { selectiveTextQuery } from '../../src/memory/retrieval/termStats.js';
import { vectorParam } from '../../src/memory/store/vectors.js';
import { sharedDb } from './memoryKit.js';

describe('binary parameters on PGlite', () => {
  it('a vector sent as pgvector binary arrives exactly; bytea goes binary too; other values as before', async () => {
    const db = await sharedDb();
    await db.exec('create extension if not exists vector');
    const vector = Float32Array.from([0.5, -0.25, 1e-7, 3.1415927]);
    const [row] = await db.query<{ v: string; dims: number; b: string; n: number; s: string; a: string }>(
      `select $1::vector::text as v, vector_dims($1::vector) as dims, encode($2::bytea, 'hex') as b, $3::int + 1 as n, $4::text as s, array_to_string($5::text[], ',') as a`,
      [vectorParam(vector), new Uint8Array([0, 1, 254, 255]), 41, 'text', ['x', 'y']],
    );
    expect(row).toEqual({ v: '[0.5,-0.25,1e-07,3.1415927]', dims: 4, b: '0001feff', n: 42, s: 'text', a: 'x,y' });
  });
});

describe('pathProblem', () => {
  it('accepts plain relative paths and says what is wrong with the others', () => {
    for (const ok of ['a.ts', 'src/a.ts', '.github/workflows/ci.yml', 'a b/c..d.ts', 'ünï/çødé.py']) expect(pathProblem(ok)).toBeUndefined();
    expect(pathProblem('')).toMatch(/empty/);
    expect(pathProblem('../a.ts')).toMatch(/\.\./);
    expect(pathProblem('a/../../b')).toMatch(/\.\./);
    expect(pathProblem('/etc/passwd')).toMatch(/absolute/);
    expect(pathProblem('C:/x')).toMatch(/absolute/);
    expect(pathProblem('a\\b')).toMatch(/backslash/);
    expect(pathProblem('a\u0000b')).toMatch(/NUL/);
    expect(pathProblem('a//b')).toMatch(/empty or "\."/);
    expect(pathProblem('./a')).toMatch(/empty or "\."/);
    expect(pathProblem('a/')).toMatch(/empty or "\."/);
    expect(pathProblem('x'.repeat(5000))).toMatch(/longer/);
  });
});

describe('parseQuery', () => {
  it('finds identifiers written as code, and builds OR queries of code tokens', () => {
    expect(parseQuery('claimJobs').identifiers.map((i) => i.key)).toEqual(['claimjobs']);
    expect(parseQuery('where is parse_args called').identifiers.map((i) => i.key)).toEqual(['parseargs']);
    expect(parseQuery('how is `login` done').identifiers.map((i) => i.key)).toEqual(['login']);
    expect(parseQuery('call render() twice').identifiers.map((i) => i.key)).toEqual(['render']);
    expect(parseQuery('AuthService.login').identifiers.map((i) => i.key)).toEqual(['authservice', 'login']);
    expect(parseQuery('how are jobs claimed').identifiers).toEqual([]);
    const terms = parseQuery('claimJobs in the queue');
    expect(terms.tokens).toEqual(['claimjobs', 'claim', 'job', 'queu']); // stemmed as the index is
    expect(terms.symbolQuery).toBe('claimjobs');
    expect(parseQuery('the of and').tokens).toEqual([]);
    expect(parseQuery('fix the failing tests').mentionsTests).toBe(true);
    // Nothing of the query reaches to_tsquery but letters and digits.
    expect(parseQuery("alpha' | beta & !gamma <-> (delta)").tokens).toEqual(['alpha', 'beta', 'gamma', 'delta']);
  });
});

describe('selectiveTextQuery', () => {
  const frequencies = { shares: new Map([['respons', 0.5], ['api', 0.35], ['error', 0.13], ['body', 0.06], ['pars', 0.06], ['retry', 0.0105]]), unlisted: 0.004 };

  it('ORs rare tokens (rarest first) and ANDs common ones while that stays selective', () => {
    expect(selectiveTextQuery(['apierror', 'api', 'error'], frequencies, 10_000)).toBe('apierror | (error & api)');
    expect(selectiveTextQuery(['pars', 'respons', 'body'], frequencies, 10_000)).toBe('(pars & body & respons)');
    // At 100k chunks, api & error together (~4,500 rows) would be read and ranked: left to the vector half.
    expect(selectiveTextQuery(['apierror', 'api', 'error'], frequencies, 100_000)).toBe('apierror');
    expect(selectiveTextQuery(['respons'], frequencies, 100_000)).toBeUndefined();
    // Without statistics (a small index never analyzed) every token is rare.
    expect(selectiveTextQuery(['a1', 'b2', 'c3'], { shares: new Map(), unlisted: 0 }, 500)).toBe('a1 | b2 | c3');
  });

  it('stops adding rare tokens when their expected matches exceed the budget', () => {
    const many = { shares: new Map<string, number>(), unlisted: 0.01 }; // unlisted: 0.5% each, 500 of 100k chunks
    const tokens = ['t1', 't2', 't3', 't4', 't5'];
    expect(selectiveTextQuery(tokens, many, 100_000)).toBe('t1 | t2 | t3 | t4');
    // In a small index every token is rare, however large its share.
    expect(selectiveTextQuery(['respons', 'api'], frequencies, 40)).toBe('api | respons');
  });
});

describe('embeddingSettings', () => {
  it('passes the model directory, download permission and OpenAI settings through; sizes the hash embedder', () => {
    const config = loadConfig({
      AUTOBUILD_HOME: '/srv/ab',
      EMBEDDING_PROVIDER: 'openai',
      EMBEDDING_MODEL: 'text-embedding-3-small',
      OPENAI_BASE_URL: 'http://localhost:11434/v1/',
      OPENAI_API_KEY: 'sk-x',
      EMBEDDING_DIMENSIONS: '512',
      EMBEDDING_ALLOW_DOWNLOAD: 'true',
    });
    expect(embeddingSettings(config)).toEqual({
      provider: 'openai',
      model: 'text-embedding-3-small',
      modelDir: '/srv/ab/models',
      allowDownload: true,
      openai: { baseUrl: 'http://localhost:11434/v1', apiKey: 'sk-x', dimensions: 512 },
    });
    expect(embeddingSettings(loadConfig({ EMBEDDING_PROVIDER: 'hash', EMBEDDING_DIMENSIONS: '256' })).model).toBe('autobuild-hash-v1-256');
    expect(embeddingSettings(loadConfig({ AUTOBUILD_HOME: '/h' })).allowDownload).toBe(false);
    expect(() => loadConfig({ EMBEDDING_ALLOW_DOWNLOAD: 'maybe' })).toThrow(/EMBEDDING_ALLOW_DOWNLOAD must be true or false/);
  });
});
