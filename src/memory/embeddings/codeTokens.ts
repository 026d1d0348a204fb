// Owns code-aware tokenisation, shared by the hash embedder and full-text search: identifiers split
// on camelCase, PascalCase, snake_case, kebab-case and digits, lowercased, lightly stemmed, with
// stop words and keywords of little meaning dropped, and the whole multi-part identifier kept too.

/** One identifier (or number) of the text: its stemmed parts, and the joined form when it has several. */
export interface IdentifierTerms {
  /** The parts joined and lowercased (`authenticateUser` → `authenticateuser`); only for multi-part identifiers. */
  whole?: string;
  parts: string[];
}

// Runs of letters, digits, `_` and `$` starting with a letter/`_`/`$`, hyphen-joined for kebab-case; or bare numbers.
const IDENTIFIER = /[\p{L}_$][\p{L}\p{N}_$]*(?:-\p{L}[\p{L}\p{N}_$]*)*|\p{N}+/gu;
const MAX_TOKEN_LENGTH = 48; // longer runs are hashes, base64 or minified noise

// English function words and keywords that appear everywhere in code and say nothing about it.
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'and', 'or', 'not', 'of', 'to', 'in', 'on', 'at', 'by', 'for', 'from', 'with', 'as', 'into',
  'is', 'are', 'was', 'were', 'be', 'been', 'being', 'am', 'it', 'its', 'this', 'that', 'these', 'those', 'there',
  'here', 'then', 'than', 'so', 'but', 'if', 'else', 'elif', 'do', 'does', 'did', 'has', 'have', 'had', 'can',
  'could', 'should', 'would', 'will', 'shall', 'may', 'might', 'must', 'we', 'you', 'they', 'he', 'she', 'i', 'me',
  'my', 'our', 'your', 'their', 'them', 'us', 'which', 'who', 'what', 'when', 'where', 'how', 'why', 'all', 'any',
  'some', 'no', 'yes', 'such', 'only', 'also', 'just', 'very', 'about', 'over', 'under', 'out', 'up', 'down',
  'const', 'let', 'var', 'function', 'func', 'fn', 'def', 'return', 'returns', 'while', 'switch', 'case', 'break',
  'continue', 'new', 'self', 'void', 'null', 'nil', 'none', 'undefined', 'true', 'false', 'import', 'export',
  'default', 'public', 'private', 'protected', 'static', 'final', 'readonly', 'async', 'await', 'try', 'catch',
  'finally', 'throw', 'throws', 'pass', 'end', 'begin', 'elsif', 'unless', 'typeof', 'instanceof', 'extends',
  'implements', 'package', 'use', 'using', 'namespace', 'pub', 'mut', 'impl', 'var', 'val', 'fun', 'lambda',
]);

/** The token stream of a text: for each identifier its whole form (if multi-part) then its parts. */
export function codeTokens(text: string): string[] {
  const tokens: string[] = [];
  for (const terms of identifierTerms(text)) {
    if (terms.whole !== undefined) tokens.push(terms.whole);
    for (const part of terms.parts) tokens.push(part);
  }
  return tokens;
}

/** The identifiers of a text in order, each split into meaningful parts; identifiers with none are omitted. */
export function identifierTerms(text: string): IdentifierTerms[] {
  const out: IdentifierTerms[] = [];
  for (const match of text.matchAll(IDENTIFIER)) {
    const raw = match[0];
    if (raw.length > MAX_TOKEN_LENGTH) continue;
    const rawParts = splitIdentifier(raw);
    const parts: string[] = [];
    for (const rawPart of rawParts) {
      const part = normalisePart(rawPart);
      if (part !== undefined) parts.push(part);
    }
    if (parts.length === 0) continue;
    if (rawParts.length > 1) {
      const whole = rawParts.join('');
      if (whole.length > 2 && !STOP_WORDS.has(whole)) {
        out.push({ whole, parts });
        continue;
      }
    }
    out.push({ parts });
  }
  return out;
}

/** Splits one identifier into lowercase parts at separators, case changes and letter/digit changes. */
export function splitIdentifier(identifier: string): string[] {
  const parts: string[] = [];
  let start = 0;
  const push = (end: number): void => {
    if (end > start) parts.push(identifier.slice(start, end).toLowerCase());
  };
  for (let i = 0; i < identifier.length; i++) {
    const c = identifier.charCodeAt(i);
    if (c === 95 /* _ */ || c === 45 /* - */ || c === 36 /* $ */) {
      push(i);
      start = i + 1;
      continue;
    }
    if (i === start) continue;
    const prev = charClass(identifier.charCodeAt(i - 1));
    const cur = charClass(c);
    const boundary =
      (prev === LOWER && cur === UPPER) || // fooBar
      (prev !== DIGIT && cur === DIGIT) || // utf8, base64
      (prev === DIGIT && cur !== DIGIT) || // 3d, v2Api
      (prev === UPPER && cur === UPPER && charClass(identifier.charCodeAt(i + 1)) === LOWER); // HTTPServer
    if (boundary) {
      push(i);
      start = i;
    }
  }
  push(identifier.length);
  return parts;
}

const LOWER = 0;
const UPPER = 1;
const DIGIT = 2;
const OTHER = 3;

function charClass(c: number): number {
  if (c >= 97 && c <= 122) return LOWER;
  if (c >= 65 && c <= 90) return UPPER;
  if (c >= 48 && c <= 57) return DIGIT;
  if (Number.isNaN(c)) return OTHER;
  return c > 127 ? LOWER : OTHER; // other scripts: letters without case splitting
}

function normalisePart(part: string): string | undefined {
  const c = part.charCodeAt(0);
  if (c >= 48 && c <= 57) return part.length >= 2 && part.length <= 8 ? part : undefined; // 404, 8080, 64
  if (part.length < 2 || STOP_WORDS.has(part)) return undefined;
  const stem = stemWord(part);
  return STOP_WORDS.has(stem) ? undefined : stem;
}

/**
 * Light suffix stripping so that inflections meet: plural -s/-es/-ies, -ing, -ed, and a final -e
 * (`parse`, `parses`, `parsing`, `parsed` → `pars`). Deliberately weak: sub-word n-grams do the rest.
 */
export function stemWord(word: string): string {
  let w = word;
  if (w.length <= 3) return w;
  if (w.endsWith('ies') && w.length > 4) return w.slice(0, -3) + 'y';
  if (w.endsWith('ied') && w.length > 4) return w.slice(0, -3) + 'y';
  if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  if (w.endsWith('ing') && w.length > 5 && hasVowel(w, w.length - 3)) w = undouble(w.slice(0, -3));
  else if (w.endsWith('ed') && w.length > 4 && !w.endsWith('eed') && hasVowel(w, w.length - 2)) w = undouble(w.slice(0, -2));
  if (w.endsWith('e') && w.length > 4 && !w.endsWith('ee')) w = w.slice(0, -1);
  return w;
}

function hasVowel(w: string, end: number): boolean {
  for (let i = 0; i < end; i++) if ('aeiouy'.includes(w[i] ?? '')) return true;
  return false;
}

function undouble(w: string): string {
  const n = w.length;
  if (n < 4) return w;
  const last = w[n - 1];
  if (last === w[n - 2] && last !== 'l' && last !== 's' && last !== 'z' && !'aeiou'.includes(last ?? '')) return w.slice(0, -1);
  return w;
}
