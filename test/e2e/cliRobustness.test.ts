// The built `autobuild` CLI as a child process, given what users get wrong and what broken
// servers do: unknown options, missing and bad values, ids and repos that do not exist, NUL bytes,
// huge arguments, a closed port, a wrong token, a server that answers garbage or never answers.
// What users rely on: a non-zero exit; a clear first line on stderr naming the problem (the API's
// message for API errors, one line only), never a stack trace, "[object Object]" or "undefined";
// the token never printed; with --json, valid JSON on stdout on success and nothing on failure.
// Real services: an orchestrator and a memory service (one PGlite) that require a token.
// Needs dist/ built (`npm test` builds first).
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMemory, type TestMemory } from '../memory/memoryKit.js';
import { sharedDb, startTestOrchestrator, type TestOrchestrator } from '../support/orchestrator.js';
import { cliEnv, ROOT, type CliResult } from '../support/cli.js';
import { CLI, freePort } from '../support/processes.js';
import { createTestRepo } from '../support/repo.js';

const TOKEN = 'robustness-secret-7f3a9c';
const WRONG_TOKEN = 'wrong-secret-token-51d2';
const NO_JOB = '00000000-0000-4000-8000-000000000000';
/** A line of a JavaScript stack trace ("    at fn (file.js:1:2)"); help text has "   at most" lines. */
const STACK_FRAME = /^\s+at .*:\d+:\d+\)?$/m;

let orchestrator: TestOrchestrator;
let memory: TestMemory;
let env: Record<string, string>;
let closedPort: number;
let repo: string;
const strays: http.Server[] = [];

/** `autobuild ARGS` with stdin given (and closed), in the environment of the real services unless overridden. */
function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv({ ...env, ...options.env }), timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(options.input ?? '');
  });
}

/** What every failure must look like; `problem` is matched against stderr's first line. */
function expectCleanFailure(result: CliResult, problem: RegExp, args: string[], options: { oneLine?: boolean } = {}): void {
  const where = `autobuild ${args.join(' ').slice(0, 200)}\nstdout: ${result.stdout.slice(0, 500)}\nstderr: ${result.stderr.slice(0, 1000)}`;
  expect(result.code, where).not.toBe(0);
  const [first = ''] = result.stderr.split('\n');
  expect(first, where).toMatch(problem);
  if (options.oneLine ?? true) expect(result.stderr.trimEnd().split('\n'), where).toHaveLength(1);
  expect(result.stderr, where).not.toMatch(STACK_FRAME);
  for (const bad of ['[object Object]', 'undefined']) expect(result.stderr, where).not.toContain(bad);
  expectNoSecrets(result, where);
  // On failure --json prints nothing on stdout (the message is on stderr), so a pipe into jq sees no half answer.
  if (args.includes('--json')) expect(result.stdout, where).toBe('');
}

function expectNoSecrets(result: CliResult, where = ''): void {
  for (const secret of [TOKEN, WRONG_TOKEN, 'hunter2']) expect(result.stdout + result.stderr, where).not.toContain(secret);
}

/** A local HTTP server that answers every request with `answer` (or never, for hang). */
async function strayServer(answer: (req: http.IncomingMessage, res: http.ServerResponse) => void): Promise<string> {
  const server = http.createServer(answer);
  strays.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  const db = await sharedDb();
  orchestrator = await startTestOrchestrator({ db, env: { AUTOBUILD_API_TOKEN: TOKEN } });
  memory = await startTestMemory({ db, env: { AUTOBUILD_API_TOKEN: TOKEN } });
  env = { AUTOBUILD_URL: orchestrator.url, MEMORY_SERVICE_URL: memory.url, AUTOBUILD_API_TOKEN: TOKEN };
  closedPort = await freePort();
  repo = createTestRepo({ 'src/app.ts': 'export function greet(name: string): string {\n  return `hello ${name}`;\n}\n' });
}, 60_000);

afterAll(async () => {
  for (const server of strays) {
    server.closeAllConnections();
    server.close();
  }
  await orchestrator?.stop();
  await memory?.stop();
});

interface Case {
  args: string[];
  problem: RegExp;
  env?: Record<string, string>;
  input?: string;
  /** Usage errors print the command's help after the message. */
  usage?: boolean;
}

