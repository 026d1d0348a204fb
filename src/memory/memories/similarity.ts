// Owns how a new memory relates to an existing one of the same project and type: a near-duplicate
// (merged into it), a contradiction (supersedes it) or distinct. Both judgements need the
// embeddings to agree (cosine similarity) AND a lexical check, because embeddings alone put
// "use pnpm" and "do not use pnpm" side by side, and words alone miss paraphrases.
//
// Lexical view of a text: lower-cased words, light suffix stemming (installing/installed →
// install), stopwords and filler (instead, rather, should, ...) dropped, and polarity words folded
// into a sign: negators (not, never, without, avoid, n't, ...) flip it, and antonyms map onto one
// key term with a sign (disabled → enable −, false → true −, fails → pass −, forbidden → allow −).
// Key terms are what remains; polarity is the product of the signs.
import { flattenJson, type MemoryContent } from './render.js';

/**
 * Near-duplicate: cosine ≥ 0.55 and key-term Jaccard ≥ 0.7, with the same polarity and (for
 * JSON) no shared key holding a different value. Calibrated with the built-in hash embedder on 13
 * hand-written pairs (5 paraphrases, 4 different facts, 4 contradictions): paraphrases scored cosine
 * 0.78–0.97 and Jaccard 0.71–1; different facts up to cosine 0.71 / Jaccard 0.67 ("the integration
 * tests need Docker running" / "... need Redis running"); the Jaccard gate separates them, the cosine
 * gate is a loose topical check that also holds for MiniLM (whose paraphrases score higher still).
 */
export const DUPLICATE_MIN_COSINE = 0.55;
export const DUPLICATE_MIN_JACCARD = 0.7;
/**
 * Contradiction: the same subject said with the opposite polarity (key terms Jaccard ≥ 0.6,
 * cosine ≥ 0.45; the calibration's contradictions scored cosine 0.71–1 and Jaccard 1: "use pnpm
 * for installs" / "do not use pnpm for installs"), or a JSON object with the same subject (a shared key with an equal value, or the same single key) and a different value
 * for a shared key ({"setting": "cache", "enabled": true} / {..., "enabled": false}).
 */
export const CONTRADICTION_MIN_COSINE = 0.45;
export const CONTRADICTION_MIN_JACCARD = 0.6;

export type Relation = 'duplicate' | 'contradiction' | 'distinct';

export interface LexicalView {
  terms: Set<string>;
  polarity: 1 | -1;
  /** Flattened scalar values of JSON content, by dotted key; undefined for text. */
  fields?: Map<string, string>;
}

const STOPWORDS = new Set(
  (
    'a an the is are was were be been being to of in on at for by with and or it its this that these those we our us you your i ' +
    'as from into should must always please instead rather than any all so then when do does did doing has have had will would ' +
    'can could there here also just only very via make sure shall may might let lets one ones some each every such own same'
  ).split(' '),
);

const NEGATORS = new Set(['not', 'no', 'never', 'without', 'nor', 'neither', 'cannot', 'dont', 'doesnt', 'didnt', 'isnt', 'arent', 'wasnt', 'shouldnt', 'wont', 'cant', 'mustnt', 'avoid', 'avoids', 'avoided', 'avoiding']);

/** Words that carry polarity: their key term and sign. */
const ANTONYMS = new Map<string, [string, 1 | -1]>([
  ...['enable', 'enabled', 'enables', 'enabling'].map((w) => [w, ['enable', 1]] as [string, [string, 1 | -1]]),
  ...['disable', 'disabled', 'disables', 'disabling'].map((w) => [w, ['enable', -1]] as [string, [string, 1 | -1]]),
  ['true', ['true', 1]],
  ['yes', ['true', 1]],
  ['false', ['true', -1]],
  ...['allow', 'allowed', 'allows', 'permitted', 'permit'].map((w) => [w, ['allow', 1]] as [string, [string, 1 | -1]]),
  ...['deny', 'denied', 'denies', 'forbid', 'forbidden', 'prohibited', 'disallow', 'disallowed'].map((w) => [w, ['allow', -1]] as [string, [string, 1 | -1]]),
  ...['pass', 'passes', 'passed', 'passing', 'succeed', 'succeeds', 'succeeded', 'success', 'successful', 'works', 'working'].map((w) => [w, ['pass', 1]] as [string, [string, 1 | -1]]),
  ...['fail', 'fails', 'failed', 'failing', 'failure', 'broken', 'breaks'].map((w) => [w, ['pass', -1]] as [string, [string, 1 | -1]]),
  ...['required', 'require', 'requires', 'mandatory', 'need', 'needs', 'needed'].map((w) => [w, ['require', 1]] as [string, [string, 1 | -1]]),
  ...['optional', 'unnecessary'].map((w) => [w, ['require', -1]] as [string, [string, 1 | -1]]),
]);

