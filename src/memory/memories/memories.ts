// Owns memory.memories: creating a memory (merging a near-duplicate into the existing one,
// superseding what it contradicts), listing with filters and a cursor, semantic recall, deletion.
// Vectors come from the configured embedder and record its model; recall embeds the query with
// each model the project's live memories were embedded with, so vectors of different models never meet.
// A verified execution outcome also updates the project's learned patterns, in the same transaction.
// With a language model configured, the close neighbours the lexical rules call distinct are also
// judged by the model (llmJudge.ts), before the transaction, so the project's writer lock is never
// held while waiting for it.
import type { Database, Queryable } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { embedQueryText, embedTexts, type EmbedderPool, type RecordedModel } from '../embeddings/embedderPool.js';
import { forgetOutcomes, learnFromOutcome, type PatternLimits } from '../patterns/learn.js';
import { verifiedOutcome } from '../patterns/outcome.js';
import { sqlInteger, vectorParam } from '../store/vectors.js';
import { judgeable, MAX_JUDGED_CANDIDATES, type MemoryJudge, type Verdict } from './llmJudge.js';
import { renderContent, type MemoryContent } from './render.js';
import { lexicalView, relate, type LexicalView, type Relation } from './similarity.js';

export interface MemoryDeps {
  db: Database;
  embedders: EmbedderPool;
  /** Bounds of pattern learning (default DEFAULT_PATTERN_LIMITS). */
  patternLimits?: PatternLimits;
  /** Judges the pairs the rules call distinct (undefined: no language model, the rules alone decide). */
  judge?: MemoryJudge;
}

export interface NewMemory {
  projectId: string;
  type: string;
  content: MemoryContent;
  ticketId?: string;
  jobId?: string;
  tags?: string[];
}

export interface MemoryView {
  id: string;
  project_id: string;
  type: string;
  content: MemoryContent;
  tags: string[];
  ticket_id: string | null;
  job_id: string | null;
  seen_count: number;
  created_at: string;
  updated_at: string;
  superseded_by: string | null;
  superseded_at: string | null;
  /**
   * Wordings merges replaced, oldest first (the last MAX_HISTORY): in a write's answer, and in lists
   * that ask for it (up to 20 old wordings a memory would make every list and context heavy).
   */
  history?: MemoryVersion[];
  score?: number;
}

export interface MemoryVersion {
  content: MemoryContent;
  replaced_at: string;
}

/** Replaced wordings kept per memory. */
export const MAX_HISTORY = 20;

export interface CreateOutcome {
  memory: MemoryView;
  /** merged: a near-duplicate of `memory` (same id), which was updated. */
  outcome: 'created' | 'merged';
  /** Ids of the memories this one superseded. */
  superseded: string[];
}

/** How many nearest live memories of the same project and type a new one is compared with. */
const NEIGHBOURS = 10;

interface MemoryRow {
  id: string;
  seq: string;
  project_id: string;
  type: string;
  content: MemoryContent;
  content_text: string;
  tags: string[];
  ticket_id: string | null;
  job_id: string | null;
  seen_count: number;
  created_at: Date | string;
  updated_at: Date | string;
  superseded_by: string | null;
  superseded_at: Date | string | null;
  history?: MemoryVersion[];
}

const COLUMNS = 'id, seq::text as seq, project_id, type, content, content_text, tags, ticket_id, job_id, seen_count, created_at, updated_at, superseded_by, superseded_at';
/** The columns of a memory with the wordings merges replaced (a write's answer, lists that ask). */
const COLUMNS_WITH_HISTORY = `${COLUMNS}, history`;

function iso(value: Date | string): string {
  return new Date(value).toISOString();
}

function toView(row: MemoryRow, score?: number): MemoryView {
  return {
    id: row.id,
    project_id: row.project_id,
    type: row.type,
    content: row.content,
    tags: row.tags,
    ticket_id: row.ticket_id,
    job_id: row.job_id,
    seen_count: row.seen_count,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
    superseded_by: row.superseded_by,
    superseded_at: row.superseded_at === null ? null : iso(row.superseded_at),
    ...(row.history ? { history: row.history.map((version) => ({ content: version.content, replaced_at: iso(version.replaced_at) })) } : {}),
    ...(score === undefined ? {} : { score: Math.round(score * 10_000) / 10_000 }),
  };
}

/** Custom types compare case-insensitively; the six contract types are already lower case. */
export function typeFamily(type: string): string {
  return type.trim().toLowerCase();
}

type Neighbour = MemoryRow & { similarity: number };

