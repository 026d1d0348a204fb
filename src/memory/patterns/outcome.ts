// Owns deciding whether a memory is a verified execution outcome, and reading what patterns learn
// from it. Verified: an execution_success / execution_failure memory with JSON content, a job id
// (the memory's, and the content's when it names one too, the same), and a status that agrees with
// the type (execution_success ⇔ succeeded; execution_failure ⇔ failed or timed_out). A cancelled
// job says nothing about the task or the agent, and a hand-written lesson is not an outcome.
import type { MemoryContent } from '../memories/render.js';
import { taskTerms } from './taskTerms.js';

export interface QaCheck {
  name: string;
  passed: boolean;
}

export interface VerifiedOutcome {
  projectId: string;
  jobId: string;
  succeeded: boolean;
  agent: string | null;
  durationS: number | null;
  /** Distinct changed paths, sorted. */
  files: string[];
  /** Words of the title and the task (see taskTerms). */
  terms: string[];
  qaChecks: QaCheck[];
}

const FAILED_STATUSES = new Set(['failed', 'timed_out']);
/** QA checks read from one outcome; a name is at most this long. */
const MAX_QA_CHECKS = 50;
const MAX_NAME = 100;
/** Paths read from one outcome (the orchestrator sends at most 100). */
const MAX_FILES_READ = 200;

function text(value: unknown, max = 4000): string | null {
  return typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, max) : null;
}

/** A repository-relative path as git names it: no leading "/", "./" or "..". */
function cleanPath(value: unknown): string | null {
  const path = text(value, 1000);
  if (!path || path.startsWith('/') || path.includes('\\') || path.split('/').some((part) => part === '' || part === '.' || part === '..')) return null;
  return path;
}

function qaChecks(qa: unknown): QaCheck[] {
  if (qa === null || typeof qa !== 'object' || !Array.isArray((qa as { checks?: unknown }).checks)) return [];
  const byName = new Map<string, boolean>();
  for (const check of (qa as { checks: unknown[] }).checks.slice(0, MAX_QA_CHECKS)) {
    if (check === null || typeof check !== 'object') continue;
    const name = text((check as { name?: unknown }).name, MAX_NAME);
    const passed = (check as { passed?: unknown }).passed;
    if (!name || typeof passed !== 'boolean') continue;
    // A check reported twice counts once, failed if either report failed.
    byName.set(name, (byName.get(name) ?? true) && passed);
  }
  return [...byName].map(([name, passed]) => ({ name, passed }));
}

export function verifiedOutcome(input: { projectId: string; type: string; content: MemoryContent; jobId?: string }): VerifiedOutcome | null {
  if (typeof input.content === 'string' || !input.jobId) return null;
  const content = input.content;
  if (content.job_id !== undefined && content.job_id !== input.jobId) return null;
  const status = content.status;
  const type = input.type.trim().toLowerCase();
  const succeeded = type === 'execution_success' && status === 'succeeded';
  const failed = type === 'execution_failure' && typeof status === 'string' && FAILED_STATUSES.has(status);
  if (!succeeded && !failed) return null;
  const files = Array.isArray(content.files_changed)
    ? [...new Set(content.files_changed.slice(0, MAX_FILES_READ).map(cleanPath).filter((path): path is string => path !== null))].sort()
    : [];
  const duration = content.duration_s;
  return {
    projectId: input.projectId,
    jobId: input.jobId,
    succeeded,
    agent: text(content.agent, MAX_NAME),
    durationS: typeof duration === 'number' && Number.isFinite(duration) && duration >= 0 ? duration : null,
    files,
    terms: taskTerms(`${text(content.title) ?? ''}\n${text(content.task) ?? ''}`),
    qaChecks: qaChecks(content.qa),
  };
}
