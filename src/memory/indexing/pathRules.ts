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

/** A matcher for the request's globs (every file when there are none); 400 naming a bad pattern. */
export function globMatcher(patterns: readonly string[] | undefined): (path: string) => boolean {
  if (!patterns || patterns.length === 0) return () => true;
  const problems: FieldProblem[] = [];
  patterns.forEach((pattern, i) => {
    if (pattern.includes('\0')) problems.push({ field: `paths.${i}`, message: 'contains a NUL character' });
    else if (pattern.startsWith('/') || pattern.split('/').includes('..')) {
      problems.push({ field: `paths.${i}`, message: 'must be relative to the project root, without ".."' });
    }
  });
  if (problems.length > 0) throw new AppError('validation_failed', `${problems[0]!.field}: ${problems[0]!.message}`, problems);
  try {
    return picomatch([...patterns], { dot: true });
  } catch (error) {
    throw new AppError('validation_failed', `paths: not a valid glob (${(error as Error).message})`, [{ field: 'paths', message: 'is not a valid glob' }]);
  }
}
