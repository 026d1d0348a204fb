// What an agent run comes to, from how its process ended and what its output reported: a provider's
// limit parks the job (never a success, never a spent attempt), an error the agent reported fails it
// whatever the exit code (Claude Code exits 0 after some errors and 1 with `subtype: "success"` after
// a 429), a stop over budget fails it with the reason; and what the run spent.
import type { ModelPrice } from '../../platform/config.js';
import type { JobRow } from '../jobs/job.js';
import type { AgentRunResult } from './agentProcess.js';
import { priceUsage } from './pricing.js';
import { addUsage, oneLine, ZERO_USAGE, type RunReport, type TokenUsage } from './runEvents.js';

export type RunVerdict =
  | { status: 'succeeded' | 'failed' | 'cancelled' | 'timed_out'; exitCode: number | null; error: string | null; final?: boolean }
  | { status: 'park'; notBefore: Date; reason: string }
  | { status: 'requeue' }
  | { status: 'abandon' };

export interface VerdictOptions {
  /** Why the budget guard stopped the run, if it did. */
  overBudget: string | null;
  rateLimitBackoffS: number;
  now?: Date;
}

export function decideOutcome(job: Pick<JobRow, 'timeout_s'>, run: AgentRunResult, report: RunReport, options: VerdictOptions): RunVerdict {
  const now = options.now ?? new Date();
  switch (run.stoppedFor) {
    case 'cancelled':
      return { status: 'cancelled', exitCode: run.exitCode, error: 'cancelled by request' };
    case 'timed_out':
      return { status: 'timed_out', exitCode: run.exitCode, error: `timed out after ${job.timeout_s}s` };
    case 'shutdown':
      return { status: 'requeue' };
    case 'lease_lost':
      return { status: 'abandon' };
    case 'over_budget':
      // Final: another attempt would only spend again.
      return { status: 'failed', exitCode: run.exitCode, error: `stopped: ${options.overBudget ?? 'over budget'}`, final: true };
    case null:
      break;
  }
  if (run.spawnError) return { status: 'failed', exitCode: null, error: `could not start the agent: ${run.spawnError}` };
  if (report.rateLimited) {
    const reset = report.rateLimited.resetsAt;
    const notBefore = reset && reset.getTime() > now.getTime() ? reset : new Date(now.getTime() + options.rateLimitBackoffS * 1000);
    const status = report.apiErrorStatus ? ` (${report.apiErrorStatus})` : '';
    return { status: 'park', notBefore, reason: `rate limited by the model provider${status} until ${notBefore.toISOString()}${reset ? '' : ' (no reset time given: the configured backoff)'}` };
  }
  if (report.isError) {
    const what = report.finalText ? oneLine(report.finalText, 500) : 'an error';
    return { status: 'failed', exitCode: run.exitCode, error: `the agent reported ${what}${report.apiErrorStatus ? ` (API status ${report.apiErrorStatus})` : ''}` };
  }
  if (run.exitCode === 0) return { status: 'succeeded', exitCode: 0, error: null };
  return { status: 'failed', exitCode: run.exitCode, error: run.exitCode === null ? `agent killed by ${run.signal}` : `agent exited with code ${run.exitCode}` };
}

export interface RunSpend {
  /** This run's tokens and dollars. */
  runUsage: TokenUsage | null;
  runCostUsd: number;
  /** The job's totals, every run so far included. */
  usage: TokenUsage | null;
  costUsd: number;
  source: 'agent' | 'price_table' | null;
  model: string | null;
}

/** This run's spend, and the totals once it is added to what the job had spent before (base). */
export function runSpend(base: Pick<JobRow, 'cost_usd' | 'usage'>, report: RunReport, seenModel: string | null, prices: Record<string, ModelPrice>): RunSpend {
  const job = base;
  const model = report.model ?? seenModel;
  const runUsage = report.usage;
  let runCostUsd = 0;
  let source: RunSpend['source'] = null;
  if (report.costUsd !== null) {
    runCostUsd = report.costUsd;
    source = 'agent';
  } else if (runUsage) {
    runCostUsd = priceUsage(runUsage, model, prices).costUsd;
    source = 'price_table';
  }
  const usage = runUsage ? addUsage(job.usage ?? { ...ZERO_USAGE }, runUsage) : job.usage;
  return { runUsage, runCostUsd, usage, costUsd: (job.cost_usd ?? 0) + runCostUsd, source, model };
}
