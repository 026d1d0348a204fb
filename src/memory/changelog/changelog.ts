// The changelog of a git range: the repository and refs checked (4xx AppErrors naming the field),
// the default range (the latest tag before `to`, or the whole history when there is no tag), the
// commits parsed into entries, and the Keep a Changelog markdown. An optional `summarize` hook
// (an LLM, grounded in the entries: summary.ts) adds a polished summary on top.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError, invalid } from '../../platform/errors.js';
import { git } from '../../platform/git.js';
import { commitDate, latestTag, readCommits, resolveCommit } from './commits.js';
import { entriesOf, type ChangelogEntry } from './entries.js';
import { orderedEntries, renderMarkdown } from './render.js';

export type { ChangelogEntry } from './entries.js';

export interface SummaryContext {
  version: string | undefined;
  from: string | null;
  to: string;
}

/** Writes a short prose summary from the entries alone; null (or a throw) means none. */
export type ChangelogSummarizer = (entries: ChangelogEntry[], context: SummaryContext) => Promise<string | null>;

export interface ChangelogRequest {
  /** An absolute path to a git repository (or a directory inside one) on this machine. */
  repo: string;
  /** Start (exclusive): a ref or tag; default the latest tag before `to`. */
  from?: string;
  /** End (inclusive): default HEAD. */
  to?: string;
  version?: string;
  /** `json` leaves the markdown out (an empty string); `markdown` (default) gives both. */
  format?: 'markdown' | 'json';
  /** Optional polished summary (e.g. Claude); errors are ignored, the changelog never depends on it. */
  summarize?: ChangelogSummarizer;
}

export interface Changelog {
  changelog: string;
  /** In the changelog's order: breaking first, then by group, newest first within a group. */
  entries: ChangelogEntry[];
  /** The start used: the given ref, the latest tag, or null for the whole history. */
  from: string | null;
  to: string;
  version: string | null;
  /** The release date (the `to` commit's committer date), YYYY-MM-DD. */
  date: string;
  summary: string | null;
  /** The range held more commits than one changelog reads; the oldest were left out. */
  truncated: boolean;
}

/** The repository path checked: absolute, a directory, inside a git repository (400 otherwise). */
export async function checkRepository(repo: string, field = 'repo'): Promise<string> {
  if (repo.includes('\0')) throw invalid(field, 'contains a NUL character');
  if (!path.isAbsolute(repo)) throw invalid(field, `must be an absolute path on the service machine, not "${repo}"`);
  const resolved = path.resolve(repo);
  const info = await stat(resolved).catch(() => undefined);
  if (!info) throw invalid(field, `${resolved} does not exist on the service machine`);
  if (!info.isDirectory()) throw invalid(field, `${resolved} is not a directory`);
  try {
    await git(['rev-parse', '--git-dir'], { cwd: resolved, timeoutMs: 10_000 });
  } catch {
    const message = `${resolved} is not a git repository`;
    throw new AppError('invalid_repo', `${field}: ${message}`, [{ field, message }]);
  }
  return resolved;
}

function unknownRef(field: string, ref: string): AppError {
  const message = ref.startsWith('-') ? `"${ref}" is not a ref (refs never start with "-")` : `"${ref}" does not name a commit in the repository`;
  return new AppError('unknown_ref', `${field}: ${message}`, [{ field, message }]);
}

export async function generateChangelog(request: ChangelogRequest): Promise<Changelog> {
  const repo = await checkRepository(request.repo);
  const to = request.to ?? 'HEAD';
  const toSha = await resolveCommit(repo, to);
  if (!toSha) throw unknownRef('to', to);

  let from: string | null;
  let fromSha: string | undefined;
  if (request.from !== undefined) {
    from = request.from;
    fromSha = await resolveCommit(repo, request.from);
    if (!fromSha) throw unknownRef('from', request.from);
  } else {
    // The latest tag before `to`; when `to` itself is tagged, the tag before it (the release's notes).
    let tag = await latestTag(repo, toSha);
    let tagSha = tag ? await resolveCommit(repo, tag) : undefined;
    if (tag && tagSha === toSha) {
      tag = await latestTag(repo, `${toSha}^`);
      tagSha = tag ? await resolveCommit(repo, tag) : undefined;
    }
    from = tag && tagSha ? tag : null;
    fromSha = tagSha;
  }

  const { commits, truncated } = await readCommits(repo, fromSha, toSha);
  const entries = orderedEntries(entriesOf(commits, toSha));
  const date = commits.find((c) => c.sha === toSha)?.date.slice(0, 10) ?? (await commitDate(repo, toSha));
  const version = request.version ?? null;

  let summary: string | null = null;
  if (request.summarize && entries.length > 0) {
    summary = await request.summarize(entries, { version: version ?? undefined, from, to }).catch(() => null);
    summary = summary?.trim() || null;
  }
  const changelog = request.format === 'json' ? '' : renderMarkdown(entries, { version: version ?? undefined, date, summary: summary ?? undefined });
  return { changelog, entries, from, to, version, date, summary, truncated };
}
