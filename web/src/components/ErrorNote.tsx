import { ApiError } from '../api/client';

/** A failed request, as the API explained it. */
export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  if (!error) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const unauthorized = error instanceof ApiError && error.status === 401;
  return (
    <p className="error-note" role="alert">
      {what ? `${what}: ` : ''}
      {unauthorized ? 'a token is needed' : message}
    </p>
  );
}
