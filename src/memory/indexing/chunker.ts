// Splits one file into chunks for retrieval: definitions by syntax (tree-sitter), Markdown by heading,
// anything else by line windows; tiny neighbours are merged and long pieces split with overlap.
import type { Node } from 'web-tree-sitter';
import { GRAMMARS, bodyOf, classify, parserFor, signatureEndRow } from './grammars.js';
import type { Definition, GrammarSpec } from './grammars.js';
import { detectLanguage } from './language.js';

export type ChunkKind = 'function' | 'method' | 'class' | 'type' | 'module' | 'section' | 'window';

export interface CodeChunk {
  path: string;
  language: string;
  /** 1-based, inclusive: the chunk's own lines, without the context lines its content starts with. */
  startLine: number;
  endLine: number;
  /** e.g. "AuthService.login", "parse_args", "## Installation". */
  symbol: string | null;
  kind: ChunkKind;
  /** The lines, preceded by the headers of what encloses them (a method's class, a window's signature). */
  content: string;
}

export interface ChunkOptions {
  /** Longest chunk in lines (default 80). */
  maxLines?: number;
  /** Lines repeated between consecutive windows of a long piece (default 10). */
  overlapLines?: number;
  /** Pieces shorter than this merge with their neighbours (default 8; 0 disables merging). */
  minLines?: number;
  /** Longest chunk content in characters (default 6000). */
  maxChars?: number;
}

type Settings = Required<ChunkOptions>;

/** Lines of a signature kept as context: enough for a multi-line parameter list. */
const MAX_SIGNATURE_LINES = 6;

/** The file's lines with prefix sums, so that sizes and blankness of any range cost O(1). */
class Lines {
  readonly text: string[];
  private readonly offsets: number[];
  private readonly filled: number[];

  constructor(content: string) {
    this.text = content.split('\n').map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line));
    this.offsets = [0];
    this.filled = [0];
    for (const line of this.text) {
      this.offsets.push(this.offsets[this.offsets.length - 1]! + line.length + 1);
      this.filled.push(this.filled[this.filled.length - 1]! + (/\S/.test(line) ? 1 : 0));
    }
  }
  get last(): number { return this.text.length - 1; }
  chars(from: number, to: number): number { return this.offsets[to + 1]! - this.offsets[from]!; }
  hasText(from: number, to: number): boolean { return from <= to && this.filled[to + 1]! > this.filled[from]!; }
  /** [from, to] without its blank lines at either end, or null when it has only blank lines. */
  trim(from: number, to: number): [number, number] | null {
    if (!this.hasText(from, to)) return null;
    while (!/\S/.test(this.text[from]!)) from++;
    while (!/\S/.test(this.text[to]!)) to--;
    return [from, to];
  }
  /** The last row in [from, to] such that [from, row] fits in `budget` characters (at least `from`). */
  lastFitting(from: number, to: number, budget: number): number {
    if (this.chars(from, to) <= budget) return to;
    let low = from;
    let high = to;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.chars(from, mid) <= budget) low = mid; else high = mid - 1;
    }
    return low;
  }
  slice(from: number, to: number): string[] { return this.text.slice(from, to + 1); }
}

/** A run of rows (0-based, inclusive) before splitting and merging. */
interface Piece {
  start: number;
  end: number;
  kind: ChunkKind;
  symbol: string | null;
  /** Context lines shown before the piece: the headers of what encloses it. */
  prefix: string[];
  /** The piece's own signature, shown before its windows after the first; ends at row `signatureEnd`. */
  signature: string[];
  signatureEnd: number;
  /** Pieces merge only with neighbours of the same group (the same enclosing definition). */
  group: string;
  mergeable: boolean;
  /** Kinds, symbols and sizes of the pieces merged into this one. */
  parts: { kind: ChunkKind; symbol: string | null; size: number }[];
}

function piece(start: number, end: number, fields: Partial<Piece> & Pick<Piece, 'kind' | 'symbol'>): Piece {
  return { start, end, prefix: [], signature: [], signatureEnd: start, group: '', mergeable: true, parts: [], ...fields };
}

