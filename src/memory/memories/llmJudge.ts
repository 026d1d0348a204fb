// Owns asking Claude how a new memory relates to its close neighbours that the lexical rules
// (similarity.ts) called distinct: paraphrases that need understanding ("keep MariaDB around, its
// tests hit it for real" / "the test fixtures open a connection to MariaDB on startup") are beyond
// word matching. One Messages API call per new memory, all its candidates at once, temperature 0,
// a strict JSON answer. The judge only ever adds verdicts: anything that goes wrong (an API error,
// a rate limit, a timeout, an answer that is not the JSON asked for, an id it was not given) leaves
// the rules' verdict ("distinct"), logged as a warning without the memories' contents.
import type { Logger } from '../../platform/logger.js';
import type { LlmClient } from '../../platform/llm.js';
import { isIdKey, matchViews, MIN_COSINE, type LexicalView } from './similarity.js';

/** same: the same fact, reworded (merge); contradicts: the new one replaces it (supersede); different. */
export type Verdict = 'same' | 'contradicts' | 'different';

export interface JudgeCandidate {
  id: string;
  /** The memory as rendered (content_text). */
  text: string;
}

export interface MemoryJudge {
  /** Verdicts by candidate id; an empty map when the model could not be asked or answered badly. Never throws. */
  judge(incoming: string, candidates: readonly JudgeCandidate[]): Promise<Map<string, Verdict>>;
}

/** The whole call, answer included: a write waits for it. */
export const JUDGE_TIMEOUT_MS = 10_000;
/** Nearest candidates sent, at most: the closest are the likeliest duplicates, and the prompt stays small. */
export const MAX_JUDGED_CANDIDATES = 5;
/**
 * Memories longer than this are not judged (the rules stand): a lesson is a few sentences, and a
 * verdict on a truncated text could merge away what was cut.
 */
export const MAX_JUDGED_CHARS = 2000;
/** A verdict per candidate is a few tokens; the JSON for five fits well within this. */
const ANSWER_MAX_TOKENS = 300;

const VERDICTS = new Set<Verdict>(['same', 'contradicts', 'different']);

export const JUDGE_SYSTEM = [
  'You deduplicate the memory of an AI coding agent: short lessons it saved about one project.',
  'You get a NEW memory and EXISTING memories of the same project and type. For each existing one, decide how the new one relates to it:',
  '- "same": it states the same fact or advice, possibly in other words (the new one may add a minor detail). Keeping both would be a duplicate.',
  '- "contradicts": it is about the same thing but the new one says something incompatible (a changed value, location or rule, the opposite advice), so the existing one is out of date.',
  '- "different": anything else: a related but separate fact, another component, environment, service or value, or when you are not sure.',
  'Answer with only a JSON object mapping every existing memory id to "same", "contradicts" or "different". No other text.',
].join('\n');

/**
 * Whether a neighbour the rules called distinct is close enough to be worth a question: similar
 * embeddings, at least one anchor word in common, and not another record (a JSON id that differs:
 * two jobs' outcomes are never one memory).
 */
export function judgeable(incoming: LexicalView, existing: LexicalView, cosine: number): boolean {
  if (cosine < MIN_COSINE) return false;
  if (incoming.fields && existing.fields) {
    for (const [key, value] of incoming.fields) {
      const other = existing.fields.get(key);
      if (isIdKey(key) && other !== undefined && other !== value) return false;
    }
  }
  return matchViews(incoming.values ?? incoming, existing.values ?? existing).matched > 0;
}

/** The prompt's user message: the texts as JSON strings, so no memory can pass for the prompt's structure. */
export function judgeRequest(incoming: string, candidates: readonly JudgeCandidate[]): string {
  return JSON.stringify({ new: incoming, existing: candidates.map(({ id, text }) => ({ id, text })) }, null, 1);
}

/** The verdicts in the model's answer, or a reason it cannot be used. Ids it left out are "different". */
export function parseVerdicts(answer: string, ids: readonly string[]): Map<string, Verdict> | string {
  // Tolerate a code fence around the object, nothing else.
  const body = answer.trim().replace(/^```(?:json)?\s*|\s*```$/g, '');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return 'the answer is not JSON';
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return 'the answer is not a JSON object';
  const known = new Set(ids);
  const verdicts = new Map<string, Verdict>();
  for (const [id, verdict] of Object.entries(parsed)) {
    // An id it was not given, or a verdict it was not offered: the answer is not about these memories.
    if (!known.has(id)) return 'the answer names a memory it was not asked about';
    if (typeof verdict !== 'string' || !VERDICTS.has(verdict as Verdict)) return 'the answer has a verdict other than same, contradicts or different';
    verdicts.set(id, verdict as Verdict);
  }
  return verdicts;
}

export function createMemoryJudge(llm: LlmClient, logger: Logger, options: { timeoutMs?: number } = {}): MemoryJudge {
  const timeoutMs = options.timeoutMs ?? JUDGE_TIMEOUT_MS;
  return {
    async judge(incoming, candidates) {
      const asked = candidates.filter((candidate) => candidate.text.length <= MAX_JUDGED_CHARS).slice(0, MAX_JUDGED_CANDIDATES);
      if (asked.length === 0 || incoming.length > MAX_JUDGED_CHARS) return new Map();
      try {
        const completion = await llm.complete({
          system: JUDGE_SYSTEM,
          messages: [{ role: 'user', content: judgeRequest(incoming, asked) }],
          maxTokens: ANSWER_MAX_TOKENS,
          temperature: 0,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const verdicts = parseVerdicts(completion.text, asked.map((candidate) => candidate.id));
        if (typeof verdicts === 'string') {
          logger.warn({ candidates: asked.length, reason: verdicts }, 'memory judge answer unusable; the rules decide');
          return new Map();
        }
        logger.debug({ candidates: asked.length, verdicts: Object.fromEntries(verdicts) }, 'memory judge verdicts');
        return verdicts;
      } catch (error) {
        // LlmError messages name the failure (HTTP status, timeout), never the key or the prompt.
        logger.warn({ candidates: asked.length, err: (error as Error).message }, 'memory judge unavailable; the rules decide');
        return new Map();
      }
    },
  };
}
