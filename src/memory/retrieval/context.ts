// Owns building an agent's context for a task: the best chunks for it (hybrid search), overlapping
// and adjacent ones of a file merged, grouped by file under path headings with fenced code, added
// best first while the markdown stays within max_tokens (counted with a real tokenizer); and, ahead
// of the code (short, and what to read before it), the project's memories and learned patterns
// that speak to the task.
//
// Budget: code has priority. Memories and patterns may take at most KNOWLEDGE_SHARE of max_tokens;
// code gets all the rest, including what they leave of their share; whatever code then leaves
// unused goes back to them. Memories and patterns count towards max_tokens like the code.
import { AppError } from '../../platform/errors.js';
import { recallMemories, type MemoryView } from '../memories/memories.js';
import type { PatternView } from '../patterns/describe.js';
import { relevantPatterns } from '../patterns/patterns.js';
import { taskTerms } from '../patterns/taskTerms.js';
import { fitKnowledge, relevantToTask, type FittedKnowledge } from './knowledge.js';
import { countTokens } from './tokenCount.js';
import { searchCode, type SearchDeps, type SearchHit } from './search.js';

export interface ContextSource {
  path: string;
  start_line: number;
  end_line: number;
}

export interface BuiltContext {
  context: string;
  tokens: number;
  sources: ContextSource[];
}

/** A run of a file's lines: the headers of what encloses it, then its own lines by number. */
interface Span {
  start: number;
  end: number;
  prefix: string[];
  lines: Map<number, string>;
}

interface FileGroup {
  path: string;
  language: string;
  spans: Span[];
}

/** Chunk contents start with their enclosing headers; the last (end - start + 1) lines are the chunk's own. */
function spanOf(hit: SearchHit): Span {
  const all = hit.content.split('\n');
  const own = hit.end_line - hit.start_line + 1;
  const prefix = all.length > own ? all.slice(0, all.length - own) : [];
  const body = all.length > own ? all.slice(all.length - own) : all;
  const lines = new Map(body.map((line, i) => [hit.start_line + i, line] as const));
  return { start: hit.start_line, end: hit.start_line + body.length - 1, prefix, lines };
}

/**
 * Lines two spans may be apart and still merge: chunks cover every non-blank line, so the lines
 * between neighbouring chunks are blank ones (rendered empty).
 */
const ADJACENT_GAP = 2;

/** The group with the span added, merged with every span it overlaps or touches. */
function withSpan(group: FileGroup, span: Span): FileGroup {
  let merged = { ...span, lines: new Map(span.lines) };
  const rest: Span[] = [];
  for (const other of group.spans) {
    if (other.start <= merged.end + 1 + ADJACENT_GAP && merged.start <= other.end + 1 + ADJACENT_GAP) {
      const first = other.start <= merged.start ? other : merged;
      const lines = new Map([...merged.lines, ...other.lines]);
      merged = { start: Math.min(other.start, merged.start), end: Math.max(other.end, merged.end), prefix: first.prefix, lines };
    } else {
      rest.push(other);
    }
  }
  return { ...group, spans: [...rest, merged].sort((a, b) => a.start - b.start) };
}

