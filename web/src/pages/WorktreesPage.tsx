export function WorktreesPage() {
  return (
    <div className="page">
      <h1>Worktrees</h1>
    </div>
  );
}
