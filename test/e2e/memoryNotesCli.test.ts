// The built `autobuild memory add|list|search|delete` CLI as a child process against a real memory
// service on a real port (PGlite, offline hash embedder), and `autobuild memory` alone still
// starting the service as a process of its own. Needs dist/ built (`npm test` builds first).
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestMemory, type TestMemory } from '../memory/memoryKit.js';
import { api } from '../support/orchestrator.js';
import { cliEnv, ROOT, runCli, type CliResult } from '../support/cli.js';
import { CLI, freePort } from '../support/processes.js';
import { tempDir } from '../support/repo.js';

let t: TestMemory;
let env: Record<string, string>;
const cli = (args: string[], extra: Record<string, string> = {}) => runCli(['memory', ...args], { env: { ...env, ...extra } });

/** `autobuild ARGS` with `input` on its stdin. */
function cliWithInput(args: string[], input: string): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: cliEnv(env), timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    child.stdin!.end(input);
  });
}

/** The `name  value` lines of a field list. */
function fieldsOf(stdout: string): Record<string, string> {
  return Object.fromEntries(stdout.trimEnd().split('\n').map((line) => [line.split(/\s{2,}/)[0]!, line.split(/\s{2,}/).slice(1).join('  ')]));
}

/** The first column (after an optional SCORE) of a table's rows: the memory ids, in order. */
function idsOf(stdout: string): string[] {
  return stdout
    .split('\n')
    .slice(1)
    .map((line) => line.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/)?.[0])
    .filter((id): id is string => id !== undefined);
}

beforeAll(async () => {
  t = await startTestMemory();
  env = { MEMORY_SERVICE_URL: t.url };
});
afterAll(async () => t?.stop());
beforeEach(async () => {
  await t.db.query('truncate memory.memories');
});

