// Tests of the embedding backends: code tokens, the hash embedder, MiniLM through transformers.js on a
// generated tiny BERT model, `auto` and its fallback, and the OpenAI-compatible client against a local server.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env } from '@huggingface/transformers';
import { codeTokens, splitIdentifier, stemWord } from '../../src/memory/embeddings/codeTokens.js';
import { createEmbedder, describeEmbedder, EmbeddingUnavailableError } from '../../src/memory/embeddings/embedder.js';
import { HashEmbedder } from '../../src/memory/embeddings/hashEmbedder.js';
import { MiniLmEmbedder } from '../../src/memory/embeddings/minilmEmbedder.js';
import { startFakeEmbeddings, type EmbeddingsRequest, type FakeEmbeddings } from '../fakes/openaiEmbeddings.js';
import { createTinyBertModel, TINY_BERT_HIDDEN_SIZE } from '../support/tinyBert.js';

const cosine = (a: Float32Array, b: Float32Array): number => a.reduce((sum, v, i) => sum + v * (b[i] ?? 0), 0);
const norm = (v: Float32Array): number => Math.sqrt(cosine(v, v));

let scratch: string;
beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'autobuild-embeddings-'));
});
afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('codeTokens', () => {
  it('splits identifiers on case, underscores, hyphens and digits, keeping the whole identifier', () => {
    expect(splitIdentifier('getUserById')).toEqual(['get', 'user', 'by', 'id']);
    expect(splitIdentifier('HTTPServerError')).toEqual(['http', 'server', 'error']);
    expect(splitIdentifier('parse_csv_row')).toEqual(['parse', 'csv', 'row']);
    expect(splitIdentifier('max-line-length')).toEqual(['max', 'line', 'length']);
    expect(splitIdentifier('base64Encode')).toEqual(['base', '64', 'encode']);
    expect(splitIdentifier('__init__')).toEqual(['init']);
    expect(splitIdentifier('XMLHttpRequest')).toEqual(['xml', 'http', 'request']);

    expect(codeTokens('getUserById')).toEqual(['getuserbyid', 'get', 'user', 'id']);
    expect(codeTokens('class HTTPServer')).toEqual(['class', 'httpserver', 'http', 'server']);
    expect(codeTokens('const MAX_RETRY_COUNT = 5;')).toEqual(['maxretrycount', 'max', 'retry', 'count']);
    expect(codeTokens('--dry-run')).toEqual(['dryrun', 'dry', 'run']);
  });

  it('drops stop words, keywords and single letters, and stems lightly', () => {
    expect(codeTokens('const x = function () { return null; }')).toEqual([]);
    expect(codeTokens('the users are parsing the files')).toEqual(['user', 'pars', 'file']);
    expect(['parse', 'parses', 'parsed', 'parsing'].map(stemWord)).toEqual(['pars', 'pars', 'pars', 'pars']);
    expect(['queries', 'classes', 'status', 'string', 'embedding', 'embedded'].map(stemWord)).toEqual(['query', 'class', 'status', 'string', 'embed', 'embed']);
    expect(codeTokens('HTTP 404 on port 8080 via utf8')).toEqual(['http', '404', 'port', '8080', 'via', 'utf8', 'utf']);
    expect(codeTokens('größe_berechnen')).toEqual(['größeberechnen', 'größ', 'berechnen']);
  });
});

