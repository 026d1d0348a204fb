// QA after the agent: the project's checks run in the worktree with real commands (npm, pytest,
// sh), failing output goes back to the agent, and the job's outcome and result say what happened.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectChecks } from '../../src/orchestrator/qa/detectChecks.js';
import { api, isDone, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo, tempDir } from '../support/repo.js';

let t: TestOrchestrator;
beforeAll(async () => {
  t = await startTestOrchestrator();
});
afterAll(async () => t.stop());

/** A repository whose `npm test` passes only when answer.txt says 42. */
const NPM_REPO = {
  'package.json': JSON.stringify({ name: 'qa-demo', version: '1.0.0', private: true, scripts: { test: 'node check.js' } }),
  'check.js': "const fs = require('fs'); const v = fs.existsSync('answer.txt') ? fs.readFileSync('answer.txt', 'utf8').trim() : ''; if (v !== '42') { console.error(`expected 42, got ${JSON.stringify(v)}`); process.exit(1); } console.log('all good');\n",
};

/** An agent that answers wrong at first and right once it is sent the checks' output. */
const LEARNING_AGENT = {
  type: 'command',
  command: ['sh', '-c', 'case "$AUTOBUILD_PROMPT" in *"checks failed"*42*) echo 42 > answer.txt;; *) echo 41 > answer.txt;; esac'],
};

async function project(id: string, repo: string, qa?: unknown) {
  const res = await api(t.url, 'POST', '/api/v1/projects', { id, repo, ...(qa === undefined ? {} : { qa }) });
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
}