/** One writer of a project's memories at a time (in the caller's transaction, until it ends). */
async function lockProjectMemories(tx: Queryable, projectId: string): Promise<void> {
  await tx.query(`select pg_advisory_xact_lock(hashtext('autobuild:memory:memories'), hashtext($1))`, [projectId], { reusePlan: true });
}

/** The memory columns read from the rows `nearest` ranked (joined back as `m`). */
const NEAREST_COLUMNS = COLUMNS.split(', ')
  .map((column) => `m.${column}`)
  .join(', ');

/**
 * A statement ranking memories by cosine distance to `vector` (exact): the ids and distances of the
 * `limit` nearest that match `where` and the model first, then only those rows' columns, nearest
 * first. Ranking the whole rows made the sort copy every live memory's content, text and tags
 * (measured on PGlite, 600 outcome memories: 4.3 -> 2.9 ms of the database thread per query, the
 * vectors still out of line; see migration 007). The CTE `nearest`, for the caller's `with`.
 */
function nearestSql(where: string, modelParam: string, dimension: number, vectorParam: string, limit: string): string {
  return `nearest as materialized (
      select id, embedding::vector(${dimension}) <=> ${vectorParam}::vector(${dimension}) as distance
        from memory.memories
       where ${where} and model = ${modelParam} and dimension = ${dimension}
       order by distance limit ${limit})`;
}

/** The project's live memories of the type nearest the vector, embedded with the same model: nearest first. */
async function nearestMemories(db: Queryable, projectId: string, family: string, model: string, dimension: number, vector: Float32Array): Promise<Neighbour[]> {
  return db.query<Neighbour>(
    `with ${nearestSql('project_id = $1 and lower(type) = $2 and superseded_at is null', '$3', dimension, '$4', String(NEIGHBOURS))}
     select ${NEAREST_COLUMNS}, 1 - n.distance as similarity from nearest n join memory.memories m on m.id = n.id order by n.distance`,
    [projectId, family, model, vectorParam(vector)],
    // Its text is the same for every write of a dimension, and its best plan does not depend on the values.
    { reusePlan: true },
  );
}

/**
 * The rules' reading of a stored memory, kept for the memories read lately (by what they say; the
 * least recently used dropped past VIEW_ENTRIES). Every write reads its 10 nearest memories, and a
 * project's nearest are mostly the same ones write after write: a CPU profile of 200 jobs through the
 * platform put reading them again at ~2.7 ms of the event loop per job outcome, inside the write's
 * transaction, which holds the embedded database's one connection (measured with the token counts'
 * cache, tokenCount.ts: the platform's CPU per job 42.3 -> 41.4 ms). A view is a pure function of the content and its
 * text, and nothing changes a view once made.
 */
const VIEW_ENTRIES = 1000;
const storedViews = new Map<string, LexicalView>();

function storedView(row: Pick<MemoryRow, 'content' | 'content_text'>): LexicalView {
  const key = typeof row.content === 'string' ? `s\0${row.content_text}` : `j\0${JSON.stringify(row.content)}\0${row.content_text}`;
  const known = storedViews.get(key);
  if (known) {
    storedViews.delete(key);
    storedViews.set(key, known);
    return known;
  }
  const view = lexicalView(row.content, row.content_text);
  if (storedViews.size >= VIEW_ENTRIES) storedViews.delete(storedViews.keys().next().value!);
  storedViews.set(key, view);
  return view;
}

/** A verdict of the model, with the text it judged: it holds only while the memory still says that. */
type Judged = Map<string, { verdict: Verdict; text: string }>;

/**
 * The model's verdicts on the nearest neighbours the rules call distinct and judgeable() keeps,
 * read without the lock. None when the rules already merge the new memory (no question needed).
 */
async function judgeNeighbours(judge: MemoryJudge, neighbours: Neighbour[], incoming: LexicalView, text: string): Promise<Judged> {
  const candidates: Neighbour[] = [];
  for (const row of neighbours) {
    const view = storedView(row);
    const relation = relate(incoming, view, Number(row.similarity));
    if (relation === 'duplicate') return new Map();
    if (relation === 'distinct' && candidates.length < MAX_JUDGED_CANDIDATES && judgeable(incoming, view, Number(row.similarity))) candidates.push(row);
  }
  if (candidates.length === 0) return new Map();
  const verdicts = await judge.judge(text, candidates.map((row) => ({ id: row.id, text: row.content_text })));
  const judged: Judged = new Map();
  for (const row of candidates) {
    const verdict = verdicts.get(row.id);
    if (verdict && verdict !== 'different') judged.set(row.id, { verdict, text: row.content_text });
  }
  return judged;
}

