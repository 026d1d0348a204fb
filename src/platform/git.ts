// Git through the real binary with argument arrays (never a shell string), started through the
// process launcher when one is held (see processes/processLauncher.ts). Operations git cannot run
// concurrently on one repository (worktree add/remove, prune) name the repository as serialKey.
import { processStarter } from './processes/processLauncher.js';

export class GitError extends Error {
  constructor(
    message: string,
    readonly args: string[],
    readonly stderr: string,
    readonly exitCode: number | undefined,
    readonly stdout = '',
  ) {
    super(message);
    this.name = 'GitError';
  }
}

export interface GitOptions {
  cwd: string;
  /** Output exactly as git printed it (a patch must keep its last newline to apply). */
  raw?: boolean;
  env?: Record<string, string>;
  timeoutMs?: number;
  /** Calls with the same key run one at a time, in call order (see processLauncher's RunOptions). */
  serialKey?: string;
}

const BASE_ENV = { GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_OPTIONAL_LOCKS: '0' };

export async function git(args: string[], options: GitOptions): Promise<string> {
  const result = await processStarter().run('git', args, {
    cwd: options.cwd,
    env: { ...process.env, ...BASE_ENV, ...options.env },
    timeoutMs: options.timeoutMs ?? 120_000,
    serialKey: options.serialKey,
  });
  const stdout = options.raw ? result.stdout : result.stdout.replace(/\n$/, '');
  if (result.exitCode !== 0 || result.error) {
    const stderr = result.stderr.trim();
    const command = args.find((arg, i) => !arg.startsWith('-') && args[i - 1] !== '-c') ?? args[0];
    const reason = stderr || stdout.trim() || result.error || (result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`);
    throw new GitError(`git ${command} failed: ${reason}`, args, stderr, result.exitCode ?? undefined, stdout);
  }
  return stdout;
}

/** Transient lock contention with another git process (another replica on the same repository). */
export function isGitLockError(error: unknown): boolean {
  return error instanceof GitError && /\.lock'?:? File exists|Unable to create .*\.lock|could not lock|cannot lock ref/i.test(error.stderr);
}

/** Retry an operation that lost a race for a git lock file, with a short jittered backoff. */
export async function retryOnGitLock<T>(operation: () => Promise<T>, tries = 8): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await operation();
    } catch (error) {
      if (i >= tries || !isGitLockError(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25 * i + Math.random() * 50));
    }
  }
}

/** The top of the work tree containing dir, or undefined when dir is not in a git repository. */
export async function repositoryTopLevel(dir: string): Promise<string | undefined> {
  try {
    return await git(['rev-parse', '--show-toplevel'], { cwd: dir, timeoutMs: 10_000 });
  } catch {
    return undefined;
  }
}

/** The work tree's top and its checked-out branch (null when HEAD is detached), in one call. */
export async function repositoryHead(dir: string): Promise<{ top: string; branch: string | null } | undefined> {
  try {
    const [top = '', branch = ''] = (await git(['rev-parse', '--show-toplevel', '--abbrev-ref', 'HEAD'], { cwd: dir, timeoutMs: 10_000 })).split('\n');
    return { top, branch: branch && branch !== 'HEAD' ? branch : null };
  } catch {
    return undefined;
  }
}

/** Whether name is a valid branch name; names starting with '-' are refused outright. */
export async function isValidBranchName(name: string): Promise<boolean> {
  if (!name || name.startsWith('-') || name.length > 200) return false;
  try {
    await git(['check-ref-format', '--branch', name], { cwd: '/', timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export async function refExists(repo: string, ref: string): Promise<boolean> {
  if (ref.startsWith('-')) return false;
  try {
    await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repo, timeoutMs: 10_000 });
    return true;
  } catch {
    return false;
  }
}