async function expectCases(cases: Case[]): Promise<void> {
  const results = await Promise.all(cases.map((c) => cli(c.args, { env: c.env, input: c.input })));
  results.forEach((result, i) => {
    const c = cases[i]!;
    expectCleanFailure(result, c.problem, c.args, { oneLine: !c.usage });
  });
}

describe('mistaken arguments', () => {
  it('jobs: unknown options, missing options, values outside the enums and ranges say which and exit non-zero', async () => {
    await expectCases([
      { args: ['jobs', 'list', '--bogus'], problem: /^error: unknown option '--bogus'$/, usage: true },
      { args: ['jobs', 'list', '--limit', '-1', '--json'], problem: /^error: option '--limit <n>' argument '-1' is invalid\. must be a whole number/, usage: true },
      { args: ['jobs', 'list', '--limit', 'ten'], problem: /argument 'ten' is invalid/, usage: true },
      { args: ['jobs', 'list', '--limit', '100000'], problem: /^autobuild: limit: must be <= 500 \[validation_failed, HTTP 400\]$/ },
      { args: ['jobs', 'list', '--status', 'done', '--json'], problem: /^error: option '--status <status>' argument 'done' is invalid\. Allowed choices are queued, /, usage: true },
      { args: ['jobs', 'submit', '--prompt', 'x'], problem: /^error: required option '--project <id>' not specified$/, usage: true },
      { args: ['jobs', 'submit', '--project', 'p'], problem: /^error: required option '--prompt <text>' not specified$/, usage: true },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--priority', 'urgent'], problem: /argument 'urgent' is invalid\. Allowed choices are critical, high, normal, low/, usage: true },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--executor', 'cloud'], problem: /argument 'cloud' is invalid/, usage: true },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--timeout', '0'], problem: /'--timeout <seconds>' argument '0' is invalid/, usage: true },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--max-attempts', '1.5'], problem: /argument '1\.5' is invalid/, usage: true },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', 'rm', 'file'], problem: /^error: unexpected argument 'rm': put the agent's command after --$/, usage: true },
      { args: ['jobs', 'show'], problem: /^error: missing required argument 'id'$/, usage: true },
      { args: ['jobs', 'cancel', '--json'], problem: /^error: missing required argument 'id'$/, usage: true },
    ]);
  });

  it('jobs: bad ids, a repo that does not exist and bad project ids get the API\'s message, one line', async () => {
    await expectCases([
      { args: ['jobs', 'show', 'not-a-uuid'], problem: /^autobuild: id: must match format "uuid" \[validation_failed, HTTP 400\]$/ },
      { args: ['jobs', 'show', 'not-a-uuid', '--json'], problem: /^autobuild: id: must match format "uuid"/ },
      { args: ['jobs', 'show', '../../etc/passwd'], problem: /^autobuild: .*HTTP 4\d\d\]$/ },
      { args: ['jobs', 'show', NO_JOB, '--json'], problem: new RegExp(`^autobuild: no job with id ${NO_JOB} \\[job_not_found, HTTP 404\\]$`) },
      { args: ['jobs', 'cancel', NO_JOB, '--json'], problem: /\[job_not_found, HTTP 404\]$/ },
      { args: ['jobs', 'cancel', 'x'], problem: /^autobuild: id: must match format "uuid"/ },
      { args: ['jobs', 'logs', NO_JOB], problem: /\[job_not_found, HTTP 404\]$/ },
      { args: ['jobs', 'logs', NO_JOB, '--follow'], problem: /\[job_not_found, HTTP 404\]$/ },
      { args: ['jobs', 'logs', 'zzz', '--follow'], problem: /^autobuild: id: must match format "uuid"/ },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--repo', '/nonexistent/repo', '--json', '--', 'true'], problem: /^autobuild: repo: \/nonexistent\/repo does not exist or is not a git repository \[validation_failed, HTTP 400\]$/ },
      { args: ['jobs', 'submit', '--project', 'bad project!', '--prompt', 'x', '--repo', repo, '--', 'true'], problem: /^autobuild: project_id: must match pattern/ },
    ]);
  });

  it('index and search: a missing or non-directory DIR, missing --project, limits out of range', async () => {
    await expectCases([
      { args: ['index', '/nonexistent/dir', '--project', 'p'], problem: /^autobuild: \/nonexistent\/dir does not exist$/ },
      { args: ['index', '/nonexistent/dir', '--project', 'p', '--json'], problem: /^autobuild: \/nonexistent\/dir does not exist$/ },
      { args: ['index', `${repo}/src/app.ts`, '--project', 'p'], problem: /is not a directory$/ },
      { args: ['index', repo], problem: /^error: required option '--project <id>' not specified$/, usage: true },
      { args: ['index', '--project', 'p'], problem: /^error: missing required argument 'dir'$/, usage: true },
      { args: ['index', repo, '--project', '../escape', '--json'], problem: /^autobuild: project_id: must match pattern/ },
      { args: ['search', 'q', '--project', 'p', '--limit', '0'], problem: /argument '0' is invalid\. must be a whole number from 1 to 100/, usage: true },
      { args: ['search', 'q', '--project', 'p', '--limit', '-5', '--json'], problem: /argument '-5' is invalid/, usage: true },
      { args: ['search', 'q', '--project', 'p', '--limit', 'lots'], problem: /argument 'lots' is invalid/, usage: true },
      { args: ['search', 'q', '--project', 'p', '--limit', '101'], problem: /argument '101' is invalid/, usage: true },
      { args: ['search', '--project', 'p'], problem: /^error: missing required argument 'query'$/, usage: true },
      { args: ['search', '   ', '--project', 'p', '--json'], problem: /^autobuild: query: .*\[validation_failed, HTTP 400\]$/, usage: true },
      { args: ['search', 'q', '--project', 'p', '--unknown-flag'], problem: /^error: unknown option '--unknown-flag'$/, usage: true },
    ]);
  });

  it('memory add/list/search/delete: invalid JSON content, NUL bytes, bad types, ids and limits', async () => {
    await expectCases([
      { args: ['memory', 'add', '--project', 'p', '--json-content', '{bad'], problem: /^autobuild: --json-content is not JSON: / },
      { args: ['memory', 'add', '--project', 'p', '--json-content', '[1,2]', '--json'], problem: /^autobuild: --json-content must be a JSON object/ },
      { args: ['memory', 'add', '--project', 'p', '--json-content', 'null'], problem: /^autobuild: --json-content must be a JSON object/ },
      { args: ['memory', 'add', 'text', '--project', 'p', '--json-content', '{}'], problem: /^autobuild: give the memory as text or as --json-content, not both$/ },
      { args: ['memory', 'add', '--project', 'p', '--json-content', '{"a":"x\\u0000y"}', '--json'], problem: /^autobuild: content\.a contains a NUL character \(U\+0000\) \[validation_failed, HTTP 400\]$/ },
      { args: ['memory', 'add', '-', '--project', 'p', '--json'], input: 'before\u0000after', problem: /^autobuild: content contains a NUL character/ },
      { args: ['memory', 'add', '-', '--project', 'p'], input: '  \n', problem: /^autobuild: give the memory as text/ },
      { args: ['memory', 'add', '--project', 'p'], problem: /^autobuild: give the memory as text/ },
      { args: ['memory', 'add', 'x', '--project', 'p', '--type', '9lives'], problem: /^autobuild: type: must match pattern/ },
      { args: ['memory', 'add', 'x'], problem: /^error: required option '--project <id>' not specified$/, usage: true },
      { args: ['memory', 'list', '--project', 'p', '--limit', '0', '--json'], problem: /argument '0' is invalid/, usage: true },
      { args: ['memory', 'list', '--project', 'a b', '--json'], problem: /^autobuild: project_id: must match pattern/ },
      { args: ['memory', 'search', 'q', '--project', 'p', '--limit', '501'], problem: /argument '501' is invalid\. must be a whole number from 1 to 500/, usage: true },
      { args: ['memory', 'delete', 'nope', '--json'], problem: /^autobuild: id: must match format "uuid"/ },
      { args: ['memory', 'delete', NO_JOB], problem: /\[not_found, HTTP 404\]$/ },
      // Regression: a mistyped subcommand said "too many arguments for 'serve'".
      { args: ['memory', 'lst'], problem: /^error: unknown command 'memory lst'/, usage: true },
    ]);
  });

  it('chat and changelog: no message, bad project, a repo or ref that does not exist', async () => {
    await expectCases([
      { args: ['chat', 'hi'], problem: /^error: required option '--project <id>' not specified$/, usage: true },
      { args: ['chat', 'hi', '--project', 'x y', '--json'], problem: /^autobuild: project_id: must match pattern/ },
      // Regression: this was reported as "[validation_failed, HTTP 400]" though nothing was sent.
      { args: ['chat', '--project', 'p', '--json'], input: '', problem: /^autobuild: give a message: autobuild chat --project P "your question"$/ },
      { args: ['chat', 'hi', '--project', 'p', '--bogus'], problem: /^error: unknown option '--bogus'$/, usage: true },
      { args: ['changelog', '--repo', '/nonexistent/repo', '--json'], problem: /^autobuild: repo: \/nonexistent\/repo does not exist on the service machine \[validation_failed, HTTP 400\]$/ },
      { args: ['changelog', '--repo', repo, '--from', 'no-such-ref'], problem: /^autobuild: from: "no-such-ref" does not name a commit in the repository \[unknown_ref, HTTP 422\]$/ },
      { args: ['changelog', '--repo', repo, '--to', '--upload-pack=touch /tmp/x'], problem: /^autobuild: to: must match pattern/ },
      { args: ['changelog', '--repo', repo, '--project', 'p'], problem: /^autobuild: give --repo or --project, not both$/ },
      { args: ['changelog', '--project', 'unknown-project', '--json'], problem: /\[project_not_found, HTTP 404\]$/ },
      { args: ['changelog', '--repo'], problem: /^error: option '--repo <path>' argument missing$/, usage: true },
    ]);
  });

  it('huge arguments (100 kB) are refused with a short message, not echoed back', async () => {
    const huge = 'x'.repeat(100_000);
    const cases: Case[] = [
      { args: ['jobs', 'show', huge], problem: /^autobuild: .*HTTP 4\d\d\]$/ },
      { args: ['jobs', 'submit', '--project', huge, '--prompt', 'x', '--repo', repo, '--', 'true'], problem: /^autobuild: project_id: .*HTTP 400\]$/ },
      { args: ['search', huge, '--project', 'p', '--json'], problem: /^autobuild: query: .*HTTP 400\]$/ },
      { args: ['memory', 'list', '--project', huge], problem: /^autobuild: .*HTTP 4\d\d\]$/ },
    ];
    const results = await Promise.all(cases.map((c) => cli(c.args)));
    results.forEach((result, i) => {
      expectCleanFailure(result, cases[i]!.problem, cases[i]!.args);
      expect(result.stderr.length).toBeLessThan(2_000);
    });
  });

  it('the services\' own commands refuse unknown options and arguments before starting anything', async () => {
    await expectCases([
      { args: ['up', '--bogus'], problem: /^error: unknown option '--bogus'$/, usage: true },
      { args: ['orchestrator', 'extra'], problem: /^error: too many arguments for 'orchestrator'/, usage: true },
      { args: ['memory', 'serve', '--port', '1'], problem: /^error: unknown option '--port'$/, usage: true },
      { args: ['nosuchcommand'], problem: /^error: unknown command 'nosuchcommand'$/, usage: true },
    ]);
  });
});