/** The rules' relation, or, where they say distinct, the model's verdict on the same text (byModel). */
function relationOf(row: Neighbour, incoming: LexicalView, judged: Judged): { relation: Relation; byModel: boolean } {
  const relation = relate(incoming, storedView(row), Number(row.similarity));
  if (relation !== 'distinct') return { relation, byModel: false };
  const judgement = judged.get(row.id);
  // Merged into or rewritten since it was judged: the verdict was about another text.
  if (!judgement || judgement.text !== row.content_text) return { relation, byModel: false };
  return { relation: judgement.verdict === 'same' ? 'duplicate' : 'contradiction', byModel: true };
}

export async function createMemory(deps: MemoryDeps, input: NewMemory): Promise<CreateOutcome> {
  const text = renderContent(input.content);
  const embedder = await deps.embedders.configured();
  const [vector] = await embedTexts(embedder, [text]);
  if (!vector) throw new Error('the embedder returned no vector');
  const dimension = sqlInteger(embedder.dimension, 'dimension');
  const family = typeFamily(input.type);
  const tags = [...new Set(input.tags ?? [])];
  const incoming = lexicalView(input.content, text);
  const verified = verifiedOutcome(input);
  // The model is asked before the transaction; under the lock its verdicts apply only to memories
  // that are still neighbours and still say what it judged.
  const judged: Judged = deps.judge
    ? await judgeNeighbours(deps.judge, await nearestMemories(deps.db, input.projectId, family, embedder.model, dimension, vector), incoming, text)
    : new Map();

  return deps.db.transaction(async (tx) => {
    // One writer per project at a time, so two copies of a lesson posted together merge.
    await lockProjectMemories(tx, input.projectId);
    const neighbours = await nearestMemories(tx, input.projectId, family, embedder.model, dimension, vector);
    // The nearest near-duplicate absorbs the new memory; whatever it contradicts is superseded
    // (by the merged memory, or by the new one).
    const contradicted: string[] = [];
    let duplicate: MemoryRow | undefined;
    // The model's "same" merges only where the rules found no duplicate, into the nearest it named.
    let judgedDuplicate: MemoryRow | undefined;
    for (const row of neighbours) {
      const { relation, byModel } = relationOf(row, incoming, judged);
      if (relation === 'duplicate' && byModel) judgedDuplicate ??= row;
      else if (relation === 'duplicate') duplicate ??= row;
      else if (relation === 'contradiction') contradicted.push(row.id);
    }
    duplicate ??= judgedDuplicate;
    const supersede = async (by: string): Promise<void> => {
      if (contradicted.length === 0) return;
      await tx.query(`update memory.memories set superseded_by = $1, superseded_at = now() where id = any($2::uuid[])`, [by, contradicted]);
    };
    // A verified outcome counts whatever became of its memory (new, merged or superseding): each job once.
    const learn = async (memoryId: string): Promise<void> => {
      if (verified) await learnFromOutcome(tx, verified, memoryId, deps.patternLimits);
    };
    if (duplicate) {
      const [updated] = await tx.query<MemoryRow>(
        // The replaced wording joins the history (a verbatim repeat replaces nothing).
        `update memory.memories set history = case when content = $2::jsonb then history
                  else jsonb_path_query_array(history || jsonb_build_array(jsonb_build_object('content', content, 'replaced_at', now())), '$[last-${MAX_HISTORY - 1} to last]') end,
                content = $2, content_text = $3, embedding = $4, provider = $5, model = $6, dimension = $7,
                tags = array(select distinct unnest(tags || $8::text[])), ticket_id = coalesce($9, ticket_id), job_id = coalesce($10, job_id),
                seen_count = seen_count + 1, updated_at = greatest(now(), updated_at + interval '1 microsecond')
          where id = $1 returning ${COLUMNS_WITH_HISTORY}`,
        [duplicate.id, JSON.stringify(input.content), text, vectorParam(vector), embedder.provider, embedder.model, dimension, tags, input.ticketId ?? null, input.jobId ?? null],
      );
      if (!updated) throw new Error(`memory ${duplicate.id} vanished while being merged`);
      await supersede(updated.id);
      await learn(updated.id);
      return { memory: toView(updated), outcome: 'merged', superseded: contradicted };
    }
    const [created] = await tx.query<MemoryRow>(
      `insert into memory.memories (project_id, type, content, content_text, ticket_id, job_id, tags, embedding, provider, model, dimension)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning ${COLUMNS_WITH_HISTORY}`,
      [input.projectId, input.type, JSON.stringify(input.content), text, input.ticketId ?? null, input.jobId ?? null, tags, vectorParam(vector), embedder.provider, embedder.model, dimension],
      { reusePlan: true },
    );
    if (!created) throw new Error('insert returned no row');
    await supersede(created.id);
    await learn(created.id);
    return { memory: toView(created), outcome: 'created', superseded: contradicted };
  });
}

