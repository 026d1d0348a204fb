// Reading a range of commits from a repository for the changelog: refs resolved to commits (a ref
// starting with '-' is never passed to git), the default start (the latest tag), and the commits
// with their parents, so PR merge commits can be attributed to the commits they brought in.
import { git, GitError } from '../../platform/git.js';

const FIELD = '\x1f';
const RECORD = '\x1e';

/** At most this many commits per changelog (the range is read newest first). */
export const MAX_COMMITS = 10_000;

export interface RawCommit {
  sha: string;
  parents: string[];
  /** Committer date, ISO 8601. */
  date: string;
  /** The whole message: subject, body and footers. */
  message: string;
}

export interface CommitRange {
  /** Newest first, merges included. */
  commits: RawCommit[];
  /** More than MAX_COMMITS commits were in the range; the oldest were left out. */
  truncated: boolean;
}

/** The commit a ref (branch, tag, sha, `HEAD~2`) names, or undefined when it names none. */
export async function resolveCommit(repo: string, ref: string): Promise<string | undefined> {
  if (!ref || ref.startsWith('-') || /[\0\n\r]/.test(ref)) return undefined;
  try {
    const sha = await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: repo, timeoutMs: 10_000 });
    return /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
  } catch {
    return undefined;
  }
}

/** The newest tag reachable from `commit` (a sha), or undefined when there is none. */
export async function latestTag(repo: string, commit = 'HEAD'): Promise<string | undefined> {
  try {
    const tag = await git(['describe', '--tags', '--abbrev=0', commit], { cwd: repo, timeoutMs: 30_000 });
    return tag || undefined;
  } catch (error) {
    // "No names found" / "No tags can describe": no tag, the whole history.
    if (error instanceof GitError) return undefined;
    throw error;
  }
}

/**
 * The commits reachable from `to` and not from `from` (both shas; no `from`: the whole history up
 * to `to`), newest first in topological order (children before parents).
 */
export async function readCommits(repo: string, from: string | undefined, to: string): Promise<CommitRange> {
  const range = from ? [`^${from}`, to] : [to];
  const out = await git(['log', '--topo-order', `--max-count=${MAX_COMMITS + 1}`, `--format=%H${'%x1f'}%P${'%x1f'}%cI${'%x1f'}%B${'%x1e'}`, ...range, '--'], {
    cwd: repo,
    timeoutMs: 120_000,
  });
  const commits: RawCommit[] = [];
  for (const record of out.split(RECORD)) {
    const trimmed = record.replace(/^\n+/, '');
    if (!trimmed) continue;
    const [sha = '', parents = '', date = '', ...message] = trimmed.split(FIELD);
    if (!sha) continue;
    commits.push({ sha, parents: parents.split(' ').filter(Boolean), date, message: message.join(FIELD).trim() });
  }
  const truncated = commits.length > MAX_COMMITS;
  return { commits: truncated ? commits.slice(0, MAX_COMMITS) : commits, truncated };
}

/** The committer date (YYYY-MM-DD) of a commit. */
export async function commitDate(repo: string, commit: string): Promise<string> {
  const iso = await git(['show', '-s', '--format=%cI', commit, '--'], { cwd: repo, timeoutMs: 10_000 });
  return iso.slice(0, 10);
}
