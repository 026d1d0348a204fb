// Property-based fuzzing of every route of the memory service over real HTTP (the real Fastify app
// on 127.0.0.1, the shared PGlite, the built-in hash embedder, no language model). Generators start
// from the service's own OpenAPI document (valid requests built from the route schemas), then
// mutate them: fields dropped, wrong JSON types, hostile strings (NUL, lone surrogates, control
// characters, 1 MB), deep nesting, unknown fields, bodies that are not JSON or not objects, wrong
// content types, hostile path segments and query strings, methods the route lacks, bad tokens.
// What users rely on, checked after every request:
//   - never a 5xx, never a hang (each request has a timeout);
//   - every 4xx is the contract's {"error": {"code", "message", "details"?}}, without a stack trace;
//   - the API token is never echoed;
//   - a 4xx changes nothing (a fingerprint of every table of the memory schema, before and after);
//   - /health still says ok at the end.
// fast-check prints the seed and the shrunk counterexample when a property fails; FUZZ_STATS=1
// prints how many answers each route gave with each status (to see how deep the generators reach).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONTENT_BYTES } from '../../src/memory/api/memoryRoutes.js';
import { MAX_CONTENT_DEPTH } from '../../src/memory/api/memoryRoutes.js';
import { tempDir } from '../support/repo.js';
import { PY_CLI, TS_CALLER } from './fixtures.js';
import { outcome } from './outcomes.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';

const TOKEN = `fuzz-secret-${randomBytes(12).toString('hex')}`;
const AUTH = { authorization: `Bearer ${TOKEN}` };
/** The project that has an index, memories and patterns; others are unknown to the service. */
const PROJECT = 'fz';
const REQUEST_TIMEOUT_MS = 20_000;

let t: TestMemory;
/** Directories and files on this machine the fuzzer may name (never anything large). */
const places = { smallRoot: '', notGit: '', aFile: '', repo: '', pwnedDir: '' };
let openapi: { paths: Record<string, Record<string, any>> };
/** Cursors the service issued (memories, patterns): valid values for `cursor`. */
const validCursors: string[] = [];
let seededMemoryId = '';

// ---------------------------------------------------------------------------------------------
// HTTP: node:http, so bodies, headers and paths go out exactly as written (no URL normalisation
// of %2e%2e, no content type added).

interface Reply {
  status: number;
  text: string;
  headers: http.IncomingHttpHeaders;
}

interface SendOptions {
  body?: string | Buffer;
  /** undefined values are left out; default: JSON content type when there is a body, and the token. */
  headers?: Record<string, string | undefined>;
}

