// Owns reading a project's learned patterns: the list (best first: confidence, then newest, with a
// cursor) and the patterns relevant to a task (its words, the files its code lives in, and the QA
// checks that tend to fail). A QA check that never failed is counted but not shown: it is no
// pattern yet, only the denominator of one.
import type { Queryable } from '../../platform/database/database.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { toPatternView, type PatternRow, type PatternType, type PatternView } from './describe.js';

// seq is read as text (a bigint); ORDER BY names the column as pattern_scores.seq, not the text alias.
const COLUMNS = `id, seq::text as seq, type, scope, subject, object, success_count, failure_count, evidence, confidence, samples, last_seen_at`;
const SHOWN = `not (type = 'qa_failure' and failure_count = 0)`;

export interface ListPatternsOptions {
  projectId: string;
  type?: PatternType;
  limit: number;
  cursor?: string;
}

export interface PatternList {
  patterns: PatternView[];
  next_cursor: string | null;
}

export async function listPatterns(db: Queryable, options: ListPatternsOptions): Promise<PatternList> {
  const params: unknown[] = [options.projectId];
  let where = `project_id = $1 and ${SHOWN}`;
  if (options.type !== undefined) {
    params.push(options.type);
    where += ` and type = $${params.length}`;
  }
  if (options.cursor !== undefined) {
    const after = decodeCursor<{ confidence: number; seq: string }>(options.cursor, { confidence: 'number', seq: 'digits' });
    params.push(after.confidence, after.seq);
    where += ` and (confidence, seq) < ($${params.length - 1}::double precision, $${params.length}::bigint)`;
  }
  params.push(options.limit + 1);
  const rows = await db.query<PatternRow>(`select ${COLUMNS} from memory.pattern_scores where ${where} order by confidence desc, pattern_scores.seq desc limit $${params.length}`, params);
  const page = rows.slice(0, options.limit);
  const last = page[page.length - 1];
  return {
    patterns: page.map(toPatternView),
    next_cursor: rows.length > options.limit && last ? encodeCursor({ confidence: last.confidence, seq: last.seq }) : null,
  };
}

export interface RelevantPatternsRequest {
  projectId: string;
  /** taskTerms of the task. */
  terms: string[];
  /** Files the task's code lives in (the search hits' paths). */
  paths: string[];
  minConfidence: number;
  limit: number;
}

/** z² of the 95% Wilson bound (memory.wilson_lower_bound). */
const Z_SQUARED = 3.8416;

/**
 * The fewest successes (failures for a QA check) a pattern needs to reach `confidence`: the Wilson
 * lower bound of k of n is at most k / (k + z²) (its value for k of k; more trials only lower it), so
 * rows with fewer cannot pass and are skipped before their confidence is computed. A necessary
 * condition only: the confidence itself is still compared.
 */
export function minimumCount(confidence: number): number {
  if (confidence <= 0) return 0;
  if (confidence >= 1) return 2_147_483_647; // no count reaches it (an int4 parameter)
  // The slack keeps a count whose bound equals the confidence up to rounding.
  return Math.max(0, Math.ceil((confidence * Z_SQUARED) / (1 - confidence) - 1e-9));
}

/**
 * Patterns that speak to a task, strongest first: files that tasks with its words changed; files
 * and areas changed together with the files its code lives in (or that those words point to); QA
 * checks that tend to fail. Agent statistics are for whoever schedules, not for the agent.
 *
 * One statement with its plan reused: planning the view (the Wilson bound inlined over the
 * evidence) took ~1.2 ms on PGlite against ~0.2 ms to run it on a young project, and it was planned
 * twice per context. Rows too weak to reach the confidence are dropped before their bound is
 * computed: by their count (minimumCount), and a word's files by the share of the word's tasks that
 * changed them (the bound is below that share, k/n). bench/memoryPerJob, per context, call to answer:
 * one-file jobs after 300 outcomes 3.1 -> 0.7-0.9 ms; varied tasks after 500 5.4 -> 2.7 ms. A
 * file's area is its directory as posix.dirname gives it for the repository-relative paths both
 * sides hold ("." at the root).
 */
export async function relevantPatterns(db: Queryable, request: RelevantPatternsRequest): Promise<PatternView[]> {
  const rows = await db.query<PatternRow>(
    `with terms as (select item as term, tasks from memory.pattern_support where project_id = $1 and kind = 'term' and item = any($2::text[])),
     by_word as (
       select ${COLUMNS} from memory.pattern_scores
        where project_id = $1 and type = 'task_files' and subject = any($2::text[]) and confidence >= $4
          and success_count >= greatest($5, ceil($4 * coalesce((select tasks from terms where term = subject), 0) - 1e-9))
        order by confidence desc, pattern_scores.seq desc limit $6),
     files as (select path from unnest($3::text[]) as paths(path) union select object from by_word),
     areas as (select distinct case when strpos(path, '/') = 0 then '.' else regexp_replace(path, '/[^/]*$', '') end as area from files),
     others as (
       select ${COLUMNS} from memory.pattern_scores
        where project_id = $1 and confidence >= $4 and (
              (type = 'co_change' and scope = 'file' and success_count >= $5
                and (subject = any(array(select path from files)) or object = any(array(select path from files))))
           or (type = 'co_change' and scope = 'directory' and success_count >= $5
                and (subject = any(array(select area from areas)) or object = any(array(select area from areas))))
           or (type = 'qa_failure' and failure_count >= greatest($5, 1)))
        order by confidence desc, pattern_scores.seq desc limit $6)
     select * from by_word union all select * from others`,
    [request.projectId, request.terms, request.paths, request.minConfidence, minimumCount(request.minConfidence), request.limit],
    { reusePlan: true },
  );
  return rows
    .sort((a, b) => b.confidence - a.confidence || Number(b.seq) - Number(a.seq))
    .slice(0, request.limit)
    .map(toPatternView);
}
