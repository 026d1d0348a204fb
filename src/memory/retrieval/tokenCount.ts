// Owns counting tokens the way models do: cl100k_base through js-tiktoken, with the ranks bundled
// in the package (offline), loaded once on first use.
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';

let encoder: Tiktoken | undefined;

/**
 * Counts of texts seen lately (least recently used dropped past MEMO_ENTRIES). The same texts come
 * back: a project's memory lines, its files' chunk groups and whole contexts, for every job's
 * context (a CPU profile of 200 jobs through the platform: tiktoken took ~2.3 ms of the event loop
 * per job, counting the same few contexts again and again; with this and the memory views' cache
 * in memories.ts, the platform's CPU per job went from 42.3 to 41.4 ms, two runs each, in process,
 * parallelism 4, load 6-8). Texts over MEMO_MAX_CHARS are counted each time.
 */
const MEMO_ENTRIES = 2000;
const MEMO_MAX_CHARS = 64 * 1024;
const memo = new Map<string, number>();

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  const known = memo.get(text);
  if (known !== undefined) {
    memo.delete(text);
    memo.set(text, known);
    return known;
  }
  encoder ??= new Tiktoken(cl100kBase);
  const count = encoder.encode(text).length;
  if (text.length <= MEMO_MAX_CHARS) {
    if (memo.size >= MEMO_ENTRIES) memo.delete(memo.keys().next().value!);
    memo.set(text, count);
  }
  return count;
}
