// `autobuild memory add|list|search|delete`: a project's memories (lessons, decisions, outcomes)
// on the memory service, over the typed client. Humans get tables and field lists, `--json` gets
// the API's JSON; a failed request prints the API's message and exits non-zero. `autobuild memory`
// alone still starts the service (main.ts makes that the default subcommand).
import type { Command } from 'commander';
import type { ListMemoriesOptions, MemoryPage, StoredMemory } from '../clients/memory.js';
import { clientOf, wholeNumber, withConnectionOptions, type ConnectionOptions } from './memoryCommands.js';
import { cell, fields, json, shortTime, table } from './output.js';
import { CliError, runAction } from './failure.js';

const DEFAULT_TYPE = 'insight';
const DEFAULT_LIST_LIMIT = 50;
const DEFAULT_SEARCH_LIMIT = 10;
/** The API's largest page; `list --limit` beyond it follows the cursor. */
const PAGE_MAX = 500;
const CONTENT_WIDTH = 70;

interface AddOptions extends ConnectionOptions {
  project: string;
  type: string;
  jsonContent?: string;
  tag?: string[];
  job?: string;
  ticket?: string;
  json?: boolean;
}

interface ListOptions extends ConnectionOptions {
  project: string;
  type?: string;
  tag?: string;
  limit: number;
  includeSuperseded?: boolean;
  json?: boolean;
}

interface SearchOptions extends ConnectionOptions {
  project: string;
  type?: string;
  tag?: string;
  limit: number;
  json?: boolean;
}

const out = (text: string) => process.stdout.write(text);

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Text or a JSON object on one line: what a table shows of a memory. */
function contentText(content: StoredMemory['content']): string {
  return typeof content === 'string' ? content : JSON.stringify(content);
}

