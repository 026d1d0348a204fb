// Queue order, in one place: jobs start by priority, then submission order. A job's
// queue_position and GET /api/v1/queue both come from here, from the same snapshot, so they agree.
//
// Why a snapshot: counting the jobs ahead of one costs ~0.4 ms on PGlite, more than the rest of
// reading a job; while the queue is quiet, the ordered queue is loaded once and serves every read.
// Every change to the set of queued jobs sends NOTIFY autobuild_jobs (submit, claim, cancel, retry,
// recovery), which calls invalidate(). While changes keep coming (within QUIET_MS), or past
// LARGE_QUEUE jobs, reloading per change would cost more than counting, so positions are counted.
import type { Queryable } from '../../platform/database/database.js';
import { priorityName, type Priority } from './job.js';

const LARGE_QUEUE = 5000;
const QUIET_MS = 250;

interface QueuedRow {
  id: string;
  priority: number;
  project_id: string;
  title: string;
}

interface Snapshot {
  rows: QueuedRow[];
  position: Map<string, number>;
}

export interface QueueSnapshot {
  running: number;
  queued: number;
  by_priority: Record<Priority, number>;
  queued_jobs: Array<{ id: string; priority: Priority; queue_position: number; project_id: string; title: string }>;
}

export class QueueOrder {
  private version = 0;
  private loaded: { version: number; snapshot: Promise<Snapshot> } | undefined;
  private lastSize = 0;
  private changedAt = 0;

  constructor(private readonly db: Queryable) {}

  /** The set of queued jobs changed (here or, through NOTIFY, on another replica). */
  /** Changes with every change to the queue (here or, through NOTIFY, on another replica). */
  get generation(): number {
    return this.version;
  }

  invalidate(): void {
    this.version++;
    this.changedAt = Date.now();
  }

  private snapshotUsable(): boolean {
    return this.loaded?.version === this.version || (this.lastSize <= LARGE_QUEUE && Date.now() - this.changedAt >= QUIET_MS);
  }

  private load(): Promise<Snapshot> {
    if (this.loaded?.version === this.version) return this.loaded.snapshot;
    const snapshot = this.db
      .query<QueuedRow>(`select id, priority, project_id, title from orchestrator.jobs where status = 'queued' order by priority, seq`, [], { reusePlan: true })
      .then((rows) => {
        this.lastSize = rows.length;
        return { rows, position: new Map(rows.map((row, i) => [row.id, i + 1])) };
      });
    const entry = { version: this.version, snapshot };
    this.loaded = entry;
    snapshot.catch(() => {
      if (this.loaded === entry) this.loaded = undefined;
    });
    return snapshot;
  }

  /** Positions of jobs whose rows say they are queued; a job the snapshot lacks reloads it once. */
  async positionsOf(jobIds: string[]): Promise<Map<string, number>> {
    if (jobIds.length === 0) return new Map();
    if (!this.snapshotUsable()) return this.countPositions(jobIds);
    const snapshot = await this.load();
    // A job the snapshot lacks was queued after it was taken (its NOTIFY not here yet): count.
    if (jobIds.some((id) => !snapshot.position.has(id))) return this.countPositions(jobIds);
    const out = new Map<string, number>();
    for (const id of jobIds) {
      const position = snapshot.position.get(id);
      if (position !== undefined) out.set(id, position);
    }
    return out;
  }

  async positionOf(jobId: string): Promise<number | null> {
    return (await this.positionsOf([jobId])).get(jobId) ?? null;
  }

  private async countPositions(jobIds: string[]): Promise<Map<string, number>> {
    const rows = await this.db.query<{ id: string; position: number }>(
      `select me.id, (select count(*)::int from orchestrator.jobs q
                       where q.status = 'queued' and (q.priority, q.seq) <= (me.priority, me.seq)) as position
         from orchestrator.jobs me where me.id = any($1::uuid[]) and me.status = 'queued'`,
      [jobIds],
      { reusePlan: true },
    );
    return new Map(rows.map((r) => [r.id, r.position]));
  }

  /** GET /api/v1/queue: counts, and the queued jobs in start order. */
  async snapshot(limit = 500): Promise<QueueSnapshot> {
    const active = this.db.query<{ n: number }>(`select count(*)::int as n from orchestrator.jobs where status in ('preparing', 'running')`, [], { reusePlan: true });
    const byPriority: Record<Priority, number> = { critical: 0, high: 0, normal: 0, low: 0 };
    let rows: QueuedRow[];
    let queued: number;
    if (this.lastSize > LARGE_QUEUE) {
      const [counts, first] = await Promise.all([
        this.db.query<{ priority: number; n: number }>(`select priority, count(*)::int as n from orchestrator.jobs where status = 'queued' group by priority`),
        this.db.query<QueuedRow>(`select id, priority, project_id, title from orchestrator.jobs where status = 'queued' order by priority, seq limit $1`, [limit]),
      ]);
      for (const row of counts) byPriority[priorityName(row.priority)] += row.n;
      queued = counts.reduce((sum, row) => sum + row.n, 0);
      this.lastSize = queued;
      rows = first;
    } else {
      const queue = await this.load();
      for (const row of queue.rows) byPriority[priorityName(row.priority)]++;
      queued = queue.rows.length;
      rows = queue.rows.slice(0, limit);
    }
    return {
      running: (await active)[0]?.n ?? 0,
      queued,
      by_priority: byPriority,
      queued_jobs: rows.map((r, i) => ({ id: r.id, priority: priorityName(r.priority), queue_position: i + 1, project_id: r.project_id, title: r.title })),
    };
  }
}
