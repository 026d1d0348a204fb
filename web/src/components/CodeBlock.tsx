// A code passage with syntax colours (highlight.js) and line numbers.
import { useMemo } from 'react';
import hljs from 'highlight.js/lib/common';

export function CodeBlock({ code, language, startLine = 1 }: { code: string; language?: string; startLine?: number }) {
  const html = useMemo(() => {
    const known = language && hljs.getLanguage(language) ? language : undefined;
    // highlight.js escapes the code; the markup it adds is spans with classes only.
    return known ? hljs.highlight(code, { language: known, ignoreIllegals: true }).value : hljs.highlightAuto(code).value;
  }, [code, language]);
  const lines = code.split('\n').length;
  return (
    <div className="code-block">
      <pre className="gutter" aria-hidden="true">
        {Array.from({ length: lines }, (_, i) => startLine + i).join('\n')}
      </pre>
      <pre className="code">
        <code dangerouslySetInnerHTML={{ __html: html }} />
      </pre>
    </div>
  );
}