describe('autobuild memory add', () => {
  it('stores a memory with its type, tags, job and ticket, says created, and merges a paraphrase (same id)', async () => {
    const first = await cli(['add', 'Use pnpm instead of npm for installing dependencies in this repo', '--project', 'web', '--tag', 'tooling', '--tag', 'setup', '--job', 'job-7', '--ticket', 'T-12']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const created = fieldsOf(first.stdout);
    expect(first.stdout.split('\n')[0]).toMatch(/^id\s+[0-9a-f-]{36}$/);
    expect(created).toMatchObject({ outcome: 'created', project: 'web', type: 'insight', tags: 'tooling, setup' });
    const stored = await api(t.url, 'GET', '/api/v1/memory/web');
    expect(stored.body.memories).toHaveLength(1);
    expect(stored.body.memories[0]).toMatchObject({ id: created.id, type: 'insight', tags: ['tooling', 'setup'], job_id: 'job-7', ticket_id: 'T-12' });

    // Words are joined, as a shell user would expect.
    const again = await cli(['add', 'In', 'this', 'repo,', 'install', 'dependencies', 'with', 'pnpm', 'rather', 'than', 'npm', '--project', 'web']);
    expect(again.code).toBe(0);
    expect(fieldsOf(again.stdout)).toMatchObject({ id: created.id, outcome: 'merged into an existing memory (seen 2 times)' });

    const machine = await cli(['add', 'Use pnpm instead of npm for installing dependencies in this repo', '--project', 'web', '--json']);
    expect(JSON.parse(machine.stdout)).toMatchObject({ id: created.id, outcome: 'merged', seen_count: 3, supersedes: [] });
    expect((await api(t.url, 'GET', '/api/v1/memory/web')).body.memories).toHaveLength(1);
  });

  it('stores JSON content and text from stdin, and names what a contradiction superseded', async () => {
    const old = JSON.parse((await cli(['add', '--project', 'web', '--type', 'pattern', '--json-content', '{"setting":"node_version","value":"18"}', '--json'])).stdout);
    expect(old).toMatchObject({ outcome: 'created', content: { setting: 'node_version', value: '18' } });
    const now = await cli(['add', '--project', 'web', '--type', 'pattern', '--json-content', '{"setting":"node_version","value":"20"}']);
    expect(now.code).toBe(0);
    expect(fieldsOf(now.stdout)).toMatchObject({ outcome: 'created', supersedes: old.id, type: 'pattern' });

    const piped = await cliWithInput(['memory', 'add', '-', '--project', 'web', '--type', 'decision', '--json'], 'Releases are cut from main on Tuesdays\n');
    expect(piped.code).toBe(0);
    expect(JSON.parse(piped.stdout)).toMatchObject({ type: 'decision', content: 'Releases are cut from main on Tuesdays' });
  });

  it('refuses bad input with the API\'s message or a plain sentence, exiting non-zero and storing nothing', async () => {
    const badType = await cli(['add', 'x', '--project', 'web', '--type', 'has space']);
    expect(badType.code).toBe(1);
    expect(badType.stdout).toBe('');
    expect(badType.stderr).toMatch(/^autobuild: type: .*\[validation_failed, HTTP 400\]\n$/);
    const badProject = await cli(['add', 'x', '--project', 'a/b']);
    expect(badProject.code).toBe(1);
    expect(badProject.stderr).toMatch(/project_id.*\[validation_failed, HTTP 400\]/);

    const nothing = await cli(['add', '--project', 'web']);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toBe('autobuild: give the memory as text (or - to read it from stdin) or as --json-content\n');
    const both = await cli(['add', 'text', '--project', 'web', '--json-content', '{"a":1}']);
    expect(both.stderr).toContain('not both');
    const notObject = await cli(['add', '--project', 'web', '--json-content', '[1,2]']);
    expect(notObject.code).toBe(1);
    expect(notObject.stderr).toContain('--json-content must be a JSON object');
    const notJson = await cli(['add', '--project', 'web', '--json-content', '{oops']);
    expect(notJson.stderr).toContain('--json-content is not JSON');
    const noProject = await cli(['add', 'x']);
    expect(noProject.code).toBe(1);
    expect(noProject.stderr).toContain("required option '--project <id>' not specified");
    expect((await api(t.url, 'GET', '/api/v1/memory/web')).body.memories).toEqual([]);

    const unreachable = await cli(['add', 'x', '--project', 'web', '--memory-url', 'http://127.0.0.1:1']);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('could not reach the memory service at http://127.0.0.1:1');
  });
});

describe('autobuild memory list / search / delete', () => {
  async function add(content: string, args: string[] = []): Promise<string> {
    const result = await cli(['add', content, '--project', 'ops', '--json', ...args]);
    expect(result.code, result.stderr).toBe(0);
    return (JSON.parse(result.stdout) as { id: string }).id;
  }

  it('lists newest first, filtered by type and tag, limited, and following the cursor past one page', async () => {
    const a = await add('Database migrations must be applied before starting the API server', ['--tag', 'deploy']);
    const b = await add('The websocket reconnect test is flaky on CI and times out', ['--type', 'execution_failure']);
    const c = await add('Nightly database backups are written to the S3 bucket', ['--tag', 'deploy', '--type', 'decision']);

    const all = await cli(['list', '--project', 'ops']);
    expect(all.code).toBe(0);
    expect(all.stdout.split('\n')[0]).toMatch(/^ID\s+TYPE\s+SEEN\s+UPDATED\s+TAGS\s+CONTENT$/);
    expect(idsOf(all.stdout)).toEqual([c, b, a]);
    expect(all.stdout).toContain('Nightly database backups are written to the S3 bucket');
    expect(idsOf((await cli(['list', '--project', 'ops', '--tag', 'deploy'])).stdout)).toEqual([c, a]);
    expect(idsOf((await cli(['list', '--project', 'ops', '--type', 'execution_failure'])).stdout)).toEqual([b]);
    const limited = await cli(['list', '--project', 'ops', '--limit', '2']);
    expect(idsOf(limited.stdout)).toEqual([c, b]);
    expect(limited.stdout).toContain('(more memories than shown; raise --limit)');
    expect((await cli(['list', '--project', 'nobody'])).stdout).toBe('no memories\n');

    // 510 more memories (the API's page is at most 500): the CLI follows the cursor.
    await t.db.query(
      `insert into memory.memories (project_id, type, content, content_text, embedding, provider, model, dimension)
       select 'bulk', 'insight', to_jsonb('note ' || g), 'note ' || g, '[1]'::vector, 'hash', 'bulk', 1 from generate_series(1, 510) g`,
    );
    const some = JSON.parse((await cli(['list', '--project', 'bulk', '--limit', '505', '--json'])).stdout);
    expect(some.memories).toHaveLength(505);
    expect(new Set(some.memories.map((m: { id: string }) => m.id)).size).toBe(505);
    expect(some.memories[0].content).toBe('note 510');
    expect(typeof some.next_cursor).toBe('string');
    const every = JSON.parse((await cli(['list', '--project', 'bulk', '--limit', '1000', '--json'])).stdout);
    expect(every.memories).toHaveLength(510);
    expect(every.memories.at(-1).content).toBe('note 1');
    expect(every.next_cursor).toBeNull();
  });

  it('shows superseded memories only when asked', async () => {
    const old = await add('The response cache is enabled in production', ['--type', 'decision']);
    const now = await add('The response cache is disabled in production', ['--type', 'decision']);
    expect(idsOf((await cli(['list', '--project', 'ops'])).stdout)).toEqual([now]);
    const history = await cli(['list', '--project', 'ops', '--include-superseded']);
    expect(idsOf(history.stdout)).toEqual([now, old]);
    expect(history.stdout).toContain(`by ${now}`);
  });

  it('searches by meaning, best first with scores, and deletes', async () => {
    const migrations = await add('Database migrations must be applied before starting the API server');
    const flaky = await add('The websocket reconnect test is flaky on CI and times out');
    await add('Use pnpm for installing dependencies');

    const found = await cli(['search', 'flaky websocket tests timing out in CI', '--project', 'ops', '--limit', '2']);
    expect(found.code).toBe(0);
    expect(found.stdout.split('\n')[0]).toMatch(/^SCORE\s+ID\s+TYPE/);
    expect(idsOf(found.stdout)).toHaveLength(2);
    expect(idsOf(found.stdout)[0]).toBe(flaky);
    expect(found.stdout.split('\n')[1]).toMatch(/^\d\.\d{3}\s/);
    const machine = JSON.parse((await cli(['search', 'which step runs before the server starts: migrations?', '--project', 'ops', '--json'])).stdout);
    expect(machine.memories[0].id).toBe(migrations);
    const scores = machine.memories.map((m: { score: number }) => m.score);
    expect(scores).toEqual([...scores].sort((x: number, y: number) => y - x));

    const deleted = await cli(['delete', flaky]);
    expect(deleted).toMatchObject({ code: 0, stdout: `deleted ${flaky}\n` });
    expect(idsOf((await cli(['list', '--project', 'ops'])).stdout)).not.toContain(flaky);
    const again = await cli(['delete', flaky]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`autobuild: memory ${flaky} does not exist [not_found, HTTP 404]\n`);
    const badId = await cli(['delete', 'not-an-id']);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toContain('[validation_failed, HTTP 400]');
  });

  it('sends the token from --token or AUTOBUILD_API_TOKEN, and says how to give it on a 401', async () => {
    const guarded = await startTestMemory({ env: { AUTOBUILD_API_TOKEN: 'memory-secret' }, reset: false });
    try {
      const at = { MEMORY_SERVICE_URL: guarded.url };
      const refused = await cli(['list', '--project', 'ops'], at);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('[unauthorized, HTTP 401] (give the token with --token or AUTOBUILD_API_TOKEN)');
      expect((await cli(['add', 'Tokens are rotated monthly', '--project', 'ops', '--token', 'memory-secret'], at)).code).toBe(0);
      const listed = await cli(['list', '--project', 'ops'], { ...at, AUTOBUILD_API_TOKEN: 'memory-secret' });
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain('Tokens are rotated monthly');
    } finally {
      await guarded.stop();
    }
  });
});

describe('autobuild memory (no subcommand)', () => {
  it('still starts the memory service alone, which the client commands then use', async () => {
    const home = tempDir('autobuild-memory-serve-');
    const port = await freePort();
    const child = spawn(process.execPath, [CLI, 'memory'], {
      env: cliEnv({ AUTOBUILD_HOME: home, MEMORY_PORT: String(port), EMBEDDING_PROVIDER: 'hash', AUTOBUILD_LOG_LEVEL: 'warn' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      const deadline = Date.now() + 60_000;
      while (!output.includes(`AutoBuild memory service on ${url}`)) {
        if (child.exitCode !== null) throw new Error(`autobuild memory exited early (${child.exitCode}): ${output}`);
        if (Date.now() > deadline) throw new Error(`autobuild memory did not start: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect((await api(url, 'GET', '/health')).body).toMatchObject({ status: 'ok', checks: { embeddings: 'hash autobuild-hash-v1-384', memories: 'ok' } });
      // Only the memory service: no orchestrator was started beside it.
      expect(output).not.toContain('orchestrator on');
      const added = await runCli(['memory', 'add', 'The service started by `autobuild memory` stores memories', '--project', 'alone'], { env: { MEMORY_SERVICE_URL: url } });
      expect(added.code, added.stderr).toBe(0);
      expect(fieldsOf(added.stdout).outcome).toBe('created');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(home, { recursive: true, force: true });
    }
  });
});