describe('the token', () => {
  it('a wrong or missing token is the 401 message with the hint, and no output (even --json) shows a token', async () => {
    const wrong = { AUTOBUILD_API_TOKEN: WRONG_TOKEN };
    const none = { AUTOBUILD_API_TOKEN: '' };
    const unauthorized = /^autobuild: a valid "Authorization: Bearer <token>" header is required \[unauthorized, HTTP 401\] \(give the token with --token or AUTOBUILD_API_TOKEN\)$/;
    await expectCases([
      { args: ['jobs', 'list', '--json'], env: wrong, problem: unauthorized },
      { args: ['jobs', 'list', '--token', WRONG_TOKEN, '--json'], problem: unauthorized },
      { args: ['jobs', 'show', NO_JOB], env: none, problem: unauthorized },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--repo', repo, '--json', '--', 'true'], env: wrong, problem: unauthorized },
      { args: ['jobs', 'logs', NO_JOB, '--follow'], env: wrong, problem: unauthorized },
      { args: ['index', repo, '--project', 'p', '--json'], env: wrong, problem: unauthorized },
      { args: ['search', 'q', '--project', 'p', '--json'], env: none, problem: unauthorized },
      { args: ['memory', 'add', 'x', '--project', 'p', '--json'], env: wrong, problem: unauthorized },
      { args: ['memory', 'list', '--project', 'p'], env: wrong, problem: unauthorized },
      { args: ['memory', 'search', 'q', '--project', 'p', '--json'], env: wrong, problem: unauthorized },
      { args: ['chat', 'hi', '--project', 'p', '--json'], env: wrong, problem: unauthorized },
      { args: ['chat', 'hi', '--project', 'p'], env: wrong, problem: unauthorized },
      { args: ['changelog', '--repo', repo, '--json'], env: wrong, problem: unauthorized },
    ]);
  });

  it('a token a header cannot carry is refused by name, never quoted back (regression: fetch echoed "Bearer <token>")', async () => {
    const bad = /^autobuild: the API token contains characters an HTTP header cannot carry/;
    for (const token of [`${TOKEN}\nX-Injected: 1`, `${TOKEN}\u0001`, `${TOKEN}é`]) {
      await expectCases([
        { args: ['jobs', 'list', '--token', token, '--json'], problem: bad },
        { args: ['memory', 'list', '--project', 'p'], env: { AUTOBUILD_API_TOKEN: token }, problem: bad },
        { args: ['chat', 'hi', '--project', 'p', '--token', token], problem: bad },
        { args: ['changelog', '--repo', repo, '--json'], env: { AUTOBUILD_API_TOKEN: token }, problem: bad },
      ]);
    }
  });

  it('successful --json output is valid JSON on stdout and never contains the token', async () => {
    const calls = [
      ['jobs', 'list', '--json'],
      ['index', repo, '--project', 'robust', '--json'],
      ['memory', 'add', 'Run the linter before committing', '--project', 'robust', '--json'],
    ];
    for (const args of calls) {
      const result = await cli(args);
      expect(result.code, result.stderr).toBe(0);
      expect(() => JSON.parse(result.stdout), result.stdout).not.toThrow();
      expectNoSecrets(result);
    }
    const reads = await Promise.all([
      cli(['search', 'greet', '--project', 'robust', '--json']),
      cli(['memory', 'list', '--project', 'robust', '--json']),
      cli(['memory', 'search', 'linter', '--project', 'robust', '--json']),
      cli(['chat', 'what does greet do?', '--project', 'robust', '--json']),
      cli(['changelog', '--repo', repo, '--json']),
    ]);
    for (const result of reads) {
      expect(result.code, result.stderr).toBe(0);
      expect(() => JSON.parse(result.stdout), result.stdout).not.toThrow();
      expectNoSecrets(result);
    }
    expect(JSON.parse(reads[0]!.stdout).results[0].path).toBe('src/app.ts');
    expect(JSON.parse(reads[1]!.stdout).memories).toHaveLength(1);
  });
});

