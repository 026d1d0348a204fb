// The built `autobuild jobs ...` CLI as a child process against a real orchestrator on a real port.
// Needs dist/ built (`npm test` builds before vitest).
import { execFileSync, spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { cliEnv, ROOT, runCli } from '../support/cli.js';
import { CLI } from '../support/processes.js';
import { createTestRepo, gitIn, tempDir } from '../support/repo.js';


const cli = (args: string[], options: { env?: Record<string, string>; cwd?: string } = {}) => runCli(args, { ...options, timeoutMs: 30_000 });

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

describe('autobuild jobs (no token)', () => {
  let t: TestOrchestrator;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startTestOrchestrator();
    env = { AUTOBUILD_URL: t.url };
  });
  afterAll(async () => t?.stop());

  it('submits a command job with --repo relative to the cwd, and shows it succeeded with its work on the branch', async () => {
    const repo = createTestRepo();
    const submitted = await cli(
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'write a file', '--repo', path.basename(repo), '--priority', 'high', '--json', '--', 'sh', '-c', 'echo hello > out.txt; echo "agent says hi"'],
      { env, cwd: path.dirname(repo) },
    );
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    const job = JSON.parse(submitted.stdout);
    expect(job.id).toMatch(UUID);
    expect(job.repo).toBe(repo);
    expect(job.priority).toBe('high');
    expect(job.agent).toEqual({ type: 'command', command: ['sh', '-c', 'echo hello > out.txt; echo "agent says hi"'] });

    await waitForJob(t.url, job.id, isDone);
    const shown = await cli(['jobs', 'show', job.id, '--json'], { env });
    expect(shown.code).toBe(0);
    const done = JSON.parse(shown.stdout);
    expect(done.status).toBe('succeeded');
    expect(done.result.files_changed).toEqual(['out.txt']);
    expect(gitIn(repo, 'show', `${done.branch}:out.txt`)).toBe('hello');

    const human = await cli(['jobs', 'show', job.id], { env });
    expect(human.code).toBe(0);
    expect(human.stdout.split('\n')[0]).toMatch(new RegExp(`^id\\s+${job.id}$`));
    expect(human.stdout).toMatch(/status\s+succeeded/);
    expect(human.stdout).toMatch(/files changed\s+out\.txt/);

    const logs = await cli(['jobs', 'logs', job.id], { env });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('agent says hi\n');

    const list = await cli(['jobs', 'list', '--url', t.url], { env: {} });
    expect(list.code).toBe(0);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PRIORITY\s+PROJECT\s+TITLE\s+CREATED$/);
    const row = lines.find((line) => line.startsWith(job.id));
    expect(row).toMatch(/succeeded\s+high\s+demo\s+write a file/);

    const filtered = await cli(['jobs', 'list', '--status', 'failed', '--project', 'demo', '--json'], { env });
    expect(JSON.parse(filtered.stdout)).toEqual({ jobs: [], next_cursor: null });
  });

  it('prints a submitted job for humans with its id first', async () => {
    const repo = createTestRepo();
    const submitted = await cli(['jobs', 'submit', '--project', 'demo', '--prompt', 'say hi', '--repo', repo, '--', 'echo', 'hi'], { env });
    expect(submitted.code).toBe(0);
    const first = submitted.stdout.split('\n')[0] ?? '';
    expect(first).toMatch(new RegExp(`^id\\s+${UUID.source}$`));
    const id = UUID.exec(first)?.[0] ?? '';
    await waitForJob(t.url, id, isDone);
  });

  it('follows a running job\'s log live until the job ends', async () => {
    const repo = createTestRepo();
    // The agent prints a line, then waits for a gate the test opens only once the CLI has printed
    // that line: the second line can exist only if the first was streamed live.
    const gate = path.join(tempDir('autobuild-gate-'), 'open');
    const script = 'echo first line; i=0; while [ ! -e "$1" ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done; sleep 1; echo second line';
    const submitted = await cli(['jobs', 'submit', '--project', 'demo', '--prompt', 'slow', '--repo', repo, '--json', '--', 'sh', '-c', script, 'agent', gate], { env });
    const id = JSON.parse(submitted.stdout).id as string;

    const child = spawn(process.execPath, [CLI, 'jobs', 'logs', id, '--follow'], { cwd: ROOT, env: cliEnv(env) });
    let stdout = '';
    let stderr = '';
    let firstAt = 0;
    let secondAt = 0;
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
      if (!firstAt && stdout.includes('first line\n')) {
        firstAt = Date.now();
        writeFileSync(gate, '');
      }
      if (!secondAt && stdout.includes('second line\n')) secondAt = Date.now();
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));

    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain('first line\nsecond line\n');
    expect(firstAt).toBeGreaterThan(0);
    expect(secondAt - firstAt).toBeGreaterThanOrEqual(900);
    // It ran until the job ended.
    const job = (await api(t.url, 'GET', `/api/v1/jobs/${id}`)).body;
    expect(job.status).toBe('succeeded');
    rmSync(path.dirname(gate), { recursive: true, force: true });
  });

  it('continues a finished job with follow-up on the same branch, and shows its changes as a patch, --stat and --json', async () => {
    const repo = createTestRepo({ 'README.md': '# test repo\n', 'old.txt': 'old\n' });
    // Each run appends its prompt to notes.txt (the follow-up's prompt is its own) and ends with a
    // result line, as Claude Code does; the first also edits the README and removes old.txt.
    const script = 'echo "$AUTOBUILD_PROMPT" >> notes.txt; if [ -e old.txt ]; then rm old.txt; echo more >> README.md; fi; echo "working on it"; echo \'{"type":"result","result":"wrote the notes"}\'';
    const submitted = await cli(['jobs', 'submit', '--project', 'demo', '--prompt', 'first note', '--repo', repo, '--max-cost', '0.25', '--json', '--', 'sh', '-c', script], { env });
    expect(submitted.stderr).toBe('');
    const first = JSON.parse(submitted.stdout);
    expect(first.max_cost_usd).toBe(0.25);
    const done = await waitForJob(t.url, first.id, isDone);
    expect(done.status).toBe('succeeded');

    // The readable log: the agent's lines and its result, never the raw JSON line.
    const logs = await cli(['jobs', 'logs', first.id], { env });
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('working on it');
    expect(logs.stdout).toContain('wrote the notes');
    expect(logs.stdout).not.toContain('{"type":"result"');

    const shown = await cli(['jobs', 'show', first.id], { env });
    expect(shown.stdout).toMatch(/^max cost\s+\$0\.25$/m);
    expect(shown.stdout).toMatch(/^summary\s+wrote the notes$/m);
    expect(shown.stdout).not.toMatch(/^parent job/m);
    // A command agent reports no usage, and asks for no permissions.
    expect(shown.stdout).not.toMatch(/^(tokens|cost|permission denials)\s/m);

    // The unified diff as is: it applies to the base branch.
    const diff = await cli(['jobs', 'diff', first.id], { env });
    expect(diff.code).toBe(0);
    expect(diff.stderr).toBe('');
    expect(diff.stdout).toContain('diff --git a/notes.txt b/notes.txt');
    expect(diff.stdout).toContain('+first note\n');
    expect(diff.stdout).toContain('+more\n');
    expect(diff.stdout).toContain('deleted file mode');
    expect(diff.stdout.trimEnd()).toBe(((await api(t.url, 'GET', `/api/v1/jobs/${first.id}/diff`)).body as string).trimEnd());
    expect(diff.stdout.endsWith('\n')).toBe(true);
    execFileSync('git', ['apply', '--check'], { cwd: repo, input: diff.stdout });

    const stat = await cli(['jobs', 'diff', first.id, '--stat'], { env });
    expect(stat.code).toBe(0);
    const statLines = stat.stdout.trimEnd().split('\n');
    expect(statLines[0]).toMatch(/^PATH\s+STATUS\s+\+\s+-$/);
    expect(statLines).toContainEqual(expect.stringMatching(/^README\.md\s+modified\s+\+1\s+-0$/));
    expect(statLines).toContainEqual(expect.stringMatching(/^notes\.txt\s+added\s+\+1\s+-0$/));
    expect(statLines).toContainEqual(expect.stringMatching(/^old\.txt\s+deleted\s+\+0\s+-1$/));
    expect(statLines.at(-1)).toBe('3 files changed, +2 -1');

    const asJson = await cli(['jobs', 'diff', first.id, '--json'], { env });
    const files = JSON.parse(asJson.stdout).files as Array<{ path: string; status: string; insertions: number; deletions: number; patch: string }>;
    expect(files.map((f) => [f.path, f.status, f.insertions, f.deletions])).toEqual([
      ['README.md', 'modified', 1, 0],
      ['notes.txt', 'added', 1, 0],
      ['old.txt', 'deleted', 0, 1],
    ]);
    expect(files.find((f) => f.path === 'notes.txt')?.patch).toContain('+first note');

    // The follow-up: printed like a submitted job (id first), in the same thread, on the same branch.
    const followed = await cli(['jobs', 'follow-up', first.id, '--prompt', 'second note', '--priority', 'high'], { env });
    expect(followed.stderr).toBe('');
    expect(followed.code).toBe(0);
    const head = followed.stdout.split('\n')[0] ?? '';
    expect(head).toMatch(new RegExp(`^id\\s+${UUID.source}$`));
    const second = UUID.exec(head)?.[0] ?? '';
    expect(second).not.toBe(first.id);
    expect(followed.stdout).toMatch(new RegExp(`^parent job\\s+${first.id}$`, 'm'));
    expect(followed.stdout).toMatch(new RegExp(`^branch\\s+${first.branch}$`, 'm'));
    expect(followed.stdout).toMatch(/^priority\s+high$/m);

    const secondDone = await waitForJob(t.url, second, isDone);
    expect(secondDone).toMatchObject({ status: 'succeeded', parent_job_id: first.id, branch: first.branch });
    // Its commit landed on the same branch, after the first job's.
    expect(gitIn(repo, 'show', `${first.branch}:notes.txt`)).toBe('first note\nsecond note');
    expect(gitIn(repo, 'rev-list', '--count', `main..${first.branch}`)).toBe('2');

    const asJsonJob = await cli(['jobs', 'show', second, '--json'], { env });
    expect(JSON.parse(asJsonJob.stdout)).toMatchObject({ id: second, parent_job_id: first.id, max_cost_usd: 0.25 });
    const diffAfter = await cli(['jobs', 'diff', second], { env });
    expect(diffAfter.stdout).toContain('+second note\n');

    // A pull request needs a project with github: a non-zero exit with the API's reason.
    const pr = await cli(['jobs', 'pr', first.id], { env });
    expect(pr.code).not.toBe(0);
    expect(pr.stdout).toBe('');
    expect(pr.stderr).toMatch(/^autobuild: project \S+ has no github \{owner, repo\}.* \[unprocessable, HTTP 422\]\n$/);
  });

  it('cancels a queued job and a running one; a finished job cannot be cancelled', async () => {
    const repo = createTestRepo();
    expect((await api(t.url, 'POST', '/api/v1/projects', { id: 'one-at-a-time', repo, max_parallel: 1 })).status).toBe(201);
    const submit = async () => {
      const r = await cli(['jobs', 'submit', '--project', 'one-at-a-time', '--prompt', 'wait', '--json', '--', 'sleep', '30'], { env });
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout).id as string;
    };
    const running = await submit();
    await waitForJob(t.url, running, (job) => job.status === 'running');
    const queued = await submit();
    expect((await api(t.url, 'GET', `/api/v1/jobs/${queued}`)).body.status).toBe('queued');

    // A queued job has no branch yet: nothing to diff, said plainly.
    for (const args of [['jobs', 'diff', queued], ['jobs', 'diff', queued, '--stat'], ['jobs', 'diff', queued, '--json']]) {
      const noBranch = await cli(args, { env });
      expect(noBranch.code, args.join(' ')).not.toBe(0);
      expect(noBranch.stdout).toBe('');
      expect(noBranch.stderr).toMatch(new RegExp(`^autobuild: job ${queued} has no changes to show: the branch does not exist yet \\(branch \\S+ does not exist in .* yet\\) \\[branch_not_found, HTTP 404\\]\n$`));
    }
    // A running job cannot be followed up yet.
    const tooEarly = await cli(['jobs', 'follow-up', running, '--prompt', 'more'], { env });
    expect(tooEarly.code).not.toBe(0);
    expect(tooEarly.stdout).toBe('');
    expect(tooEarly.stderr).toBe(`autobuild: job ${running} is running; a follow-up can start once it has finished [state_conflict, HTTP 409]\n`);

    const cancelQueued = await cli(['jobs', 'cancel', queued, '--json'], { env });
    expect(cancelQueued.code).toBe(0);
    expect(JSON.parse(cancelQueued.stdout).status).toBe('cancelled');

    const cancelRunning = await cli(['jobs', 'cancel', running], { env });
    expect(cancelRunning.code).toBe(0);
    expect(cancelRunning.stdout.split('\n')[0]).toContain(running);
    expect(cancelRunning.stdout).toMatch(/status\s+cancelled/);

    const again = await cli(['jobs', 'cancel', running], { env });
    expect(again.code).not.toBe(0);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain(`autobuild: job ${running} already finished (cancelled)`);
    expect(again.stderr).toContain('job_finished');
  });

  it('exits non-zero with the API message when a request fails', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const missing = await cli(['jobs', 'show', unknown], { env });
    expect(missing.code).not.toBe(0);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toContain(`autobuild: no job with id ${unknown}`);
    expect(missing.stderr).toContain('job_not_found');
    expect(missing.stderr).toContain('404');

    const notUuid = await cli(['jobs', 'logs', 'not-a-uuid'], { env });
    expect(notUuid.code).not.toBe(0);
    expect(notUuid.stderr).toMatch(/^autobuild: .*\[validation_failed, HTTP 400\]/);

    const noRepo = await cli(['jobs', 'submit', '--project', 'nowhere', '--prompt', 'x', '--', 'true'], { env });
    expect(noRepo.code).not.toBe(0);
    expect(noRepo.stderr).toContain('repo: is required unless the project is registered');

    for (const args of [['jobs', 'follow-up', unknown, '--prompt', 'more'], ['jobs', 'diff', unknown], ['jobs', 'diff', unknown, '--stat'], ['jobs', 'pr', unknown]]) {
      const result = await cli(args, { env });
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stdout).toBe('');
      // pr: the endpoint may not exist on this orchestrator yet; then it says so instead of "no job".
      expect(result.stderr, args.join(' ')).toMatch(
        args[1] === 'pr' ? /^autobuild: no job with id .*job_not_found, HTTP 404/ : new RegExp(`^autobuild: no job with id ${unknown} \\[job_not_found, HTTP 404\\]`),
      );
    }

    const unreachable = await cli(['jobs', 'list', '--url', 'http://127.0.0.1:1'], { env });
    expect(unreachable.code).not.toBe(0);
    expect(unreachable.stderr).toContain('could not reach the orchestrator at http://127.0.0.1:1');
  });

  it('rejects invalid flags before sending anything', async () => {
    const before = (await api(t.url, 'GET', '/api/v1/jobs')).body.jobs.length;
    const repo = createTestRepo();
    const cases = [
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'x', '--repo', repo, '--priority', 'urgent', '--', 'true'],
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'x', '--repo', repo, '--timeout', 'soon', '--', 'true'],
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'fix', 'the', 'bug', '--repo', repo],
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'x', '--repo', repo, '--agent', 'command'],
      ['jobs', 'submit', '--prompt', 'x', '--repo', repo, '--', 'true'],
      ['jobs', 'list', '--status', 'sleeping'],
      ['jobs', 'list', '--bogus'],
      ['jobs', 'follow-up', '00000000-0000-4000-8000-000000000000'],
      ['jobs', 'follow-up', '00000000-0000-4000-8000-000000000000', '--prompt', 'x', '--priority', 'asap'],
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'x', '--repo', repo, '--max-cost', 'lots', '--', 'true'],
      ['jobs', 'submit', '--project', 'demo', '--prompt', 'x', '--repo', repo, '--max-cost', '-1', '--', 'true'],
    ];
    for (const args of cases) {
      const result = await cli(args, { env });
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(/error: /);
    }
    const priority = await cli(cases[0]!, { env });
    expect(priority.stderr).toContain("argument 'urgent' is invalid");
    expect((await api(t.url, 'GET', '/api/v1/jobs')).body.jobs.length).toBe(before);
  });

  it('shows the queue', async () => {
    const queue = await cli(['queue', '--json'], { env });
    expect(queue.code).toBe(0);
    expect(JSON.parse(queue.stdout)).toMatchObject({ max_parallel: 12, queued_jobs: [] });
    const human = await cli(['queue'], { env });
    expect(human.stdout).toMatch(/^running \d+ of 12, queued 0/);
  });
});