export async function chunkFile(
  path: string,
  content: string,
  language?: string | null,
  options: ChunkOptions = {},
): Promise<CodeChunk[]> {
  const settings: Settings = {
    maxLines: Math.max(1, options.maxLines ?? 80),
    overlapLines: Math.max(0, options.overlapLines ?? 10),
    minLines: Math.max(0, options.minLines ?? 8),
    maxChars: Math.max(1, options.maxChars ?? 6000),
  };
  const lang = language || detectLanguage(path) || 'text';
  const lines = new Lines(content);
  let pieces: Piece[] | null = null;
  if (lang === 'markdown') pieces = markdownPieces(lines);
  else if (GRAMMARS[lang]) pieces = await syntaxPieces(lang, content, lines, settings);
  if (!pieces) {
    const whole = lines.trim(0, lines.last);
    pieces = whole ? [piece(whole[0], whole[1], { kind: 'window', symbol: null })] : [];
  }
  const split = pieces.flatMap((p) => windows(p, lines, settings));
  return merge(split, lines, settings).map((p) => toChunk(p, path, lang, lines, settings));
}

// ---- Syntax: definitions found by tree-sitter ----

interface Found { start: number; end: number; def: Definition; names: string[]; combined: boolean }

interface Scope {
  prefix: string[];
  /** Qualified name of the enclosing definition, prefixed to member names. */
  path: string | null;
  group: string;
  inClass: boolean;
  /** Kind of the code between definitions: 'module' at the top, the container's kind inside it. */
  gapKind: ChunkKind;
}

interface SyntaxContext { spec: GrammarSpec; lines: Lines; settings: Settings; out: Piece[] }

async function syntaxPieces(lang: string, content: string, lines: Lines, settings: Settings): Promise<Piece[] | null> {
  const parser = await parserFor(lang);
  const spec = GRAMMARS[lang];
  if (!parser || !spec) return null;
  let tree;
  try {
    tree = parser.parse(content);
  } catch {
    return null;
  }
  if (!tree) return null;
  try {
    const context: SyntaxContext = { spec, lines, settings, out: [] };
    const top: Scope = { prefix: [], path: null, group: '', inClass: false, gapKind: 'module' };
    collect(nonNull(tree.rootNode.namedChildren), 0, lines.last, top, context);
    return context.out;
  } catch {
    return null;
  } finally {
    tree.delete();
  }
}

const nonNull = (nodes: (Node | null)[]): Node[] => nodes.filter((n): n is Node => n !== null);

/** Last row a node covers (a node ending at column 0 ends with the previous line's newline). */
function endRow(node: Node): number {
  const { row, column } = node.endPosition;
  return column === 0 && row > node.startPosition.row ? row - 1 : row;
}

/** Pieces for rows [from, to] holding the sibling `nodes`: their definitions and the code between them. */
function collect(nodes: Node[], from: number, to: number, scope: Scope, context: SyntaxContext): void {
  const { spec } = context;
  const found: Found[] = [];
  let attached: Node[] = [];
  let lastEnd = -1;
  for (const node of nodes) {
    const row = node.startPosition.row;
    if (spec.attached.has(node.type) && row > lastEnd) {
      const previous = attached[attached.length - 1];
      if (previous && row > endRow(previous) + 1) attached = [];
      attached.push(node);
      continue;
    }
    const def = classify(node, spec);
    if (def) {
      const first = attached[0];
      const last = attached[attached.length - 1];
      const start = Math.max(from, first && last && endRow(last) >= row - 1 ? first.startPosition.row : row);
      const end = Math.min(to, endRow(node));
      const previous = found[found.length - 1];
      if (previous && start <= previous.end) {
        previous.end = Math.max(previous.end, end);
        if (def.name) previous.names.push(def.name);
        previous.combined = true;
      } else {
        found.push({ start, end, def, names: def.name ? [def.name] : [], combined: false });
      }
    }
    attached = [];
    lastEnd = endRow(node);
  }
  let cursor = from;
  for (const definition of found) {
    if (definition.start < cursor) continue;
    gap(cursor, definition.start - 1, scope, context);
    emitDefinition(definition, scope, context);
    cursor = definition.end + 1;
  }
  gap(cursor, to, scope, context);
}