async function runJob(projectId: string, agent: unknown, extra: Record<string, unknown> = {}) {
  const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: projectId, prompt: 'make the tests pass', agent, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const job = await waitForJob(t.url, res.body.id, isDone, 60_000);
  const log = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/logs`)).body as string;
  const events = (await api(t.url, 'GET', `/api/v1/jobs/${job.id}/events?limit=500`)).body.events as any[];
  return { job, log, events };
}

describe('QA after the agent', () => {
  it('detects npm test, sends its failure back, and the agent fixes it on the second round', async () => {
    const repo = createTestRepo(NPM_REPO);
    await project('npm-demo', repo);
    const { job, log, events } = await runJob('npm-demo', LEARNING_AGENT);
    expect(job.status, log).toBe('succeeded');
    expect(job.result.qa).toMatchObject({ passed: true, rounds: 2 });
    expect(job.result.qa.checks).toEqual([expect.objectContaining({ name: 'test', command: ['npm', 'test'], passed: true, exit_code: 0 })]);
    const checks = events.filter((e) => e.kind === 'qa_check');
    expect(checks.map((c) => [c.name, c.passed])).toEqual([['test', false], ['test', true]]);
    expect(checks[0].output_tail).toContain('expected 42, got "41"');
    expect(checks[0].duration_ms).toBeGreaterThan(0);
    expect(log).toContain('QA ✗ test (npm test): exit 1');
    expect(log).toContain('QA failed: test; sending the output back to the agent (try 1 of 2)');
    expect(log).toContain('QA ✓ test (npm test)');
    expect(execFileSync('git', ['show', `${job.branch}:answer.txt`], { cwd: repo, encoding: 'utf8' })).toBe('42\n');
  });

  it('fails the job after its rounds with the report, or lets it succeed with qa.passed false when not required', async () => {
    const repo = createTestRepo(NPM_REPO);
    const stubborn = { type: 'command', command: ['sh', '-c', 'echo 7 > answer.txt'] };
    await project('npm-stubborn', repo, { rounds: 1 });
    const failed = await runJob('npm-stubborn', stubborn);
    expect(failed.job.status).toBe('failed');
    expect(failed.job.error).toBe('QA failed: test after 2 round(s)');
    expect(failed.job.result.qa).toMatchObject({ passed: false, rounds: 2, checks: [{ name: 'test', passed: false, exit_code: 1 }] });
    expect(failed.job.result.qa.checks[0].output_tail).toContain('expected 42, got "7"');
    // The work is on the branch all the same.
    expect(failed.job.result.files_changed).toEqual(['answer.txt']);

    await project('npm-optional', repo, { rounds: 0, required: false });
    const optional = await runJob('npm-optional', stubborn);
    expect(optional.job.status).toBe('succeeded');
    expect(optional.job.result.qa).toMatchObject({ passed: false, rounds: 1 });
  });

  it("runs the project's configured commands instead of detecting, and none when they are []", async () => {
    const repo = createTestRepo(NPM_REPO);
    await project('configured', repo, { commands: [{ name: 'lint', command: ['sh', '-c', 'echo linted; exit 0'] }, { name: 'unit', command: ['true'] }] });
    const { job } = await runJob('configured', { type: 'command', command: ['true'] });
    expect(job.status).toBe('succeeded');
    expect(job.result.qa.checks.map((c: any) => [c.name, c.passed])).toEqual([['lint', true], ['unit', true]]);
    expect(job.result.qa.checks[0].output_tail).toContain('linted');

    await project('no-qa', repo, { commands: [] });
    const off = await runJob('no-qa', { type: 'command', command: ['true'] });
    expect(off.job.status).toBe('succeeded');
    expect(off.job.result.qa).toBeNull();
  });

  it('kills a hung check at its limit, and its process group with it', async () => {
    const repo = createTestRepo();
    const marker = path.join(tempDir('qa-hang-'), 'child-survived');
    await project('hung', repo, {
      rounds: 0,
      commands: [{ name: 'hang', command: ['sh', '-c', `(sleep 3; touch ${marker}) & sleep 60`], timeout_s: 1 }],
    });
    const started = Date.now();
    const { job } = await runJob('hung', { type: 'command', command: ['true'] });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(job.status).toBe('failed');
    expect(job.result.qa.checks[0]).toMatchObject({ name: 'hang', passed: false });
    expect(job.result.qa.checks[0].output_tail).toContain('killed after 1s');
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(execFileSync('sh', ['-c', `test -e ${marker} && echo yes || echo no`], { encoding: 'utf8' }).trim()).toBe('no');
  });

  it('a cancel during QA stops the check and cancels the job; its work stays on the branch', async () => {
    const repo = createTestRepo();
    await project('cancel-qa', repo, { commands: [{ name: 'slow', command: ['sleep', '30'] }] });
    const res = await api(t.url, 'POST', '/api/v1/jobs', { project_id: 'cancel-qa', prompt: 'x', agent: { type: 'command', command: ['sh', '-c', 'echo work > work.txt'] } });
    const deadline = Date.now() + 20_000;
    while (!((await api(t.url, 'GET', `/api/v1/jobs/${res.body.id}/logs`)).body as string).includes('QA: slow (')) {
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const started = Date.now();
    await api(t.url, 'DELETE', `/api/v1/jobs/${res.body.id}`);
    const job = await waitForJob(t.url, res.body.id, isDone, 20_000);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(job.status).toBe('cancelled');
    expect(job.result.files_changed).toEqual(['work.txt']);
  });

  it('installs dependencies first when the worktree has none, the install counted as a check', async () => {
    const repo = createTestRepo({
      'package.json': JSON.stringify({ name: 'with-dep', version: '1.0.0', private: true, scripts: { test: 'node -e "require(\'local-dep\')"' }, dependencies: { 'local-dep': 'file:./local-dep' } }),
      'local-dep/package.json': JSON.stringify({ name: 'local-dep', version: '1.0.0', main: 'index.js' }),
      'local-dep/index.js': 'module.exports = 1;\n',
    });
    await project('install', repo, { rounds: 0 });
    const { job, log } = await runJob('install', { type: 'command', command: ['true'] });
    expect(job.status, log).toBe('succeeded');
    expect(job.result.qa.checks.map((c: any) => [c.name, c.command.join(' '), c.passed])).toEqual([
      ['install', 'npm install --no-audit --no-fund', true],
      ['test', 'npm test', true],
    ]);
  });
});

describe('QA output', () => {
  it('is stored whatever it holds (a NUL, an emoji cut by the tail), and secrets never reach it', async () => {
    process.env.AUTOBUILD_QA_TEST_TOKEN = 'qa-secret-value-123456';
    process.env.ANTHROPIC_API_KEY = 'sk-ant-qa-test-key-000';
    try {
      const repo = createTestRepo();
      await project('odd-output', repo, {
        rounds: 0,
        required: false,
        commands: [
          { name: 'emoji', command: ['sh', '-c', 'printf "a\\000b"; i=0; while [ $i -lt 3000 ]; do printf "😀"; i=$((i+1)); done; echo; exit 1'] },
          { name: 'env', command: ['sh', '-c', 'echo "token=$AUTOBUILD_QA_TEST_TOKEN key=${ANTHROPIC_API_KEY:-none}"; exit 1'] },
        ],
      });
      const { job, events } = await runJob('odd-output', { type: 'command', command: ['true'] });
      expect(job.status).toBe('succeeded');
      expect(job.result.qa).toMatchObject({ passed: false, rounds: 1 });
      const [emoji, env] = job.result.qa.checks;
      expect(emoji.output_tail).not.toContain('\u0000');
      expect(emoji.output_tail).toMatch(/😀+\n?$/u);
      expect(env.output_tail).toContain('token=[REDACTED] key=none');
      expect(JSON.stringify(events)).not.toContain('qa-secret-value-123456');
    } finally {
      delete process.env.AUTOBUILD_QA_TEST_TOKEN;
      delete process.env.ANTHROPIC_API_KEY;
    }
  });
});

describe('check detection', () => {
  const repoWith = (files: Record<string, string>) => {
    const dir = tempDir('qa-detect-');
    for (const [file, content] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
      writeFileSync(path.join(dir, file), content);
    }
    return dir;
  };
  const names = (dir: string) => detectChecks(dir).map((c) => `${c.name}: ${c.command.join(' ')}`);

  it('names the package manager its lock file names, skips npm\'s placeholder test script', () => {
    const scripts = { test: 'vitest', lint: 'eslint .', typecheck: 'tsc --noEmit', build: 'tsc' };
    expect(names(repoWith({ 'package.json': JSON.stringify({ scripts, devDependencies: { x: '1' } }), 'package-lock.json': '{}' }))).toEqual([
      'install: npm ci --no-audit --no-fund',
      'typecheck: npm run typecheck',
      'lint: npm run lint',
      'test: npm test',
    ]);
    expect(names(repoWith({ 'package.json': JSON.stringify({ scripts }), 'pnpm-lock.yaml': '' }))).toEqual(['typecheck: pnpm run typecheck', 'lint: pnpm run lint', 'test: pnpm run test']);
    expect(names(repoWith({ 'package.json': JSON.stringify({ scripts: { test: 'jest' }, dependencies: { a: '1' } }), 'yarn.lock': '', 'node_modules/.keep': '' }))).toEqual(['test: yarn test']);
    expect(names(repoWith({ 'package.json': JSON.stringify({ scripts: { test: 'echo "Error: no test specified" && exit 1' } }) }))).toEqual([]);
  });

  it('finds pytest, go and cargo projects', () => {
    expect(names(repoWith({ 'pyproject.toml': '[tool.pytest.ini_options]\n' }))).toEqual(['pytest: python3 -m pytest -q']);
    expect(names(repoWith({ 'tests/test_app.py': 'def test_x(): pass\n' }))).toEqual(['pytest: python3 -m pytest -q']);
    expect(names(repoWith({ 'go.mod': 'module x\n' }))).toEqual(['go test: go test ./...']);
    expect(names(repoWith({ 'Cargo.toml': '[package]\nname = "x"\n' }))).toEqual(['cargo test: cargo test']);
    expect(names(repoWith({ 'README.md': 'nothing to check' }))).toEqual([]);
  });
});

const hasPytest = (() => {
  try {
    execFileSync('python3', ['-m', 'pytest', '--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!hasPytest)('QA with pytest (skipped where pytest is not installed)', () => {
  it('runs the detected pytest suite and sends its failure back', async () => {
    const repo = createTestRepo({ 'test_answer.py': "def test_answer():\n    assert open('answer.txt').read().strip() == '42'\n" });
    await project('pytest-demo', repo);
    const { job, events } = await runJob('pytest-demo', LEARNING_AGENT);
    expect(job.status, JSON.stringify(job.result.qa, null, 1)).toBe('succeeded');
    expect(job.result.qa).toMatchObject({ passed: true, rounds: 2, checks: [{ name: 'pytest', passed: true }] });
    expect(events.find((e) => e.kind === 'qa_check' && !e.passed).output_tail).toMatch(/1 failed/);
  });
});

/** Whether a toolchain runs here; the tests that need it say so when they skip. */
function toolchain(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: 'ignore', timeout: 20_000 });
    return true;
  } catch {
    console.warn(`skipping the ${command} QA test: \`${command} ${args.join(' ')}\` does not run on this machine`);
    return false;
  }
}

