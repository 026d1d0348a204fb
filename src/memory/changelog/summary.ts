// The polished summary on top of a changelog, written by Claude from the entries alone: the model
// sees nothing but the parsed entries, and is told to add nothing they do not say.
import type { LlmClient } from '../../platform/llm.js';
import type { ChangelogEntry } from './entries.js';
import type { ChangelogSummarizer } from './changelog.js';

const SYSTEM = [
  'You write the short summary at the top of a software changelog.',
  'Use only the entries given. Do not invent features, fixes, numbers or names that are not in them.',
  'Lead with breaking changes if there are any. Two to four sentences of plain prose, no headings, no lists.',
].join(' ');

function describe(entry: ChangelogEntry): string {
  const scope = entry.scope ? `(${entry.scope})` : '';
  return `- ${entry.breaking ? 'BREAKING ' : ''}${entry.type}${scope}: ${entry.description}${entry.pr ? ` (#${entry.pr})` : ''}`;
}

export function changelogSummarizer(llm: LlmClient): ChangelogSummarizer {
  return async (entries, context) => {
    if (entries.length === 0) return null;
    const heading = `Release ${context.version ?? 'unreleased'} (${context.from ?? 'first commit'}..${context.to})`;
    const { text } = await llm.complete({
      system: SYSTEM,
      messages: [{ role: 'user', content: `${heading}\n\nEntries:\n${entries.slice(0, 400).map(describe).join('\n')}` }],
      maxTokens: 400,
    });
    return text.trim() || null;
  };
}
