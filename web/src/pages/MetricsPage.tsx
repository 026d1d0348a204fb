export function MetricsPage() {
  return (
    <div className="page">
      <h1>Metrics</h1>
    </div>
  );
}
