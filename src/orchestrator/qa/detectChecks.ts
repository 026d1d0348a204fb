// Which checks QA runs in a worktree: the project's configured `qa.commands`, else what the
// repository itself declares: npm scripts `test`, `lint`, `typecheck` with the package manager its
// lock file names (installing dependencies first when the worktree has none, the install counted as
// a check), pytest, `go test ./...`, `cargo test`. `"commands": []` turns QA off.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { ProjectQa } from '../projects/projects.js';

export interface QaCheckSpec {
  name: string;
  /** argv; never run through a shell. */
  command: string[];
  timeoutS: number;
}

export const DEFAULT_CHECK_TIMEOUT_S = 600;
export const DEFAULT_QA_ROUNDS = 2;

/** npm's placeholder `test` script, which only fails. */
const NPM_PLACEHOLDER = /no test specified/;

type PackageManager = 'npm' | 'pnpm' | 'yarn' | 'bun';

function packageManager(dir: string): { name: PackageManager; lockfile: boolean } {
  if (existsSync(path.join(dir, 'pnpm-lock.yaml'))) return { name: 'pnpm', lockfile: true };
  if (existsSync(path.join(dir, 'yarn.lock'))) return { name: 'yarn', lockfile: true };
  if (existsSync(path.join(dir, 'bun.lockb')) || existsSync(path.join(dir, 'bun.lock'))) return { name: 'bun', lockfile: true };
  return { name: 'npm', lockfile: existsSync(path.join(dir, 'package-lock.json')) || existsSync(path.join(dir, 'npm-shrinkwrap.json')) };
}

function installCommand(pm: { name: PackageManager; lockfile: boolean }): string[] {
  switch (pm.name) {
    case 'pnpm':
      return ['pnpm', 'install', '--frozen-lockfile'];
    case 'yarn':
      return ['yarn', 'install', '--frozen-lockfile'];
    case 'bun':
      return ['bun', 'install', '--frozen-lockfile'];
    case 'npm':
      return pm.lockfile ? ['npm', 'ci', '--no-audit', '--no-fund'] : ['npm', 'install', '--no-audit', '--no-fund'];
  }
}

function scriptCommand(pm: PackageManager, script: string): string[] {
  if (pm === 'yarn') return ['yarn', script];
  if (pm === 'npm' && script === 'test') return ['npm', 'test'];
  return [pm, 'run', script];
}

function readJson(file: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function mentionsPytest(dir: string): boolean {
  for (const file of ['pytest.ini', 'conftest.py']) if (existsSync(path.join(dir, file))) return true;
  for (const file of ['pyproject.toml', 'setup.cfg', 'tox.ini']) {
    try {
      if (/pytest/.test(readFileSync(path.join(dir, file), 'utf8'))) return true;
    } catch {
      // not there
    }
  }
  for (const sub of ['.', 'tests', 'test']) {
    try {
      if (readdirSync(path.join(dir, sub)).some((name) => /^test_.*\.py$|_test\.py$/.test(name))) return true;
    } catch {
      // not there
    }
  }
  return false;
}

/** The checks the repository declares, in the order they run. */
export function detectChecks(dir: string): QaCheckSpec[] {
  const checks: QaCheckSpec[] = [];
  const pkg = readJson(path.join(dir, 'package.json'));
  if (pkg) {
    const scripts = (pkg.scripts && typeof pkg.scripts === 'object' ? pkg.scripts : {}) as Record<string, unknown>;
    const wanted = ['typecheck', 'lint', 'test'].filter((name) => typeof scripts[name] === 'string' && !(name === 'test' && NPM_PLACEHOLDER.test(String(scripts[name]))));
    if (wanted.length > 0) {
      const pm = packageManager(dir);
      const declaresDependencies = ['dependencies', 'devDependencies'].some((key) => pkg[key] && Object.keys(pkg[key] as object).length > 0);
      if (declaresDependencies && !existsSync(path.join(dir, 'node_modules'))) checks.push({ name: 'install', command: installCommand(pm), timeoutS: DEFAULT_CHECK_TIMEOUT_S });
      for (const name of wanted) checks.push({ name, command: scriptCommand(pm.name, name), timeoutS: DEFAULT_CHECK_TIMEOUT_S });
    }
  }
  if (mentionsPytest(dir)) checks.push({ name: 'pytest', command: ['python3', '-m', 'pytest', '-q'], timeoutS: DEFAULT_CHECK_TIMEOUT_S });
  if (existsSync(path.join(dir, 'go.mod'))) checks.push({ name: 'go test', command: ['go', 'test', './...'], timeoutS: DEFAULT_CHECK_TIMEOUT_S });
  if (existsSync(path.join(dir, 'Cargo.toml'))) checks.push({ name: 'cargo test', command: ['cargo', 'test'], timeoutS: DEFAULT_CHECK_TIMEOUT_S });
  return checks;
}

/** The project's checks: configured, or detected; none when QA is turned off. */
export function qaChecks(dir: string, qa: ProjectQa | null | undefined): QaCheckSpec[] {
  if (qa?.commands) return qa.commands.map((c) => ({ name: c.name, command: c.command, timeoutS: c.timeout_s ?? DEFAULT_CHECK_TIMEOUT_S }));
  return detectChecks(dir);
}