describe('hash embedder', () => {
  const authenticate = `export async function authenticateUser(username: string, password: string): Promise<Session> {
  const user = await users.findByName(username);
  if (!user || !(await verifyPassword(password, user.passwordHash))) throw new AuthError('invalid login');
  return createSession(user.id);
}`;
  const parseCsv = `function parseCsvRow(line: string, delimiter = ','): string[] {
  const cells: string[] = [];
  let current = '';
  for (const ch of line) { if (ch === delimiter) { cells.push(current); current = ''; } else current += ch; }
  cells.push(current);
  return cells;
}`;

  it('is deterministic, normalised and of its declared dimension', async () => {
    const a = new HashEmbedder();
    const b = new HashEmbedder();
    expect(a.provider).toBe('hash');
    expect(a.model).toBe('autobuild-hash-v1-384');
    expect(a.dimension).toBe(384);
    const [first, second] = await a.embed([authenticate, parseCsv]);
    const [again] = await b.embed([authenticate]);
    expect(first).toHaveLength(384);
    expect(Array.from(again!)).toEqual(Array.from(first!));
    expect(norm(first!)).toBeCloseTo(1, 5);
    expect(norm(second!)).toBeCloseTo(1, 5);
    // Empty or meaningless text still gives a unit vector (a zero vector has no cosine).
    const [empty, keywords] = await a.embed(['', 'return null;']);
    expect(norm(empty!)).toBeCloseTo(1, 5);
    expect(Array.from(keywords!)).toEqual(Array.from(empty!));
    expect(await a.embed([])).toEqual([]);
  });

  it('ranks related code above unrelated code for a query', async () => {
    const e = new HashEmbedder();
    const [query, auth, csv] = await e.embed(['authenticate user login', authenticate, parseCsv]);
    expect(cosine(query!, auth!)).toBeGreaterThan(cosine(query!, csv!) + 0.1);
    const [csvQuery] = await e.embed(['parse a CSV line into cells']);
    expect(cosine(csvQuery!, csv!)).toBeGreaterThan(cosine(csvQuery!, auth!) + 0.1);
    // Sub-word n-grams: authentication is close to authenticate, far from an unrelated word.
    const [authentication, authenticateWord, spreadsheet] = await e.embed(['authentication', 'authenticate', 'spreadsheet']);
    expect(cosine(authentication!, authenticateWord!)).toBeGreaterThan(0.3);
    expect(Math.abs(cosine(authentication!, spreadsheet!))).toBeLessThan(0.15);
    // Identifiers meet their spelled-out words, whatever the case style.
    const [camel, snake, words] = await e.embed(['loadUserProfile', 'load_user_profile', 'load user profile']);
    expect(cosine(camel!, snake!)).toBeCloseTo(1, 5);
    expect(cosine(camel!, words!)).toBeGreaterThan(0.7);
  });

  it('other dimensions are other models, found again by name', () => {
    const small = HashEmbedder.forModel('autobuild-hash-v1-256');
    expect(small.dimension).toBe(256);
    expect(small.model).toBe('autobuild-hash-v1-256');
    expect(HashEmbedder.forModel(undefined).model).toBe('autobuild-hash-v1-384');
    expect(() => HashEmbedder.forModel('text-embedding-3-small')).toThrow(/unknown hash embedding model/);
    expect(() => new HashEmbedder(3)).toThrow(RangeError);
  });
});

