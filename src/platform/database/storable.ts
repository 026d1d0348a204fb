// Owns what of a client's text and JSON PostgreSQL can keep as sent, checked before anything is
// written: text and jsonb refuse U+0000, and jsonb an unpaired UTF-16 surrogate ("\ud800"), which
// text would silently replace. Left to the database, such input is its error when the row is
// written (a 500, or a refused write the memory service's /health would count against the store);
// it is the client's mistake, a 400 naming the field. Nesting can be bounded too: a document
// thousands of levels deep overflows the stack of anything that walks it recursively
// (JSON.stringify among them). The walk here is iterative, so hostile depth cannot overflow it.
import { AppError } from '../errors.js';

/** Why a string cannot be stored as sent, or undefined when it can. */
export function textProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'contains a NUL character (U+0000)';
  // With the u flag a well-formed pair is one code point: only a lone surrogate is Cs.
  if (/\p{Cs}/u.test(text)) return 'contains an unpaired UTF-16 surrogate (not valid Unicode)';
  return undefined;
}

export interface JsonProblem {
  /** Dotted path inside the value ('' for the value itself). */
  at: string;
  message: string;
}

/** Every reason a JSON value cannot be stored (up to `limit`): nested deeper than `maxDepth`, or a key or string textProblem refuses. */
export function jsonProblems(value: unknown, options: { maxDepth?: number; limit?: number } = {}): JsonProblem[] {
  const { maxDepth = Number.POSITIVE_INFINITY, limit = Number.POSITIVE_INFINITY } = options;
  const problems: JsonProblem[] = [];
  const stack: Array<{ value: unknown; at: string; depth: number }> = [{ value, at: '', depth: 0 }];
  while (stack.length > 0 && problems.length < limit) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const problem = textProblem(item.value);
      if (problem) problems.push({ at: item.at, message: problem });
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    const depth = item.depth + 1;
    if (depth > maxDepth) {
      problems.push({ at: item.at, message: `is nested more than ${maxDepth} levels deep` });
      continue;
    }
    const isArray = Array.isArray(item.value);
    const entries: Array<[string, unknown]> = isArray ? (item.value as unknown[]).map((element, index) => [String(index), element]) : Object.entries(item.value);
    // Reversed onto the stack, so problems come out in document order.
    for (const [key, element] of entries.reverse()) {
      const at = item.at ? `${item.at}.${key}` : key;
      const keyProblem = isArray ? undefined : textProblem(key);
      if (keyProblem) problems.push({ at, message: `has a name that ${keyProblem}` });
      stack.push({ value: element, at, depth });
    }
  }
  return problems.slice(0, limit);
}

/**
 * A 400 naming every string of a request body (values and names) that the database cannot store
 * as sent; `prefix` names where the body sits ("content" for a memory's content).
 */
export function assertStorable(body: unknown, options: { prefix?: string; maxDepth?: number } = {}): void {
  const problems = jsonProblems(body, { maxDepth: options.maxDepth, limit: 20 }).map(({ at, message }) => ({
    field: [options.prefix, at].filter(Boolean).join('.') || 'body',
    message,
  }));
  const [first] = problems;
  if (first) throw new AppError('validation_failed', `${first.field} ${first.message}`, problems);
}

/** Longest agent summary kept on a job's result. */
export const MAX_SUMMARY = 20_000;

/**
 * Text from outside (an agent's output, a check's output tail) made storable: NUL removed and an
 * unpaired surrogate (a cut through an emoji, say) replaced by U+FFFD. With `tail`, the last `max`
 * characters are kept instead of the first.
 */
export function storableText(text: string, max = Number.POSITIVE_INFINITY, tail = false): string {
  let out = text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
  if (out.length > max) out = tail ? out.slice(-max) : out.slice(0, max);
  return out.replace(/\p{Cs}/gu, '\uFFFD');
}

/** A JSON value with every string (keys too) made storable: what the orchestrator writes of agents' output never fails its write. */
export function storableJson<T>(value: T): T {
  if (typeof value === 'string') return storableText(value) as T;
  if (Array.isArray(value)) return value.map((item) => storableJson(item)) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [storableText(key), storableJson(item)])) as T;
}