describe('unreachable and broken servers', () => {
  it('a closed port and URLs that are not http(s) name the service and the URL', async () => {
    const closed = `http://127.0.0.1:${closedPort}`;
    const refusedOrchestrator = new RegExp(`^autobuild: could not reach the orchestrator at ${closed}: .*ECONNREFUSED`);
    const refusedMemory = new RegExp(`^autobuild: could not reach the memory service at ${closed}: .*ECONNREFUSED`);
    await expectCases([
      { args: ['jobs', 'list', '--json'], env: { AUTOBUILD_URL: closed }, problem: refusedOrchestrator },
      { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--repo', repo, '--url', closed, '--', 'true'], problem: refusedOrchestrator },
      { args: ['jobs', 'logs', NO_JOB, '--follow', '--url', closed], problem: refusedOrchestrator },
      { args: ['jobs', 'cancel', NO_JOB, '--json'], env: { AUTOBUILD_URL: closed }, problem: refusedOrchestrator },
      { args: ['index', repo, '--project', 'p', '--memory-url', closed], problem: refusedMemory },
      { args: ['search', 'q', '--project', 'p', '--json'], env: { MEMORY_SERVICE_URL: closed }, problem: refusedMemory },
      { args: ['memory', 'add', 'x', '--project', 'p', '--json'], env: { MEMORY_SERVICE_URL: closed }, problem: refusedMemory },
      { args: ['memory', 'delete', NO_JOB], env: { MEMORY_SERVICE_URL: closed }, problem: refusedMemory },
      { args: ['chat', 'hi', '--project', 'p', '--json'], env: { MEMORY_SERVICE_URL: closed }, problem: refusedMemory },
      { args: ['changelog', '--repo', repo], env: { MEMORY_SERVICE_URL: closed }, problem: refusedMemory },
      { args: ['jobs', 'list', '--url', 'not a url'], problem: /^autobuild: the orchestrator URL must be an http\(s\) URL, not "not a url"$/ },
      { args: ['search', 'q', '--project', 'p', '--memory-url', 'ftp://127.0.0.1/'], problem: /^autobuild: the memory service URL must be an http\(s\) URL/ },
      { args: ['changelog', '--memory-url', 'file:///etc/passwd', '--json'], problem: /^autobuild: the memory service URL must be an http\(s\) URL/ },
    ]);
  });

  it('a password in the URL is never printed (regression: fetch quoted the whole URL in its error)', async () => {
    const withPassword = `http://admin:hunter2@127.0.0.1:${closedPort}`;
    const credentials = /Request cannot be constructed from a URL that includes credentials/;
    await expectCases([
      { args: ['jobs', 'list', '--url', withPassword], problem: credentials },
      { args: ['memory', 'list', '--project', 'p', '--memory-url', withPassword, '--json'], problem: credentials },
      { args: ['chat', 'hi', '--project', 'p', '--memory-url', withPassword], problem: credentials },
      { args: ['changelog', '--repo', repo, '--memory-url', withPassword], problem: credentials },
    ]);
  });

  it('a server that answers garbage, an empty object, null or a bare 502 is named, not a JavaScript error (regression)', async () => {
    const html = await strayServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a login page</html>'));
    const emptyObject = await strayServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
    const jsonNull = await strayServer((_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('null'));
    const badSse = await strayServer((_, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('event: delta\ndata: {not json\n\n'));
    const gateway = await strayServer((_, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>'));
    const oddError = await strayServer((_, res) => res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":7,"message":{"nested":true}}}'));
    const reset = await strayServer((req) => req.socket.destroy());
    const notOrchestrator = /^autobuild: the orchestrator at http:\/\/127\.0\.0\.1:\d+ did not answer with the API's JSON: is that the orchestrator's URL\?$/;
    const notMemory = /^autobuild: the memory service at http:\/\/127\.0\.0\.1:\d+ did not answer with the API's JSON: is that the memory service's URL\?$/;
    const cases: Case[] = [];
    for (const url of [html, emptyObject, jsonNull]) {
      const o = { AUTOBUILD_URL: url };
      const m = { MEMORY_SERVICE_URL: url };
      cases.push(
        { args: ['jobs', 'list'], env: o, problem: notOrchestrator },
        { args: ['jobs', 'list', '--json'], env: o, problem: notOrchestrator },
        { args: ['jobs', 'show', NO_JOB], env: o, problem: notOrchestrator },
        { args: ['jobs', 'submit', '--project', 'p', '--prompt', 'x', '--repo', repo, '--json', '--', 'true'], env: o, problem: notOrchestrator },
        { args: ['index', repo, '--project', 'p'], env: m, problem: notMemory },
        { args: ['search', 'q', '--project', 'p', '--json'], env: m, problem: notMemory },
        { args: ['memory', 'add', 'x', '--project', 'p'], env: m, problem: notMemory },
        { args: ['memory', 'list', '--project', 'p', '--json'], env: m, problem: notMemory },
        { args: ['chat', 'hi', '--project', 'p'], env: m, problem: notMemory },
        { args: ['chat', 'hi', '--project', 'p', '--json'], env: m, problem: notMemory },
        { args: ['changelog', '--repo', repo, '--json'], env: m, problem: notMemory },
      );
    }
    cases.push(
      { args: ['chat', 'hi', '--project', 'p'], env: { MEMORY_SERVICE_URL: badSse }, problem: notMemory },
      { args: ['jobs', 'logs', NO_JOB, '--follow'], env: { AUTOBUILD_URL: html }, problem: /did not answer with an event stream$/ },
      { args: ['jobs', 'list', '--json'], env: { AUTOBUILD_URL: gateway }, problem: /^autobuild: HTTP 502 Bad Gateway \[http_502, HTTP 502\]$/ },
      { args: ['search', 'q', '--project', 'p'], env: { MEMORY_SERVICE_URL: gateway }, problem: /^autobuild: HTTP 502 Bad Gateway/ },
      { args: ['chat', 'hi', '--project', 'p'], env: { MEMORY_SERVICE_URL: gateway }, problem: /^autobuild: HTTP 502 Bad Gateway/ },
      { args: ['changelog', '--repo', repo], env: { MEMORY_SERVICE_URL: gateway }, problem: /^autobuild: HTTP 502 Bad Gateway/ },
      { args: ['jobs', 'show', NO_JOB, '--json'], env: { AUTOBUILD_URL: oddError }, problem: /^autobuild: HTTP 400 Bad Request \[http_400, HTTP 400\]$/ },
      { args: ['memory', 'list', '--project', 'p'], env: { MEMORY_SERVICE_URL: oddError }, problem: /^autobuild: HTTP 400 Bad Request/ },
      { args: ['jobs', 'list'], env: { AUTOBUILD_URL: reset }, problem: /^autobuild: could not reach the orchestrator at .*: other side closed$/ },
      { args: ['memory', 'search', 'q', '--project', 'p', '--json'], env: { MEMORY_SERVICE_URL: reset }, problem: /^autobuild: could not reach the memory service at / },
    );
    // Two cores: a few CLI processes at a time.
    for (let start = 0; start < cases.length; start += 8) await expectCases(cases.slice(start, start + 8));
  });

  it('a server that never answers does not hold the CLI: AUTOBUILD_CLIENT_TIMEOUT_S bounds every command (regression: logs --follow had no limit)', async () => {
    const hang = await strayServer(() => undefined);
    const headersOnly = await strayServer((_, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"jobs": [');
    });
    const timeouts = { AUTOBUILD_CLIENT_TIMEOUT_S: '1' };
    const o = { ...timeouts, AUTOBUILD_URL: hang };
    const m = { ...timeouts, MEMORY_SERVICE_URL: hang };
    const orchestratorLate = /^autobuild: the orchestrator at http:\/\/127\.0\.0\.1:\d+ did not answer within 1 s$/;
    const memoryLate = /^autobuild: the memory service at http:\/\/127\.0\.0\.1:\d+ did not answer within 1 s$/;
    const started = Date.now();
    await expectCases([
      { args: ['jobs', 'list', '--json'], env: o, problem: orchestratorLate },
      { args: ['jobs', 'logs', NO_JOB, '--follow'], env: o, problem: orchestratorLate },
      { args: ['jobs', 'list'], env: { ...timeouts, AUTOBUILD_URL: headersOnly }, problem: orchestratorLate },
      { args: ['search', 'q', '--project', 'p', '--json'], env: m, problem: memoryLate },
      { args: ['memory', 'list', '--project', 'p'], env: m, problem: memoryLate },
      { args: ['chat', 'hi', '--project', 'p'], env: m, problem: memoryLate },
      { args: ['changelog', '--repo', repo, '--json'], env: m, problem: memoryLate },
      { args: ['jobs', 'list'], env: { AUTOBUILD_CLIENT_TIMEOUT_S: 'soon' }, problem: /^autobuild: AUTOBUILD_CLIENT_TIMEOUT_S must be a whole number of seconds from 1 to 86400, not "soon"$/ },
    ]);
    // Each gave up after its one second (node start-up and two busy cores on top), not after the defaults' minutes.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
