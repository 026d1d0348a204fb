// Owns chat about a project: retrieval over its code index and its memories, a grounded
// prompt that lists the passages with path:lines and asks the model to cite them, then Claude with
// the conversation history. Without a language model the answer is the retrieved passages, after a
// plain statement that no model is configured.
import type { LlmClient, LlmMessage } from '../../platform/llm.js';
import { buildContext, type ContextSource } from '../retrieval/context.js';
import { searchCode, type SearchDeps, type SearchHit } from '../retrieval/search.js';

export interface ChatTurn {
  role: 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  projectId: string;
  message: string;
  history: ChatTurn[];
}

export interface ChatAnswer {
  response: string;
  sources: ContextSource[];
  /** The configured model that answered; null when no language model is configured. */
  model: string | null;
}

/**
 * Retrieved text that is not code: the project's memories (decisions, past executions, feedback)
 * that speak to the question. Rendered after the code passages, cited by its label.
 */
export interface RetrievedNote {
  label: string;
  content: string;
}

export interface ChatDeps {
  search: SearchDeps;
  /** undefined: no ANTHROPIC_API_KEY; chat answers with the passages. */
  llm: LlmClient | undefined;
  /** Memories relevant to the question. */
  recallNotes?: (projectId: string, query: string) => Promise<RetrievedNote[]>;
}

/** What retrieval found, and the prompt built from it. */
export interface PreparedChat {
  hits: SearchHit[];
  sources: ContextSource[];
  notes: RetrievedNote[];
  system: string;
  messages: LlmMessage[];
}

/** Token budget of the passages in the prompt. */
const CONTEXT_TOKENS = 6000;
const HITS_PER_QUERY = 12;
/** Earlier user turns folded into the retrieval query, so follow-ups ("and where is it called?") find their subject. */
const FOLLOW_UP_TURNS = 2;
export const ANSWER_MAX_TOKENS = 2048;
/** Passages listed by the no-model answer, and lines shown of each. */
const FALLBACK_PASSAGES = 5;
const FALLBACK_LINES = 12;

function key(hit: { path: string; start_line: number; end_line: number }): string {
  return `${hit.path}:${hit.start_line}-${hit.end_line}`;
}

/** Best first, alternating between the lists, each chunk once. */
function interleave(lists: SearchHit[][]): SearchHit[] {
  const seen = new Set<string>();
  const out: SearchHit[] = [];
  const longest = Math.max(0, ...lists.map((list) => list.length));
  for (let i = 0; i < longest; i++) {
    for (const list of lists) {
      const hit = list[i];
      if (hit && !seen.has(key(hit))) {
        seen.add(key(hit));
        out.push(hit);
      }
    }
  }
  return out;
}

/** The message alone, and (for follow-ups) with the last user turns before it. */
export function retrievalQueries(request: ChatRequest): string[] {
  const earlier = request.history
    .filter((turn) => turn.role === 'user')
    .slice(-FOLLOW_UP_TURNS)
    .map((turn) => turn.content);
  return earlier.length === 0 ? [request.message] : [request.message, [...earlier, request.message].join('\n')];
}

async function retrieve(deps: ChatDeps, request: ChatRequest): Promise<SearchHit[]> {
  const lists: SearchHit[][] = [];
  // One after the other: an unknown project fails once, with the search's 404.
  for (const query of retrievalQueries(request)) lists.push(await searchCode(deps.search, { projectId: request.projectId, query, limit: HITS_PER_QUERY }));
  return interleave(lists);
}

function systemPrompt(projectId: string, context: string, notes: RetrievedNote[]): string {
  const lines = [
    `You answer questions about the code of the software project "${projectId}".`,
    'Ground every answer in the passages below, retrieved from the project\'s code index for this question. Cite the passages you rely on as path:start-end (for example src/app.ts:10-24).',
    'If the passages do not hold the answer, say so plainly and say what you would look for; do not invent code, files or behaviour.',
    'Be concise; quote only the lines that matter.',
    '',
  ];
  if (context) lines.push('<passages>', context, '</passages>');
  else lines.push('<passages>', '(no passages: the project\'s index has nothing matching this question)', '</passages>');
  if (notes.length > 0) {
    lines.push('', '<memories>', ...notes.map((note) => `### ${note.label}\n${note.content}`), '</memories>');
  }
  return lines.join('\n');
}

