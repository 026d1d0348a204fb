// Opaque list cursors: base64url JSON that only this service reads; anything else is a 400.
import { AppError } from '../errors.js';

export function encodeCursor(value: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

export function decodeCursor<T extends Record<string, string | number>>(cursor: string, shape: Record<keyof T, 'string' | 'number' | 'digits'>): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    parsed !== null &&
    typeof parsed === 'object' &&
    Object.entries(shape).every(([key, kind]) => {
      const value = (parsed as Record<string, unknown>)[key];
      if (kind === 'digits') return typeof value === 'string' && /^\d{1,18}$/.test(value);
      return typeof value === kind;
    });
  if (!ok) throw new AppError('invalid_cursor', 'cursor is not one this service issued', [{ field: 'cursor', message: 'is invalid' }]);
  return parsed as T;
}