export function lexicalView(content: MemoryContent, rendered: string): LexicalView {
  const view = textView(rendered);
  if (typeof content !== 'string') view.fields = new Map(flattenJson(content).map(([key, value]) => [key, value.trim().toLowerCase()]));
  return view;
}

export function textView(text: string): LexicalView {
  const words = text
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
    .replace(/\bcan't\b|\bcan’t\b/g, 'cannot')
    .replace(/\bwon't\b|\bwon’t\b/g, 'will not')
    .replace(/n['’]t\b/g, ' not')
    .match(/[a-z0-9]+/g) ?? [];
  const terms = new Set<string>();
  let polarity: 1 | -1 = 1;
  for (const word of words) {
    if (NEGATORS.has(word)) {
      polarity = polarity === 1 ? -1 : 1;
      if (word.startsWith('avoid')) terms.add('use'); // "avoid X" is "do not use X"
      continue;
    }
    const antonym = ANTONYMS.get(word);
    if (antonym) {
      terms.add(antonym[0]);
      if (antonym[1] === -1) polarity = polarity === 1 ? -1 : 1;
      continue;
    }
    if (STOPWORDS.has(word)) continue;
    terms.add(stem(word));
  }
  return { terms, polarity };
}

/** installing/installed/installs → install, dependencies → dependency, running → run, enable → enabl. */
export function stem(word: string): string {
  if (/^\d/.test(word) || word.length <= 3) return word;
  let w = word;
  if (/ie[sd]$/.test(w) && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('ing') && w.length > 5) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4) w = undouble(w.slice(0, -2));
  else if (w.endsWith('es') && /(ch|sh|ss|x|z)es$/.test(w)) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.endsWith('e') && w.length > 3) w = w.slice(0, -1);
  return w;
}

function undouble(w: string): string {
  return /([^aeioulsz])\1$/.test(w) ? w.slice(0, -1) : w;
}

export function jaccard(a: Set<string>, b: Set<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const term of a) if (b.has(term)) shared++;
  return shared / (a.size + b.size - shared);
}

/** How JSON fields compare: shared keys with equal and with different values. */
function fieldComparison(a: Map<string, string>, b: Map<string, string>): { equal: number; differing: number } {
  let equal = 0;
  let differing = 0;
  for (const [key, value] of a) {
    const other = b.get(key);
    if (other === undefined) continue;
    if (other === value) equal++;
    else differing++;
  }
  return { equal, differing };
}

export function relate(incoming: LexicalView, existing: LexicalView, cosine: number): Relation {
  const overlap = jaccard(incoming.terms, existing.terms);
  if (incoming.fields && existing.fields) {
    const { equal, differing } = fieldComparison(incoming.fields, existing.fields);
    const sameSingleKey = incoming.fields.size === 1 && existing.fields.size === 1 && equal + differing === 1;
    if (differing > 0) {
      return cosine >= CONTRADICTION_MIN_COSINE && (equal > 0 || sameSingleKey) ? 'contradiction' : 'distinct';
    }
  }
  if (cosine >= CONTRADICTION_MIN_COSINE && overlap >= CONTRADICTION_MIN_JACCARD && incoming.polarity !== existing.polarity) return 'contradiction';
  if (cosine >= DUPLICATE_MIN_COSINE && overlap >= DUPLICATE_MIN_JACCARD && incoming.polarity === existing.polarity) return 'duplicate';
  return 'distinct';
}
