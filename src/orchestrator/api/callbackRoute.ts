// POST /api/v1/callback: the result of a job run by GitHub Actions, signed with HMAC-SHA256 over
// the raw body (X-AutoBuild-Signature-256: sha256=<hex>), checked in constant time before anything
// else is looked at. Alternatively (AUTOBUILD_GITHUB_OIDC) the run's GitHub OIDC token in
// X-AutoBuild-OIDC-Token, verified before the body is parsed and matched to the job's repository,
// workflow file and run before anything changes.
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
import { authorizeOidcCallback, createGithubOidcVerifier, OIDC_TOKEN_HEADER, type GithubOidcClaims } from './callbackOidc.js';
import { assertStorable } from '../../platform/database/storable.js';

export const SIGNATURE_HEADER = 'x-autobuild-signature-256';

const CallbackSchema = Type.Object(
  {
    job_id: Type.String({ format: 'uuid' }),
    status: Type.Enum(['succeeded', 'failed', 'cancelled']),
    run_id: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: '^[0-9]{1,20}$' })]),
    // The job's exit_code column is a PostgreSQL int: a larger number is a 400, not the database's error.
    exit_code: Type.Optional(Type.Union([Type.Integer({ minimum: -(2 ** 31), maximum: 2 ** 31 - 1 }), Type.Null()])),
    commits: Type.Optional(
      Type.Array(Type.Object({ sha: Type.String({ pattern: '^[0-9a-f]{7,64}$' }), message: Type.String({ maxLength: 10_000 }) }, { additionalProperties: false }), { maxItems: 10_000 }),
    ),
    files_changed: Type.Optional(Type.Array(Type.String({ maxLength: 4096 }), { maxItems: 100_000 })),
    diff_stat: Type.Optional(
      Type.Object({ files: Type.Integer({ minimum: 0 }), insertions: Type.Integer({ minimum: 0 }), deletions: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }),
    ),
    pr_url: Type.Optional(Type.Union([Type.String({ format: 'uri', maxLength: 2048 }), Type.Null()])),
    pr_number: Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()])),
    qa: Type.Optional(
      Type.Union([
        Type.Object(
          { passed: Type.Boolean(), checks: Type.Array(Type.Object({ name: Type.String({ maxLength: 200 }), passed: Type.Boolean() }, { additionalProperties: false }), { maxItems: 1000 }) },
          { additionalProperties: false },
        ),
        Type.Null(),
      ]),
    ),
    summary: Type.Optional(Type.Union([Type.String({ maxLength: 100_000 }), Type.Null()])),
    error: Type.Optional(Type.Union([Type.String({ maxLength: 100_000 }), Type.Null()])),
  },
  { additionalProperties: false },
);

const rawBodies = new WeakMap<object, string>();
/** Requests authenticated by an OIDC token rather than a signature, with the token's claims. */
const oidcClaims = new WeakMap<object, GithubOidcClaims>();

export function registerCallbackRoute(app: HttpApp, deps: { db: Database; config: Config; logs: JobLogs }): void {
  const { db, config, logs } = deps;
  const { enabled, issuer, audience } = config.github.oidc;
  const oidc = enabled && audience ? createGithubOidcVerifier({ issuer, audience }) : undefined;
  const bodyRequired = () => new AppError('unauthorized', `a JSON body signed in ${SIGNATURE_HEADER}${oidc ? ` or sent with ${OIDC_TOKEN_HEADER}` : ''} is required`);
  void app.register(async (scope) => {
    // This route needs the exact bytes that were signed, so it parses JSON itself.
    scope.removeContentTypeParser('application/json');
    // The signature is checked before the body is even parsed: an unsigned caller learns nothing.
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, async (request: { headers: Record<string, unknown> }, body: string | Buffer) => {
      const raw = String(body);
      const signature = request.headers[SIGNATURE_HEADER];
      const token = request.headers[OIDC_TOKEN_HEADER];
      if (signature === undefined && token !== undefined) {
        // The OIDC alternative, taken only when no signature is offered: a signed callback is
        // judged by its signature alone.
        if (!oidc) throw new AppError('unauthorized', 'GitHub OIDC tokens are not accepted: AUTOBUILD_GITHUB_OIDC is off');
        if (typeof token !== 'string') throw new AppError('unauthorized', `send one ${OIDC_TOKEN_HEADER} header`);
        oidcClaims.set(request, await oidc.verify(token.trim()));
      } else {
        if (!config.callbackSecret) {
          throw new AppError('unauthorized', oidc
            ? `missing ${OIDC_TOKEN_HEADER} header (the run's GitHub OIDC token); signed callbacks are off: AUTOBUILD_CALLBACK_SECRET is not set`
            : 'callbacks are not accepted: AUTOBUILD_CALLBACK_SECRET is not set');
        }
        // An empty body is no callback, signed or not (and the HMAC check refuses one with a TypeError).
        if (raw === '') throw bodyRequired();
        if (typeof signature !== 'string' || !/^sha256=[0-9a-f]{64}$/i.test(signature)) {
          throw new AppError('unauthorized', `missing or malformed ${SIGNATURE_HEADER} header (sha256=<hex HMAC-SHA256 of the body>)${oidc ? ` or ${OIDC_TOKEN_HEADER} header` : ''}`);
        }
        if (!(await verify(config.callbackSecret, raw, signature.toLowerCase()))) {
          throw new AppError('unauthorized', 'the callback signature does not match the body');
        }
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
        schema: {
          summary: 'Result of a job run by GitHub Actions (HMAC-signed, or with the run\'s GitHub OIDC token)',
          description: `Authenticated by ${SIGNATURE_HEADER} (sha256=<hex HMAC-SHA256 of the raw body with AUTOBUILD_CALLBACK_SECRET>) or, with AUTOBUILD_GITHUB_OIDC on, by ${OIDC_TOKEN_HEADER} (the run's GitHub Actions OIDC token, for the orchestrator's audience, from a workflow_dispatch run of the project's workflow file in the job's repository, and the run the body names).`,
          tags: ['callback'],
          body: CallbackSchema,
        },
        preValidation: async (request) => {
          // A request without a JSON body never reached the parser above.
          if (!rawBodies.has(request)) throw bodyRequired();
        },
      },
      async (request) => {
        const digest = createHash('sha256').update(rawBodies.get(request) ?? '').digest('hex');
        const body = request.body as CallbackBody;
        // A token proves the repository, workflow and run, not the job: check they are this job's first.
        const claims = oidcClaims.get(request);
        if (claims) await authorizeOidcCallback(db, claims, body);
        assertStorable(body);
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