function send(method: string, target: string, options: SendOptions = {}): Promise<Reply> {
  const url = new URL(t.url);
  const defaults: Record<string, string | undefined> = { ...AUTH, ...(options.body === undefined ? {} : { 'content-type': 'application/json' }) };
  const merged = { ...defaults, ...options.headers };
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(merged)) if (value !== undefined) headers[key] = value;
  if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
  return new Promise((resolve, reject) => {
    const request = http.request({ host: url.hostname, port: url.port, method, path: target, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), headers: response.headers }));
      response.on('error', reject);
    });
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms: ${method} ${target.slice(0, 200)}`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

const sendJson = (method: string, target: string, body: unknown, headers: Record<string, string | undefined> = {}) =>
  send(method, target, { body: JSON.stringify(body), headers });

function describeRequest(method: string, target: string, body?: string | Buffer): string {
  const shown = body === undefined ? '' : ` ${String(body).slice(0, 300)}${body.length > 300 ? `… (${body.length} chars)` : ''}`;
  return `${method} ${target.slice(0, 300)}${shown}`;
}

/** The invariants every answer keeps, whatever was sent. */
function checkReply(reply: Reply, context: string, method = 'GET'): void {
  expect(reply.status, `${context} → ${reply.status} ${reply.text.slice(0, 500)}`).toBeLessThan(500);
  expect(reply.status, context).toBeGreaterThanOrEqual(200);
  expect(reply.text.includes(TOKEN), `${context}: the token was echoed`).toBe(false);
  expect(reply.text, context).not.toMatch(/\n\s+at /);
  // A HEAD answer has no body by definition.
  if (reply.status >= 400 && method !== 'HEAD') checkErrorBody(reply, context);
}

function checkErrorBody(reply: Reply, context: string): void {
  let body: any;
  try {
    body = JSON.parse(reply.text);
  } catch {
    throw new Error(`${context} → ${reply.status} with a body that is not JSON: ${JSON.stringify(reply.text.slice(0, 300))}`);
  }
  const shape = `${context} → ${reply.status} ${reply.text.slice(0, 500)}`;
  expect(body !== null && typeof body === 'object' && !Array.isArray(body), shape).toBe(true);
  expect(Object.keys(body), shape).toEqual(['error']);
  expect(typeof body.error?.code, shape).toBe('string');
  expect(body.error.code, shape).toMatch(/^[a-z_]+$/);
  expect(typeof body.error.message, shape).toBe('string');
  expect(body.error.message.length, shape).toBeGreaterThan(0);
  for (const key of Object.keys(body.error)) expect(['code', 'message', 'details'], shape).toContain(key);
}

// ---------------------------------------------------------------------------------------------
// State: a fingerprint of every table of the memory schema. A 4xx must leave it as it was.

let fingerprintSql = '';

async function fingerprint(): Promise<string> {
  if (!fingerprintSql) {
    const tables = await t.db.query<{ name: string }>(
      `select table_name as name from information_schema.tables where table_schema = 'memory' and table_type = 'BASE TABLE' order by 1`,
    );
    expect(tables.map((table) => table.name)).toContain('memories');
    fingerprintSql = tables
      .map(({ name }) => `select '${name}' as t, count(*)::int as n, md5(coalesce(string_agg(x::text, '|' order by x::text), '')) as h from memory."${name}" x`)
      .join(' union all ');
  }
  const rows = await t.db.query<{ t: string; n: number; h: string }>(fingerprintSql);
  return rows.map((row) => `${row.t}:${row.n}:${row.h}`).join(' ');
}

/** Tracks the database across a run of requests: each 4xx is checked against the state before it. */
class StateWatch {
  private last = '';

  async start(): Promise<void> {
    this.last = await fingerprint();
  }

  async after(reply: Reply, context: string): Promise<void> {
    const now = await fingerprint();
    if (reply.status >= 400) expect(now, `${context} → ${reply.status} ${reply.text.slice(0, 300)}: a rejected request changed the database`).toBe(this.last);
    this.last = now;
  }
}

/** Answers by route and status, printed with FUZZ_STATS=1 to see where the fuzzer reaches. */
const outcomes = new Map<string, number>();

async function exchange(watch: StateWatch, method: string, target: string, options: SendOptions = {}): Promise<Reply> {
  const context = describeRequest(method, target, options.body);
  const reply = await send(method, target, options);
  const route = `${method} ${target.split('?')[0]!.replace(/^(\/api\/v1\/(?:memory|index))\/(?!files$).+$/, '$1/:param').slice(0, 60)} ${reply.status}`;
  outcomes.set(route, (outcomes.get(route) ?? 0) + 1);
  checkReply(reply, context, method);
  await watch.after(reply, context);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// Generators built from the OpenAPI document's schemas.

interface Operation {
  method: string;
  /** The OpenAPI path, with {params}. */
  path: string;
  body?: any;
  query?: any;
  params?: any;
}

function operations(): Operation[] {
  const out: Operation[] = [];
  for (const [route, methods] of Object.entries(openapi.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const parameters: any[] = op.parameters ?? [];
      const objectOf = (where: string) => {
        const list = parameters.filter((p) => p.in === where);
        if (list.length === 0) return undefined;
        return { type: 'object', properties: Object.fromEntries(list.map((p) => [p.name, p.schema])), required: list.filter((p) => p.required).map((p) => p.name) };
      };
      const name = `${method.toUpperCase()} ${route}`;
      out.push({
        method: method.toUpperCase(),
        path: route,
        body: op.requestBody?.content?.['application/json']?.schema,
        query: objectOf('query'),
        params: objectOf('path'),
        // Counterexamples name the route, not its whole schema.
        [fc.toStringMethod]: () => name,
      } as Operation);
    }
  }
  return out;
}

/** encodeURIComponent, with a lone surrogate sent as the (invalid) UTF-8 bytes %ED%A0%80. */
function safeEncode(value: string): string {
  return Array.from(value, (char) => {
    try {
      return encodeURIComponent(char);
    } catch {
      return '%ED%A0%80';
    }
  }).join('');
}

const SPACE_FREE_TEXT = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((s) => /\S/.test(s) && !s.includes('\u0000'));
const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202e\u200b\ufeff',
  '\r\n\t\u0007\u001b[31m',
  '💥🧨👩‍👩‍👧‍👦',
  'NaN',
  'Infinity',
  '-1',
  '1e308',
  '-0',
  'null',
  'true',
  '%2e%2e%2f',
  '../../../etc/passwd',
  '/etc/passwd',
  '--output=/tmp/autobuild-fuzz-pwned',
  '-n1',
  'a..b',
  '$(id)',
  '`id`',
  '{"a":1}',
  '__proto__',
  "'; drop table memory.memories; --",
  'x'.repeat(300),
];

const hostileString = fc.oneof(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'grapheme', maxLength: 30 }));
const hostileNumber = fc.constantFrom(-1, 0, -0, 0.5, 1.5, 1e308, -1e308, 5e-324, 2 ** 53 + 2, 101, 501, 100_001, 2 ** 31, -(2 ** 31) - 1);

/** A raw JSON text nested `depth` levels deep (built as text: no recursion here). */
function deepJson(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array' ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/**
 * Nesting `depth` levels deep, kept as this small marker until the body is serialised (toJsonText):
 * fast-check's reports, structuredClone and recursive helpers never walk thousands of levels.
 */
class Deep {
  constructor(
    readonly depth: number,
    readonly kind: 'array' | 'object',
  ) {}

  [fc.toStringMethod](): string {
    return `Deep(${this.depth}, ${this.kind})`;
  }

  toJSON(): string {
    return `\u0001deep:${this.depth}:${this.kind}\u0001`;
  }
}

const deep = (min: number, max: number) => fc.integer({ min, max }).map((depth) => new Deep(depth, depth % 2 ? 'array' : 'object'));

/** JSON.stringify, with each Deep marker expanded to its raw nested JSON. */
function toJsonText(value: unknown): string {
  const text = JSON.stringify(value) ?? 'null';
  return text.replace(/"\\u0001deep:(\d+):(array|object)\\u0001"/g, (_all, depth: string, kind: 'array' | 'object') => deepJson(Number(depth), kind));
}

/** A copy (Deep markers are shared: they are never mutated). */
function copy<T>(value: T): T {
  if (value === null || typeof value !== 'object' || value instanceof Deep) return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) Object.defineProperty(out, key, { value: copy(item), enumerable: true, configurable: true, writable: true });
  return out as T;
}

/** A JSON value a field must never be: null, wrong types, hostile strings and numbers, nesting. */
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  hostileNumber,
  hostileString,
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.dictionary(hostileString, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  deep(2, 3000),
);

function regexOf(pattern: string): RegExp {
  return new RegExp(pattern, 'u');
}

/** A value valid for the schema (best effort), with hand-made generators for fields that name real things. */
function fromSchema(schema: any, name = ''): fc.Arbitrary<unknown> {
  const special = namedField(name, schema);
  if (special) return special;
  if (!schema || typeof schema !== 'object') return fc.jsonValue({ maxDepth: 2 });
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if ('const' in schema) return fc.constant(schema.const);
  const branches = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(branches)) return fc.oneof(...branches.map((branch: any) => fromSchema(branch, name)));
  switch (schema.type) {
    case 'string': {
      if (schema.format === 'uuid') return fc.uuid();
      const min: number = schema.minLength ?? 0;
      const max: number = Math.min(schema.maxLength ?? 40, 40);
      const base = schema.pattern ? fc.stringMatching(regexOf(schema.pattern), { maxLength: max }) : fc.string({ unit: 'grapheme', minLength: min, maxLength: max });
      return base.filter((s) => s.length >= min && s.length <= (schema.maxLength ?? Infinity) && !s.includes('\u0000'));
    }
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1000, max: Math.min(schema.maximum ?? 1000, 1000) });
    case 'number':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(fromSchema(schema.items, name), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 3, 3) });
    case 'object': {
      const properties: Record<string, any> = schema.properties ?? {};
      if (Object.keys(properties).length === 0) {
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { minKeys: schema.minProperties ?? 0, maxKeys: 4 });
      }
      const model = Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, fromSchema(value, key)]));
      const required: string[] = (schema.required ?? []).filter((key: string) => key in model);
      return fc.record(model, { requiredKeys: required });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

const REF_HOSTILE = [
  '--output=PWNED',
  '--output',
  '-n1',
  '-',
  '--',
  '--all',
  'a..b',
  'HEAD~1..HEAD',
  'HEAD...main',
  'x'.repeat(257),
  'x'.repeat(5000),
  'a\u0000b',
  '\u0000',
  'HEAD\n',
  'HEAD ',
  ' HEAD',
  '$(touch PWNED)',
  '`touch PWNED`',
  ';touch PWNED',
  'HEAD@{-1}',
  'HEAD^{tree}',
  'HEAD:README.md',
  'refs/../../x',
  '%2e%2e',
  '@',
  'nonexistent-tag',
];
const REF_VALID = ['HEAD', 'HEAD~1', 'HEAD~2', 'HEAD^', 'v0.1.0', 'v0.1.0^{}', 'main', ':/feat'];

/** Fields whose valid values name real things: the seeded project, real directories, real refs. */
function namedField(name: string, schema: any): fc.Arbitrary<unknown> | undefined {
  switch (name) {
    case 'project_id':
      return fc.oneof({ weight: 4, arbitrary: fc.constant(PROJECT) }, { weight: 1, arbitrary: fc.stringMatching(regexOf(schema.pattern ?? '^[a-z]{1,8}$')) });
    case 'root':
      return fc.constantFrom(places.smallRoot, places.notGit, places.aFile, '/nonexistent/autobuild/fuzz', 'relative/dir', `${places.smallRoot}/`, `${places.smallRoot}/../${path.basename(places.smallRoot)}`);
    case 'repo':
      return fc.oneof(
        { weight: 4, arbitrary: fc.constant(places.repo) },
        { weight: 3, arbitrary: fc.constantFrom(`${places.repo}/`, places.notGit, places.aFile, '/nonexistent/autobuild/fuzz', 'relative/repo', '.', places.smallRoot, `${places.repo}/../${path.basename(places.repo)}`, `${places.repo}\u0000`, 'x'.repeat(5000)) },
      );
    case 'from':
    case 'to':
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...REF_VALID) }, { weight: 2, arbitrary: fc.constantFrom(...REF_HOSTILE).map(withPwned) }, { weight: 1, arbitrary: hostileString });
    case 'files':
      return fc.array(
        fc.record(
          {
            path: fc.constantFrom('src/a.ts', 'src/b.py', 'docs/c.md', 'x/y/z.go', 'a b/ü.ts', 'src/a.ts'),
            content: fc.oneof(fc.constantFrom(TS_CALLER, PY_CLI), fc.string({ unit: 'grapheme', maxLength: 200 })),
            language: fc.constantFrom('typescript', 'python', 'go', 'c++', 'c#'),
          },
          { requiredKeys: ['path', 'content'] },
        ),
        { maxLength: 3 },
      );
    case 'paths':
      return fc.array(fc.constantFrom('src/**', '**/*.ts', '*.md', '{a,b}/**', '[', '**/../**', '!src/**', 'src/**/*.{ts,py}'), { maxLength: 3 });
    case 'content':
      return schema?.anyOf ? memoryContent.map((c) => c.value) : undefined;
    case 'tags':
      return fc.array(fc.constantFrom('a', 'b', 'build', 'ci', 'ü', '🏷️', 'a b'), { maxLength: 4 });
    case 'cursor':
      // Mostly a cursor this service issued for the list at hand; sometimes a foreign or forged one.
      return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...validCursors) }, { weight: 1, arbitrary: fc.constantFrom('abc', '', '%00', Buffer.from('{"seq":"1"}').toString('base64url')) });
    case 'message':
    case 'query':
    case 'task_description':
      return schema?.type === 'string' ? SPACE_FREE_TEXT : undefined;
    default:
      return undefined;
  }
}

function withPwned(ref: string): string {
  return ref.replace('PWNED', path.join(places.pwnedDir, 'pwned'));
}

// ---- mutations of a valid JSON value

type Mutation =
  | { kind: 'drop'; pick: number }
  | { kind: 'set'; pick: number; value: unknown }
  | { kind: 'unknown-field'; key: string; value: unknown }
  | { kind: 'huge'; pick: number }
  | { kind: 'not-an-object'; value: unknown };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('drop' as const), pick: fc.nat() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('set' as const), pick: fc.nat(), value: hostileValue }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('unknown-field' as const), key: fc.oneof(hostileString, fc.constantFrom('extra', 'id', 'admin', 'constructor')), value: fc.jsonValue({ maxDepth: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('huge' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('not-an-object' as const), value: fc.oneof(fc.constant(null), hostileNumber, hostileString, fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 })) }) },
);

/** None most of the time, so valid requests reach the service's deeper code too; else one to three. */
const mutations = fc.oneof({ weight: 1, arbitrary: fc.constant<Mutation[]>([]) }, { weight: 3, arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }) });

/** A valid body for a route: from its schema; the index route names either inline files or a root. */
function validBody(op: Operation): fc.Arbitrary<unknown> {
  if (op.path !== '/api/v1/index/files') return fromSchema(op.body);
  const { files, root, ...common } = op.body.properties;
  const required = op.body.required;
  return fc.oneof(
    fromSchema({ ...op.body, properties: { ...common, files }, required: [...required, 'files'] }),
    fromSchema({ ...op.body, properties: { ...common, root }, required: [...required, 'root'] }),
  );
}

/** Every [container, key] in a JSON value (objects' keys and arrays' indexes), the root's first. */
function slots(value: unknown, out: Array<[any, string | number]> = [], depth = 0): Array<[any, string | number]> {
  if (depth > 6 || value === null || typeof value !== 'object' || value instanceof Deep) return out;
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      out.push([value, index]);
      slots(item, out, depth + 1);
    });
  } else {
    for (const [key, item] of Object.entries(value)) {
      out.push([value, key]);
      slots(item, out, depth + 1);
    }
  }
  return out;
}

const HUGE = 'h'.repeat(1024 * 1024 + 7);

function mutate(valid: unknown, mutations: Mutation[]): unknown {
  let value: unknown = copy(valid);
  for (const m of mutations) {
    if (m.kind === 'not-an-object') {
      value = m.value;
      continue;
    }
    if (m.kind === 'unknown-field') {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) Object.defineProperty(value, m.key, { value: m.value, enumerable: true, configurable: true, writable: true });
      continue;
    }
    const all = slots(value);
    if (all.length === 0) continue;
    const [container, key] = all[m.pick % all.length]!;
    if (m.kind === 'drop') {
      if (Array.isArray(container)) container.splice(key as number, 1);
      else delete container[key];
    } else if (m.kind === 'set') {
      container[key] = m.value;
    } else {
      container[key] = HUGE;
    }
  }
  return value;
}

// ---- memory content of many shapes

interface ContentCase {
  value: unknown;
  /** Content the service must accept (and store as sent). */
  clean: boolean;
  /** Content the service must refuse (a 4xx). */
  refused?: boolean;
}

const cleanText = fc.string({ unit: 'grapheme', maxLength: 30 }).filter((s) => !s.includes('\u0000'));
// Fastify refuses __proto__ and constructor.prototype keys outright (prototype poisoning): not clean.
const cleanKey = fc.oneof(cleanText.filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k)), fc.constantFrom('', '.', 'a.b', 'a..b', '.a.', 'build.tool', 'ключ', '键', '🔑', ' spaced ', 'UPPER', '0', '1e3'));
const cleanJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    cleanText,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(cleanKey, tie('value'), { maxKeys: 4 }),
  ),
})).value;

const hugeArray = fc.integer({ min: 1000, max: 30_000 }).map((n) => {
  const value = { numbers: Array.from({ length: n }, (_, i) => i * 7) };
  return { value, clean: false, refused: JSON.stringify(value).length > MAX_CONTENT_BYTES };
});

const memoryContent: fc.Arbitrary<ContentCase> = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(cleanKey, cleanJson, { minKeys: 1, maxKeys: 6 }).map((value) => ({ value, clean: true })) },
  { weight: 2, arbitrary: SPACE_FREE_TEXT.map((value) => ({ value, clean: true })) },
  { weight: 1, arbitrary: fc.constantFrom(' ', '\n\t', '', '\u0000', 'a\u0000b', 'lone \ud800 surrogate', '\udc00', { k: 'a\u0000' }, { 'k\u0000': 1 }, { k: ['\ud800'] }).map((value) => ({ value, clean: false, refused: true })) },
  { weight: 1, arbitrary: fc.dictionary(hostileString, hostileValue, { minKeys: 0, maxKeys: 3 }).map((value) => ({ value, clean: false })) },
  // {"nest": <depth levels>}: the top object is one level more.
  { weight: 1, arbitrary: fc.oneof(deep(1, MAX_CONTENT_DEPTH - 1), deep(MAX_CONTENT_DEPTH, 40_000)).map((nest) => ({ value: { nest } as unknown, clean: nest.depth < MAX_CONTENT_DEPTH, refused: nest.depth >= MAX_CONTENT_DEPTH })) },
  { weight: 1, arbitrary: hugeArray },
  { weight: 1, arbitrary: fc.constantFrom([], [1, 2], 'x'.repeat(MAX_CONTENT_BYTES + 1), { big: 'y'.repeat(MAX_CONTENT_BYTES) }, 42, null, true).map((value) => ({ value, clean: false, refused: true })) },
);

const CONTRACT_TYPES = ['execution_success', 'execution_failure', 'insight', 'decision', 'feedback', 'pattern'];
const memoryType = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...CONTRACT_TYPES, 'Custom.Type:v1', 'x') },
  { weight: 1, arbitrary: fc.oneof(hostileString, fc.constantFrom('1abc', 'a b', 'x'.repeat(65), 'INSIGHT')) },
);
const validTag = fc.oneof(fc.constantFrom('ci', 'build', 'ü', '🏷️', 'a b', 'x'.repeat(100)), fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/));
const tags = fc.oneof(
  { weight: 3, arbitrary: fc.array(validTag, { maxLength: 8 }).map((value) => ({ value, clean: true })) },
  { weight: 1, arbitrary: fc.array(validTag, { minLength: 1, maxLength: 4 }).map((list) => ({ value: [...list, ...list, ...list], clean: true })) },
  { weight: 1, arbitrary: fc.array(fc.oneof(validTag, fc.constantFrom('', ' ', ' a', 'a ', 'x'.repeat(101), '\u0000', 'a\u0000b', '\ud800')), { minLength: 1, maxLength: 6 }).map((value) => ({ value, clean: false })) },
  { weight: 1, arbitrary: fc.integer({ min: 51, max: 2000 }).map((n) => ({ value: Array.from({ length: n }, (_, i) => `t${i}`), clean: false })) },
  { weight: 1, arbitrary: hostileValue.map((value) => ({ value, clean: false })) },
);
const idField = fc.oneof(
  { weight: 3, arbitrary: fc.oneof(fc.uuid(), fc.constantFrom('ABC-123', 'x'.repeat(200), 'ü🎫', 'a b', '#12', '../x')).map((value) => ({ value, clean: true })) },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(201), '\u0000', 'a\u0000b', '\ud800', 12, null, ['a'], { a: 1 }).map((value) => ({ value, clean: false })) },
);

/** An execution outcome as the orchestrator posts it, with one of its fields made odd. */
const outcomeBody = fc
  .record({
    status: fc.constantFrom('succeeded', 'failed', 'timed_out', 'cancelled'),
    field: fc.constantFrom('files_changed', 'qa', 'duration_s', 'title', 'agent', 'task', 'job_id', 'status'),
    value: fc.oneof(hostileValue, fc.constantFrom(['a.ts', 'a.ts', '../x', '/abs', 'b/./c', ''], { passed: false, checks: [{ name: 'lint', passed: false }, { name: 'lint', passed: 'no' }, null] })),
    jobId: fc.uuid(),
  })
  .map(({ status, field, value, jobId }) => {
    const body = outcome({ id: jobId, project: PROJECT, title: 'Add retry to the fetcher', status: status as 'succeeded', files: ['src/fetch.ts', 'src/retry.ts'], qa: { lint: true, test: status === 'succeeded' } });
    const content = { ...(body.content as Record<string, unknown>), [field]: value };
    return { ...body, content };
  });

const memoryCase = fc.record({
  type: memoryType,
  content: memoryContent,
  tags: fc.option(tags, { nil: undefined }),
  ticket_id: fc.option(idField, { nil: undefined }),
  job_id: fc.option(idField, { nil: undefined }),
  // Fields the client does not set (now and then).
  extra: fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.dictionary(fc.constantFrom('id', 'created_at', 'seen_count', 'embedding', 'project'), fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 2 }) },
  ),
});

// ---------------------------------------------------------------------------------------------

function git(cwd: string, ...args: string[]): string {
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_DATE: '2024-03-01T12:00:00Z', GIT_COMMITTER_DATE: '2024-03-01T12:00:00Z' };
  return execFileSync('git', args, { cwd, encoding: 'utf8', env }).trim();
}

function createPlaces(): void {
  places.smallRoot = tempDir('autobuild-fuzz-root-');
  mkdirSync(path.join(places.smallRoot, 'src'));
  writeFileSync(path.join(places.smallRoot, 'src', 'caller.ts'), TS_CALLER);
  writeFileSync(path.join(places.smallRoot, 'cli.py'), PY_CLI);
  places.notGit = tempDir('autobuild-fuzz-plain-');
  places.aFile = path.join(places.notGit, 'file.txt');
  writeFileSync(places.aFile, 'not a directory\n');
  places.pwnedDir = tempDir('autobuild-fuzz-pwned-');
  places.repo = tempDir('autobuild-fuzz-repo-');
  const r = places.repo;
  git(r, 'init', '-q', '-b', 'main');
  git(r, 'config', 'user.name', 'Fuzz');
  git(r, 'config', 'user.email', 'fuzz@example.com');
  git(r, 'config', 'commit.gpgsign', 'false');
  git(r, 'config', 'tag.gpgsign', 'false');
  const commit = (file: string, message: string) => {
    writeFileSync(path.join(r, file), `${message}\n`);
    git(r, 'add', '-A');
    git(r, 'commit', '-q', '-m', message);
  };
  commit('README.md', 'feat: first feature');
  commit('a.txt', 'fix(core): handle empty input (#12)');
  git(r, 'tag', 'v0.1.0');
  commit('b.txt', 'feat!: drop the old flag\n\nBREAKING CHANGE: --old is gone');
}

function repoState(): string {
  return [git(places.repo, 'status', '--porcelain', '--ignored'), git(places.repo, 'for-each-ref', '--format=%(refname) %(objectname)'), readdirSync(places.repo).sort().join(','), readdirSync(places.pwnedDir).join(',')].join('\n');
}

beforeAll(async () => {
  createPlaces();
  t = await startTestMemory({ env: { AUTOBUILD_API_TOKEN: TOKEN, MEMORY_INDEX_MAX_FILES: '20' } });
  const index = await sendJson('POST', '/api/v1/index/files', { project_id: PROJECT, files: [{ path: 'src/caller.ts', content: TS_CALLER }, { path: 'cli.py', content: PY_CLI }] });
  expect(index.status, index.text).toBe(200);
  for (const content of ['Run the linter before pushing.', { build: { tool: 'pnpm', steps: ['lint', 'test'] } }, 'Deploys go through the staging queue first.']) {
    const created = await sendJson('POST', '/api/v1/memory', { project_id: PROJECT, type: 'insight', content, tags: ['ci'] });
    expect(created.status, created.text).toBe(201);
    seededMemoryId ||= JSON.parse(created.text).id;
  }
  for (const status of ['succeeded', 'failed'] as const) {
    const body = outcome({ project: PROJECT, title: 'Add retry to the fetcher', status, files: ['src/fetch.ts', 'src/retry.ts'], qa: { lint: status === 'succeeded' } });
    const created = await sendJson('POST', '/api/v1/memory', body);
    expect(created.status, created.text).toBe(201);
  }
  const page = await send('GET', `/api/v1/memory/${PROJECT}?limit=1`);
  const patterns = await send('GET', `/api/v1/insights/patterns?project_id=${PROJECT}&limit=1`);
  validCursors.push(JSON.parse(page.text).next_cursor, JSON.parse(patterns.text).next_cursor);
  expect(validCursors.every(Boolean), `${page.text.slice(0, 200)} ${patterns.text.slice(0, 200)}`).toBe(true);
  const doc = await send('GET', '/openapi.json');
  expect(doc.status).toBe(200);
  openapi = JSON.parse(doc.text);
});

afterAll(async () => {
  if (process.env.FUZZ_STATS) console.log([...outcomes].sort().map(([key, n]) => `${key}: ${n}`).join('\n'));
  await t?.stop();
  for (const dir of [places.smallRoot, places.notGit, places.repo, places.pwnedDir]) if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

/** Every route of the contract's memory-service section, as the OpenAPI document names it. */
const CONTRACT_ROUTES = [
  'GET /health',
  'POST /api/v1/index/files',
  'DELETE /api/v1/index/{project_id}',
  'POST /api/v1/search',
  'POST /api/v1/context',
  'POST /api/v1/memory',
  'GET /api/v1/memory/{project_id}',
  'DELETE /api/v1/memory/{id}',
  'POST /api/v1/insights/chat',
  'GET /api/v1/insights/patterns',
  'POST /api/v1/changelog/generate',
];

describe('the memory service under hostile input', () => {
  it('the OpenAPI document lists every route the fuzzer covers, and no other', () => {
    const listed = operations().map((op) => `${op.method} ${op.path}`);
    expect(listed.sort()).toEqual([...CONTRACT_ROUTES].sort());
  });

  it('JSON bodies: valid requests from the route schemas, then mutated → 2xx or a clean 4xx, a 4xx changes nothing', async () => {
    const routes = operations().filter((op) => op.body);
    expect(routes.map((op) => op.path).sort()).toEqual(['/api/v1/changelog/generate', '/api/v1/context', '/api/v1/index/files', '/api/v1/insights/chat', '/api/v1/memory', '/api/v1/search']);
    const watch = new StateWatch();
    await watch.start();
    const before = repoState();
    const request = fc.constantFrom(...routes).chain((op) =>
      fc.record({
        op: fc.constant(op),
        body: fc.tuple(validBody(op), mutations).map(([valid, changes]) => mutate(valid, changes)),
        accept: fc.constantFrom(undefined, 'application/json', 'text/event-stream', '*/*', 'text/event-stream, application/json', 'nonsense/x'),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async ({ op, body, accept }) => {
        const reply = await exchange(watch, op.method, op.path, { body: toJsonText(body), headers: { accept } });
        if (reply.status === 200 && op.path === '/api/v1/insights/chat' && accept?.includes('text/event-stream')) {
          expect(reply.headers['content-type']).toMatch(/^text\/event-stream/);
          expect(reply.text).toMatch(/event: done\ndata: \{"model":null\}/);
          expect(reply.text).not.toMatch(/event: error/);
        } else if (reply.status < 300) {
          expect(() => JSON.parse(reply.text)).not.toThrow();
        }
      }),
      { numRuns: 300 },
    );
    expect(repoState()).toBe(before);
  });

  it('bodies that are not JSON objects, wrong content types → 4xx with the error body, nothing written', async () => {
    const routes = operations().filter((op) => op.body);
    const valid = JSON.stringify({ project_id: PROJECT, query: 'scheduler', message: 'what?', task_description: 'x', type: 'insight', content: 'c' });
    const rawBody = fc.oneof(
      fc.constantFrom(
        '',
        ' ',
        'hello',
        '{',
        '{"project_id":',
        '{"project_id": "fz", "files": [',
        valid.slice(0, -1),
        `${valid},`,
        `${valid}${valid}`,
        `\ufeff${valid}`,
        `\ufeff\ufeff${valid}`,
        '[]',
        '[{}]',
        '"a string"',
        '42',
        '-0',
        '1e400',
        'null',
        'true',
        'NaN',
        '{"a":1,"a":2}',
        '{"__proto__":{"admin":true}}',
        '{"constructor":{"prototype":{"admin":true}}}',
        `{"project_id":"${PROJECT}","query":"x","limit":1e400}`,
        `{"project_id":"${PROJECT}","query":"\\ud800"}`,
        `{"project_id":"${PROJECT}","query":"x\\u0000"}`,
        '{"project_id":"fz","query":"x"}\u0000',
        "{'project_id':'fz'}",
        '{project_id: "fz"}',
        '<xml/>',
        'project_id=fz&query=x',
        deepJson(10_000, 'array'),
        deepJson(5000, 'object'),
      ),
      fc.string({ unit: 'binary', maxLength: 60 }),
      fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json; charset=utf-8',
      'application/json; charset=utf-16',
      'application/JSON',
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/xml',
      'json',
      '',
      undefined,
    );
    const watch = new StateWatch();
    await watch.start();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), rawBody, contentType, async (op, body, type) => {
        const reply = await exchange(watch, op.method, op.path, { body, headers: { 'content-type': type } });
        const parsesAsObject = (() => {
          try {
            const value = JSON.parse(body.replace(/^\ufeff/, ''));
            return value !== null && typeof value === 'object' && !Array.isArray(value);
          } catch {
            return false;
          }
        })();
        // Only a JSON object sent as JSON can be anything but a 4xx.
        if (!parsesAsObject || !type || !/^application\/json/i.test(type)) expect(reply.status, `${type} ${body.slice(0, 80)} → ${reply.text}`).toBeGreaterThanOrEqual(400);
      }),
      { numRuns: 200 },
    );
  });

  it('hostile path segments → 2xx or a clean 4xx', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        '%2e%2e%2f',
        '%2e%2e',
        '..',
        '.',
        '%2F',
        '..%2F..%2Fetc%2Fpasswd',
        '%00',
        'a%00b',
        '%zz',
        '%',
        '%e2%82',
        '%ff',
        '%F0%9F%92%A5',
        'a%20b',
        '00000000-0000-0000-0000-000000000000',
        'ffffffff-ffff-ffff-ffff-ffffffffffff',
        '00000000-0000-0000-0000-00000000000g',
        '{id}',
        ':id',
        '*',
        '~',
        'a;b',
        'a?b=c',
        'a#b',
        'x'.repeat(100),
        'x'.repeat(101),
        'x'.repeat(2000),
        'x'.repeat(20_000),
      ),
      fc.uuid(),
      fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/).filter((id) => id !== PROJECT),
      fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map(encodeURIComponent),
    );
    const templates = operations().filter((op) => op.params);
    expect(templates.length).toBe(3);
    const watch = new StateWatch();
    await watch.start();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...templates), segment, fc.constantFrom('', '/', '/x', '?limit=1'), async (op, value, suffix) => {
        const target = op.path.replace(/\{[^}]+\}/, value) + suffix;
        await exchange(watch, op.method, target);
      }),
      { numRuns: 150 },
    );
  });

  it('query strings: schema values, repeated keys, arrays, empty values, bad encodings → 2xx or a clean 4xx', async () => {
    const routes = operations().filter((op) => op.query);
    expect(routes.map((op) => `${op.method} ${op.path}`).sort()).toEqual(['GET /api/v1/insights/patterns', 'GET /api/v1/memory/{project_id}']);
    const rawValue = fc.oneof(
      fc.constantFrom('', '%00', 'a%00b', '%zz', '%', '%ff', '%ud800', '1.5', '-1', '0', '-0', '1e308', 'NaN', 'true', 'yes', '1', '501', '9'.repeat(40), 'x'.repeat(2000), 'x'.repeat(20_000)),
      hostileString.map(safeEncode),
    );
    const pair = (keys: string[]) =>
      fc.oneof(
        fc.tuple(fc.constantFrom(...keys), rawValue).map(([key, value]) => `${key}=${value}`),
        fc.tuple(fc.constantFrom(...keys), rawValue).map(([key, value]) => `${key}[]=${value}`),
        fc.tuple(fc.constantFrom(...keys), rawValue).map(([key, value]) => `${key}[a]=${value}`),
        fc.constantFrom(...keys),
        fc.constantFrom('unknown=1', '=', '&', '==', '__proto__[x]=1', 'constructor=1'),
      );
    const watch = new StateWatch();
    await watch.start();
    const request = fc.constantFrom(...routes).chain((op) =>
      fc.record({
        op: fc.constant(op),
        params: fc.constantFrom(PROJECT, 'unknown-project'),
        valid: fromSchema(op.query),
        extra: fc.oneof({ weight: 2, arbitrary: fc.constant([]) }, { weight: 3, arbitrary: fc.array(pair(Object.keys(op.query.properties)), { minLength: 1, maxLength: 3 }) }),
        repeat: fc.constantFrom(false, false, false, true),
      }),
    );
    await fc.assert(
      fc.asyncProperty(request, async ({ op, params, valid, extra, repeat }) => {
        const pairs = Object.entries(valid as Record<string, unknown>).map(([key, value]) => `${key}=${safeEncode(String(value))}`);
        if (repeat && pairs[0]) pairs.push(pairs[0]);
        const query = [...pairs, ...extra].join('&');
        const reply = await exchange(watch, op.method, `${op.path.replace('{project_id}', params)}${query ? `?${query}` : ''}`);
        if (reply.status === 200) {
          const body = JSON.parse(reply.text);
          const list = body.memories ?? body.patterns;
          expect(Array.isArray(list), reply.text.slice(0, 200)).toBe(true);
          expect(body.next_cursor === null || typeof body.next_cursor === 'string').toBe(true);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('memory create: content of many shapes, odd tags and ids → stored exactly as sent, or a clean 4xx that stores nothing', async () => {
    const watch = new StateWatch();
    await watch.start();
    const body = fc.oneof(
      { weight: 5, arbitrary: memoryCase.map((c) => ({ c, outcome: false as const })) },
      { weight: 1, arbitrary: outcomeBody.map((o) => ({ c: o, outcome: true as const })) },
    );
    await fc.assert(
      fc.asyncProperty(body, async (generated) => {
        let sent: Record<string, unknown>;
        let clean = false;
        let refused = false;
        if (generated.outcome) {
          sent = generated.c;
        } else {
          const c = generated.c;
          sent = { project_id: PROJECT, type: c.type, content: c.content.value, ...c.extra };
          if (c.tags) sent.tags = c.tags.value;
          if (c.ticket_id) sent.ticket_id = c.ticket_id.value;
          if (c.job_id) sent.job_id = c.job_id.value;
          refused = c.content.refused ?? false;
          clean = c.content.clean && /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/.test(c.type) && !c.extra && (c.tags?.clean ?? true) && (c.ticket_id?.clean ?? true) && (c.job_id?.clean ?? true);
        }
        const text = toJsonText(sent);
        const reply = await exchange(watch, 'POST', '/api/v1/memory', { body: text });
        if (clean) expect(reply.status, `${text.slice(0, 300)} → ${reply.text.slice(0, 300)}`).toBeLessThan(300);
        if (refused) expect(reply.status, `${text.slice(0, 300)} → ${reply.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
        if (reply.status >= 300) return;
        expect([200, 201]).toContain(reply.status);
        const memory = JSON.parse(reply.text);
        const expected = JSON.parse(text);
        expect(memory.content).toEqual(expected.content);
        for (const tag of (expected.tags as string[] | undefined) ?? []) expect(memory.tags).toContain(tag);
        expect(new Set(memory.tags).size).toBe(memory.tags.length);
        if (expected.ticket_id !== undefined) expect(memory.ticket_id).toBe(expected.ticket_id);
        if (expected.job_id !== undefined) expect(memory.job_id).toBe(expected.job_id);
        // The list reads back what was stored; deleting it works once.
        const listed = await exchange(watch, 'GET', `/api/v1/memory/${PROJECT}?limit=500&include_history=true`);
        expect(JSON.parse(listed.text).memories.find((m: any) => m.id === memory.id)?.content).toEqual(expected.content);
        if (memory.id !== seededMemoryId) {
          expect((await exchange(watch, 'DELETE', `/api/v1/memory/${memory.id}`)).status).toBe(200);
          expect((await exchange(watch, 'DELETE', `/api/v1/memory/${memory.id}`)).status).toBe(404);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('changelog: refs that look like options, ranges, NUL, huge; repos that are not repos → 4xx, never passed to git as options', async () => {
    const before = repoState();
    const watch = new StateWatch();
    await watch.start();
    const ref = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...REF_VALID) },
      { weight: 2, arbitrary: fc.constantFrom(...REF_HOSTILE).map(withPwned) },
      { weight: 1, arbitrary: hostileString },
      { weight: 1, arbitrary: fc.stringMatching(/^[^-\s][^\s]{0,20}$/u) },
    );
    const body = fc.record(
      {
        repo: fromSchema(undefined, 'repo'),
        from: ref,
        to: ref,
        version: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('1.0.0', 'v2', '2024.03') }, { weight: 1, arbitrary: hostileString }),
        format: fc.oneof({ weight: 3, arbitrary: fc.constantFrom('markdown', 'json') }, { weight: 1, arbitrary: hostileString }),
      },
      { requiredKeys: ['repo'] },
    );
    await fc.assert(
      fc.asyncProperty(body, async (sent) => {
        const reply = await exchange(watch, 'POST', '/api/v1/changelog/generate', { body: toJsonText(sent) });
        const refs = [sent.from, sent.to].filter((r): r is string => typeof r === 'string');
        const optionLike = refs.some((r) => r.startsWith('-'));
        const range = refs.some((r) => r.includes('..'));
        const notTheRepo = sent.repo !== places.repo && sent.repo !== `${places.repo}/` && sent.repo !== `${places.repo}/../${path.basename(places.repo)}`;
        if (optionLike || range || notTheRepo || refs.some((r) => r.includes('\u0000'))) expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
        if (reply.status === 200) {
          const answer = JSON.parse(reply.text);
          expect(Array.isArray(answer.entries)).toBe(true);
          expect(typeof answer.changelog).toBe('string');
        }
        expect(existsSync(path.join(places.pwnedDir, 'pwned'))).toBe(false);
      }),
      { numRuns: 120 },
    );
    expect(repoState()).toBe(before);
  });

  it('methods a route does not have → 404 or 405 with the error body', async () => {
    const watch = new StateWatch();
    await watch.start();
    const ops = operations();
    const matches = (template: string, target: string) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(target);
    // /api/v1/memory/{project_id} (GET) and /api/v1/memory/{id} (DELETE) share a shape: a URL has a
    // method when any route of that shape has it.
    const has = (method: string, target: string) => ops.some((op) => (op.method === method || (method === 'HEAD' && op.method === 'GET')) && matches(op.path, target));
    const targets = new Set(ops.flatMap((op) => [op.path.replace('{project_id}', PROJECT).replace('{id}', seededMemoryId), op.path.replace('{project_id}', 'nobody').replace('{id}', 'nobody')]));
    let tried = 0;
    for (const target of targets) {
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE']) {
        if (has(method, target)) continue;
        tried++;
        const reply = await exchange(watch, method, target, method === 'GET' || method === 'HEAD' || method === 'TRACE' ? {} : { body: '{}' });
        expect([404, 405], `${method} ${target}`).toContain(reply.status);
      }
    }
    expect(tried).toBeGreaterThan(40);
  });

  it('a missing or wrong token → 401 on every route but /health, and the token is never echoed', async () => {
    const watch = new StateWatch();
    await watch.start();
    const authorization = fc.oneof(
      fc.constantFrom(undefined, '', 'Bearer', 'Bearer ', `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `bearer  ${TOKEN} extra`, `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`, TOKEN, `Bearer ${TOKEN.toUpperCase()}`),
      // Node refuses to send header values outside printable ASCII.
      hostileString.filter((s) => [...s].every((char) => char >= ' ' && char <= '~')),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...operations()), authorization, async (op, header) => {
        const target = op.path.replace('{project_id}', PROJECT).replace('{id}', seededMemoryId);
        const reply = await exchange(watch, op.method, target, { headers: { authorization: header, 'x-echo': TOKEN }, ...(op.body ? { body: '{}' } : {}) });
        if (op.path === '/health') expect(reply.status).toBe(200);
        else expect(reply.status, `${op.method} ${target} with ${header}`).toBe(401);
      }),
      { numRuns: 100 },
    );
  });

  it('huge strings (1 MB) in every text field and query → 413 or 400, nothing written', async () => {
    const watch = new StateWatch();
    await watch.start();
    const bodies: Array<[string, Record<string, unknown>]> = [
      ['/api/v1/index/files', { project_id: PROJECT, files: [{ path: HUGE, content: 'x' }] }],
      ['/api/v1/index/files', { project_id: PROJECT, root: HUGE }],
      ['/api/v1/index/files', { project_id: PROJECT, files: [{ path: 'a.ts', content: 'x' }], paths: [HUGE] }],
      ['/api/v1/index/files', { project_id: HUGE, files: [{ path: 'a.ts', content: 'x' }] }],
      ['/api/v1/search', { project_id: PROJECT, query: HUGE }],
      ['/api/v1/context', { project_id: PROJECT, task_description: HUGE.slice(0, 900_000) }],
      ['/api/v1/memory', { project_id: PROJECT, type: 'insight', content: HUGE.slice(0, 900_000) }],
      ['/api/v1/memory', { project_id: PROJECT, type: 'insight', content: 'x', tags: [HUGE.slice(0, 900_000)] }],
      ['/api/v1/insights/chat', { project_id: PROJECT, message: HUGE.slice(0, 900_000) }],
      ['/api/v1/changelog/generate', { repo: places.repo, from: HUGE.slice(0, 900_000) }],
    ];
    for (const [route, body] of bodies) {
      const reply = await exchange(watch, 'POST', route, { body: JSON.stringify(body) });
      expect([400, 413], `${route} ${reply.text.slice(0, 200)}`).toContain(reply.status);
    }
    for (const target of [`/api/v1/memory/${PROJECT}?query=${'q'.repeat(12_000)}`, `/api/v1/memory/${PROJECT}?tag=${'t'.repeat(20_000)}`, `/api/v1/insights/patterns?project_id=${PROJECT}&cursor=${'c'.repeat(70_000)}`]) {
      const reply = await exchange(watch, 'GET', target);
      expect(reply.status, `${target.slice(0, 80)} ${reply.text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
    }
  });

  it('globs of any shape against long paths: 2xx or a clean 4xx, never a stalled service', async () => {
    const watch = new StateWatch();
    await watch.start();
    const atoms = ['a', 'a', 'b', '/', '*', '**', '?', '[a]', '[!b]', '{a,aa}', '.', '!', '+(a|aa)', '\\*'];
    const glob = fc.array(fc.constantFrom(...atoms), { minLength: 1, maxLength: 14 }).map((parts) => parts.join(''));
    // Paths a backtracking matcher chokes on: one long segment, many short ones.
    const files = [`${'a'.repeat(4000)}.ts`, `${'a/'.repeat(1900)}b.ts`, `${'aa/'.repeat(1300)}c`, `${'a'.repeat(60)}/${'a'.repeat(60)}/x`].map((path) => ({ path, content: 'export const x = 1;\n' }));
    await fc.assert(
      fc.asyncProperty(fc.array(glob, { minLength: 1, maxLength: 3 }), fc.boolean(), async (paths, sync) => {
        const reply = await exchange(watch, 'POST', '/api/v1/index/files', { body: JSON.stringify({ project_id: 'globs', files, paths, sync }) });
        expect([200, 400], reply.text).toContain(reply.status);
      }),
      { numRuns: 60 },
    );
  });

  it('every string field of every route holding NUL, a lone surrogate, control characters or emoji → 2xx or a clean 4xx', async () => {
    const watch = new StateWatch();
    await watch.start();
    const poison = ['a\u0000b', '\u0000', 'x\ud800y', '\udfff', '\u0007\u001b[0m\r\n', '💥\u200d🧨', '\ufeff'];
    let sent = 0;
    const failures: string[] = [];
    for (const op of operations().filter((o) => o.body)) {
      for (const valid of fc.sample(validBody(op), 4)) {
        for (const [container, key] of slots(valid)) {
          if (typeof container[key] !== 'string') continue;
          for (const value of poison) {
            const body = copy(valid) as any;
            const [target, targetKey] = slots(body).find(([c, k]) => k === key && JSON.stringify(c) === JSON.stringify(container))!;
            target[targetKey] = value;
            // Every failure at once: one poisoned field tells little about the others.
            await exchange(watch, op.method, op.path, { body: toJsonText(body) }).catch((error: Error) => failures.push(error.message.split('\n')[0]!.slice(0, 400)));
            sent++;
          }
        }
      }
    }
    expect(failures).toEqual([]);
    expect(sent).toBeGreaterThan(50);
  });

  it('afterwards the service still answers /health: ok, and the seeded data is intact', async () => {
    const health = await send('GET', '/health', { headers: { authorization: undefined } });
    expect(health.status).toBe(200);
    const body = JSON.parse(health.text);
    expect(body.status).toBe('ok');
    expect(body.checks).toMatchObject({ database: 'ok', memories: 'ok', llm: 'disabled' });
    const search = await sendJson('POST', '/api/v1/search', { project_id: PROJECT, query: 'scheduler' });
    expect(search.status, search.text).toBe(200);
    const memories = await send('GET', `/api/v1/memory/${PROJECT}?limit=500&include_superseded=true`);
    expect(JSON.parse(memories.text).memories.map((m: any) => m.id)).toContain(seededMemoryId);
  });
});

