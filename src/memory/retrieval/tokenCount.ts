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
 * parallelism 4, load 6-8). Parts over MEMO_MAX_CHARS are counted each time.
 */
const MEMO_ENTRIES = 5000;
const MEMO_MAX_CHARS = 64 * 1024;
const memo = new Map<string, number>();

/**
 * Where a text can be cut without changing its count: after a line break, before a character that
 * is not white space. cl100k's pre-tokenizer (its pat_str) never makes a piece across such a place
 * (the pieces that hold a line break end with it, and none starts with one and goes on), it has no
 * look-behind, and each piece is encoded on its own; so a text's count is the sum of its parts'.
 * Counting by part lets a context's memory lines, pattern lines and code sections, which come back
 * job after job inside texts that differ, be counted once: fitting memories and patterns counted the
 * whole section again for every item tried (0.7 ms of the event loop per context, bench/memoryPerJob
 * profile). test/memory/context.test.ts checks the sum against whole-text counts.
 */
const PART_BOUNDARY = /(?<=\n)(?=\S)/;

function countPart(text: string): number {
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

export function countTokens(text: string): number {
  if (text.length === 0) return 0;
  let total = 0;
  for (const part of text.split(PART_BOUNDARY)) total += countPart(part);
  return total;
}