function fenceFor(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

function renderGroup(group: FileGroup): string {
  const parts = [`## ${group.path}`];
  for (const span of group.spans) {
    const lines: string[] = [...span.prefix];
    for (let n = span.start; n <= span.end; n++) lines.push(span.lines.get(n) ?? '');
    const code = lines.join('\n');
    const fence = fenceFor(code);
    parts.push(`Lines ${span.start}-${span.end}:\n${fence}${group.language}\n${code}\n${fence}`);
  }
  return parts.join('\n\n');
}

function render(groups: FileGroup[]): string {
  return groups.map(renderGroup).join('\n\n');
}

/** The first lines of a hit that fit in `budget` tokens as a group of their own, if any do. */
function truncatedToFit(hit: SearchHit, budget: number, others: FileGroup[]): FileGroup | undefined {
  const span = spanOf(hit);
  const group = (count: number): FileGroup => ({
    path: hit.path,
    language: hit.language,
    spans: [{ ...span, end: span.start + count - 1 }],
  });
  const fits = (count: number) => countTokens(render([...others, group(count)])) <= budget;
  let low = 0;
  let high = span.end - span.start + 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low > 0 ? group(low) : undefined;
}

/** Groups joined by a blank line: "\n\n" is one token, and markdown headings start a new pre-token. */
const SEPARATOR_TOKENS = countTokens('\n\n');

/**
 * Hits best first; the result's tokens never exceed maxTokens. Each file's section is counted on
 * its own as it changes (linear in the context, not quadratic); the assembled total is then
 * counted exactly, and the last additions are undone should joining have cost more.
 */
export function buildContext(hits: SearchHit[], maxTokens: number): BuiltContext {
  interface Counted {
    group: FileGroup;
    tokens: number;
  }
  let sections: Counted[] = [];
  let total = 0;
  const accepted: Array<{ sections: Counted[]; total: number }> = [];
  for (const hit of hits) {
    const index = sections.findIndex((section) => section.group.path === hit.path);
    const current = index >= 0 ? sections[index]!.group : { path: hit.path, language: hit.language, spans: [] };
    const group = withSpan(current, spanOf(hit));
    const tokens = countTokens(renderGroup(group));
    const next = index >= 0 ? total - sections[index]!.tokens + tokens : total + tokens + (sections.length > 0 ? SEPARATOR_TOKENS : 0);
    if (next <= maxTokens) {
      accepted.push({ sections, total });
      sections = index >= 0 ? sections.map((section, i) => (i === index ? { group, tokens } : section)) : [...sections, { group, tokens }];
      total = next;
    } else if (sections.length === 0) {
      // Nothing fits whole: the best chunk's first lines, if even those fit.
      const truncated = truncatedToFit(hit, maxTokens, []);
      if (truncated) sections = [{ group: truncated, tokens: countTokens(renderGroup(truncated)) }];
      break;
    }
  }
  let groups = sections.map((section) => section.group);
  let context = render(groups);
  let tokens = countTokens(context);
  while (tokens > maxTokens) {
    const previous = accepted.pop();
    groups = previous ? previous.sections.map((section) => section.group) : [];
    context = render(groups);
    tokens = countTokens(context);
  }
  const sources = groups.flatMap((group) => group.spans.map((span) => ({ path: group.path, start_line: span.start, end_line: span.end })));
  return { context, tokens, sources };
}

export interface TaskContextRequest {
  projectId: string;
  taskDescription: string;
  maxTokens: number;
}

export interface TaskContext extends BuiltContext {
  /** The memories and patterns rendered into `context`, best first. */
  memories: MemoryView[];
  patterns: PatternView[];
}

/** The largest part of max_tokens memories and patterns may take before code has had its turn. */
export const KNOWLEDGE_SHARE = 0.3;
/** Memories recalled for a task (then filtered for relevance), and at most kept. */
const RECALLED_MEMORIES = 10;
const MAX_MEMORIES = 5;
const MAX_PATTERNS = 8;
/** Files whose co-change patterns speak to a task: those of its best hits (the code it is about). */
const PATTERN_FILES = 3;
/** A pattern backed by fewer than two consistent observations (Wilson bound 0.34 for 2 of 2) stays out. */
export const MIN_PATTERN_CONFIDENCE = 0.3;

/** Chunks asked of search: roughly what the budget can hold (a chunk is ~100-400 tokens), within 10..100. */
function hitsFor(maxTokens: number): number {
  return Math.min(100, Math.max(10, Math.ceil(maxTokens / 100)));
}

/** The best chunks for a task; none for a project without an index (its agents still run). */
async function codeHits(deps: SearchDeps, request: TaskContextRequest): Promise<SearchHit[]> {
  try {
    return await searchCode(deps, { projectId: request.projectId, query: request.taskDescription, limit: hitsFor(request.maxTokens) });
  } catch (error) {
    if (error instanceof AppError && error.code === 'project_not_found') return [];
    throw error;
  }
}

const SECTION_SEPARATOR = '\n\n';

function joined(knowledge: FittedKnowledge, code: BuiltContext): string {
  return [knowledge.context, code.context].filter((part) => part !== '').join(SECTION_SEPARATOR);
}

/**
 * Memories and patterns, then code, within maxTokens. Knowledge first gets at most its share; code
 * gets the rest; knowledge may then grow into what code left. The joined markdown is counted
 * exactly, and knowledge shrinks should joining have cost more than the parts.
 */
export function assembleContext(hits: SearchHit[], memories: MemoryView[], patterns: PatternView[], maxTokens: number): TaskContext {
  let knowledge = fitKnowledge(memories, patterns, Math.floor(maxTokens * KNOWLEDGE_SHARE));
  const code = buildContext(hits, maxTokens - knowledge.tokens - (knowledge.tokens > 0 ? SEPARATOR_TOKENS : 0));
  const left = knowledge.memories.length < memories.length || knowledge.patterns.length < patterns.length;
  if (left) {
    const grown = fitKnowledge(memories, patterns, maxTokens - code.tokens - (code.tokens > 0 ? SEPARATOR_TOKENS : 0));
    if (grown.memories.length + grown.patterns.length > knowledge.memories.length + knowledge.patterns.length) knowledge = grown;
  }
  let context = joined(knowledge, code);
  let tokens = countTokens(context);
  while (tokens > maxTokens && knowledge.tokens > 0) {
    knowledge = fitKnowledge(memories, patterns, knowledge.tokens - (tokens - maxTokens));
    context = joined(knowledge, code);
    tokens = countTokens(context);
  }
  return { context, tokens, sources: code.sources, memories: knowledge.memories, patterns: knowledge.patterns };
}

/** The project's live memories that speak to a text (a task, a question), best first, at most MAX_MEMORIES. */
export async function relevantMemories(deps: Pick<SearchDeps, 'db' | 'embedders'>, projectId: string, text: string): Promise<MemoryView[]> {
  const words = new Set(taskTerms(text, 200));
  const recalled = await recallMemories(deps, projectId, text, RECALLED_MEMORIES);
  return recalled.filter((memory) => relevantToTask(memory, words)).slice(0, MAX_MEMORIES);
}

/** The context for a task: its code, and the memories and patterns that speak to it. */
export async function taskContext(deps: SearchDeps, request: TaskContextRequest): Promise<TaskContext> {
  const hits = await codeHits(deps, request);
  const words = new Set(taskTerms(request.taskDescription, 200));
  const memories = await relevantMemories(deps, request.projectId, request.taskDescription);
  const patterns = await relevantPatterns(deps.db, {
    projectId: request.projectId,
    terms: [...words].slice(0, 50),
    paths: [...new Set(hits.map((hit) => hit.path))].slice(0, PATTERN_FILES),
    minConfidence: MIN_PATTERN_CONFIDENCE,
    limit: MAX_PATTERNS,
  });
  return assembleContext(hits, memories, patterns, request.maxTokens);
}
