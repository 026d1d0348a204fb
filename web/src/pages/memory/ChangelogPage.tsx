export function ChangelogPage() {
  return (
    <div className="page">
      <h1>Changelog</h1>
    </div>
  );
}