/** History then the message, as the Messages API wants it: starting with the user, roles alternating. */
export function conversation(history: ChatTurn[], message: string): LlmMessage[] {
  const messages: LlmMessage[] = [];
  for (const turn of [...history, { role: 'user' as const, content: message }]) {
    const last = messages[messages.length - 1];
    if (last && last.role === turn.role) last.content = `${last.content}\n\n${turn.content}`;
    else messages.push({ role: turn.role, content: turn.content });
  }
  if (messages[0]?.role === 'assistant') messages.unshift({ role: 'user', content: '(earlier in this conversation)' });
  return messages;
}

export async function prepareChat(deps: ChatDeps, request: ChatRequest): Promise<PreparedChat> {
  const hits = await retrieve(deps, request);
  const notes = deps.recallNotes ? await deps.recallNotes(request.projectId, request.message) : [];
  const built = buildContext(hits, CONTEXT_TOKENS);
  return {
    hits,
    sources: built.sources,
    notes,
    system: systemPrompt(request.projectId, built.context, notes),
    messages: conversation(request.history, request.message),
  };
}

/** The chunk's own lines (its content starts with the headers that enclose it), first few only. */
function excerpt(hit: SearchHit): string {
  const all = hit.content.split('\n');
  const own = all.slice(Math.max(0, all.length - (hit.end_line - hit.start_line + 1)));
  const shown = own.slice(0, FALLBACK_LINES);
  const more = own.length - shown.length;
  return shown.join('\n') + (more > 0 ? `\n… (${more} more lines)` : '');
}

function fence(code: string): string {
  const longest = Math.max(2, ...[...code.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

export const NO_MODEL_NOTICE =
  'No language model is configured for this service (set ANTHROPIC_API_KEY to enable answers from Claude), so this is not a written answer';

/** The answer without a model: the plain statement, then the most relevant passages. */
export function passagesAnswer(prepared: PreparedChat): ChatAnswer {
  const hits = prepared.hits.slice(0, FALLBACK_PASSAGES);
  const notes = prepared.notes.length === 0 ? [] : ["The project's memories that speak to your question:", prepared.notes.map((note) => `- ${note.content}`).join('\n')];
  if (hits.length === 0) {
    return { response: [`${NO_MODEL_NOTICE}, and the project's code index has no passages matching your question.`, ...notes].join('\n\n'), sources: [], model: null };
  }
  const parts = [`${NO_MODEL_NOTICE}: here are the passages of the project's code most relevant to your question.`];
  hits.forEach((hit, i) => {
    const code = excerpt(hit);
    const mark = fence(code);
    const symbol = hit.symbol ? ` (${hit.symbol})` : '';
    parts.push(`${i + 1}. ${hit.path}:${hit.start_line}-${hit.end_line}${symbol}\n${mark}${hit.language}\n${code}\n${mark}`);
  });
  parts.push(...notes);
  const sources = hits.map((hit) => ({ path: hit.path, start_line: hit.start_line, end_line: hit.end_line }));
  return { response: parts.join('\n\n'), sources, model: null };
}

/** The whole answer at once. */
export async function answerChat(deps: ChatDeps, request: ChatRequest, signal?: AbortSignal): Promise<ChatAnswer> {
  const prepared = await prepareChat(deps, request);
  if (!deps.llm) return passagesAnswer(prepared);
  const completion = await deps.llm.complete({ system: prepared.system, messages: prepared.messages, maxTokens: ANSWER_MAX_TOKENS, signal });
  return { response: completion.text, sources: prepared.sources, model: deps.llm.model };
}
