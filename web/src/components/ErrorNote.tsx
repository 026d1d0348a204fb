import { ApiError } from '../api/client';

/** A failed request, as the API explained it. */
export function ErrorNote({ error, what }: { error: unknown; what?: string }) {
  // A 401 is the token prompt's business, not the page's.
  if (!error || (error instanceof ApiError && error.status === 401)) return null;
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  return (
    <p className="error-note" role="alert">
      {what ? `${what}: ` : ''}
      {message}
    </p>
  );
}