function gap(from: number, to: number, scope: Scope, { lines, out }: SyntaxContext): void {
  const range = lines.trim(from, to);
  if (!range) return;
  out.push(piece(range[0], range[1], { kind: scope.gapKind, symbol: scope.path, prefix: scope.prefix, group: scope.group }));
}

function emitDefinition(found: Found, scope: Scope, context: SyntaxContext): void {
  const { spec, lines, settings, out } = context;
  const { def } = found;
  const kind: ChunkKind = def.kind === 'function' && scope.inClass ? 'method' : def.kind;
  const qualify = (name: string | null): string | null =>
    name === null ? null : scope.path ? `${scope.path}.${name}` : name;
  const symbol = qualify(found.names.join(', ') || null);
  const signatureStart = Math.max(found.start, def.node.startPosition.row);
  const signatureEnd = Math.min(signatureEndRow(def.node), signatureStart + MAX_SIGNATURE_LINES - 1, found.end);
  const signature = lines.slice(signatureStart, signatureEnd);
  const size = found.end - found.start + 1;
  const big = size > settings.maxLines || lines.chars(found.start, found.end) > settings.maxChars;
  if (big && !found.combined && spec.containers.has(def.node.type)) {
    const body = bodyOf(def.node);
    const members = body ? nonNull(body.namedChildren) : [];
    if (members.some((member) => classify(member, spec))) {
      const inner: Scope = {
        prefix: [...scope.prefix, ...signature],
        path: qualify(def.scope ?? def.name),
        group: `${scope.group}/${found.start}`,
        inClass: kind !== 'module',
        gapKind: kind,
      };
      const first = out.length;
      collect(members, found.start, found.end, inner, context);
      const header = out[first];
      if (header && header.start === found.start && header.kind === kind) {
        // The declaration (and fields before the first member) carries its own header lines.
        Object.assign(header, { prefix: scope.prefix, symbol, signature, signatureEnd });
      }
      return;
    }
  }
  out.push(piece(found.start, found.end, { kind, symbol, prefix: scope.prefix, signature, signatureEnd, group: scope.group }));
}

// ---- Markdown: one piece per heading section ----

const ATX_HEADING = /^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)\s*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

function markdownPieces(lines: Lines): Piece[] {
  /** Headings: first row, last row (a setext heading's underline) and symbol. */
  const headings: { row: number; end: number; symbol: string | null }[] = [{ row: 0, end: -1, symbol: null }];
  let fence: string | null = null;
  for (let row = 0; row <= lines.last; row++) {
    const line = lines.text[row]!;
    const fenceMark = FENCE.exec(line)?.[1];
    if (fenceMark) {
      if (fence === null) fence = fenceMark[0]!.repeat(3);
      else if (fenceMark.startsWith(fence)) fence = null;
      continue;
    }
    if (fence !== null) continue;
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      headings.push({ row, end: row, symbol: `${atx[1]} ${atx[2]}`.trim() });
      continue;
    }
    const next = lines.text[row + 1];
    const underline = next === undefined ? null : SETEXT_UNDERLINE.exec(next);
    const paragraphStart = row === 0 || !/\S/.test(lines.text[row - 1]!);
    if (underline && paragraphStart && /\S/.test(line) && !/^\s*([-*+>|]|\d+[.)])\s/.test(line)) {
      headings.push({ row, end: row + 1, symbol: `${underline[1]!.startsWith('=') ? '#' : '##'} ${line.trim()}` });
      row++;
    }
  }
  const pieces: Piece[] = [];
  for (let i = 0; i < headings.length; i++) {
    const { row, end, symbol } = headings[i]!;
    const range = lines.trim(row, (headings[i + 1]?.row ?? lines.last + 1) - 1);
    if (!range) continue;
    const signature = symbol ? [symbol] : [];
    const previous = pieces[pieces.length - 1];
    if (previous && previous.symbol !== null && previous.signatureEnd === previous.end) {
      // A heading with nothing under it but subsections travels with the first subsection.
      Object.assign(previous, { end: range[1], symbol, signature, signatureEnd: end });
      continue;
    }
    pieces.push(piece(range[0], range[1], { kind: 'section', symbol, signature, signatureEnd: end, mergeable: false }));
  }
  return pieces;
}

