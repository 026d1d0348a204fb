// Watches a running agent's spend as its usage events arrive and stops it the moment it passes the
// job's max_cost_usd or its project's daily budget (fail closed: tokens are priced through the price
// table while the agent has not reported a cost, and an unknown model at the dearest price). Also
// writes the job's spend so far, so that other jobs' budget checks see it.
import type { ModelPrice } from '../../platform/config.js';
import type { Database } from '../../platform/database/database.js';
import type { Logger } from '../../platform/logger.js';
import { priceUsage } from '../agents/pricing.js';
import { addUsage, ZERO_USAGE, type RunEvent, type TokenUsage } from '../agents/runEvents.js';
import type { JobRow } from '../jobs/job.js';
import { projectSpend, recordSession, recordSpend } from './spend.js';

const WRITE_EVERY_MS = 2000;
const REFRESH_OTHERS_MS = 15_000;

export interface BudgetGuardOptions {
  db: Database;
  job: JobRow;
  workerId: string;
  prices: Record<string, ModelPrice>;
  maxCostUsd: number | null;
  /** What the job had spent before this run (earlier runs, QA rounds); default: the job row's spend. */
  base?: { costUsd: number; usage: TokenUsage | null };
  onOver: (reason: string) => void;
  logger: Logger;
}

const money = (n: number) => `$${n.toFixed(4).replace(/0{1,2}$/, '')}`;

/**
 * A usage event's cost so far in the run: the agent's own figure, else its tokens priced through the
 * table at the model seen (an unknown one at the dearest price), with how it was priced for a stop's reason.
 */
export function priceRunUsage(event: Extract<RunEvent, { kind: 'usage' }>, model: string | null, prices: Record<string, ModelPrice>): { runCostUsd: number; estimated: boolean; how: string } {
  const estimated = event.cost_usd === null;
  return {
    runCostUsd: event.cost_usd ?? priceUsage(event.usage, model, prices).costUsd,
    estimated,
    how: estimated ? ` (estimated from tokens at ${model ?? 'an unknown model'}'s price)` : '',
  };
}

/** Why a job's spend stops it ("cost $0.61 (…) passed max_cost_usd $0.5"), or null while within its limit. */
export function overJobLimit(totalUsd: number, how: string, maxCostUsd: number | null): string | null {
  return maxCostUsd !== null && totalUsd > maxCostUsd ? `cost ${money(totalUsd)}${how} passed max_cost_usd ${money(maxCostUsd)}` : null;
}

/**
 * The job's own limit alone, for a run with no database at hand (the GitHub Actions runner): stops
 * the agent the moment its spend passes max_cost_usd, as BudgetGuard does locally.
 */
export class JobCostLimit {
  private seenModel: string | null = null;
  private tripped = false;

  constructor(private readonly options: { maxCostUsd: number | null; spentUsd: number; prices: Record<string, ModelPrice>; onOver: (reason: string) => void }) {}

  observe(event: RunEvent): void {
    if (event.kind === 'session' && event.model) this.seenModel = event.model;
    if (event.kind !== 'usage' || this.tripped) return;
    const { runCostUsd, how } = priceRunUsage(event, this.seenModel, this.options.prices);
    const reason = overJobLimit(this.options.spentUsd + runCostUsd, how, this.options.maxCostUsd);
    if (reason) {
      this.tripped = true;
      this.options.onOver(reason);
    }
  }
}

export class BudgetGuard {
  private seenModel: string | null = null;
  private budget: number | null = null;
  private others = 0;
  private othersAt = 0;
  private tripped = false;
  private lastWrite = 0;
  private pendingWrite: NodeJS.Timeout | undefined;
  private latest: { costUsd: number; usage: TokenUsage | null; estimated: boolean } | null = null;
  private stopped = false;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(private readonly options: BudgetGuardOptions) {}

  async start(): Promise<void> {
    // A command agent reports no usage: there is nothing to watch, and no reason to read the budget.
    if (this.options.job.agent.type === 'command') return;
    const rows = await this.options.db.query<{ budget: number | null }>(
      `select (budget->>'daily_cost_usd')::float8 as budget from orchestrator.projects where id = $1`,
      [this.options.job.project_id],
    );
    this.budget = rows[0]?.budget ?? null;
    if (this.budget !== null) await this.refreshOthers();
  }

  model(): string | null {
    return this.seenModel;
  }

  /** Stops watching; resolves once a spend write under way has ended. */
  stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.pendingWrite);
    return this.inFlight;
  }

  observe(event: RunEvent): void {
    if (event.kind === 'session') {
      if (event.model) this.seenModel = event.model;
      const { db, job, workerId, logger } = this.options;
      this.inFlight = this.inFlight.then(() =>
        recordSession(db, job.id, workerId, event.session_id).catch((error: Error) => logger.warn({ err: error.message }, 'could not record the session')),
      );
    }
    if (event.kind !== 'usage' || this.stopped) return;
    const { prices, maxCostUsd } = this.options;
    const base = this.options.base ?? { costUsd: this.options.job.cost_usd ?? 0, usage: this.options.job.usage };
    const { runCostUsd, estimated, how } = priceRunUsage(event, this.seenModel, prices);
    const total = base.costUsd + runCostUsd;
    this.latest = { costUsd: total, usage: addUsage(base.usage ?? { ...ZERO_USAGE }, event.usage), estimated };
    const overLimit = overJobLimit(total, how, maxCostUsd);
    if (!this.tripped && overLimit) {
      this.trip(overLimit);
    } else if (!this.tripped && this.budget !== null && this.others + total > this.budget) {
      this.trip(`project budget reached: ${money(this.others + total)}${how} of ${money(this.budget)} in the last 24 h`);
    }
    this.scheduleWrite();
    if (this.budget !== null && Date.now() - this.othersAt > REFRESH_OTHERS_MS) void this.refreshOthers();
  }

  private trip(reason: string): void {
    this.tripped = true;
    this.options.onOver(reason);
  }

  private async refreshOthers(): Promise<void> {
    this.othersAt = Date.now();
    try {
      this.others = await projectSpend(this.options.db, this.options.job.project_id, this.options.job.id);
    } catch (error) {
      this.options.logger.warn({ err: (error as Error).message }, 'could not read the project spend');
    }
  }

  /** At most one write every WRITE_EVERY_MS: the latest figure wins. */
  private scheduleWrite(): void {
    if (this.pendingWrite) return;
    const wait = Math.max(0, this.lastWrite + WRITE_EVERY_MS - Date.now());
    this.pendingWrite = setTimeout(() => {
      this.pendingWrite = undefined;
      if (this.stopped || !this.latest) return;
      this.lastWrite = Date.now();
      const { costUsd, usage } = this.latest;
      this.inFlight = this.inFlight.then(() =>
        recordSpend(this.options.db, this.options.job.id, this.options.workerId, { costUsd, usage, sessionId: null }).catch((error: Error) =>
          this.options.logger.warn({ err: error.message }, 'could not record the spend so far'),
        ),
      );
    }, wait);
  }
}
