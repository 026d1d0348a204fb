import { Link } from 'react-router';

export function NotFoundPage() {
  return (
    <div className="page">
      <h1>Not found</h1>
      <p>There is no page here.</p>
      <Link to="/">Back to the board</Link>
    </div>
  );
}
