// A job branch's changes (GET /jobs/:id/diff?format=json): one collapsible panel per file with its
// hunks, line numbers and syntax colours (react-diff-view, highlight.js).
import { useMemo, useState } from 'react';
import { Diff, Hunk, parseDiff, tokenize, type HunkData } from 'react-diff-view';
import type { DiffFile } from '../api/types';
import { languageOf, refractorLike } from './highlight';

/** The file's patch as git prints it, whether or not the service sent the headers. */
function fullPatch(file: DiffFile): string {
  if (/^diff --git /m.test(file.patch)) return file.patch;
  const headers = /^--- /m.test(file.patch) ? '' : `--- a/${file.path}\n+++ b/${file.path}\n`;
  return `diff --git a/${file.path} b/${file.path}\n${headers}${file.patch}`;
}

function FileDiff({ file, viewType }: { file: DiffFile; viewType: 'unified' | 'split' }) {
  const [open, setOpen] = useState(true);
  const parsed = useMemo(() => parseDiff(fullPatch(file))[0], [file]);
  const tokens = useMemo(() => {
    if (!parsed || parsed.hunks.length === 0) return undefined;
    const language = languageOf(file.path);
    try {
      return language ? tokenize(parsed.hunks, { highlight: true, refractor: refractorLike as never, language }) : tokenize(parsed.hunks);
    } catch {
      return undefined;
    }
  }, [parsed, file.path]);
  return (
    <section className="diff-file" aria-label={file.path}>
      <header>
        <button type="button" className="link diff-toggle" aria-expanded={open} onClick={() => setOpen(!open)}>
          <span aria-hidden="true">{open ? '▾' : '▸'}</span> <span className="mono">{file.old_path && file.old_path !== file.path ? `${file.old_path} → ${file.path}` : file.path}</span>
        </button>
        <span className={`badge file-${file.status}`}>{file.status}</span>
        <span className="ins">+{file.insertions}</span>
        <span className="del">−{file.deletions}</span>
      </header>
      {open ? (
        parsed && parsed.hunks.length > 0 ? (
          <div className="diff-scroll">
            <Diff viewType={viewType} diffType={parsed.type} hunks={parsed.hunks} tokens={tokens}>
              {(hunks: HunkData[]) => hunks.map((hunk) => <Hunk key={hunk.content} hunk={hunk} />)}
            </Diff>
          </div>
        ) : (
          <p className="muted pad">No textual changes (binary, mode change or rename).</p>
        )
      ) : null}
    </section>
  );
}

export function DiffView({ files }: { files: DiffFile[] }) {
  const [viewType, setViewType] = useState<'unified' | 'split'>('unified');
  const totals = files.reduce((t, f) => ({ ins: t.ins + f.insertions, del: t.del + f.deletions }), { ins: 0, del: 0 });
  return (
    <div className="diff">
      <div className="diff-summary">
        <span>
          {files.length} {files.length === 1 ? 'file' : 'files'} changed, <span className="ins">+{totals.ins}</span> <span className="del">−{totals.del}</span>
        </span>
        <div className="segmented" role="group" aria-label="Diff layout">
          <button type="button" aria-pressed={viewType === 'unified'} onClick={() => setViewType('unified')}>
            Unified
          </button>
          <button type="button" aria-pressed={viewType === 'split'} onClick={() => setViewType('split')}>
            Split
          </button>
        </div>
      </div>
      {files.map((file) => (
        <FileDiff key={file.path} file={file} viewType={viewType} />
      ))}
    </div>
  );
}
