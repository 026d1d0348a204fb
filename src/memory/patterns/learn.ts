// Owns updating a project's patterns from one verified outcome, inside the transaction that stores
// its memory (so a memory and what was learnt from it are never apart). Each job counts once, and
// deleting the memory takes its counts back (forgetOutcomes).
//
// What is learnt:
// - agent_stats: per agent type, successes and failures, and the durations of recent successful
//   runs (the typical duration is their median). Confidence: the success rate's lower bound.
// - qa_failure: per QA check, runs where it passed (success_count) and failed (failure_count).
//   Confidence: the failure rate's lower bound.
// - co_change (successful tasks only): pairs of files, and pairs of directories ("areas"), changed
//   by the same task. Confidence: the lower bound of together / tasks that touched either.
// - task_files (successful tasks only): a task word and a file the task changed. Confidence: the
//   lower bound of tasks with the word that changed the file / tasks with the word.
// What a failed task touched is not evidence of what its task needs, so co_change and task_files
// learn from successes alone (their failure_count stays 0).
//
// Bounded: an outcome that changed more than maxFiles files (a sweeping refactor says nothing about
// which files belong together) adds no file-level pattern, more than maxDirectories directories no
// directory pair; at most MAX_TASK_TERMS words per task; and co_change / task_files keep at most
// maxRowsPerType rows per project (a tenth more between prunes), dropping the weakest (fewest
// successes, longest unseen). Confidences are not written here: memory.pattern_scores derives
// them from these counts when patterns are read (see migration 003 for why).
import { posix } from 'node:path';
import type { Queryable } from '../../platform/database/database.js';
import type { VerifiedOutcome } from './outcome.js';

export interface PatternLimits {
  maxFiles: number;
  maxDirectories: number;
  maxRowsPerType: number;
}

export const DEFAULT_PATTERN_LIMITS: PatternLimits = { maxFiles: 12, maxDirectories: 8, maxRowsPerType: 2000 };

/** Durations kept per agent for its typical duration. */
export const DURATION_SAMPLES = 50;

/** Unordered pairs of distinct items of a sorted list, each as [smaller, larger]. */
function pairs(items: string[]): [string[], string[]] {
  const left: string[] = [];
  const right: string[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      left.push(items[i]!);
      right.push(items[j]!);
    }
  }
  return [left, right];
}

/** The directory of each path ("." for the repository root), distinct and sorted. */
export function directoriesOf(files: string[]): string[] {
  return [...new Set(files.map((file) => posix.dirname(file)))].sort();
}

/** What one outcome adds to the patterns under the limits in force: kept with its job, taken back on delete. */
export interface CountedOutcome {
  succeeded: boolean;
  agent: string | null;
  durationS: number | null;
  qaChecks: VerifiedOutcome['qaChecks'];
  /** Files of file-level patterns (none past maxFiles), their task words, and directory pairs' directories. */
  files: string[];
  terms: string[];
  directories: string[];
}

function countedOf(outcome: VerifiedOutcome, limits: PatternLimits): CountedOutcome {
  const files = outcome.succeeded && outcome.files.length <= limits.maxFiles ? outcome.files : [];
  const directories = outcome.succeeded ? directoriesOf(outcome.files) : [];
  return {
    succeeded: outcome.succeeded,
    agent: outcome.agent,
    durationS: outcome.durationS,
    qaChecks: outcome.qaChecks,
    files,
    terms: files.length > 0 ? outcome.terms : [],
    directories: directories.length <= limits.maxDirectories ? directories : [],
  };
}

/** Rows of memory.patterns one outcome adds to (an upsert each), column by column. */
interface PatternKeys {
  types: string[];
  scopes: string[];
  subjects: string[];
  objects: string[];
  successes: number[];
  failures: number[];
}

/** What an outcome adds to: its agent, its QA checks, and (a success) its file and area pairs and its words' files. */
function patternKeys(outcome: VerifiedOutcome, counted: CountedOutcome): PatternKeys {
  const keys: PatternKeys = { types: [], scopes: [], subjects: [], objects: [], successes: [], failures: [] };
  const add = (type: string, scope: string, subject: string, object: string, successes: number, failures: number) => {
    keys.types.push(type);
    keys.scopes.push(scope);
    keys.subjects.push(subject);
    keys.objects.push(object);
    keys.successes.push(successes);
    keys.failures.push(failures);
  };
  if (outcome.agent) add('agent_stats', '', outcome.agent, '', outcome.succeeded ? 1 : 0, outcome.succeeded ? 0 : 1);
  for (const check of outcome.qaChecks) add('qa_failure', '', check.name, '', check.passed ? 1 : 0, check.passed ? 0 : 1);
  if (!outcome.succeeded) return keys;
  const [fileLeft, fileRight] = pairs(counted.files);
  fileLeft.forEach((a, i) => add('co_change', 'file', a, fileRight[i]!, 1, 0));
  for (const term of counted.terms) for (const file of counted.files) add('task_files', '', term, file, 1, 0);
  const [areaLeft, areaRight] = pairs(counted.directories);
  areaLeft.forEach((a, i) => add('co_change', 'directory', a, areaRight[i]!, 1, 0));
  return keys;
}