// ---- Splitting and merging ----

const length = (text: string[]): number => text.reduce((sum, line) => sum + line.length + 1, 0);

/** The first context lines that take at most half of a chunk's characters. */
function contextWithin(context: string[], settings: Settings): string[] {
  let count = 0;
  for (let used = 0; count < context.length; count++) {
    used += context[count]!.length + 1;
    if (used > settings.maxChars / 2) break;
  }
  return count === context.length ? context : context.slice(0, count);
}

/** The piece itself when it fits, else windows of it with overlap, each keeping its context. */
function windows(p: Piece, lines: Lines, settings: Settings): Piece[] {
  const own = contextWithin(p.prefix, settings);
  if (p.end - p.start + 1 <= settings.maxLines && lines.chars(p.start, p.end) <= settings.maxChars - length(own)) {
    return [{ ...p, prefix: own }];
  }
  const result: Piece[] = [];
  for (let from = p.start; ;) {
    const prefix = from > p.signatureEnd ? contextWithin([...p.prefix, ...p.signature], settings) : own;
    const to = lines.lastFitting(from, Math.min(p.end, from + settings.maxLines - 1), settings.maxChars - length(prefix));
    const range = lines.trim(from, to);
    if (range) result.push({ ...p, start: range[0], end: range[1], prefix, mergeable: false });
    if (to >= p.end) break;
    const overlap = Math.min(settings.overlapLines, Math.floor((to - from + 1) / 2));
    from = Math.max(from + 1, to - overlap + 1);
  }
  return result;
}

/** Closing lines (`}`, `end`, `};`) that belong with whatever precedes them. */
const CLOSING = /^[\s{}()[\];,]*(?:end)?[\s{}()[\];,]*$/;

function merge(pieces: Piece[], lines: Lines, settings: Settings): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const own = { kind: p.kind, symbol: p.symbol, size: p.end - p.start + 1 };
    const last = out[out.length - 1];
    if (last && last.end < p.start) {
      const same = last.group === p.group;
      const tiny = last.end - last.start + 1 < settings.minLines || own.size < settings.minLines;
      const fits = p.end - last.start + 1 <= settings.maxLines &&
        lines.chars(last.start, p.end) + length(last.prefix) <= settings.maxChars;
      const closing = own.size <= 2 && CLOSING.test(lines.slice(p.start, p.end).join('\n'));
      if (same && tiny && fits && last.mergeable && p.mergeable) {
        last.end = p.end;
        last.parts.push(own);
        continue;
      }
      if (closing) {
        last.end = p.end;
        continue;
      }
    }
    out.push({ ...p, parts: [own] });
  }
  return out;
}

function toChunk(p: Piece, path: string, language: string, lines: Lines, settings: Settings): CodeChunk {
  let kind = p.kind;
  let largest = 0;
  const symbols: string[] = [];
  for (const part of p.parts) {
    // Definitions name a merged chunk's kind before the code between them does.
    const size = part.kind === 'module' ? part.size / 1000 : part.size;
    if (size > largest) [largest, kind] = [size, part.kind];
    if (part.symbol !== null && !symbols.includes(part.symbol)) symbols.push(part.symbol);
  }
  const symbol = symbols.length > 4 ? `${symbols.slice(0, 4).join(', ')}, …` : symbols.join(', ') || null;
  const content = [...p.prefix, ...lines.slice(p.start, p.end)].join('\n');
  return {
    path,
    language,
    startLine: p.start + 1,
    endLine: p.end + 1,
    symbol,
    kind,
    content: content.length > settings.maxChars ? content.slice(0, settings.maxChars) : content,
  };
}
