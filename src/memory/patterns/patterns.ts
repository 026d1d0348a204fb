// Owns reading a project's learned patterns: the list (best first: confidence, then newest, with a
// cursor) and the patterns relevant to a task (its words, the files its code lives in, and the QA
// checks that tend to fail). A QA check that never failed is counted but not shown: it is no
// pattern yet, only the denominator of one.
import type { Queryable } from '../../platform/database/database.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { toPatternView, type PatternRow, type PatternType, type PatternView } from './describe.js';
import { directoriesOf } from './learn.js';

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

/**
 * Patterns that speak to a task, strongest first: files that tasks with its words changed; files
 * and areas changed together with the files its code lives in (or that those words point to); QA
 * checks that tend to fail. Agent statistics are for whoever schedules, not for the agent.
 */
export async function relevantPatterns(db: Queryable, request: RelevantPatternsRequest): Promise<PatternView[]> {
  const byWord =
    request.terms.length === 0
      ? []
      : await db.query<PatternRow>(
          `select ${COLUMNS} from memory.pattern_scores
            where project_id = $1 and type = 'task_files' and subject = any($2::text[]) and confidence >= $3
            order by confidence desc, pattern_scores.seq desc limit $4`,
          [request.projectId, request.terms, request.minConfidence, request.limit],
        );
  const files = [...new Set([...request.paths, ...byWord.map((row) => row.object)])];
  const others = await db.query<PatternRow>(
    `select ${COLUMNS} from memory.pattern_scores
      where project_id = $1 and confidence >= $4 and (
            (type = 'co_change' and scope = 'file' and (subject = any($2::text[]) or object = any($2::text[])))
         or (type = 'co_change' and scope = 'directory' and (subject = any($3::text[]) or object = any($3::text[])))
         or (type = 'qa_failure' and failure_count > 0))
      order by confidence desc, pattern_scores.seq desc limit $5`,
    [request.projectId, files, directoriesOf(files), request.minConfidence, request.limit],
  );
  return [...byWord, ...others]
    .sort((a, b) => b.confidence - a.confidence || Number(b.seq) - Number(a.seq))
    .slice(0, request.limit)
    .map(toPatternView);
}
