// What a branch holds beyond its base, on real repositories: one commit, several, a merge, binary
// files, odd paths, renames; and saving leftovers.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectBranchWork, saveWork } from '../../src/orchestrator/worktrees/branchWork.js';
import { createTestRepo, gitIn } from '../support/repo.js';

function branchRepo() {
  const repo = createTestRepo({ 'README.md': '# r\n', 'old name.txt': 'one\ntwo\n' });
  gitIn(repo, 'checkout', '-q', '-b', 'work');
  return repo;
}

describe('branch work', () => {
  it('reports nothing for a branch without commits, and saves nothing from a clean tree', async () => {
    const repo = branchRepo();
    expect(await saveWork(repo, 'nothing')).toBeNull();
    expect(await collectBranchWork(repo, 'main')).toEqual({ commits: [], files_changed: [], diff_stat: { files: 0, insertions: 0, deletions: 0 } });
  });

  it('saves leftovers (new, changed, binary, odd names) as one commit and describes it', async () => {
    const repo = branchRepo();
    writeFileSync(path.join(repo, 'README.md'), '# r\nmore\n');
    writeFileSync(path.join(repo, 'tab\there "q".txt'), 'x\n');
    writeFileSync(path.join(repo, 'blob.bin'), Buffer.from([0, 1, 2, 0, 255]));
    const sha = await saveWork(repo, 'autobuild: save');
    expect(sha).toMatch(/^[0-9a-f]{7,}$/);
    const work = await collectBranchWork(repo, 'main');
    expect(work.commits).toEqual([{ sha: gitIn(repo, 'rev-parse', 'HEAD'), message: 'autobuild: save' }]);
    expect(work.files_changed.sort()).toEqual(['README.md', 'blob.bin', 'tab\there "q".txt']);
    expect(work.diff_stat).toEqual({ files: 3, insertions: 2, deletions: 0 });
  });

  it("never saves an agent's torn atomic write (Claude Code's <file>.tmp.<pid>.<hex>), at any depth, but keeps look-alikes", async () => {
    const repo = branchRepo();
    writeFileSync(path.join(repo, 'big.txt.tmp.31427.860d7e652101'), 'half a file');
    mkdirSync(path.join(repo, 'src'));
    writeFileSync(path.join(repo, 'src', 'a.ts.tmp.7.0123456789ab'), 'half');
    // Not the pattern: kept like any file.
    writeFileSync(path.join(repo, 'notes.tmp.txt'), 'n\n');
    writeFileSync(path.join(repo, 'data.tmp.1.abc'), 'd\n');
    writeFileSync(path.join(repo, 'src', 'b.ts'), 'b\n');
    expect(await saveWork(repo, 'autobuild: save')).not.toBeNull();
    expect((await collectBranchWork(repo, 'main')).files_changed.sort()).toEqual(['data.tmp.1.abc', 'notes.tmp.txt', 'src/b.ts']);
    // Only torn writes left: nothing to save.
    gitIn(repo, 'checkout', '-q', '-b', 'only-torn', 'main');
    expect(await saveWork(repo, 'nothing')).toBeNull();
  });

  it('uses the net diff against the merge base when the branch has several commits or a merge', async () => {
    const repo = branchRepo();
    writeFileSync(path.join(repo, 'a.txt'), 'a\n');
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-qm', 'add a');
    renameSync(path.join(repo, 'old name.txt'), path.join(repo, 'new name.txt'));
    writeFileSync(path.join(repo, 'a.txt'), 'a\nb\n');
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-qm', 'rename and grow');
    // main moves on meanwhile; its change is not the branch's work.
    gitIn(repo, 'checkout', '-q', 'main');
    writeFileSync(path.join(repo, 'main-only.txt'), 'm\n');
    gitIn(repo, 'add', '-A');
    gitIn(repo, 'commit', '-qm', 'main moves');
    gitIn(repo, 'checkout', '-q', 'work');
    const work = await collectBranchWork(repo, 'main');
    expect(work.commits.map((c) => c.message)).toEqual(['add a', 'rename and grow']);
    expect(work.files_changed.sort()).toEqual(['a.txt', 'new name.txt', 'old name.txt']);
    expect(work.diff_stat).toEqual({ files: 3, insertions: 4, deletions: 2 });

    // A merge of main into the branch: main's file still is not the branch's work.
    gitIn(repo, 'merge', '-q', '--no-edit', 'main');
    const merged = await collectBranchWork(repo, 'main');
    expect(merged.files_changed).not.toContain('main-only.txt');
  });
});
