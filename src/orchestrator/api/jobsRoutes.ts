// /api/v1/jobs: submit, list, get, cancel, logs (plain text, or live over SSE).
import type { ServerResponse } from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import type { HttpApp } from '../../platform/http/app.js';
import { decodeCursor, encodeCursor } from '../../platform/http/cursor.js';
import { AppError } from '../../platform/errors.js';
import type { Database } from '../../platform/database/database.js';
import type { Config } from '../../platform/config.js';
import { isTerminal, toJob, type JobRow } from '../jobs/job.js';
import { getJobRow, listJobRows, requestCancel } from '../jobs/jobQueries.js';
import type { QueueOrder } from '../jobs/queue.js';
import { submitJob } from '../jobs/submitJob.js';
import { WaitingReasons } from '../budgets/spend.js';
import type { JobLogs } from '../logs/jobLogs.js';
import type { GithubActionsExecutor } from '../executors/githubActionsExecutor.js';
import { assertStorable } from '../../platform/database/storable.js';
import { JobIdParams, ListJobsQuery, SubmitJobBody } from './schemas.js';
import { streamJobUntilEnd } from './jobStream.js';

export interface JobsRouteDeps {
  db: Database;
  queue: QueueOrder;
  config: Config;
  logs: JobLogs;
  remote: GithubActionsExecutor;
}

export function registerJobRoutes(app: HttpApp, deps: JobsRouteDeps): void {
  const { db, config, logs, remote, queue } = deps;
  const waiting = new WaitingReasons(db, config.maxParallel, () => queue.generation);
  const withQueuePosition = async (row: JobRow) => {
    if (row.status !== 'queued') return toJob(row, null);
    const reasons = await waiting.of([row]);
    return toJob(row, await queue.positionOf(row.id), reasons.get(row.id) ?? null);
  };

  app.post(
    '/api/v1/jobs',
    {
      schema: {
        summary: 'Submit a job',
        tags: ['jobs'],
        body: SubmitJobBody,
        headers: { type: 'object', properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 255 } } },
      },
    },
    async (request, reply) => {
      assertStorable(request.body);
      const headerKey = request.headers['idempotency-key'];
      const key = (typeof headerKey === 'string' ? headerKey : undefined) ?? request.body.idempotency_key;
      if (typeof headerKey === 'string' && request.body.idempotency_key && headerKey !== request.body.idempotency_key) {
        throw new AppError('validation_failed', 'the Idempotency-Key header and idempotency_key differ', [{ field: 'idempotency_key', message: 'differs from the header' }]);
      }
      const { job, created, queuePosition } = await submitJob(db, config, { ...request.body, idempotency_key: key });
      if (created) {
        queue.invalidate();
        return reply.status(201).send(toJob(job, queuePosition ?? null));
      }
      reply.header('idempotent-replayed', 'true');
      return reply.status(200).send(await withQueuePosition(job));
    },
  );

  app.get('/api/v1/jobs', { schema: { summary: 'List jobs, newest first', tags: ['jobs'], querystring: ListJobsQuery } }, async (request) => {
    const { limit = 50, cursor, status, project_id } = request.query;
    const after = cursor ? decodeCursor<{ seq: string }>(cursor, { seq: 'digits' }) : undefined;
    const rows = await listJobRows(db, { limit: limit + 1, beforeSeq: after?.seq, status, projectId: project_id });
    const page = rows.slice(0, limit);
    const queued = page.filter((r) => r.status === 'queued');
    const positions = await queue.positionsOf(queued.map((r) => r.id));
    const reasons = await waiting.of(queued);
    const last = page[page.length - 1];
    return {
      jobs: page.map((row) => toJob(row, positions.get(row.id) ?? null, reasons.get(row.id) ?? null)),
      next_cursor: rows.length > limit && last ? encodeCursor({ seq: String(last.seq) }) : null,
    };
  });

  app.get('/api/v1/jobs/:id', { schema: { summary: 'One job', tags: ['jobs'], params: JobIdParams } }, async (request) =>
    withQueuePosition(await getJobRow(db, request.params.id)),
  );

  app.delete('/api/v1/jobs/:id', { schema: { summary: 'Cancel a job', tags: ['jobs'], params: JobIdParams } }, async (request, reply) => {
    const { job, active } = await requestCancel(db, request.params.id);
    queue.invalidate();
    let current = job;
    // A job on GitHub's runners: stop its run through the API (a job still being dispatched is
    // stopped by the dispatcher when it sees the cancel).
    if (active && job.executor === 'github-actions' && job.status === 'running') await remote.cancel(job);
    if (active) {
      // Give the running replica time to stop the process group, so the answer usually shows the end.
      const deadline = Date.now() + config.jobs.killGraceMs + 5000;
      while (!isTerminal(current.status) && Date.now() < deadline) {
        await logs.waitForChange(job.id, 100);
        current = await getJobRow(db, job.id);
      }
    }
    return reply.status(202).send(await withQueuePosition(current));
  });

  app.get('/api/v1/jobs/:id/logs', { schema: { summary: "The job's log (text/plain, or text/event-stream live)", tags: ['jobs'], params: JobIdParams } }, async (request, reply) => {
    const job = await getJobRow(db, request.params.id);
    const wantsStream = (request.headers.accept ?? '').includes('text/event-stream');
    if (!wantsStream) {
      const size = await logs.size(job.id);
      const content = await logs.readFrom(job.id, 0, size);
      return reply.type('text/plain; charset=utf-8').send(content);
    }
    let offset = 0;
    let pending = '';
    // One decoder across reads, so a character split between two reads arrives whole.
    const decoder = new StringDecoder('utf8');
    // SSE treats \r, \n and \r\n all as line ends; each becomes its own data line.
    const send = (res: ServerResponse, event: string, data: string) =>
      res.write(`event: ${event}\n${data.split(/\r\n|\r|\n/).map((line) => `data: ${line}`).join('\n')}\n\n`);
    await streamJobUntilEnd({ db, logs }, job.id, request, reply, {
      pump: async (res) => {
        const chunk = await logs.readFrom(job.id, offset);
        if (chunk.length === 0) return false;
        offset += chunk.length;
        pending += decoder.write(chunk);
        const cut = pending.lastIndexOf('\n');
        if (cut >= 0) {
          send(res, 'log', pending.slice(0, cut));
          pending = pending.slice(cut + 1);
        }
        return true;
      },
      drain: async (res) => {
        pending += decoder.write(await logs.readFrom(job.id, offset)) + decoder.end();
        if (pending) send(res, 'log', pending.replace(/\n$/, ''));
      },
    });
  });
}