/** The items whose counted tasks a success adds one to: its files and words (file-level patterns) and its areas. */
function supportItems(outcome: VerifiedOutcome, counted: CountedOutcome): { kinds: string[]; items: string[] } {
  if (!outcome.succeeded) return { kinds: [], items: [] };
  const items: Array<[string, string]> = [
    ...counted.files.map((file): [string, string] => ['file', file]),
    ...counted.terms.map((term): [string, string] => ['term', term]),
    ...counted.directories.map((directory): [string, string] => ['directory', directory]),
  ];
  return { kinds: items.map(([kind]) => kind), items: items.map(([, item]) => item) };
}

/**
 * One statement: the job is claimed (once: a redelivered or re-sent outcome of a counted job changes
 * nothing); the support counts and every pattern row the outcome adds to are upserted, each only if
 * the claim succeeded; and each bounded type that gains rows is counted as it will be after it (the
 * statement's reads do not see its own writes: the rows before, plus its keys that were not there).
 * A type that gains no row keeps the count the last outcome left within its bound, so it is not
 * counted (a count reads all of the type's rows). Was up to 12 statements inside the write's
 * transaction, which holds the embedded database's one connection (bench/memoryPerJob, per outcome,
 * call to answer: one-file jobs 3.1-3.8 ms in 9 statements -> 0.8 ms; varied tasks 5.3 -> 2.1 ms).
 */
const LEARN_SQL = `
  with claimed as (
    insert into memory.pattern_jobs (project_id, job_id, outcome, memory_id, counted) values ($1, $2, $3, $4, $5)
    on conflict (project_id, job_id) do nothing returning job_id),
  keys as materialized (
    select k.*, not exists (
             select 1 from memory.patterns p
              where p.project_id = $1 and p.type = k.type and p.scope = k.scope and p.subject = k.subject and p.object = k.object) as new
      from unnest($8::text[], $9::text[], $10::text[], $11::text[], $12::int[], $13::int[]) as k(type, scope, subject, object, successes, failures)),
  supported as (
    insert into memory.pattern_support (project_id, kind, item, tasks)
    select $1, kind, item, 1 from unnest($6::text[], $7::text[]) as s(kind, item) where exists (select 1 from claimed)
    on conflict (project_id, kind, item) do update set tasks = memory.pattern_support.tasks + 1
    returning 1),
  learnt as (
    insert into memory.patterns (project_id, type, scope, subject, object, success_count, failure_count, samples)
    select $1, type, scope, subject, object, successes, failures,
           case when type = 'agent_stats' then $14::double precision[] else '{}'::double precision[] end
      from keys where exists (select 1 from claimed)
    on conflict (project_id, type, scope, subject, object) do update set
      success_count = memory.patterns.success_count + excluded.success_count,
      failure_count = memory.patterns.failure_count + excluded.failure_count,
      samples = case when excluded.type = 'agent_stats'
                     then (memory.patterns.samples || excluded.samples)[greatest(1, cardinality(memory.patterns.samples) + cardinality(excluded.samples) - ${DURATION_SAMPLES - 1}):]
                     else memory.patterns.samples end,
      last_seen_at = now()
    returning 1),
  gained as (select type, count(*) as n from keys where new and type in ('co_change', 'task_files') group by type)
  select exists (select 1 from claimed) as claimed, g.type,
         ((select count(*) from memory.patterns where project_id = $1 and type = g.type) + g.n)::int as rows_after
    from (select 1) one left join gained g on exists (select 1 from claimed)`;

/**
 * Keep the strongest maxRows rows of a type (most successes, then most recently seen). Pruned once
 * a type is a tenth over its cap, down to the cap, so the sort is paid once per maxRows/10 new rows.
 */
async function prune(tx: Queryable, projectId: string, type: string, maxRows: number): Promise<void> {
  await tx.query(
    `delete from memory.patterns where id in (
       select id from memory.patterns where project_id = $1 and type = $2
        order by success_count desc, last_seen_at desc, seq desc offset $3)`,
    [projectId, type, maxRows],
  );
}

/**
 * Learn from one verified outcome (in the caller's transaction, which holds the project's memory
 * lock). Returns false when the job had been counted already.
 */
export async function learnFromOutcome(tx: Queryable, outcome: VerifiedOutcome, memoryId: string, limits: PatternLimits = DEFAULT_PATTERN_LIMITS): Promise<boolean> {
  const counted = countedOf(outcome, limits);
  const keys = patternKeys(outcome, counted);
  const support = supportItems(outcome, counted);
  const samples = outcome.succeeded && outcome.durationS !== null ? [outcome.durationS] : [];
  const rows = await tx.query<{ claimed: boolean; rows_after: number | null; type: string | null }>(LEARN_SQL, [
    outcome.projectId,
    outcome.jobId,
    outcome.succeeded ? 'success' : 'failure',
    memoryId,
    JSON.stringify(counted),
    support.kinds,
    support.items,
    keys.types,
    keys.scopes,
    keys.subjects,
    keys.objects,
    keys.successes,
    keys.failures,
    samples,
  ], { reusePlan: true });
  if (!rows[0]?.claimed) return false;
  for (const row of rows) {
    if (row.type !== null && row.rows_after !== null && row.rows_after > limits.maxRowsPerType + Math.floor(limits.maxRowsPerType / 10)) {
      await prune(tx, outcome.projectId, row.type, limits.maxRowsPerType);
    }
  }
  return true;
}

