// Owns what a file path inside a project may be (relative, `/`-separated, no `..`, no NUL: it can
// never name anything outside the project) and the `paths` globs that select files.
import picomatch from 'picomatch';
import { AppError, type FieldProblem } from '../../platform/errors.js';

export const MAX_PATH_LENGTH = 4096;

/** Why `path` is not a project-relative file path, or undefined when it is one. */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'is empty';
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (path.includes('\0')) return 'contains a NUL character';
  if (path.includes('\\')) return 'contains a backslash; separate directories with "/"';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute; give it relative to the project root';
  const segments = path.split('/');
  if (segments.includes('..')) return 'contains ".." and would leave the project';
  if (segments.some((segment) => segment === '' || segment === '.')) return 'has an empty or "." segment; give it in its plain form (a/b.ts)';
  return undefined;
}

// picomatch matches with backtracking regular expressions, so a short glob can make one match run
// for minutes: '*a*a*a*a*a*a*a*ab' against a 60-character path took 21 s, '{a,aa}' thirty times
// then 'b' minutes, the whole service stalled meanwhile. Without alternation, with at most 3 runs
// of '*' (2 in one segment) and 2 '**' segments, a match stays about quadratic in the path's length
// (worst found in a million random globs against 4 KB paths: 0.12 s). So braces, which users write
// ("**/*.{ts,tsx}"), are expanded here into globs of their own (a few flat groups, a bounded
// number of globs) and each is held to the wildcard limits; extglobs' parentheses and "|" are refused.
const MAX_STAR_RUNS = 3;
const MAX_STAR_RUNS_PER_SEGMENT = 2;
const MAX_GLOBSTARS = 2;
const MAX_BRACE_GROUPS = 2;
const MAX_BRACE_ALTERNATIVES = 8;

/** An unescaped brace group without braces inside ("\\{" is a literal brace, left to picomatch). */
const BRACE_GROUP = /(?<!\\)\{((?:[^{}\\]|\\.)*)\}/g;
/** A backslash-escaped character. */
const ESCAPED = /\\./g;

/** Why the brace groups of `pattern` are not accepted, or undefined. */
function braceProblem(pattern: string): string | undefined {
  const groups = [...pattern.matchAll(BRACE_GROUP)];
  if (/[{}]/.test(pattern.replace(BRACE_GROUP, '').replace(ESCAPED, ''))) return 'has nested or unbalanced braces';
  if (groups.length > MAX_BRACE_GROUPS) return `has more than ${MAX_BRACE_GROUPS} brace groups`;
  for (const [, body] of groups) {
    const alternatives = body!.split(',');
    if (alternatives.length < 2 || body!.includes('..')) return 'has braces that are not a list of alternatives ("{ts,tsx}")';
    if (alternatives.length > MAX_BRACE_ALTERNATIVES) return `has more than ${MAX_BRACE_ALTERNATIVES} alternatives in one brace group`;
  }
  return undefined;
}

/** "src/*.{ts,tsx}" → ["src/*.ts", "src/*.tsx"]: every combination of the (flat) brace groups' alternatives. */
export function expandBraces(pattern: string): string[] {
  const match = new RegExp(BRACE_GROUP.source).exec(pattern);
  if (!match) return [pattern];
  const before = pattern.slice(0, match.index);
  const after = pattern.slice(match.index + match[0].length);
  return match[1]!.split(',').flatMap((alternative) => expandBraces(before + alternative + after));
}

/** Why one brace-free glob is not accepted, or undefined. */
function wildcardProblem(glob: string): string | undefined {
  const segments = glob.split('/');
  if (glob.startsWith('/') || segments.includes('..')) return 'must be relative to the project root, without ".."';
  const runs = segments.map((segment) => (segment === '**' ? 1 : (segment.match(/\*+/g) ?? []).length));
  const globstars = segments.filter((segment) => segment === '**').length;
  if (runs.reduce((sum, n) => sum + n, 0) > MAX_STAR_RUNS || runs.some((n) => n > MAX_STAR_RUNS_PER_SEGMENT) || globstars > MAX_GLOBSTARS) {
    return `has too many wildcards: at most ${MAX_STAR_RUNS} "*" or "**", ${MAX_STAR_RUNS_PER_SEGMENT} in one segment, ${MAX_GLOBSTARS} "**"`;
  }
  return undefined;
}

/** Why `pattern` is not an accepted glob, or undefined when it is one. */
export function globProblem(pattern: string): string | undefined {
  if (pattern.includes('\0')) return 'contains a NUL character';
  if (/[()|]/.test(pattern)) return 'uses parentheses or "|" (extglobs are not supported); give each alternative as a glob of its own or in braces';
  const braces = braceProblem(pattern);
  if (braces) return braces;
  for (const glob of expandBraces(pattern)) {
    const problem = wildcardProblem(glob);
    if (problem) return problem;
  }
  return undefined;
}

/**
 * One accepted glob's matcher. A leading "!" negates the whole glob, braces included: "!*.{md,txt}"
 * is neither *.md nor *.txt. (Expanded first, it would be "!*.md" or "!*.txt", which every path matches.)
 */
function patternMatcher(pattern: string): (path: string) => boolean {
  if (pattern.startsWith('!')) {
    const excluded = picomatch(expandBraces(pattern.slice(1)), { dot: true });
    return (path) => !excluded(path);
  }
  return picomatch(expandBraces(pattern), { dot: true });
}

/** A matcher for the request's globs (every file when there are none); 400 naming a bad pattern. */
export function globMatcher(patterns: readonly string[] | undefined): (path: string) => boolean {
  if (!patterns || patterns.length === 0) return () => true;
  const problems: FieldProblem[] = [];
  patterns.forEach((pattern, i) => {
    const problem = globProblem(pattern);
    if (problem) problems.push({ field: `paths.${i}`, message: problem });
  });
  if (problems.length > 0) throw new AppError('validation_failed', `${problems[0]!.field}: ${problems[0]!.message}`, problems);
  try {
    const matchers = patterns.map(patternMatcher);
    return (path) => matchers.some((matches) => matches(path));
  } catch (error) {
    throw new AppError('validation_failed', `paths: not a valid glob (${(error as Error).message})`, [{ field: 'paths', message: 'is not a valid glob' }]);
  }
}
