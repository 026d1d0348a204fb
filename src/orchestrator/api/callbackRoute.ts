// POST /api/v1/callback: the result of a job run by GitHub Actions, signed with HMAC-SHA256 over
// the raw body (X-AutoBuild-Signature-256: sha256=<hex>), checked in constant time before anything
// else is looked at.
import { createHash } from 'node:crypto';
import { verify } from '@octokit/webhooks-methods';
import { Type } from 'typebox';
import type { Config } from '../../platform/config.js';
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/app.js';
import { applyCallback, type CallbackBody } from '../jobs/applyCallback.js';
import { outcomePolicy } from '../scheduler/finishJob.js';
import { toJob } from '../jobs/job.js';
import type { JobLogs } from '../logs/jobLogs.js';

export const SIGNATURE_HEADER = 'x-autobuild-signature-256';

const CallbackSchema = Type.Object(
  {
    job_id: Type.String({ format: 'uuid' }),
    status: Type.Enum(['succeeded', 'failed', 'cancelled']),
    run_id: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]{1,20}$' })]),
    exit_code: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
    commits: Type.Optional(Type.Array(Type.Object({ sha: Type.String({ pattern: '^[0-9a-f]{7,64}$' }), message: Type.String({ maxLength: 10_000 }) }), { maxItems: 10_000 })),
    files_changed: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100_000 })),
    diff_stat: Type.Optional(Type.Object({ files: Type.Integer({ minimum: 0 }), insertions: Type.Integer({ minimum: 0 }), deletions: Type.Integer({ minimum: 0 }) })),
    pr_url: Type.Optional(Type.Union([Type.String({ format: 'uri', maxLength: 2048 }), Type.Null()])),
    pr_number: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    qa: Type.Optional(
      Type.Union([
        Type.Object({ passed: Type.Boolean(), checks: Type.Array(Type.Object({ name: Type.String({ maxLength: 200 }), passed: Type.Boolean() }), { maxItems: 1000 }) }),
        Type.Null(),
      ]),
    ),
    summary: Type.Optional(Type.Union([Type.String({ maxLength: 100_000 }), Type.Null()])),
    error: Type.Optional(Type.Union([Type.String({ maxLength: 100_000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const rawBodies = new WeakMap<object, string>();

export function registerCallbackRoute(app: HttpApp, deps: { db: Database; config: Config; logs: JobLogs }): void {
  const { db, config, logs } = deps;
  void app.register(async (scope) => {
    // This route needs the exact bytes that were signed, so it parses JSON itself.
    scope.removeContentTypeParser('application/json');
    // The signature is checked before the body is even parsed: an unsigned caller learns nothing.
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, async (request: { headers: Record<string, unknown> }, body: string | Buffer) => {
      const raw = String(body);
      const signature = request.headers[SIGNATURE_HEADER];
      if (!config.callbackSecret) throw new AppError('unauthorized', 'callbacks are not accepted: AUTOBUILD_CALLBACK_SECRET is not set');
      if (typeof signature !== 'string' || !/^sha256=[0-9a-f]{64}$/i.test(signature)) {
        throw new AppError('unauthorized', `missing or malformed ${SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256 of the body>)`);
      }
      if (!(await verify(config.callbackSecret, raw, signature.toLowerCase()))) {
        throw new AppError('unauthorized', 'the callback signature does not match the body');
      }
      rawBodies.set(request, raw);
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new AppError('malformed_json', 'the body is not valid JSON');
      }
    });
    scope.post(
      '/api/v1/callback',
      {
        schema: { summary: 'Result of a job run by GitHub Actions (HMAC-signed)', tags: ['callback'], body: CallbackSchema },
        preValidation: async (request) => {
          // A request without a JSON body never reached the parser above.
          if (!rawBodies.has(request)) throw new AppError('unauthorized', `a JSON body signed in ${SIGNATURE_HEADER} is required`);
        },
      },
      async (request) => {
        const digest = createHash('sha256').update(rawBodies.get(request) ?? '').digest('hex');
        const body = request.body as CallbackBody;
        const { job, changed } = await applyCallback(db, body, digest, outcomePolicy(config));
        if (changed) {
          const log = logs.open(job.id);
          log.note(`GitHub Actions run ${body.run_id} reported ${body.status}${body.pr_url ? `: ${body.pr_url}` : ''}`);
          await log.close();
        }
        return { accepted: true, changed, job: toJob(job, null) };
      },
    );
  });
}