export interface ListOptions {
  projectId: string;
  type?: string;
  tag?: string;
  query?: string;
  includeSuperseded: boolean;
  /** Also the wordings merges replaced (not in semantic recall). */
  includeHistory?: boolean;
  limit: number;
  cursor?: string;
}

export interface ListResult {
  memories: MemoryView[];
  next_cursor: string | null;
}

function filters(options: ListOptions, params: unknown[]): string {
  params.push(options.projectId);
  const where = [`project_id = $${params.length}`];
  if (options.type !== undefined) {
    params.push(options.type);
    where.push(`type = $${params.length}`);
  }
  if (options.tag !== undefined) {
    params.push([options.tag]);
    where.push(`tags @> $${params.length}::text[]`);
  }
  if (!options.includeSuperseded) where.push('superseded_at is null');
  return where.join(' and ');
}

export async function listMemories(deps: MemoryDeps, options: ListOptions): Promise<ListResult> {
  if (options.query !== undefined) return { memories: await recall(deps, options, options.query), next_cursor: null };
  const after = options.cursor ? decodeCursor<{ seq: string }>(options.cursor, { seq: 'digits' }) : undefined;
  const params: unknown[] = [];
  let where = filters(options, params);
  if (after) {
    params.push(after.seq);
    where += ` and seq < $${params.length}::bigint`;
  }
  params.push(options.limit + 1);
  const rows = await deps.db.query<MemoryRow>(`select ${options.includeHistory ? COLUMNS_WITH_HISTORY : COLUMNS} from memory.memories where ${where} order by memories.seq /* the bigint, not the text alias */ desc limit $${params.length}`, params);
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return { memories: page.map((row) => toView(row)), next_cursor: rows.length > options.limit && last ? encodeCursor({ seq: last.seq }) : null };
}

/**
 * Semantic recall: the query embedded with each model the matching memories were embedded with,
 * exact cosine ranking within the project (see migration 002 for why exact), best first.
 */
async function recall(deps: MemoryDeps, options: ListOptions, query: string): Promise<MemoryView[]> {
  // The expected model is checked among the project's live memories (migration 007's index), so only for live ones.
  const expected = options.includeSuperseded ? undefined : expectedModel(deps, options.projectId);
  if (expected) {
    const ranked = await recallExpecting(deps, options, query, expected);
    if (ranked) return ranked;
  }
  const params: unknown[] = [];
  const where = filters(options, params);
  const models = await deps.db.query<RecordedModel>(`select distinct provider, model, dimension from memory.memories where ${where}`, params);
  if (!options.includeSuperseded && options.type === undefined && options.tag === undefined) rememberModels(options.projectId, models);
  const ranked: MemoryView[] = [];
  for (const model of models) {
    const embedder = await deps.embedders.forModel(model);
    const vector = await embedQueryText(embedder, query);
    if (!vector) continue;
    const dimension = sqlInteger(model.dimension, 'dimension');
    const n = params.length;
    const rows = await deps.db.query<MemoryRow & { similarity: number }>(
      `with ${nearestSql(where, `$${n + 1}`, dimension, `$${n + 2}`, `$${n + 3}`)}
       select ${NEAREST_COLUMNS}, 1 - n.distance as similarity from nearest n join memory.memories m on m.id = n.id order by n.distance`,
      [...params, model.model, vectorParam(vector), options.limit],
    );
    ranked.push(...rows.map((row) => toView(row, Number(row.similarity))));
  }
  return ranked.sort((a, b) => (b.score ?? 0) - (a.score ?? 0)).slice(0, options.limit);
}

/**
 * The model each project's live memories were last found embedded with, when it was one (least
 * recently set dropped past MODEL_HINTS): only a guess, which every recall checks in its own statement.
 */
const MODEL_HINTS = 1000;
const modelHints = new Map<string, RecordedModel>();

function rememberModels(projectId: string, models: RecordedModel[]): void {
  modelHints.delete(projectId);
  const [only] = models;
  if (models.length !== 1 || !only) return;
  if (modelHints.size >= MODEL_HINTS) modelHints.delete(modelHints.keys().next().value!);
  modelHints.set(projectId, { provider: only.provider, model: only.model, dimension: Number(only.dimension) });
}

