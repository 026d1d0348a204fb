// Owns reading a search query: its code tokens (the same tokeniser as the index), the identifiers
// it names (`claimJobs`, `parse_args`, `AuthService.login`, a one-word query), and the full-text
// lexemes of those identifiers (looked up in symbol names).
import { codeTokens, identifierTerms } from '../embeddings/codeTokens.js';

export interface QueryIdentifier {
  /** As written. */
  raw: string;
  /** Lowercased without separators: compared with symbol names the same way. */
  key: string;
}

export interface QueryTerms {
  /** Distinct code tokens of the query (whole identifiers and their parts). */
  tokens: string[];
  identifiers: QueryIdentifier[];
  /** to_tsquery text: any identifier, to look up in symbol names; undefined when the query names none. */
  symbolQuery: string | undefined;
  /** Whether the query is about tests (then test files are not demoted). */
  mentionsTests: boolean;
}

const MAX_TOKENS = 64;
const LEXEME = /^[\p{L}\p{N}]+$/u;
const WORD = /[\p{L}_$][\p{L}\p{N}_$]*/gu;
const CODE_LIKE = /`([^`]+)`|(\S+)\(|([\p{L}_$][\p{L}\p{N}_$]*(?:\.[\p{L}_$][\p{L}\p{N}_$]*)+)/gu;

export function identifierKey(name: string): string {
  return name.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/** A word is an identifier when it is written like one: camelCase, snake_case, `$`, or code-quoted. */
function looksLikeIdentifier(word: string, quoted: boolean, onlyWord: boolean): boolean {
  if (quoted || onlyWord) return true;
  return /[\p{Ll}\p{N}][\p{Lu}]/u.test(word) || /\p{L}[_$]+\p{L}/u.test(word) || /^[_$]/.test(word);
}

export function parseQuery(query: string): QueryTerms {
  const tokens = [...new Set(codeTokens(query))].filter((token) => LEXEME.test(token)).slice(0, MAX_TOKENS);
  // Code-quoted words, calls (`render(`) and dotted names (`AuthService.login`) are identifiers.
  const quoted = new Set([...query.matchAll(CODE_LIKE)].flatMap((m) => (m[1] ?? m[2] ?? m[3] ?? '').match(WORD) ?? []));
  const words = query.match(WORD) ?? [];
  const identifiers: QueryIdentifier[] = [];
  const lexemes = new Set<string>();
  for (const word of words) {
    if (!looksLikeIdentifier(word, quoted.has(word), words.length === 1)) continue;
    const terms = identifierTerms(word)[0];
    const lexeme = terms?.whole ?? terms?.parts[0];
    if (!lexeme || !LEXEME.test(lexeme)) continue;
    lexemes.add(lexeme);
    if (!identifiers.some((known) => known.raw === word)) identifiers.push({ raw: word, key: identifierKey(word) });
  }
  return {
    tokens,
    identifiers,
    symbolQuery: lexemes.size > 0 ? [...lexemes].join(' | ') : undefined,
    mentionsTests: /\b(tests?|specs?|testing)\b/i.test(query),
  };
}