/**
 * Take back what the outcomes counted against a memory added (in the caller's transaction, holding
 * the project's memory lock, as the memory is deleted): exactly what was recorded when each was
 * counted. Jobs counted before that record existed are taken back as `current` (the deleted memory's
 * outcome) reads now, under today's limits. Rows pruned since are skipped; rows left without evidence
 * are dropped. Returns how many jobs were taken back.
 */
export async function forgetOutcomes(
  tx: Queryable,
  projectId: string,
  memoryId: string,
  current: VerifiedOutcome | null,
  limits: PatternLimits = DEFAULT_PATTERN_LIMITS,
): Promise<number> {
  const released = await tx.query<{ job_id: string; counted: CountedOutcome | null }>(
    `delete from memory.pattern_jobs where project_id = $1 and memory_id = $2 returning job_id, counted`,
    [projectId, memoryId],
  );
  for (const job of released) {
    const counted = job.counted ?? (current && current.jobId === job.job_id ? countedOf(current, limits) : null);
    if (counted) await takeBackOutcome(tx, projectId, counted);
  }
  // Every row learnt holds a success or a failure, so one with neither is evidence taken back.
  if (released.length > 0) await tx.query(`delete from memory.patterns where project_id = $1 and success_count = 0 and failure_count = 0`, [projectId]);
  return released.length;
}

async function takeBackOutcome(tx: Queryable, projectId: string, counted: CountedOutcome): Promise<void> {
  if (counted.agent) {
    const success = counted.succeeded ? 1 : 0;
    await takeBack(tx, projectId, 'agent_stats', '', [[counted.agent, '']], success, 1 - success);
    if (counted.succeeded && counted.durationS !== null) {
      // One sample of this duration goes (the newest of equal ones would do as well).
      await tx.query(
        `update memory.patterns set samples = samples[:array_position(samples, $3::double precision) - 1] || samples[array_position(samples, $3::double precision) + 1:]
          where project_id = $1 and type = 'agent_stats' and scope = '' and subject = $2 and object = '' and array_position(samples, $3::double precision) is not null`,
        [projectId, counted.agent, counted.durationS],
      );
    }
  }
  const checks = (passed: boolean) => counted.qaChecks.filter((check) => check.passed === passed).map((check): [string, string] => [check.name, '']);
  await takeBack(tx, projectId, 'qa_failure', '', checks(true), 1, 0);
  await takeBack(tx, projectId, 'qa_failure', '', checks(false), 0, 1);
  if (counted.files.length > 0) {
    await forgetCoChange(tx, projectId, 'file', counted.files);
    await uncountSupport(tx, projectId, 'term', counted.terms);
    await takeBack(tx, projectId, 'task_files', '', counted.terms.flatMap((term) => counted.files.map((file): [string, string] => [term, file])), 1, 0);
  }
  if (counted.directories.length > 0) await forgetCoChange(tx, projectId, 'directory', counted.directories);
}

/** Subtract counts from the rows with these (subject, object) keys, never below zero. */
async function takeBack(tx: Queryable, projectId: string, type: string, scope: string, keys: Array<[string, string]>, successes: number, failures: number): Promise<void> {
  if (keys.length === 0) return;
  await tx.query(
    `update memory.patterns p set success_count = greatest(0, p.success_count - $4), failure_count = greatest(0, p.failure_count - $5)
       from unnest($6::text[], $7::text[]) as k(subject, object)
      where p.project_id = $1 and p.type = $2 and p.scope = $3 and p.subject = k.subject and p.object = k.object`,
    [projectId, type, scope, successes, failures, keys.map(([subject]) => subject), keys.map(([, object]) => object)],
  );
}

async function forgetCoChange(tx: Queryable, projectId: string, scope: 'file' | 'directory', items: string[]): Promise<void> {
  await uncountSupport(tx, projectId, scope, items);
  const [left, right] = pairs(items);
  await takeBack(tx, projectId, 'co_change', scope, left.map((a, i): [string, string] => [a, right[i]!]), 1, 0);
}

async function uncountSupport(tx: Queryable, projectId: string, kind: 'file' | 'directory' | 'term', items: string[]): Promise<void> {
  if (items.length === 0) return;
  await tx.query(`update memory.pattern_support set tasks = tasks - 1 where project_id = $1 and kind = $2 and item = any($3::text[])`, [projectId, kind, items]);
  await tx.query(`delete from memory.pattern_support where project_id = $1 and kind = $2 and item = any($3::text[]) and tasks <= 0`, [projectId, kind, items]);
}
