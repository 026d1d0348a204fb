// Changelog entries grouped (BREAKING CHANGES first, then Features, Bug Fixes, Performance, ...,
// Other) and rendered as a Keep a Changelog release section.
import type { ChangelogEntry } from './entries.js';

export const BREAKING_GROUP = 'BREAKING CHANGES';

/** Section titles by type, in the order they are listed (after BREAKING CHANGES). */
const GROUPS: Array<[type: string, title: string]> = [
  ['feat', 'Features'],
  ['fix', 'Bug Fixes'],
  ['perf', 'Performance'],
  ['revert', 'Reverts'],
  ['docs', 'Documentation'],
  ['refactor', 'Refactoring'],
  ['style', 'Styles'],
  ['test', 'Tests'],
  ['build', 'Build'],
  ['ci', 'CI'],
  ['chore', 'Chores'],
  ['other', 'Other'],
];

export interface ChangelogGroup {
  title: string;
  entries: ChangelogEntry[];
}

/** The non-empty groups in order; a breaking entry is listed under BREAKING CHANGES only. */
export function groupEntries(entries: ChangelogEntry[]): ChangelogGroup[] {
  const groups: ChangelogGroup[] = [{ title: BREAKING_GROUP, entries: entries.filter((e) => e.breaking) }];
  const rank = new Map(GROUPS.map(([type], i) => [type, i]));
  for (const [type, title] of GROUPS) {
    groups.push({ title, entries: entries.filter((e) => !e.breaking && (e.type === type || (type === 'other' && !rank.has(e.type)))) });
  }
  return groups.filter((group) => group.entries.length > 0);
}

/** The entries in the order the changelog lists them. */
export function orderedEntries(entries: ChangelogEntry[]): ChangelogEntry[] {
  return groupEntries(entries).flatMap((group) => group.entries);
}

function line(entry: ChangelogEntry): string {
  const scope = entry.scope ? `**${entry.scope}:** ` : '';
  const pr = entry.pr !== undefined ? ` (#${entry.pr})` : '';
  let text = `- ${scope}${entry.description}${pr} (${entry.sha.slice(0, 7)})`;
  if (entry.breaking_note) text += `\n${entry.breaking_note.split('\n').map((l) => (l.trim() ? `  ${l}` : '')).join('\n')}`;
  return text;
}

export interface RenderOptions {
  /** The release's version; without one the section is `[Unreleased]`. */
  version?: string;
  /** YYYY-MM-DD, shown after a version (Keep a Changelog gives Unreleased no date). */
  date?: string;
  /** A polished summary to put above the sections. */
  summary?: string;
}

export function renderMarkdown(entries: ChangelogEntry[], options: RenderOptions): string {
  const heading = options.version ? `## [${options.version}]${options.date ? ` - ${options.date}` : ''}` : '## [Unreleased]';
  const parts = [heading];
  if (options.summary?.trim()) parts.push(options.summary.trim());
  const groups = groupEntries(entries);
  if (groups.length === 0) parts.push('No changes.');
  for (const group of groups) parts.push(`### ${group.title}\n\n${group.entries.map(line).join('\n')}`);
  return `${parts.join('\n\n')}\n`;
}
