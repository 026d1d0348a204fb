// The changelog on real git repositories built here: Conventional Commits grouped into a Keep a
// Changelog section, PR numbers from squash subjects and GitHub merge commits, default ranges from
// tags, and 4xx for bad input — through the memory service on a real port, and once through the
// built CLI (needs dist/ built: `npm run build`).
import type { ChangelogEntry } from '../../src/memory/changelog/entries.js';
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryOf } from '../../src/memory/changelog/entries.js';
import { tempDir } from '../support/repo.js';
import { startTestMemory, type TestMemory } from './memoryKit.js';
import { startFakeAnthropic, text } from '../fakes/anthropicServer.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/autobuild.js');

type Entry = ChangelogEntry;

interface ChangelogBody {
  changelog: string;
  entries: Entry[];
  from: string | null;
  to: string;
  version: string | null;
  date: string;
}

interface ErrorBody {
  error: { code: string; message: string; details?: Array<{ field: string; message: string }> };
}

/** A repository whose commits get increasing, fixed dates (day n of March 2024). */
class Repo {
  readonly dir = tempDir('autobuild-changelog-');
  private day = 0;

  constructor() {
    this.git('init', '-q', '-b', 'main');
    this.git('config', 'user.name', 'Test');
    this.git('config', 'user.email', 'test@example.com');
    this.git('config', 'commit.gpgsign', 'false');
    this.git('config', 'tag.gpgsign', 'false');
  }

  git(...args: string[]): string {
    const date = `2024-03-${String(Math.max(1, this.day)).padStart(2, '0')}T12:00:00+00:00`;
    return execFileSync('git', args, {
      cwd: this.dir,
      encoding: 'utf8',
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
    }).trim();
  }

