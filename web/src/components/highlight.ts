// Syntax colours for the diff: highlight.js (common languages) turned into the token trees
// react-diff-view's tokenizer expects from refractor (spans with classes, text leaves).
import hljs from 'highlight.js/lib/common';

interface HastText {
  type: 'text';
  value: string;
}
interface HastElement {
  type: 'element';
  tagName: 'span';
  properties: { className: string[] };
  children: HastNode[];
}
type HastNode = HastText | HastElement;

const BY_EXTENSION: Record<string, string> = {
  ts: 'typescript', tsx: 'typescript', mts: 'typescript', cts: 'typescript', js: 'javascript', jsx: 'javascript', mjs: 'javascript', cjs: 'javascript',
  json: 'json', py: 'python', go: 'go', rs: 'rust', java: 'java', kt: 'kotlin', rb: 'ruby', php: 'php', c: 'c', h: 'c', cc: 'cpp', cpp: 'cpp', hpp: 'cpp',
  cs: 'csharp', swift: 'swift', css: 'css', scss: 'scss', less: 'less', html: 'xml', xml: 'xml', svg: 'xml', md: 'markdown', sh: 'bash', bash: 'bash',
  yml: 'yaml', yaml: 'yaml', toml: 'ini', ini: 'ini', sql: 'sql', lua: 'lua', pl: 'perl', r: 'r', diff: 'diff', makefile: 'makefile', dockerfile: 'dockerfile',
};

export function languageOf(path: string): string | undefined {
  const name = path.split('/').pop()?.toLowerCase() ?? '';
  const extension = name.includes('.') ? name.split('.').pop()! : name;
  const language = BY_EXTENSION[extension];
  return language && hljs.getLanguage(language) ? language : undefined;
}

function toHast(node: Node): HastNode[] {
  if (node.nodeType === Node.TEXT_NODE) return [{ type: 'text', value: node.textContent ?? '' }];
  if (node instanceof HTMLElement) {
    const children = [...node.childNodes].flatMap(toHast);
    return [{ type: 'element', tagName: 'span', properties: { className: [...node.classList] }, children }];
  }
  return [];
}

/** The refractor-shaped highlighter react-diff-view's tokenize() takes. */
export const refractorLike = {
  highlight(text: string, language: string): HastNode[] {
    const html = hljs.highlight(text, { language, ignoreIllegals: true }).value;
    // A template's content is parsed, never run or loaded.
    const template = document.createElement('template');
    template.innerHTML = html;
    return [...template.content.childNodes].flatMap(toHast);
  },
};