// Bugs the fuzzer found, each as the exact input.
describe('regressions found by fuzzing', () => {
  async function expectRefused(method: string, target: string, body: string | undefined, field: string): Promise<void> {
    const watch = new StateWatch();
    await watch.start();
    const reply = await exchange(watch, method, target, body === undefined ? {} : { body });
    expect(reply.status, reply.text).toBe(400);
    const error = JSON.parse(reply.text).error;
    expect(error.code).toBe('validation_failed');
    // The field itself, or a path inside it (content.a.0.0… names where the nesting went too deep).
    const fields: string[] = error.details.map((d: any) => d.field);
    expect(fields.some((f) => f === field || f.startsWith(`${field}.`)), `${JSON.stringify(fields)} names ${field}`).toBe(true);
  }

  async function expectHealthy(): Promise<void> {
    const health = await send('GET', '/health');
    expect(health.status).toBe(200);
    expect(JSON.parse(health.text)).toMatchObject({ status: 'ok', checks: { memories: 'ok' } });
  }

  // Was a 500: JSON.stringify and the "key: value" renderer overflowed the stack.
  it('memory content nested 30,000 arrays deep → 400, nothing written', async () => {
    await expectRefused('POST', '/api/v1/memory', `{"project_id":"${PROJECT}","type":"insight","content":{"a":${deepJson(30_000, 'array')}}}`, 'content.a');
    await expectHealthy();
  });

  it('memory content nested 10,000 objects deep → 400, nothing written', async () => {
    await expectRefused('POST', '/api/v1/memory', `{"project_id":"${PROJECT}","type":"insight","content":{"a":${deepJson(10_000, 'object')}}}`, 'content.a');
  });

  it(`memory content exactly ${MAX_CONTENT_DEPTH} levels deep is stored as sent; one more is a 400`, async () => {
    const fits = `{"project_id":"${PROJECT}","type":"decision","content":{"nest":${deepJson(MAX_CONTENT_DEPTH - 1, 'array')}}}`;
    const created = await send('POST', '/api/v1/memory', { body: fits });
    expect(created.status, created.text).toBe(201);
    expect(JSON.parse(created.text).content).toEqual(JSON.parse(fits).content);
    expect((await send('DELETE', `/api/v1/memory/${JSON.parse(created.text).id}`)).status).toBe(200);
    await expectRefused('POST', '/api/v1/memory', `{"project_id":"${PROJECT}","type":"decision","content":{"nest":${deepJson(MAX_CONTENT_DEPTH, 'array')}}}`, 'content.nest');
  });

  // Were 503 dependency_unavailable ("the memory store refused the write"), and /health then said
  // the memory store was failing until the next good write.
  const unstorable: Array<[string, Record<string, unknown>, string]> = [
    ['a NUL in text content', { content: 'a\u0000b' }, 'content'],
    ['a NUL in a JSON value', { content: { k: 'a\u0000b' } }, 'content.k'],
    ['a NUL in a JSON key', { content: { 'a\u0000': 'b' } }, 'content.a\u0000'],
    ['a lone surrogate in text content', { content: 'lone \ud800 surrogate' }, 'content'],
    ['a lone surrogate in a nested JSON value', { content: { x: ['ok', 'lone \udc00'] } }, 'content.x.1'],
    ['a NUL in a tag', { content: 'tagged', tags: ['ok', 'a\u0000'] }, 'tags.1'],
    ['a NUL in ticket_id', { content: 'ticket', ticket_id: 'a\u0000' }, 'ticket_id'],
    ['a NUL in job_id', { content: 'job', job_id: '\u0000' }, 'job_id'],
  ];
  for (const [name, fields, field] of unstorable) {
    it(`memory create with ${name} → 400 naming ${JSON.stringify(field)}, nothing written, /health still ok`, async () => {
      await expectRefused('POST', '/api/v1/memory', JSON.stringify({ project_id: PROJECT, type: 'insight', ...fields }), field);
      await expectHealthy();
    });
  }

  // Was a 500 (PostgreSQL refused the NUL in the text[] parameter).
  it('GET /api/v1/memory/:project_id?tag=a%00b → 400', async () => {
    await expectRefused('GET', `/api/v1/memory/${PROJECT}?tag=a%00b`, undefined, 'tag');
  });

  // Was a 500 (PostgreSQL refused the NUL in the starts_with parameter).
  it('search with a NUL in filters.path_prefix → 400', async () => {
    await expectRefused('POST', '/api/v1/search', JSON.stringify({ project_id: PROJECT, query: 'scheduler', filters: { path_prefix: 'src/\u0000' } }), 'filters.path_prefix');
  });

  // Were stalls of the whole service (picomatch's regular expressions backtracking): 21 s for the
  // first against a 60-character path, minutes for the second.
  const stalling: Array<[string, string]> = [
    ['*a*a*a*a*a*a*a*ab', 'a'.repeat(200)],
    [`${'{a,aa}'.repeat(30)}b`, 'a'.repeat(60)],
    ['*a*/*a*/x', `${'a'.repeat(2000)}/${'a'.repeat(2000)}/y`],
    ['**/a/**/a/**/b', `${'a/'.repeat(2040)}c`],
    // Braces are expanded into globs of their own, each held to the wildcard limits.
    ['{*a*a,b}*a*a*b', 'a'.repeat(200)],
    ['{a,b}{c,d}{e,f}', 'ace'],
  ];
  for (const [glob, file] of stalling) {
    it(`the glob ${JSON.stringify(glob.slice(0, 40))} → 400 naming paths.0, answered at once`, async () => {
      await expectRefused('POST', '/api/v1/index/files', JSON.stringify({ project_id: 'globs', files: [{ path: file, content: 'x' }], paths: [glob] }), 'paths.0');
    });
  }

  it('ordinary globs still select files: **/test/**/*.ts, packages/*/src/**/*.ts, *.test.*, docs/**', async () => {
    const files = ['a/test/b/c.ts', 'a/test/c.py', 'packages/x/src/y/z.ts', 'packages/x/lib/z.ts', 'u.test.js', 'docs/guide/intro.md', 'src/main.ts'].map((path) => ({ path, content: `// ${path}\nexport const x = 1;\n` }));
    const reply = await sendJson('POST', '/api/v1/index/files', { project_id: 'ordinary-globs', files, paths: ['**/test/**/*.ts', 'packages/*/src/**/*.ts', '*.test.*', 'docs/**'] });
    expect(reply.status, reply.text).toBe(200);
    expect(JSON.parse(reply.text).indexed_files).toBe(4);
    expect((await send('DELETE', '/api/v1/index/ordinary-globs')).status).toBe(200);
  });

  it('braces select what each alternative would: **/*.{ts,tsx}, src/{api,cli}/*.ts', async () => {
    const files = ['a/b.ts', 'a/c.tsx', 'a/d.js', 'src/api/x.ts', 'src/cli/y.ts', 'src/web/z.ts', 'lit/{x,y}.ts', 'lit/x.ts'].map((path) => ({ path, content: `// ${path}\nexport const x = 1;\n` }));
    // An escaped brace is a literal one: lit/\{x,y\}.ts names the file "lit/{x,y}.ts" only.
    const reply = await sendJson('POST', '/api/v1/index/files', { project_id: 'brace-globs', files, paths: ['a/*.{ts,tsx}', 'src/{api,cli}/*.ts', 'lit/\\{x,y\\}.ts'] });
    expect(reply.status, reply.text).toBe(200);
    expect(JSON.parse(reply.text).indexed_files).toBe(5);
    expect((await send('DELETE', '/api/v1/index/brace-globs')).status).toBe(200);
  });

  it('a negated brace glob excludes every alternative: !**/*.{md,txt}', async () => {
    const files = ['a.md', 'docs/b.txt', 'src/c.ts'].map((path) => ({ path, content: `// ${path}\nexport const x = 1;\n` }));
    const reply = await sendJson('POST', '/api/v1/index/files', { project_id: 'negated-globs', files, paths: ['!**/*.{md,txt}'] });
    expect(reply.status, reply.text).toBe(200);
    expect(JSON.parse(reply.text).indexed_files).toBe(1);
    expect((await send('DELETE', '/api/v1/index/negated-globs')).status).toBe(200);
  });

  it('valid odd content is stored exactly: empty and dotted keys, unicode, 1e308, empty containers', async () => {
    const content = { '': 'empty key', 'a.b': 'dotted', 'ключ': '🔑', big: 1e308, tiny: 5e-324, none: null, list: [], obj: {}, mixed: [1, 'two', [3], { four: 4 }] };
    const created = await sendJson('POST', '/api/v1/memory', { project_id: PROJECT, type: 'insight', content, tags: ['x', 'x', 'y'] });
    expect(created.status, created.text).toBe(201);
    const memory = JSON.parse(created.text);
    expect(memory.content).toEqual(content);
    expect([...memory.tags].sort()).toEqual(['x', 'y']);
    expect((await send('DELETE', `/api/v1/memory/${memory.id}`)).status).toBe(200);
  });
});
