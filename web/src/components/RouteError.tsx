import { isRouteErrorResponse, Link, useRouteError } from 'react-router';

export function RouteError() {
  const error = useRouteError();
  const message = isRouteErrorResponse(error) ? `${error.status} ${error.statusText}` : error instanceof Error ? error.message : 'Something went wrong.';
  return (
    <main id="main" className="page">
      <h1>Something went wrong</h1>
      <p className="error-note">{message}</p>
      <Link to="/">Back to the board</Link>
    </main>
  );
}
