// Queue order, in one place: jobs start by priority, then submission order. Both a job's
// queue_position and GET /api/v1/queue come from here, so they always agree.
import type { Queryable } from '../../platform/database/database.js';
import { priorityName, type Priority } from './job.js';

const QUEUE_ORDER = 'priority, seq';

export async function queuePositionOf(db: Queryable, jobId: string): Promise<number | null> {
  // Look the job up first, then count the queue ahead of it through the partial queue index.
  // (One statement joining the job to the queue lets the planner rescan the queue per row.)
  const rows = await db.query<{ position: number | null }>(
    `select (select count(*)::int from orchestrator.jobs q
              where q.status = 'queued' and (q.priority, q.seq) <= (me.priority, me.seq)) as position
       from orchestrator.jobs me where me.id = $1 and me.status = 'queued'`,
    [jobId],
  );
  return rows[0]?.position ?? null;
}

/** Positions for several queued jobs at once (list pages). */
export async function queuePositions(db: Queryable, jobIds: string[]): Promise<Map<string, number>> {
  if (jobIds.length === 0) return new Map();
  const rows = await db.query<{ id: string; position: number }>(
    `select id, position from (
       select id, row_number() over (order by ${QUEUE_ORDER})::int as position
         from orchestrator.jobs where status = 'queued') ranked
      where id = any($1::uuid[])`,
    [jobIds],
  );
  return new Map(rows.map((r) => [r.id, r.position]));
}

export interface QueueSnapshot {
  running: number;
  queued: number;
  by_priority: Record<Priority, number>;
  queued_jobs: Array<{ id: string; priority: Priority; queue_position: number; project_id: string; title: string }>;
}

export async function queueSnapshot(db: Queryable, limit = 500): Promise<QueueSnapshot> {
  const [counts, queued] = await Promise.all([
    db.query<{ status: string; priority: number; n: number }>(
      `select status, priority, count(*)::int as n from orchestrator.jobs
        where status in ('queued','preparing','running') group by status, priority`,
    ),
    db.query<{ id: string; priority: number; project_id: string; title: string; position: number }>(
      `select id, priority, project_id, title, row_number() over (order by ${QUEUE_ORDER})::int as position
         from orchestrator.jobs where status = 'queued' order by ${QUEUE_ORDER} limit $1`,
      [limit],
    ),
  ]);
  const byPriority: Record<Priority, number> = { critical: 0, high: 0, normal: 0, low: 0 };
  let running = 0;
  let queuedCount = 0;
  for (const row of counts) {
    if (row.status === 'queued') {
      byPriority[priorityName(row.priority)] += row.n;
      queuedCount += row.n;
    } else running += row.n;
  }
  return {
    running,
    queued: queuedCount,
    by_priority: byPriority,
    queued_jobs: queued.map((r) => ({ id: r.id, priority: priorityName(r.priority), queue_position: r.position, project_id: r.project_id, title: r.title })),
  };
}