  /** A commit changing one file; returns its sha. */
  commit(message: string): string {
    this.day++;
    writeFileSync(path.join(this.dir, `file-${this.day}.txt`), `${message}\n`);
    this.git('add', '-A');
    this.git('commit', '-q', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let memory: TestMemory;
let repo: Repo;
const sha: Record<string, string> = {};

beforeAll(async () => {
  memory = await startTestMemory();

  repo = new Repo();
  sha.initial = repo.commit('chore: initial commit');
  repo.git('tag', 'v0.1.0');
  sha.search = repo.commit('feat(api): add search endpoint');
  sha.empty = repo.commit('fix(cli): handle empty input');
  repo.git('tag', '-a', '-m', 'release 0.2.0', 'v0.2.0');
  sha.perf = repo.commit('perf: faster hashing');
  sha.docs = repo.commit('docs: explain config');
  sha.legacy = repo.commit('refactor(core)!: drop legacy loader');
  sha.config = repo.commit('feat(config): move the config file\n\nThe loader looks in one place now.\n\nBREAKING CHANGE: the config now lives in autobuild.yaml\nRefs #3');
  sha.dark = repo.commit('feat(web): dark mode (#42)');
  // A GitHub pull request merged with a merge commit.
  repo.git('checkout', '-q', '-b', 'topic');
  sha.badIds = repo.commit('fix(api): reject bad ids');
  sha.tweak = repo.commit('tweak the error text');
  repo.git('checkout', '-q', 'main');
  sha.parser = repo.commit('test: cover the parser');
  repo.git('merge', '-q', '--no-ff', '-m', 'Merge pull request #7 from org/topic\n\nfix(api): reject bad ids', 'topic');
  sha.merge = repo.git('rev-parse', 'HEAD');
  sha.readme = repo.commit('Update the readme');
  sha.ci = repo.commit('ci: cache dependencies');
  sha.build = repo.commit('build: bump typescript');
  sha.deps = repo.commit('chore(deps): update the lockfile');
  sha.revert = repo.commit(`Revert "perf: faster hashing"\n\nThis reverts commit ${sha.perf}.`);
  sha.wip = repo.commit('WIP: half done');
});

afterAll(async () => {
  await memory?.stop();
  repo?.remove();
});

async function generate(body: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${memory.url}/api/v1/changelog/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function changelog(body: Record<string, unknown>): Promise<ChangelogBody> {
  const result = await generate(body);
  expect(result.status, JSON.stringify(result.body)).toBe(200);
  return result.body as ChangelogBody;
}

async function failure(body: Record<string, unknown>, status: number): Promise<ErrorBody['error']> {
  const result = await generate(body);
  expect(result.status, JSON.stringify(result.body)).toBe(status);
  return (result.body as ErrorBody).error;
}

const bySha = (entries: Entry[], commit: string | undefined) => entries.find((e) => e.sha === commit);

describe('POST /api/v1/changelog/generate', () => {
  it('defaults to the latest tag..HEAD and groups breaking changes first, then by type', async () => {
    const result = await changelog({ repo: repo.dir });
    expect(result.from).toBe('v0.2.0');
    expect(result.to).toBe('HEAD');
    const shas = result.entries.map((e) => e.sha);
    // Nothing at or before the tag; the merge commit itself is not an entry.
    for (const old of [sha.initial, sha.search, sha.empty, sha.merge]) expect(shas).not.toContain(old);
    expect(shas).toHaveLength(14);

    // Both breaking forms first: the `!` header and the BREAKING CHANGE footer.
    expect(result.entries.slice(0, 2).map((e) => e.sha).sort()).toEqual([sha.legacy, sha.config].sort());
    expect(result.entries.filter((e) => e.breaking)).toHaveLength(2);
    expect(bySha(result.entries, sha.legacy)).toMatchObject({ type: 'refactor', scope: 'core', description: 'drop legacy loader', breaking: true });
    expect(bySha(result.entries, sha.legacy)?.breaking_note).toBeUndefined();
    expect(bySha(result.entries, sha.config)).toMatchObject({ type: 'feat', scope: 'config', description: 'move the config file', breaking: true, breaking_note: 'the config now lives in autobuild.yaml' });

    expect(bySha(result.entries, sha.dark)).toMatchObject({ type: 'feat', scope: 'web', description: 'dark mode', pr: 42, breaking: false });
    expect(bySha(result.entries, sha.badIds)).toMatchObject({ type: 'fix', scope: 'api', description: 'reject bad ids', pr: 7 });
    expect(bySha(result.entries, sha.tweak)).toMatchObject({ type: 'other', scope: null, description: 'tweak the error text', pr: 7 });
    expect(bySha(result.entries, sha.parser)?.pr).toBeUndefined();
    expect(bySha(result.entries, sha.perf)).toMatchObject({ type: 'perf', scope: null, description: 'faster hashing' });
    expect(bySha(result.entries, sha.revert)).toMatchObject({ type: 'revert', description: 'perf: faster hashing' });
    expect(bySha(result.entries, sha.readme)).toMatchObject({ type: 'other', description: 'Update the readme' });
    expect(bySha(result.entries, sha.wip)).toMatchObject({ type: 'other', description: 'WIP: half done' });
    expect(bySha(result.entries, sha.deps)).toMatchObject({ type: 'chore', scope: 'deps' });
    expect(result.entries.map((e) => e.sha).every((s) => /^[0-9a-f]{40}$/.test(s))).toBe(true);

    const md = result.changelog;
    expect(md.startsWith('## [Unreleased]\n')).toBe(true);
    const headings = [...md.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
    expect(headings).toEqual(['BREAKING CHANGES', 'Features', 'Bug Fixes', 'Performance', 'Reverts', 'Documentation', 'Tests', 'Build', 'CI', 'Chores', 'Other']);
    expect(md).toContain(`- **web:** dark mode (#42) (${sha.dark!.slice(0, 7)})`);
    expect(md).toContain(`- **api:** reject bad ids (#7) (${sha.badIds!.slice(0, 7)})`);
    expect(md).toContain(`- **core:** drop legacy loader (${sha.legacy!.slice(0, 7)})`);
    expect(md).toContain(`- **config:** move the config file (${sha.config!.slice(0, 7)})\n  the config now lives in autobuild.yaml`);
    expect(md).toContain(`- faster hashing (${sha.perf!.slice(0, 7)})`);
    const other = md.slice(md.indexOf('### Other'));
    expect(other).toContain('- Update the readme');
    expect(other).toContain('- tweak the error text (#7)');
    expect(other).toContain('- WIP: half done');
  });

  it('takes explicit ranges, and a tagged `to` defaults to the tag before it', async () => {
    const explicit = await changelog({ repo: repo.dir, from: 'v0.1.0', to: 'v0.2.0' });
    expect(explicit.entries.map((e) => e.sha)).toEqual([sha.search, sha.empty]);
    const tagged = await changelog({ repo: repo.dir, to: 'v0.2.0' });
    expect(tagged.from).toBe('v0.1.0');
    expect(tagged.entries.map((e) => e.sha)).toEqual([sha.search, sha.empty]);
    const bySha1 = await changelog({ repo: repo.dir, from: sha.docs, to: sha.config });
    expect(bySha1.entries.map((e) => e.sha).sort()).toEqual([sha.legacy, sha.config].sort());
  });

  it('gives a PR merge whose commits are outside the range its own entry, with its number', async () => {
    const result = await changelog({ repo: repo.dir, from: 'topic', to: sha.merge });
    expect(result.entries).toHaveLength(2);
    expect(bySha(result.entries, sha.merge)).toMatchObject({ type: 'fix', scope: 'api', description: 'reject bad ids', pr: 7 });
    expect(bySha(result.entries, sha.parser)).toMatchObject({ type: 'test' });
  });

  it('answers an empty range (from equal to or after to) with no entries', async () => {
    for (const range of [{ from: 'HEAD', to: 'HEAD' }, { from: 'HEAD', to: 'v0.2.0' }]) {
      const result = await changelog({ repo: repo.dir, ...range });
      expect(result.entries).toEqual([]);
      expect(result.changelog).toContain('No changes.');
    }
  });

  it('puts the version and the release date in the heading, and format json leaves the markdown out', async () => {
    const result = await changelog({ repo: repo.dir, from: 'v0.1.0', to: 'v0.2.0', version: '0.2.0' });
    expect(result.changelog.split('\n')[0]).toBe('## [0.2.0] - 2024-03-03');
    expect(result.changelog).toMatch(/### Features\n\n- \*\*api:\*\* add search endpoint \([0-9a-f]{7}\)\n\n### Bug Fixes\n\n- \*\*cli:\*\* handle empty input/);
    expect(result).toMatchObject({ version: '0.2.0', date: '2024-03-03' });

    const json = await changelog({ repo: repo.dir, format: 'json' });
    expect(json.changelog).toBe('');
    expect(json.entries).toHaveLength(14);
    expect(json.entries[2]).toEqual(expect.objectContaining({ type: 'feat', sha: expect.stringMatching(/^[0-9a-f]{40}$/), breaking: false }));
  });

  it('reads the whole history of a repository without tags', async () => {
    const plain = new Repo();
    try {
      const first = plain.commit('first thing');
      const second = plain.commit('feat: second thing');
      const result = await changelog({ repo: plain.dir });
      expect(result.from).toBeNull();
      expect(result.entries.map((e) => e.sha)).toEqual([second, first]);
      expect(result.entries[1]).toMatchObject({ type: 'other', description: 'first thing' });
    } finally {
      plain.remove();
    }
  });

  it('answers unknown refs with a 422 naming the field', async () => {
    const from = await failure({ repo: repo.dir, from: 'v9.9.9' }, 422);
    expect(from.code).toBe('unknown_ref');
    expect(from.details).toEqual([{ field: 'from', message: expect.stringContaining('v9.9.9') }]);
    const to = await failure({ repo: repo.dir, to: 'no-such-branch' }, 422);
    expect(to.details?.[0]?.field).toBe('to');
    // Option-looking refs never reach git.
    const dash = await failure({ repo: repo.dir, from: '--output=/tmp/x' }, 400);
    expect(dash.details?.[0]?.field).toBe('from');
  });

  it('answers paths that are not repositories, and missing or doubled sources, with a 400', async () => {
    const plainDir = tempDir('autobuild-not-a-repo-');
    mkdirSync(path.join(plainDir, 'sub'));
    try {
      const notRepo = await failure({ repo: plainDir }, 400);
      expect(notRepo.code).toBe('invalid_repo');
      expect(notRepo.details?.[0]?.field).toBe('repo');
      expect((await failure({ repo: path.join(plainDir, 'missing') }, 400)).details?.[0]?.field).toBe('repo');
      expect((await failure({ repo: 'relative/path' }, 400)).details?.[0]?.field).toBe('repo');
      expect((await failure({}, 400)).details?.[0]?.field).toBe('repo');
      expect((await failure({ repo: repo.dir, project_id: 'p1' }, 400)).message).toMatch(/not both/);
      expect((await failure({ repo: repo.dir, format: 'html' }, 400)).details?.[0]?.field).toBe('format');
    } finally {
      rmSync(plainDir, { recursive: true, force: true });
    }
  });

  it('answers project_id with 404 when unknown and 422 asking for repo when its path is not recorded', async () => {
    expect((await failure({ project_id: 'nope' }, 404)).code).toBe('project_not_found');
    const indexed = await fetch(`${memory.url}/api/v1/index/files`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ project_id: 'cl-project', files: [{ path: 'a.ts', content: 'export const a = 1;\n' }] }),
    });
    expect(indexed.status).toBe(200);
    const unrecorded = await failure({ project_id: 'cl-project' }, 422);
    expect(unrecorded.details?.[0]?.field).toBe('project_id');
    expect(unrecorded.message).toMatch(/pass repo/);
  });
});

describe('entryOf', () => {
  it('puts a summary written by the model from the entries alone on top, when a model is configured', async () => {
    const summary = 'This release drops the legacy loader and moves the config file; it adds dark mode.';
    const fake = await startFakeAnthropic(() => ({ content: [text(summary)] }));
    const withModel = await startTestMemory({ env: { ANTHROPIC_API_KEY: 'sk-test', ANTHROPIC_BASE_URL: fake.url, AUTOBUILD_LLM_MODEL: 'claude-test' }, reset: false });
    try {
      const response = await fetch(`${withModel.url}/api/v1/changelog/generate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ repo: repo.dir, version: '0.3.0' }),
      });
      const body = (await response.json()) as ChangelogBody & { summary?: string };
      expect(response.status).toBe(200);
      expect(body.summary).toBe(summary);
      expect(body.changelog).toContain(summary);
      // Grounded: the model saw the parsed entries, and the breaking ones are marked.
      const sent = JSON.stringify(fake.messages()[0]);
      expect(sent).toContain('BREAKING refactor(core): drop legacy loader');
      expect(sent).toContain('feat(web): dark mode (#42)');
      expect(fake.messages()[0]!.model).toBe('claude-test');
    } finally {
      await withModel.stop();
      await fake.close();
    }
  });

  it('parses headers, aliases and footers', () => {
    expect(entryOf('a'.repeat(40), 'feature(ui): thing')).toMatchObject({ type: 'feat', scope: 'ui', description: 'thing', breaking: false });
    expect(entryOf('a'.repeat(40), 'fix!: urgent (#12)')).toMatchObject({ type: 'fix', description: 'urgent', breaking: true, pr: 12 });
    expect(entryOf('a'.repeat(40), 'Just words\n\nBREAKING CHANGE: still breaking')).toMatchObject({ type: 'other', breaking: true, breaking_note: 'still breaking' });
    expect(entryOf('a'.repeat(40), 'feat: ')).toMatchObject({ type: 'other', description: 'feat:' });
  });
});

describe('autobuild changelog (built CLI)', () => {
  it('prints the markdown, and the JSON with --json', async () => {
    expect(existsSync(path.join(ROOT, 'dist/src/cli/changelogCommand.js')), 'run `npm run build` first').toBe(true);
    const run = (args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
        const env: NodeJS.ProcessEnv = { ...process.env };
        delete env.AUTOBUILD_API_TOKEN;
        execFile(process.execPath, [BIN, 'changelog', '--memory-url', memory.url, ...args], { cwd: ROOT, env, timeout: 60_000 }, (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
        });
      });

    const json = await run(['--repo', repo.dir, '--from', 'v0.1.0', '--to', 'v0.2.0', '--version', '0.2.0', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as ChangelogBody;
    expect(parsed.entries.map((e) => e.sha)).toEqual([sha.search, sha.empty]);
    expect(parsed.changelog.split('\n')[0]).toBe('## [0.2.0] - 2024-03-03');

    const markdown = await run(['--repo', repo.dir]);
    expect(markdown.code, markdown.stderr).toBe(0);
    expect(markdown.stdout.startsWith('## [Unreleased]\n\n### BREAKING CHANGES')).toBe(true);

    const bad = await run(['--repo', repo.dir, '--from', 'v9.9.9']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/from: .*v9\.9\.9.*\[unknown_ref, HTTP 422\]/);
  });
});
