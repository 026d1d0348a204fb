// Commits → changelog entries: each message parsed as a Conventional Commit (conventional-commits-
// parser, with the `type(scope)!: subject` header and BREAKING CHANGE footers), PR numbers kept
// from squash-merge subjects ("feat: x (#12)") and from GitHub merge commits ("Merge pull request
// #7 from org/branch"), whose number goes to the commits the merge brought in. Commits that are
// not conventional become type `other`.
import { CommitParser, type Commit } from 'conventional-commits-parser';
import type { RawCommit } from './commits.js';

export interface ChangelogEntry {
  /** feat, fix, perf, revert, docs, refactor, style, test, build, ci, chore, or other. */
  type: string;
  scope: string | null;
  description: string;
  sha: string;
  breaking: boolean;
  /** The pull request number, when the commit names one or a PR merge brought it in. */
  pr?: number;
  /** The text of a BREAKING CHANGE footer (absent for a bare `!` header). */
  breaking_note?: string;
}

const KNOWN_TYPES = new Set(['feat', 'fix', 'perf', 'revert', 'docs', 'refactor', 'style', 'test', 'build', 'ci', 'chore']);
const TYPE_ALIASES: Record<string, string> = {
  feature: 'feat',
  features: 'feat',
  bugfix: 'fix',
  hotfix: 'fix',
  fixes: 'fix',
  performance: 'perf',
  doc: 'docs',
  tests: 'test',
  refactoring: 'refactor',
  chores: 'chore',
};

/** "(#12)" at the end of a squash-merged subject. */
const SQUASH_PR = /\s*\(#(\d{1,9})\)\s*$/;
/** GitHub's merge commit subject. */
const GITHUB_MERGE = /^Merge pull request #(\d{1,9}) from (\S+)/;

const parser = new CommitParser({
  headerPattern: /^(\w[\w-]*)(?:\(([^()\r\n]*)\))?!?: (.+)$/,
  breakingHeaderPattern: /^(\w[\w-]*)(?:\(([^()\r\n]*)\))?!: (.+)$/,
  headerCorrespondence: ['type', 'scope', 'subject'],
  mergePattern: GITHUB_MERGE,
  mergeCorrespondence: ['pr', 'source'],
  noteKeywords: ['BREAKING CHANGE', 'BREAKING-CHANGE', 'BREAKING CHANGES'],
});

function parse(message: string): Commit | undefined {
  try {
    return parser.parse(message);
  } catch {
    return undefined; // an empty message
  }
}

function prNumber(text: string | null | undefined): number | undefined {
  const n = text ? Number(text) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

function firstLine(text: string): string {
  return (text.split('\n').find((line) => line.trim()) ?? '').trim();
}

/** One commit's entry, without PR attribution from merges (a squash "(#n)" is kept). */
export function entryOf(sha: string, message: string): ChangelogEntry {
  const subject = firstLine(message);
  const commit = parse(message);
  const rawType = commit?.type?.toLowerCase();
  const type = rawType ? (TYPE_ALIASES[rawType] ?? rawType) : undefined;
  const conventional = type !== undefined && KNOWN_TYPES.has(type) && Boolean(commit?.subject?.trim());
  const notes = (commit?.notes ?? []).filter((note) => /^BREAKING[ -]CHANGES?$/i.test(note.title));
  const headerBang = /^[\w-]+(?:\([^()\r\n]*\))?!: /.test(subject);
  const breaking = notes.length > 0 || headerBang;

  let description: string;
  let scope: string | null = null;
  let entryType: string;
  if (conventional && commit) {
    entryType = type;
    description = commit.subject!.trim();
    scope = commit.scope?.trim() || null;
  } else if (commit?.revert?.header) {
    // git's own `Revert "feat: x"`.
    entryType = 'revert';
    description = commit.revert.header.trim();
  } else {
    entryType = 'other';
    description = commit?.header?.trim() || subject;
  }

  let pr: number | undefined;
  const squash = SQUASH_PR.exec(description);
  if (squash) {
    pr = prNumber(squash[1]);
    description = description.slice(0, squash.index).trim() || description;
  }
  const entry: ChangelogEntry = { type: entryType, scope, description, sha, breaking };
  if (pr !== undefined) entry.pr = pr;
  // A footer's own words (a `!` header's note repeats the subject and adds nothing).
  const noteText = notes
    .map((note) => note.text.trim())
    .filter((text) => text && text !== commit?.subject?.trim())
    .join('\n\n');
  if (noteText) entry.breaking_note = noteText;
  return entry;
}

/**
 * The entries of a range (newest first, as read): non-merge commits, with the PR number of the
 * GitHub merge that brought each in. A PR merge whose commits are all outside the range becomes
 * an entry itself, from the PR title it carries. Other merge commits are left out.
 */
export function entriesOf(commits: RawCommit[], tip: string | undefined): ChangelogEntry[] {
  const bySha = new Map(commits.map((commit) => [commit.sha, commit]));
  const mergedBy = attributeMerges(commits, bySha, tip);
  const entries: ChangelogEntry[] = [];
  for (const commit of commits) {
    if (commit.parents.length > 1) {
      const pr = GITHUB_MERGE.exec(commit.message);
      if (!pr || !mergedBy.standalone.has(commit.sha)) continue;
      const entry = entryOf(commit.sha, commit.message.split('\n').slice(1).join('\n').trim() || commit.message);
      entry.pr ??= prNumber(pr[1]);
      entries.push(entry);
      continue;
    }
    const entry = entryOf(commit.sha, commit.message);
    if (entry.pr === undefined) {
      const pr = mergedBy.pr.get(commit.sha);
      if (pr !== undefined) entry.pr = pr;
    }
    entries.push(entry);
  }
  return entries;
}

/**
 * For each merge on the first-parent chain from the tip, oldest first, the commits it brought in
 * (their PR number, when it is a GitHub PR merge): those reachable from its second parent that are neither on the chain nor claimed by
 * an earlier merge (all within the range). One pass over the range, no extra git calls.
 */
function attributeMerges(commits: RawCommit[], bySha: Map<string, RawCommit>, tip: string | undefined): { pr: Map<string, number>; standalone: Set<string> } {
  const pr = new Map<string, number>();
  /** PR merges that brought in no commit of the range (or that no mainline merge brought in). */
  const standalone = new Set<string>();
  const mainline: RawCommit[] = [];
  const onMainline = new Set<string>();
  for (let at = tip ? bySha.get(tip) : commits[0]; at && !onMainline.has(at.sha); at = at.parents[0] ? bySha.get(at.parents[0]) : undefined) {
    mainline.push(at);
    onMainline.add(at.sha);
  }
  const claimed = new Set<string>();
  for (const merge of mainline.reverse()) {
    if (merge.parents.length < 2) continue;
    const match = GITHUB_MERGE.exec(merge.message);
    const number = match ? prNumber(match[1]) : undefined;
    let count = 0;
    const stack = merge.parents.slice(1);
    while (stack.length > 0) {
      const sha = stack.pop()!;
      if (onMainline.has(sha) || claimed.has(sha)) continue;
      const commit = bySha.get(sha);
      if (!commit) continue; // outside the range
      claimed.add(sha);
      if (commit.parents.length < 2) {
        count++;
        if (number !== undefined && !pr.has(sha)) pr.set(sha, number);
      }
      stack.push(...commit.parents);
    }
    if (count === 0) standalone.add(merge.sha);
  }
  for (const commit of commits) {
    if (commit.parents.length > 1 && !onMainline.has(commit.sha) && !claimed.has(commit.sha)) standalone.add(commit.sha);
  }
  return { pr, standalone };
}
