// GitHub Actions OIDC for POST /api/v1/callback: the run proves who it is with the short-lived token
// GitHub mints for it (RS256, signed by the issuer's published keys), so no secret is shared. The
// token alone says "a run of repository R"; tokenMatchesJob then ties it to the job in the body.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Queryable } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import type { ExternalRun } from '../executors/githubActionsExecutor.js';
import type { JobRow } from '../jobs/job.js';
import { getJobRow } from '../jobs/jobQueries.js';
import { getProject } from '../projects/projects.js';

/** The token travels in its own header: `Authorization` carries AUTOBUILD_API_TOKEN on every route. */
export const OIDC_TOKEN_HEADER = 'x-autobuild-oidc-token';

/** The claims of GitHub's token that the callback relies on. */
export interface GithubOidcClaims extends JWTPayload {
  /** owner/repo of the workflow run. */
  repository: string;
  /** The workflow run's id (a string in GitHub's tokens). */
  run_id: string | number;
}

export interface GithubOidcVerifier {
  /** The token's claims once its signature, issuer, audience and lifetime check out; else a 401 (503: keys unreachable). */
  verify(token: string): Promise<GithubOidcClaims>;
}

/** The issuer's keys could not be fetched: not the caller's fault, and worth a retry (the runner retries 5xx). */
class IssuerUnavailable extends Error {}

const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** GitHub's tokens and this orchestrator's clock may disagree a little. */
const CLOCK_TOLERANCE_S = 60;
const FETCH_TIMEOUT_MS = 5000;

/** The issuer's JWKS location, from its OpenID discovery document (whose issuer must be the one configured). */
async function discoverJwksUri(issuer: string): Promise<URL> {
  const where = `${issuer}/.well-known/openid-configuration`;
  let document: { issuer?: unknown; jwks_uri?: unknown };
  try {
    const response = await fetch(where, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}`);
    document = (await response.json()) as typeof document;
  } catch (error) {
    throw new IssuerUnavailable(`could not read ${where}: ${(error as Error).message}`);
  }
  if (document.issuer !== issuer || typeof document.jwks_uri !== 'string' || !URL.canParse(document.jwks_uri)) {
    throw new IssuerUnavailable(`${where} does not describe the issuer ${issuer} with a jwks_uri`);
  }
  return new URL(document.jwks_uri);
}

/** Errors of key resolution that are the token's fault (an unknown key id, a wrong algorithm). */
const TOKEN_KEY_ERRORS = [errors.JWKSNoMatchingKey, errors.JWKSMultipleMatchingKeys, errors.JOSEAlgNotAllowed, errors.JOSENotSupported];

const CLAIM_PROBLEMS: Record<string, string> = { check_failed: 'has an unexpected value', missing: 'is missing', invalid: 'is malformed' };

function rejection(error: unknown): AppError {
  if (error instanceof IssuerUnavailable) {
    return new AppError('dependency_unavailable', `the GitHub OIDC token cannot be checked now: ${error.message}`);
  }
  let reason = 'it is not a valid token';
  if (error instanceof errors.JWTExpired) reason = 'it has expired';
  else if (error instanceof errors.JWTClaimValidationFailed) reason = `its "${error.claim}" claim ${CLAIM_PROBLEMS[error.reason] ?? 'is not acceptable'}`;
  else if (error instanceof errors.JWSSignatureVerificationFailed) reason = 'its signature does not verify';
  else if (error instanceof errors.JWKSNoMatchingKey) reason = 'it is not signed by any of the issuer\'s keys';
  else if (error instanceof errors.JOSEAlgNotAllowed) reason = 'it is not signed with RS256';
  // jose's messages never quote the token; ours name only the failing check.
  return new AppError('unauthorized', `the GitHub OIDC token was rejected: ${reason}`);
}

export function createGithubOidcVerifier(options: { issuer: string; audience: string }): GithubOidcVerifier {
  const { issuer, audience } = options;
  // Discovered once; a failed discovery is retried by the next callback.
  let keys: Promise<JWTVerifyGetKey> | undefined;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    keys ??= discoverJwksUri(issuer).then((uri) => createRemoteJWKSet(uri, { timeoutDuration: FETCH_TIMEOUT_MS }));
    let resolve: JWTVerifyGetKey;
    try {
      resolve = await keys;
    } catch (error) {
      keys = undefined;
      throw error;
    }
    try {
      return await resolve(header, token);
    } catch (error) {
      if (TOKEN_KEY_ERRORS.some((type) => error instanceof type)) throw error;
      throw new IssuerUnavailable(`could not fetch the issuer's keys: ${(error as Error).message}`);
    }
  };

  return {
    async verify(token) {
      if (!COMPACT_JWS.test(token)) throw new AppError('unauthorized', `the ${OIDC_TOKEN_HEADER} header is not a JWT`);
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, getKey, {
          issuer,
          audience,
          algorithms: ['RS256'],
          clockTolerance: CLOCK_TOLERANCE_S,
          requiredClaims: ['exp', 'repository', 'run_id'],
        }));
      } catch (error) {
        throw rejection(error);
      }
      if (typeof payload.repository !== 'string' || !payload.repository.includes('/')) {
        throw new AppError('unauthorized', 'the GitHub OIDC token was rejected: its "repository" claim is not owner/repo');
      }
      return payload as GithubOidcClaims;
    },
  };
}

/**
 * The repository a callback for this job must come from: where its run was dispatched, or the
 * project's GitHub coordinates for a job not dispatched (yet).
 */
export function expectedRepository(job: JobRow, projectGithub: { owner: string; repo: string } | null | undefined): string | undefined {
  const run = job.external_run as ExternalRun | null;
  if (run?.owner && run.repo) return `${run.owner}/${run.repo}`;
  return projectGithub ? `${projectGithub.owner}/${projectGithub.repo}` : undefined;
}

/**
 * A verified token may report on this job only: its repository is the job's (GitHub names are
 * case-insensitive) and its run is the one the body names. Throws 401 otherwise.
 */
export function assertTokenMatchesJob(claims: GithubOidcClaims, job: JobRow, repository: string | undefined, runId: string | number): void {
  if (!repository || repository.toLowerCase() !== claims.repository.toLowerCase()) {
    throw new AppError(
      'unauthorized',
      repository
        ? `the GitHub OIDC token is for ${claims.repository}, but job ${job.id} runs on ${repository}`
        : `job ${job.id} has no GitHub repository, so a GitHub OIDC token cannot report on it`,
    );
  }
  if (String(claims.run_id) !== String(runId)) {
    throw new AppError('unauthorized', `the GitHub OIDC token belongs to run ${String(claims.run_id)}, but the body reports run ${String(runId)}`);
  }
}

/** Look up the job a token-authenticated callback names and check the token may report on it (404 unknown job, 401 not its run). */
export async function authorizeOidcCallback(db: Queryable, claims: GithubOidcClaims, body: { job_id: string; run_id: string | number }): Promise<void> {
  const job = await getJobRow(db, body.job_id);
  const project = job.external_run ? undefined : await getProject(db, job.project_id);
  assertTokenMatchesJob(claims, job, expectedRepository(job, project?.github), body.run_id);
}