describe('minilm through transformers.js (generated tiny BERT)', () => {
  const name = 'autobuild-test/tiny-bert';
  let modelDir: string;
  let emptyDir: string;

  beforeAll(async () => {
    modelDir = path.join(scratch, 'models');
    emptyDir = path.join(scratch, 'empty');
    await createTinyBertModel(modelDir, name);
  });

  it('loads a local model with remote models disallowed and embeds normalised vectors', async () => {
    const { embedder, note } = await createEmbedder({ provider: 'minilm', model: name, modelDir, cacheDir: emptyDir });
    expect(note).toBeUndefined();
    expect(embedder).toBeInstanceOf(MiniLmEmbedder);
    expect(env.allowRemoteModels).toBe(false);
    expect(env.localModelPath).toBe(modelDir);
    expect(embedder.provider).toBe('minilm');
    expect(embedder.model).toBe(name);
    expect(embedder.dimension).toBe(TINY_BERT_HIDDEN_SIZE);
    expect(describeEmbedder(embedder)).toBe(`minilm ${name} (${TINY_BERT_HIDDEN_SIZE}-d)`);

    const [a, b, a2] = await embedder.embed(['authenticate the user login', 'parse a csv row', 'authenticate the user login']);
    for (const v of [a!, b!]) {
      expect(v).toHaveLength(TINY_BERT_HIDDEN_SIZE);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    expect(Array.from(a2!)).toEqual(Array.from(a!));
    expect(cosine(a!, b!)).toBeLessThan(0.999);
  });

  it('batches many texts of different lengths, truncating long ones', async () => {
    const { embedder } = await createEmbedder({ provider: 'minilm', model: name, modelDir, cacheDir: emptyDir });
    const texts = Array.from({ length: 40 }, (_, i) => `${'user login token '.repeat(1 + (i % 5))} number ${i}`);
    texts.push('word '.repeat(500)); // far beyond the model's 64 positions
    const batch = await embedder.embed(texts);
    expect(batch).toHaveLength(texts.length);
    const alone = await embedder.embed([texts[7]!, texts[40]!]);
    expect(cosine(batch[7]!, alone[0]!)).toBeCloseTo(1, 5); // padding inside a batch changes nothing
    expect(norm(batch[40]!)).toBeCloseTo(1, 5);
  });

  it('finds the model in the cache directory too, and takes a quantised-only export', async () => {
    const cacheDir = path.join(scratch, 'cache');
    await createTinyBertModel(cacheDir, name, { seed: 7 });
    const cached = await MiniLmEmbedder.load({ model: name, modelDir: emptyDir, cacheDir });
    expect(cached.dimension).toBe(TINY_BERT_HIDDEN_SIZE);

    const quantisedDir = path.join(scratch, 'quantised');
    await createTinyBertModel(quantisedDir, name, { onnxFiles: ['model_quantized.onnx'], hiddenSize: 24 });
    const quantised = await MiniLmEmbedder.load({ model: name, modelDir: quantisedDir, cacheDir: emptyDir });
    expect(quantised.dimension).toBe(24);
    const [v] = await quantised.embed(['hello world']);
    expect(norm(v!)).toBeCloseTo(1, 5);
    await Promise.all([cached.dispose(), quantised.dispose()]);
  });

  it('auto uses the local model when it loads', async () => {
    const { embedder, note } = await createEmbedder({ provider: 'auto', model: name, modelDir, cacheDir: emptyDir });
    expect(embedder.provider).toBe('minilm');
    expect(note).toBeUndefined();
  });

  it('auto falls back to the hash embedder with a note when no model exists', async () => {
    const { embedder, note } = await createEmbedder({ provider: 'auto', modelDir: emptyDir, cacheDir: emptyDir });
    expect(embedder.provider).toBe('hash');
    expect(embedder.model).toBe('autobuild-hash-v1-384');
    expect(note).toMatch(/MiniLM is not available/);
    expect(note).toContain(path.join(emptyDir, 'Xenova/all-MiniLM-L6-v2'));
    // A recorded hash model is used as such.
    const recorded = await createEmbedder({ provider: 'auto', model: 'autobuild-hash-v1-128' });
    expect(recorded.embedder.dimension).toBe(128);
    expect(recorded.note).toBeUndefined();
  });

  it('explicit minilm without a model fails clearly, naming where it looked', async () => {
    const attempt = createEmbedder({ provider: 'minilm', modelDir: emptyDir, cacheDir: path.join(scratch, 'nocache') });
    await expect(attempt).rejects.toBeInstanceOf(EmbeddingUnavailableError);
    await expect(attempt).rejects.toThrow(/MiniLM model "Xenova\/all-MiniLM-L6-v2" was not found locally/);
    await expect(attempt).rejects.toThrow(path.join(emptyDir, 'Xenova/all-MiniLM-L6-v2'));
    await expect(attempt).rejects.toThrow(/downloads are not allowed/);
  });

  it('a broken model file fails with the same kind of error, not a crash', async () => {
    const brokenDir = path.join(scratch, 'broken');
    await createTinyBertModel(brokenDir, name);
    const { writeFile } = await import('node:fs/promises');
    await writeFile(path.join(brokenDir, name, 'onnx', 'model.onnx'), 'not an onnx file');
    await expect(MiniLmEmbedder.load({ model: name, modelDir: brokenDir, cacheDir: emptyDir })).rejects.toThrow(/could not be loaded/);
  });
});

describe('openai-compatible embeddings', () => {
  const goodKey = 'sk-test-GOODKEY-1234567890';
  let fake: FakeEmbeddings;
  let baseUrl: string;
  let requests: EmbeddingsRequest[];
  let reference: HashEmbedder;

  beforeAll(async () => {
    fake = await startFakeEmbeddings();
    ({ baseUrl, requests, reference } = fake);
    // Errors as OpenAI and local servers word them.
    fake.intercept = ({ model, key }) => {
      if (model === 'echo-key') return { status: 500, body: { error: { message: `internal failure while handling key ${key}` } } };
      if (key !== goodKey && model !== 'open-model') {
        // As OpenAI does, quote a masked piece of the key.
        return { status: 401, body: { error: { message: `Incorrect API key provided: ${key.slice(0, 8)}***${key.slice(-4)}`, type: 'invalid_request_error', code: 'invalid_api_key' } } };
      }
      if (model !== 'test-embed' && model !== 'open-model') return { status: 404, body: { error: { message: `model "${model}" not found, try pulling it first` } } };
      return undefined;
    };
  });
  afterAll(async () => fake?.close());

  it('embeds through the SDK in batches, in order, normalised', async () => {
    requests.length = 0;
    const { embedder } = await createEmbedder({ provider: 'openai', model: 'test-embed', openai: { baseUrl, apiKey: goodKey } });
    expect(embedder.provider).toBe('openai');
    expect(embedder.model).toBe('test-embed');
    expect(embedder.dimension).toBe(48);
    const texts = Array.from({ length: 150 }, (_, i) => `function handler${i}() { return ${i}; }`);
    texts[3] = '';
    const vectors = await embedder.embed(texts);
    expect(vectors).toHaveLength(150);
    expect(requests.map((r) => r.input.length)).toEqual([1, 64, 64, 22]); // probe, then batches of 64
    expect(requests.every((r) => r.model === 'test-embed' && r.encoding_format === 'float')).toBe(true);
    expect(requests[1]!.input[3]).toBe(' ');
    const [expected] = await reference.embed([texts[100]!]);
    expect(cosine(vectors[100]!, expected!)).toBeCloseTo(1, 5);
    for (const v of vectors) expect(norm(v)).toBeCloseTo(1, 5);
  });

  it('asks for a dimension when told, and needs no key for keyless servers (root URL means /v1)', async () => {
    requests.length = 0;
    const root = baseUrl.replace(/\/v1$/, '');
    const { embedder } = await createEmbedder({ provider: 'openai', model: 'open-model', openai: { baseUrl: root, dimensions: 16 } });
    expect(embedder.dimension).toBe(16);
    expect(requests[0]?.dimensions).toBe(16);
  });

  it('a rejected key is a clear error that never contains the key', async () => {
    const badKey = 'sk-test-BADKEY-0987654321';
    const failure = await createEmbedder({ provider: 'openai', model: 'test-embed', openai: { baseUrl, apiKey: badKey, maxRetries: 0 } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(EmbeddingUnavailableError);
    const message = (failure as Error).message;
    expect(message).toMatch(/rejected the API key \(401\)/);
    expect(message).toContain('127.0.0.1');
    expect(message).not.toContain(badKey);
    expect(message).not.toContain(badKey.slice(0, 8));

    const echoed = await createEmbedder({ provider: 'openai', model: 'echo-key', openai: { baseUrl, apiKey: goodKey, maxRetries: 0 } }).catch((e: unknown) => e);
    expect((echoed as Error).message).toMatch(/status 500/);
    expect((echoed as Error).message).not.toContain(goodKey);
  });

  it('an unknown model and a server that is down are clear errors too', async () => {
    await expect(createEmbedder({ provider: 'openai', model: 'no-such-model', openai: { baseUrl, apiKey: goodKey, maxRetries: 0 } }))
      .rejects.toThrow(/does not know model "no-such-model".*not found, try pulling it first/);

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(createEmbedder({ provider: 'openai', model: 'test-embed', openai: { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: goodKey, maxRetries: 0 } }))
      .rejects.toThrow(/unreachable/);
  });
});

describe('hash embedder on a large batch', () => {
  it('gives every chunk a unit vector that does not depend on the batch it came in', async () => {
    const chunks = syntheticChunks(2000, 50);
    const e = new HashEmbedder();
    const batch = await e.embed(chunks);
    expect(batch).toHaveLength(chunks.length);
    for (const v of batch) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
    for (const i of [0, 999, 1999]) expect(await e.embed([chunks[i]!])).toEqual([batch[i]]);
  });
});

/** Realistic-looking source chunks: varied identifiers, comments, calls and literals. */
function syntheticChunks(count: number, lines: number): string[] {
  let seed = 42;
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const words = ['user', 'account', 'session', 'token', 'request', 'response', 'handler', 'cache', 'index', 'query', 'vector',
    'chunk', 'file', 'path', 'project', 'job', 'queue', 'lease', 'worker', 'retry', 'error', 'config', 'parse', 'load', 'save',
    'build', 'render', 'update', 'delete', 'create', 'find', 'embed', 'score', 'rank', 'commit', 'branch', 'merge', 'diff'];
  const pick = (): string => words[Math.floor(random() * words.length)]!;
  const ident = (): string => pick() + pick()[0]!.toUpperCase() + pick().slice(1);
  const templates = [
    () => `  const ${ident()} = await ${ident()}(${pick()}, ${ident()});`,
    () => `  // ${pick()} the ${pick()} before we ${pick()} the ${pick()} (see ${ident()})`,
    () => `  if (!${ident()}.${pick()}) throw new Error('cannot ${pick()} ${pick()}: ' + ${ident()});`,
    () => `  for (const ${pick()} of ${ident()}.${pick()}s) ${ident()}.push(${pick()}.${ident()});`,
    () => `  return { ${pick()}: ${ident()}, ${pick()}_${pick()}: ${Math.floor(random() * 1000)} };`,
    () => `export function ${ident()}(${pick()}: ${pick()[0]!.toUpperCase()}${pick().slice(1)}): void {`,
  ];
  return Array.from({ length: count }, () =>
    Array.from({ length: lines }, () => templates[Math.floor(random() * templates.length)]!()).join('\n'));
}

