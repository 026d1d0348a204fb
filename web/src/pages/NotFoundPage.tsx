export function NotFoundPage() {
  return (
    <div className="page">
      <h1>Not found</h1>
    </div>
  );
}