describe.skipIf(!toolchain('go', ['version']))('QA with go test (skipped where Go is not installed)', () => {
  it('runs the detected go test and sends its failure back', async () => {
    const repo = createTestRepo({
      'go.mod': 'module example.com/answer\n\ngo 1.20\n',
      'answer_test.go': 'package answer\n\nimport (\n\t"os"\n\t"strings"\n\t"testing"\n)\n\nfunc TestAnswer(t *testing.T) {\n\tb, _ := os.ReadFile("answer.txt")\n\tif strings.TrimSpace(string(b)) != "42" {\n\t\tt.Fatalf("want 42, got %q", b)\n\t}\n}\n',
    });
    await project('go-demo', repo);
    const { job } = await runJob('go-demo', LEARNING_AGENT);
    expect(job.status).toBe('succeeded');
    expect(job.result.qa).toMatchObject({ passed: true, rounds: 2, checks: [{ name: 'go test', passed: true }] });
  });
});

describe.skipIf(!toolchain('cargo', ['--version']))('QA with cargo test (skipped where Rust is not installed)', () => {
  it('runs the detected cargo test and sends its failure back', async () => {
    const repo = createTestRepo({
      'Cargo.toml': '[package]\nname = "answer"\nversion = "0.1.0"\nedition = "2021"\n\n[dependencies]\n',
      'src/lib.rs': '#[cfg(test)]\nmod tests {\n    #[test]\n    fn answer() {\n        let v = std::fs::read_to_string("answer.txt").unwrap_or_default();\n        assert_eq!(v.trim(), "42");\n    }\n}\n',
      '.gitignore': 'target/\n',
    });
    await project('cargo-demo', repo);
    const { job } = await runJob('cargo-demo', LEARNING_AGENT);
    expect(job.status, JSON.stringify(job.result?.qa)).toBe('succeeded');
    expect(job.result.qa).toMatchObject({ passed: true, rounds: 2, checks: [{ name: 'cargo test', passed: true }] });
    // cargo writes Cargo.lock; the check's build output stays out (target/ is ignored).
    expect(job.result.files_changed.sort()).toEqual(['Cargo.lock', 'answer.txt']);
  }, 120_000);
});
