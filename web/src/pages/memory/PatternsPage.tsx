export function PatternsPage() {
  return (
    <div className="page">
      <h1>Patterns</h1>
    </div>
  );
}
