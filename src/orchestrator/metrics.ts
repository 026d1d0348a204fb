// The orchestrator's Prometheus metrics. Gauges are read from the database at scrape time, so they
// describe the whole deployment, not one replica; durations are observed by the replica that ran the job.
import { Counter, Gauge, Histogram, collectDefaultMetrics, Registry } from 'prom-client';
import type { TokenUsage } from './agents/runEvents.js';
import type { Database } from '../platform/database/database.js';
import { JOB_STATUSES, PRIORITIES, priorityName } from './jobs/job.js';

export class JobMetrics {
  readonly registry = new Registry();
  private readonly duration: Histogram<'status'>;
  private readonly tokens: Counter<'project' | 'agent' | 'kind'>;
  private readonly dollars: Counter<'project' | 'agent'>;

  constructor(db: Database, localRunning: () => number) {
    collectDefaultMetrics({ register: this.registry, prefix: 'autobuild_process_' });
    // Counted by the replica that ran the agent, as each run ends (a run parked by a rate limit included).
    this.tokens = new Counter({
      name: 'autobuild_agent_tokens_total',
      help: 'Tokens agents used, by project, agent type and kind (input, output, cache_read, cache_creation)',
      labelNames: ['project', 'agent', 'kind'],
      registers: [this.registry],
    });
    this.dollars = new Counter({
      name: 'autobuild_agent_cost_usd_total',
      help: 'Dollars agents spent (as the agent reported, or priced from tokens), by project and agent type',
      labelNames: ['project', 'agent'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'autobuild_job_duration_seconds',
      help: 'Duration of finished job attempts in seconds, by resulting status',
      labelNames: ['status'],
      buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200],
      registers: [this.registry],
    });
    new Gauge({
      name: 'autobuild_jobs',
      help: 'Jobs in the database by status',
      labelNames: ['status'],
      registers: [this.registry],
      async collect() {
        const rows = await db.query<{ status: string; n: number }>(`select status, count(*)::int as n from orchestrator.jobs group by status`);
        for (const status of JOB_STATUSES) this.set({ status }, rows.find((r) => r.status === status)?.n ?? 0);
      },
    });
    new Gauge({
      name: 'autobuild_queue_depth',
      help: 'Queued jobs by priority',
      labelNames: ['priority'],
      registers: [this.registry],
      async collect() {
        const rows = await db.query<{ priority: number; n: number }>(
          `select priority, count(*)::int as n from orchestrator.jobs where status = 'queued' group by priority`,
        );
        for (const priority of PRIORITIES) this.set({ priority }, rows.find((r) => priorityName(r.priority) === priority)?.n ?? 0);
      },
    });
    new Gauge({
      name: 'autobuild_jobs_running',
      help: 'Jobs preparing or running in the whole deployment',
      registers: [this.registry],
      async collect() {
        const rows = await db.query<{ n: number }>(`select count(*)::int as n from orchestrator.jobs where status in ('preparing', 'running')`);
        this.set(rows[0]?.n ?? 0);
      },
    });
    new Gauge({
      name: 'autobuild_jobs_running_local',
      help: 'Jobs this replica is running',
      registers: [this.registry],
      collect() {
        this.set(localRunning());
      },
    });
    new Gauge({
      name: 'autobuild_worktrees_active',
      help: 'Worktrees on disk that are not removed yet',
      registers: [this.registry],
      async collect() {
        const rows = await db.query<{ n: number }>(`select count(*)::int as n from orchestrator.worktrees where status <> 'removed'`);
        this.set(rows[0]?.n ?? 0);
      },
    });
  }

  agentSpent(project: string, agent: string, usage: TokenUsage | null | undefined, costUsd: number): void {
    if (usage) {
      this.tokens.inc({ project, agent, kind: 'input' }, usage.input_tokens);
      this.tokens.inc({ project, agent, kind: 'output' }, usage.output_tokens);
      this.tokens.inc({ project, agent, kind: 'cache_read' }, usage.cache_read_input_tokens);
      this.tokens.inc({ project, agent, kind: 'cache_creation' }, usage.cache_creation_input_tokens);
    }
    if (costUsd > 0) this.dollars.inc({ project, agent }, costUsd);
  }

  jobFinished(status: string, seconds: number): void {
    this.duration.observe({ status }, seconds);
  }
}
