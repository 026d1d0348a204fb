// A job's live stream (SSE) until it ends, shared by /logs and /events: headers out at once, each
// new piece of the job's files sent as it is written (woken at once by writes in this process;
// another replica's are seen within 500 ms), a keep-alive comment every 15 s, one last read once the
// job has ended, then `event: end` with its status. A client that goes away ends the loop.
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Database } from '../../platform/database/database.js';
import { getJobRow } from '../jobs/jobQueries.js';
import { isTerminal } from '../jobs/job.js';
import type { JobLogs } from '../logs/jobLogs.js';

export interface JobStreamSource {
  /** Write what is new; true when something was (the loop reads again at once). */
  pump(res: ServerResponse): Promise<boolean>;
  /** The job has ended: write whatever is left. */
  drain(res: ServerResponse): Promise<void>;
}

export async function streamJobUntilEnd(
  deps: { db: Database; logs: JobLogs },
  jobId: string,
  request: FastifyRequest,
  reply: FastifyReply,
  source: JobStreamSource,
): Promise<void> {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  // Out now, not with the first event: a client knows the stream is open while the job is quiet.
  res.flushHeaders();
  const closed = new AbortController();
  request.raw.on('close', () => closed.abort());
  let lastBeat = Date.now();
  try {
    for (;;) {
      if (await source.pump(res)) continue;
      const status = (await getJobRow(deps.db, jobId)).status;
      if (isTerminal(status)) {
        // One more read: the last output may have landed after the previous one.
        await source.drain(res);
        res.write(`event: end\ndata: ${JSON.stringify({ status })}\n\n`);
        break;
      }
      if (closed.signal.aborted) break;
      if (Date.now() - lastBeat > 15_000) {
        res.write(': keep-alive\n\n');
        lastBeat = Date.now();
      }
      await deps.logs.waitForChange(jobId, 500, closed.signal);
      if (closed.signal.aborted) break;
    }
  } catch (error) {
    request.log.warn({ err: (error as Error).message }, 'job stream ended with an error');
  } finally {
    res.end();
  }
}