function memoriesTable(memories: StoredMemory[], withScore: boolean, withSuperseded: boolean): string {
  const headers = [...(withScore ? ['SCORE'] : []), 'ID', 'TYPE', 'SEEN', 'UPDATED', 'TAGS', ...(withSuperseded ? ['SUPERSEDED'] : []), 'CONTENT'];
  return table(
    headers,
    memories.map((m) => [
      ...(withScore ? [(m.score ?? 0).toFixed(3)] : []),
      m.id,
      m.type,
      m.seen_count,
      shortTime(m.updated_at),
      m.tags.join(','),
      ...(withSuperseded ? [m.superseded_at ? `by ${m.superseded_by ?? '(deleted)'}` : '-'] : []),
      cell(contentText(m.content), CONTENT_WIDTH),
    ]),
  );
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

/** The memory's content: the words given (`-` reads stdin), or --json-content's object. */
async function contentOf(words: string[], jsonContent: string | undefined): Promise<string | Record<string, unknown>> {
  if (jsonContent !== undefined) {
    if (words.length > 0) throw new CliError('give the memory as text or as --json-content, not both');
    let parsed: unknown;
    try {
      parsed = JSON.parse(jsonContent);
    } catch (error) {
      throw new CliError(`--json-content is not JSON: ${(error as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CliError('--json-content must be a JSON object, e.g. {"setting":"node_version","value":"20"}');
    return parsed as Record<string, unknown>;
  }
  const text = words.length === 1 && words[0] === '-' ? (await readStdin()).trim() : words.join(' ');
  if (text.trim() === '') throw new CliError('give the memory as text (or - to read it from stdin) or as --json-content');
  return text;
}

function registerAdd(memory: Command): void {
  withConnectionOptions(
    memory
      .command('add')
      .description('store a memory; a near-duplicate of an existing one merges into it')
      .argument('[text...]', 'the memory as text (words are joined with spaces; - reads stdin)')
      .requiredOption('--project <id>', 'project id')
      .option('--type <type>', 'execution_success, execution_failure, insight, decision, feedback, pattern, or a custom type', DEFAULT_TYPE)
      .option('--json-content <json>', 'the memory as a JSON object instead of text')
      .option('--tag <tag>', 'a tag (repeat for several)', collect)
      .option('--job <id>', 'the job it came from')
      .option('--ticket <id>', 'the ticket it is about')
      .option('--json', 'print the API JSON'),
  ).action(
    runAction(async (words: string[], options: AddOptions) => {
      const content = await contentOf(words, options.jsonContent);
      const outcome = await clientOf(options).rememberMemory({
        project_id: options.project,
        type: options.type,
        content,
        ...(options.tag && { tags: options.tag }),
        ...(options.job !== undefined && { job_id: options.job }),
        ...(options.ticket !== undefined && { ticket_id: options.ticket }),
      });
      const m = outcome.memory;
      if (options.json) return void out(json({ ...m, outcome: outcome.created ? 'created' : 'merged', supersedes: outcome.supersedes }));
      out(
        fields([
          ['id', m.id],
          ['outcome', outcome.created ? 'created' : `merged into an existing memory (seen ${m.seen_count} times)`],
          ['supersedes', outcome.supersedes.length > 0 ? outcome.supersedes.join(', ') : undefined],
          ['project', m.project_id],
          ['type', m.type],
          ['tags', m.tags.length > 0 ? m.tags.join(', ') : undefined],
          ['content', cell(contentText(m.content), 200)],
        ]),
      );
    }),
  );
}

function registerList(memory: Command): void {
  withConnectionOptions(
    memory
      .command('list')
      .description("a project's memories, newest first")
      .requiredOption('--project <id>', 'project id')
      .option('--type <type>', 'only memories of this type')
      .option('--tag <tag>', 'only memories with this tag')
      .option('--limit <n>', `at most this many (default ${DEFAULT_LIST_LIMIT}; pages are followed)`, wholeNumber(1, 100_000), DEFAULT_LIST_LIMIT)
      .option('--include-superseded', 'also memories a contradicting newer one superseded')
      .option('--json', 'print the API JSON'),
  ).action(
    runAction(async (options: ListOptions) => {
      const client = clientOf(options);
      const memories: StoredMemory[] = [];
      let page: MemoryPage | undefined;
      do {
        const query: ListMemoriesOptions = {
          ...(options.type !== undefined && { type: options.type }),
          ...(options.tag !== undefined && { tag: options.tag }),
          ...(options.includeSuperseded && { include_superseded: true }),
          limit: Math.min(PAGE_MAX, options.limit - memories.length),
          ...(page?.next_cursor && { cursor: page.next_cursor }),
        };
        page = await client.listMemories(options.project, query);
        memories.push(...page.memories);
      } while (page.next_cursor && memories.length < options.limit);
      if (options.json) return void out(json({ memories, next_cursor: page.next_cursor }));
      if (memories.length === 0) return void out('no memories\n');
      out(memoriesTable(memories, false, Boolean(options.includeSuperseded)));
      if (page.next_cursor) out(`(more memories than shown; raise --limit)\n`);
    }),
  );
}

function registerSearch(memory: Command): void {
  withConnectionOptions(
    memory
      .command('search')
      .description("recall a project's memories by meaning; best first, with scores")
      .argument('<query>', 'what the memory is about: a task, a question, words')
      .requiredOption('--project <id>', 'project id')
      .option('--type <type>', 'only memories of this type')
      .option('--tag <tag>', 'only memories with this tag')
      .option('--limit <n>', `at most this many (default ${DEFAULT_SEARCH_LIMIT}, at most ${PAGE_MAX})`, wholeNumber(1, PAGE_MAX), DEFAULT_SEARCH_LIMIT)
      .option('--json', 'print the API JSON'),
  ).action(
    runAction(async (query: string, options: SearchOptions) => {
      const memories = await clientOf(options).recallMemories(options.project, query, {
        ...(options.type !== undefined && { type: options.type }),
        ...(options.tag !== undefined && { tag: options.tag }),
        limit: options.limit,
      });
      if (options.json) return void out(json({ memories }));
      out(memories.length === 0 ? 'no memories\n' : memoriesTable(memories, true, false));
    }),
  );
}

function registerDelete(memory: Command): void {
  withConnectionOptions(
    memory
      .command('delete')
      .description('delete one memory')
      .argument('<id>', 'memory id')
      .option('--json', 'print the API JSON'),
  ).action(
    runAction(async (id: string, options: ConnectionOptions & { json?: boolean }) => {
      await clientOf(options).deleteMemory(id);
      out(options.json ? json({ id, deleted: true }) : `deleted ${id}\n`);
    }),
  );
}

/** add, list, search and delete under `autobuild memory` (whose default subcommand starts the service). */
export function registerMemoryNoteCommands(memory: Command): void {
  registerAdd(memory);
  registerList(memory);
  registerSearch(memory);
  registerDelete(memory);
}
