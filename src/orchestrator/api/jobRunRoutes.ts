// A job's run for people and tools: /events (the agent's run as structured events, JSON pages or
// live SSE), /diff (the branch's changes, text or per file) and /follow-ups (continue the job).
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/app.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { assertStorable } from '../../platform/database/storable.js';
import { submitFollowUp } from '../jobs/followUp.js';
import { getJobRow } from '../jobs/jobQueries.js';
import { isTerminal, PRIORITIES, toJob } from '../jobs/job.js';
import type { QueueOrder } from '../jobs/queue.js';
import type { JobLogs } from '../logs/jobLogs.js';
import { branchExists, branchRange, commitsRange, diffFiles, diffText } from '../worktrees/branchDiff.js';
import { JobIdParams } from './schemas.js';
import { streamJobUntilEnd } from './jobStream.js';
import type { StoredRunEvent } from '../agents/runEvents.js';

export interface JobRunRouteDeps {
  db: Database;
  logs: JobLogs;
  queue: QueueOrder;
}

const EventsQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 200 })),
    cursor: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const DiffQuery = Type.Object(
  {
    format: Type.Optional(Type.Enum(['text', 'json'])),
    scope: Type.Optional(
      Type.Enum(['branch', 'job'], { description: "branch (default): the branch's changes against its merge base; job: only this job's own commits (a thread's follow-ups share the branch)" }),
    ),
  },
  { additionalProperties: false },
);

const FollowUpBody = Type.Object(
  {
    prompt: Type.String({ minLength: 1, maxLength: 200_000, pattern: '\\S', description: 'what the agent is asked to do next; not blank' }),
    priority: Type.Optional(Type.Enum([...PRIORITIES])),
  },
  { additionalProperties: false },
);

export function registerJobRunRoutes(app: HttpApp, deps: JobRunRouteDeps): void {
  const { db, logs, queue } = deps;

  app.get(
    '/api/v1/jobs/:id/events',
    {
      schema: {
        summary: "The agent's run as structured events, oldest first (JSON pages, or live with Accept: text/event-stream)",
        tags: ['jobs'],
        params: JobIdParams,
        querystring: EventsQuery,
      },
    },
    async (request, reply) => {
      const job = await getJobRow(db, request.params.id);
      const { limit = 200, cursor } = request.query;
      const from = cursor ? decodeCursor<{ seq: number; offset: number }>(cursor, { seq: 'number', offset: 'number' }) : { seq: 0, offset: 0 };
      const wantsStream = (request.headers.accept ?? '').includes('text/event-stream');
      if (!wantsStream) {
        const page = await logs.readEvents(job.id, { afterSeq: from.seq, limit, offset: from.offset });
        const last = page.events.at(-1);
        // While the job runs, the cursor lets a poller continue from here; once it has ended and
        // everything is read, there is no next page.
        const more = page.events.length === limit || !isTerminal(job.status);
        return { events: page.events, next_cursor: more ? encodeCursor({ seq: last?.seq ?? from.seq, offset: page.offset }) : null };
      }
      // SSE: each event as `id: <seq>` and `data: <json>`; `event: end` with the job's status last.
      // A reconnecting client's Last-Event-ID continues after that seq.
      const lastEventId = Number(request.headers['last-event-id']);
      let afterSeq = Number.isInteger(lastEventId) && lastEventId > 0 ? lastEventId : from.seq;
      let offset = afterSeq === from.seq ? from.offset : 0;
      const write = (res: ServerResponse, event: StoredRunEvent) => {
        res.write(`id: ${event.seq}\ndata: ${JSON.stringify(event)}\n\n`);
        afterSeq = event.seq;
      };
      await streamJobUntilEnd({ db, logs }, job.id, request, reply, {
        pump: async (res) => {
          const page = await logs.readEvents(job.id, { afterSeq, limit: 500, offset });
          offset = page.offset;
          for (const event of page.events) write(res, event);
          return page.events.length > 0;
        },
        drain: async (res) => {
          for (const event of (await logs.readEvents(job.id, { afterSeq, limit: 100_000, offset })).events) write(res, event);
        },
      });
    },
  );

  app.get(
    '/api/v1/jobs/:id/diff',
    {
      schema: {
        summary: "The job branch's changes against its merge base with base_branch (text/plain unified diff, or ?format=json per file)",
        tags: ['jobs'],
        params: JobIdParams,
        querystring: DiffQuery,
      },
    },
    async (request, reply) => {
      const job = await getJobRow(db, request.params.id);
      if (job.executor !== 'local' || !(await branchExists(job.repo, job.branch))) {
        throw new AppError('branch_not_found', `branch ${job.branch} does not exist in ${job.repo} yet`);
      }
      let range = branchRange(job.base_branch, job.branch);
      if (request.query.scope === 'job') {
        // From where the job started (its parent's last commit, or the merge base) to its own last commit.
        const last = job.result?.commits.at(-1)?.sha;
        const parent = job.parent_job_id ? await getJobRow(db, job.parent_job_id).catch(() => undefined) : undefined;
        const from = parent?.result?.commits.at(-1)?.sha;
        if (!last || last === from) return request.query.format === 'json' ? { files: [] } : reply.type('text/plain; charset=utf-8').send('');
        range = from ? commitsRange(from, last) : `${job.base_branch}...${last}`;
      }
      try {
        if (request.query.format === 'json') return { files: await diffFiles(job.repo, range) };
        return reply.type('text/plain; charset=utf-8').send(await diffText(job.repo, range));
      } catch (error) {
        throw new AppError('unprocessable', `cannot diff ${job.branch} against ${job.base_branch}: ${(error as Error).message.split('\n')[0]}`);
      }
    },
  );

  app.post(
    '/api/v1/jobs/:id/follow-ups',
    { schema: { summary: 'Continue a finished job: a new job on its branch that resumes its agent session', tags: ['jobs'], params: JobIdParams, body: FollowUpBody } },
    async (request, reply) => {
      assertStorable(request.body);
      const { job, queuePosition } = await submitFollowUp(db, request.params.id, request.body);
      queue.invalidate();
      return reply.status(201).send(toJob(job, queuePosition));
    },
  );
}
