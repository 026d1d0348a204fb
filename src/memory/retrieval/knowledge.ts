// Owns the memories-and-patterns part of a task's context: which recalled memories speak to the
// task, how a memory and a pattern read as one markdown bullet, and fitting both sections into a
// token budget (counted with the same tokenizer as the code).
import { flattenJson, renderContent } from '../memories/render.js';
import type { MemoryView } from '../memories/memories.js';
import { formatDuration, type PatternView } from '../patterns/describe.js';
import { taskTerms } from '../patterns/taskTerms.js';
import { countTokens } from './tokenCount.js';

/**
 * A recalled memory is relevant when it shares a word with the task and its cosine similarity is
 * at least MIN_MEMORY_SCORE, or when the similarity alone is STRONG_MEMORY_SCORE (a paraphrase).
 * Calibrated with the built-in hash embedder on 4 tasks × 7 memories: the related pairs scored
 * 0.21–0.37, the unrelated ones -0.06–0.11 ("fix the flaky billing export test" against "migrate the
 * billing tables failed": shares a word, scores 0.11, rightly out).
 */
export const MIN_MEMORY_SCORE = 0.15;
export const STRONG_MEMORY_SCORE = 0.5;
/** A memory's bullet is cut to this many characters: a lesson, not a transcript. */
const MAX_LINE_CHARS = 400;
const MAX_LISTED_FILES = 5;

export const MEMORIES_HEADING = '## Memories from past work';
export const PATTERNS_HEADING = '## Patterns learned from past tasks';

/** The words a memory is about: its text, or its JSON values (not the keys every outcome has). */
function memoryTerms(memory: MemoryView): Set<string> {
  const text = typeof memory.content === 'string' ? memory.content : flattenJson(memory.content).map(([, value]) => value).join('\n');
  return new Set(taskTerms(text, 500));
}

export function relevantToTask(memory: MemoryView, taskWords: Set<string>): boolean {
  const score = memory.score ?? 0;
  if (score >= STRONG_MEMORY_SCORE) return true;
  if (score < MIN_MEMORY_SCORE) return false;
  for (const term of memoryTerms(memory)) if (taskWords.has(term)) return true;
  return false;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= MAX_LINE_CHARS ? flat : `${flat.slice(0, MAX_LINE_CHARS - 1).trimEnd()}…`;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

const STATUS_WORDS: Record<string, string> = { succeeded: 'succeeded', failed: 'failed', timed_out: 'timed out', cancelled: 'was cancelled' };

/** An execution outcome as a sentence: what was asked, how it ended, what it changed or why it failed. */
function outcomeSentence(content: Record<string, unknown>): string | undefined {
  const status = str(content.status);
  const title = str(content.title) ?? str(content.task);
  if (!status || !title) return undefined;
  const parts = [`Past task "${title}" ${STATUS_WORDS[status] ?? status}`];
  const agent = str(content.agent);
  const duration = typeof content.duration_s === 'number' ? formatDuration(content.duration_s) : undefined;
  if (agent || duration) parts[0] += ` (${[agent, duration].filter(Boolean).join(', ')})`;
  if (typeof content.exit_code === 'number' && status !== 'succeeded') parts.push(`exit code ${content.exit_code}`);
  const error = str(content.error);
  if (error) parts.push(`error: ${error}`);
  const files = Array.isArray(content.files_changed) ? content.files_changed.filter((file): file is string => typeof file === 'string') : [];
  if (files.length > 0) {
    const more = files.length > MAX_LISTED_FILES ? ` and ${files.length - MAX_LISTED_FILES} more` : '';
    parts.push(`changed ${files.slice(0, MAX_LISTED_FILES).join(', ')}${more}`);
  }
  const summary = str(content.summary);
  if (summary) parts.push(`summary: ${summary}`);
  return parts.join('; ');
}

export function memoryLine(memory: MemoryView): string {
  const sentence = typeof memory.content === 'string' ? undefined : outcomeSentence(memory.content);
  return `- ${oneLine(sentence ?? `${memory.type}: ${renderContent(memory.content)}`)}`;
}

export function patternLine(pattern: PatternView): string {
  return `- ${pattern.description} (confidence ${pattern.confidence.toFixed(2)})`;
}

export function renderKnowledge(memories: MemoryView[], patterns: PatternView[]): string {
  const sections: string[] = [];
  if (memories.length > 0) sections.push(`${MEMORIES_HEADING}\n\n${memories.map(memoryLine).join('\n')}`);
  if (patterns.length > 0) sections.push(`${PATTERNS_HEADING}\n\n${patterns.map(patternLine).join('\n')}`);
  return sections.join('\n\n');
}

export interface FittedKnowledge {
  context: string;
  tokens: number;
  memories: MemoryView[];
  patterns: PatternView[];
}

/**
 * The most relevant memories and patterns whose sections fit in `budget` tokens: taken alternately
 * (best memory, best pattern, next memory, ...) so a small budget still holds some of each; an
 * item that does not fit is skipped for smaller ones after it.
 */
export function fitKnowledge(memories: MemoryView[], patterns: PatternView[], budget: number): FittedKnowledge {
  const order: Array<{ memory?: MemoryView; pattern?: PatternView }> = [];
  for (let i = 0; i < Math.max(memories.length, patterns.length); i++) {
    if (memories[i]) order.push({ memory: memories[i] });
    if (patterns[i]) order.push({ pattern: patterns[i] });
  }
  let fitted: FittedKnowledge = { context: '', tokens: 0, memories: [], patterns: [] };
  if (budget <= 0) return fitted;
  for (const item of order) {
    const nextMemories = item.memory ? [...fitted.memories, item.memory] : fitted.memories;
    const nextPatterns = item.pattern ? [...fitted.patterns, item.pattern] : fitted.patterns;
    const context = renderKnowledge(nextMemories, nextPatterns);
    const tokens = countTokens(context);
    if (tokens <= budget) fitted = { context, tokens, memories: nextMemories, patterns: nextPatterns };
  }
  return fitted;
}
