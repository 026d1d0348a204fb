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

const UPSERT_SUCCESS = `on conflict (project_id, type, scope, subject, object)
  do update set success_count = memory.patterns.success_count + 1, last_seen_at = now()`;

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

/** Count the outcome once: false when its job was counted already (a redelivery or a re-sent outcome). */
async function claimJob(tx: Queryable, outcome: VerifiedOutcome, memoryId: string, counted: CountedOutcome): Promise<boolean> {
  const rows = await tx.query(
    `insert into memory.pattern_jobs (project_id, job_id, outcome, memory_id, counted) values ($1, $2, $3, $4, $5)
     on conflict (project_id, job_id) do nothing returning job_id`,
    [outcome.projectId, outcome.jobId, outcome.succeeded ? 'success' : 'failure', memoryId, JSON.stringify(counted)],
  );
  return rows.length > 0;
}

async function learnAgent(tx: Queryable, outcome: VerifiedOutcome): Promise<void> {
  if (!outcome.agent) return;
  const success = outcome.succeeded ? 1 : 0;
  const samples = outcome.succeeded && outcome.durationS !== null ? [outcome.durationS] : [];
  await tx.query(
    `insert into memory.patterns (project_id, type, subject, success_count, failure_count, samples)
     values ($1, 'agent_stats', $2, $3, 1 - $3, $4::double precision[])
     on conflict (project_id, type, scope, subject, object) do update set
       success_count = memory.patterns.success_count + excluded.success_count,
       failure_count = memory.patterns.failure_count + excluded.failure_count,
       samples = (memory.patterns.samples || excluded.samples)[greatest(1, cardinality(memory.patterns.samples) + cardinality(excluded.samples) - ${DURATION_SAMPLES - 1}):],
       last_seen_at = now()`,
    [outcome.projectId, outcome.agent, success, samples],
  );
}

async function learnQa(tx: Queryable, outcome: VerifiedOutcome): Promise<void> {
  if (outcome.qaChecks.length === 0) return;
  await tx.query(
    `insert into memory.patterns (project_id, type, subject, success_count, failure_count)
     select $1, 'qa_failure', name, passed::int, 1 - passed::int from unnest($2::text[], $3::boolean[]) as checks(name, passed)
     on conflict (project_id, type, scope, subject, object) do update set
       success_count = memory.patterns.success_count + excluded.success_count,
       failure_count = memory.patterns.failure_count + excluded.failure_count,
       last_seen_at = now()`,
    [outcome.projectId, outcome.qaChecks.map((check) => check.name), outcome.qaChecks.map((check) => check.passed)],
  );
}

async function countSupport(tx: Queryable, projectId: string, kind: 'file' | 'directory' | 'term', items: string[]): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `insert into memory.pattern_support (project_id, kind, item, tasks) select $1, $2, item, 1 from unnest($3::text[]) as items(item)
     on conflict (project_id, kind, item) do update set tasks = memory.pattern_support.tasks + 1`,
    [projectId, kind, items],
  );
}

/** Pairs of items changed together (each item's count is the evidence of its pairs' confidence). */
async function learnCoChange(tx: Queryable, projectId: string, scope: 'file' | 'directory', items: string[]): Promise<void> {
  await countSupport(tx, projectId, scope, items);
  const [left, right] = pairs(items);
  if (left.length > 0) {
    await tx.query(
      `insert into memory.patterns (project_id, type, scope, subject, object, success_count)
       select $1, 'co_change', $2, a, b, 1 from unnest($3::text[], $4::text[]) as pairs(a, b) ${UPSERT_SUCCESS}`,
      [projectId, scope, left, right],
    );
  }
}

async function learnTaskFiles(tx: Queryable, projectId: string, terms: string[], files: string[]): Promise<void> {
  await countSupport(tx, projectId, 'term', terms);
  const subjects = terms.flatMap((term) => files.map(() => term));
  const objects = terms.flatMap(() => files);
  if (subjects.length > 0) {
    await tx.query(
      `insert into memory.patterns (project_id, type, subject, object, success_count)
       select $1, 'task_files', term, path, 1 from unnest($2::text[], $3::text[]) as links(term, path) ${UPSERT_SUCCESS}`,
      [projectId, subjects, objects],
    );
  }
}

/**
 * Keep the strongest maxRows rows of a type (most successes, then most recently seen). Pruned once
 * a type is a tenth over its cap, down to the cap, so the sort is paid once per maxRows/10 new rows.
 */
async function prune(tx: Queryable, projectId: string, type: string, maxRows: number): Promise<void> {
  const [count] = await tx.query<{ n: number }>(`select count(*)::int as n from memory.patterns where project_id = $1 and type = $2`, [projectId, type]);
  if (!count || count.n <= maxRows + Math.floor(maxRows / 10)) return;
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
  if (!(await claimJob(tx, outcome, memoryId, counted))) return false;
  await learnAgent(tx, outcome);
  await learnQa(tx, outcome);
  if (!outcome.succeeded) return true;
  if (counted.files.length > 0) {
    await learnCoChange(tx, outcome.projectId, 'file', counted.files);
    await learnTaskFiles(tx, outcome.projectId, counted.terms, counted.files);
  }
  if (counted.directories.length > 0) await learnCoChange(tx, outcome.projectId, 'directory', counted.directories);
  await prune(tx, outcome.projectId, 'co_change', limits.maxRowsPerType);
  await prune(tx, outcome.projectId, 'task_files', limits.maxRowsPerType);
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