describe('autobuild jobs (with a token)', () => {
  const TOKEN = 'secret-token';
  let t: TestOrchestrator;
  beforeAll(async () => {
    t = await startTestOrchestrator({ env: { AUTOBUILD_API_TOKEN: TOKEN } });
  });
  afterAll(async () => t?.stop());

  it('fails without the token with the 401 message, works with --token or the environment, and never prints it', async () => {
    const outputs: string[] = [];
    const without = await cli(['jobs', 'list', '--url', t.url]);
    outputs.push(without.stdout, without.stderr);
    expect(without.code).not.toBe(0);
    expect(without.stderr).toContain('autobuild: a valid "Authorization: Bearer <token>" header is required');
    expect(without.stderr).toContain('HTTP 401');

    const wrong = await cli(['jobs', 'list', '--url', t.url, '--token', 'wrong-token']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('HTTP 401');
    expect(wrong.stdout + wrong.stderr).not.toContain('wrong-token');

    const repo = createTestRepo();
    const submitted = await cli(['jobs', 'submit', '--url', t.url, '--token', TOKEN, '--project', 'demo', '--prompt', 'p', '--repo', repo, '--', 'echo', 'ok']);
    outputs.push(submitted.stdout, submitted.stderr);
    expect(submitted.code).toBe(0);
    const id = UUID.exec(submitted.stdout)?.[0] ?? '';
    await waitForJob(t.url, id, isDone, 30_000, { authorization: `Bearer ${TOKEN}` });

    const withFlag = await cli(['jobs', 'list', '--url', t.url, '--token', TOKEN]);
    outputs.push(withFlag.stdout, withFlag.stderr);
    expect(withFlag.code).toBe(0);
    expect(withFlag.stdout).toContain(id);

    const withEnv = await cli(['jobs', 'show', id, '--json'], { env: { AUTOBUILD_URL: t.url, AUTOBUILD_API_TOKEN: TOKEN } });
    outputs.push(withEnv.stdout, withEnv.stderr);
    expect(withEnv.code).toBe(0);
    expect(JSON.parse(withEnv.stdout).status).toBe('succeeded');

    const logs = await cli(['jobs', 'logs', id, '--follow', '--token', TOKEN], { env: { AUTOBUILD_URL: t.url } });
    outputs.push(logs.stdout, logs.stderr);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toContain('ok\n');

    for (const output of outputs) expect(output).not.toContain(TOKEN);
  });
});