/** The model a project's live memories are likely embedded with: the last one found, else the configured embedder's if loaded. */
function expectedModel(deps: MemoryDeps, projectId: string): RecordedModel | undefined {
  const hint = modelHints.get(projectId);
  if (hint) return hint;
  const status = deps.embedders.current();
  return status.state === 'ready' ? { provider: status.embedder.provider, model: status.embedder.model, dimension: status.embedder.dimension } : undefined;
}

/**
 * Recall when the project's live memories are expected to be all of one model: one statement ranks
 * them and reads, from migration 007's index, the first and last of the project's live (model,
 * dimension, provider) — equal to the expected one exactly when every live memory is of it (same
 * snapshot, so a memory another replica wrote with another model is never missed). Replaces a
 * `select distinct` over all the project's memories before each recall (0.7 ms per job's context on
 * PGlite). Undefined when the check fails: the caller then reads the models.
 */
async function recallExpecting(deps: MemoryDeps, options: ListOptions, query: string, expected: RecordedModel): Promise<MemoryView[] | undefined> {
  const params: unknown[] = [];
  const where = filters(options, params);
  // A guess whose model cannot embed now says nothing of the project: the caller reads its models.
  const vector = await deps.embedders
    .forModel(expected)
    .then((embedder) => embedQueryText(embedder, query))
    .catch(() => undefined);
  if (!vector) return undefined;
  const dimension = sqlInteger(expected.dimension, 'dimension');
  const n = params.length;
  const live = 'from memory.memories where project_id = $1 and superseded_at is null';
  // One row even without memories of the model: the memory's columns are then null.
  const rows = await deps.db.query<MemoryRow & { similarity: number; first: string[] | null; last: string[] | null }>(
    `with ${nearestSql(where, `$${n + 1}`, dimension, `$${n + 2}`, `$${n + 3}`)},
          models as (select (select array[model, dimension::text, provider] ${live} order by model, dimension, provider limit 1) as first,
                            (select array[model, dimension::text, provider] ${live} order by model desc, dimension desc, provider desc limit 1) as last)
     select models.first, models.last, ${NEAREST_COLUMNS}, 1 - n.distance as similarity
       from models left join (nearest n join memory.memories m on m.id = n.id) on true
      order by n.distance`,
    [...params, expected.model, vectorParam(vector), options.limit],
    { reusePlan: options.type === undefined && options.tag === undefined },
  );
  const [head] = rows;
  if (!head || head.first === null || head.last === null) return []; // no live memories
  const key = [expected.model, String(expected.dimension), expected.provider];
  const only = (bound: string[]) => bound.length === 3 && bound.every((value, i) => value === key[i]);
  if (!only(head.first) || !only(head.last)) {
    modelHints.delete(options.projectId);
    return undefined;
  }
  rememberModels(options.projectId, [expected]);
  return rows.filter((row) => row.id !== null).map((row) => toView(row, Number(row.similarity)));
}

/** A project's live memories nearest in meaning to a text (a task), best first, with their scores. */
export async function recallMemories(deps: MemoryDeps, projectId: string, text: string, limit: number): Promise<MemoryView[]> {
  return recall(deps, { projectId, includeSuperseded: false, limit }, text);
}

/**
 * Delete a memory; what patterns had learnt from it (a verified outcome) is taken back with it, under
 * the project's writer lock, so the counts stay those of the outcomes that remain.
 */
export async function deleteMemory(deps: Pick<MemoryDeps, 'db' | 'patternLimits'>, id: string): Promise<void> {
  await deps.db.transaction(async (tx) => {
    // The project (which never changes) names the lock; what is taken back is read as it is deleted,
    // under the lock, so a merge into this memory just before cannot be missed.
    const [found] = await tx.query<{ project_id: string }>(`select project_id from memory.memories where id = $1`, [id]);
    if (!found) throw new AppError('not_found', `memory ${id} does not exist`);
    await lockProjectMemories(tx, found.project_id);
    const [deleted] = await tx.query<Pick<MemoryRow, 'project_id' | 'type' | 'content' | 'job_id'>>(
      `delete from memory.memories where id = $1 returning project_id, type, content, job_id`,
      [id],
    );
    if (!deleted) throw new AppError('not_found', `memory ${id} does not exist`);
    const outcome = verifiedOutcome({ projectId: deleted.project_id, type: deleted.type, content: deleted.content, ...(deleted.job_id ? { jobId: deleted.job_id } : {}) });
    await forgetOutcomes(tx, deleted.project_id, id, outcome, deps.patternLimits);
  });
}
