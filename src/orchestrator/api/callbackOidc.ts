// GitHub Actions OIDC for POST /api/v1/callback: the run proves who it is with the short-lived token
// GitHub mints for it (RS256, signed by the issuer's published keys), so no secret is shared. The
// token alone says "a run of workflow W of repository R"; assertTokenMatchesJob then ties it to the
// job in the body: the project's registered workflow, dispatched, and the run the body names.
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
  /** owner/repo/.github/workflows/<file>@<ref>: which workflow file the run executes. */
  workflow_ref: string;
  /** What started the run; the orchestrator only ever dispatches (workflow_dispatch). */
  event_name: string;
}

export interface GithubOidcVerifier {
  /** The token's claims once its signature, issuer, audience and lifetime check out; else a 401 (503: keys unreachable, or an unknown key id while the keys may not be refetched yet). */
  verify(token: string): Promise<GithubOidcClaims>;
}

/** The issuer's keys could not be fetched: not the caller's fault, and worth a retry (the runner retries 5xx). */
class IssuerUnavailable extends Error {}

/**
 * The token names a key the cached set lacks, and the set was fetched too recently to fetch again
 * (jose's cooldown): most likely the issuer just rotated its keys, so a retry after the cooldown
 * will find it. A 503, because the runner does not retry 4xx and would lose the result.
 */
class KeysCoolingDown extends Error {}

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
  if (error instanceof IssuerUnavailable || error instanceof KeysCoolingDown) {
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

/** jose's default: an unknown key id refetches the set at most this often. */
const DEFAULT_JWKS_COOLDOWN_MS = 30_000;

export interface GithubOidcVerifierOptions {
  issuer: string;
  audience: string;
  /** Least time between two fetches of the issuer's keys for unknown key ids (tests shorten it). */
  jwksCooldownMs?: number;
}

export function createGithubOidcVerifier(options: GithubOidcVerifierOptions): GithubOidcVerifier {
  const { issuer, audience } = options;
  const cooldownMs = options.jwksCooldownMs ?? DEFAULT_JWKS_COOLDOWN_MS;
  // Discovered once; a failed discovery is retried by the next callback.
  let keys: Promise<ReturnType<typeof createRemoteJWKSet>> | undefined;
  const getKey: JWTVerifyGetKey = async (header, token) => {
    keys ??= discoverJwksUri(issuer).then((uri) => createRemoteJWKSet(uri, { timeoutDuration: FETCH_TIMEOUT_MS, cooldownDuration: cooldownMs }));
    let resolve: Awaited<typeof keys>;
    try {
      resolve = await keys;
    } catch (error) {
      keys = undefined;
      throw error;
    }
    // Read before resolving: when the set is cooling down, jose cannot refetch it for an unknown
    // kid, so "no matching key" then means "not known yet" rather than "not the issuer's".
    const coolingDown = resolve.coolingDown;
    try {
      return await resolve(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey && coolingDown) {
        throw new KeysCoolingDown(
          `it names a signing key the orchestrator has not seen (the issuer may have just rotated its keys), and the keys were fetched less than ${Math.ceil(cooldownMs / 1000)}s ago; retry after that`,
        );
      }
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
          requiredClaims: ['exp', 'repository', 'run_id', 'workflow_ref', 'event_name'],
        }));
      } catch (error) {
        throw rejection(error);
      }
      if (typeof payload.repository !== 'string' || !payload.repository.includes('/')) {
        throw new AppError('unauthorized', 'the GitHub OIDC token was rejected: its "repository" claim is not owner/repo');
      }
      for (const claim of ['workflow_ref', 'event_name'] as const) {
        if (typeof payload[claim] !== 'string') throw new AppError('unauthorized', `the GitHub OIDC token was rejected: its "${claim}" claim is not a string`);
      }
      return payload as GithubOidcClaims;
    },
  };
}

/** Where a callback for a job must come from: a repository (owner/repo) and its workflow file. */
export interface ExpectedRun {
  repository: string;
  workflow: string;
}

/**
 * Where a callback for this job must come from: the repository its run was dispatched on (or the
 * project's, for a job not dispatched yet), running the workflow file the project registered.
 * Undefined when the project has no GitHub coordinates.
 */
export function expectedRun(job: JobRow, projectGithub: { owner: string; repo: string; workflow: string } | null | undefined): ExpectedRun | undefined {
  if (!projectGithub) return undefined;
  const run = job.external_run as ExternalRun | null;
  const repository = run?.owner && run.repo ? `${run.owner}/${run.repo}` : `${projectGithub.owner}/${projectGithub.repo}`;
  return { repository, workflow: projectGithub.workflow };
}

/**
 * A verified token may report on this job only: its repository is the job's (GitHub names are
 * case-insensitive), it runs the project's workflow file, it was started by a dispatch (as the
 * orchestrator starts runs), and its run is the one the body names. Throws 401 otherwise.
 *
 * Without the workflow check any workflow of the repository granted `id-token: write` (a CI job,
 * one triggered by a push) could mint a token for the orchestrator's audience and report a result,
 * notably for a job whose run id is not known yet.
 */
export function assertTokenMatchesJob(claims: GithubOidcClaims, job: JobRow, expected: ExpectedRun | undefined, runId: string | number): void {
  if (!expected) {
    throw new AppError('unauthorized', `job ${job.id}'s project has no GitHub repository and workflow, so a GitHub OIDC token cannot report on it`);
  }
  const { repository, workflow } = expected;
  if (repository.toLowerCase() !== claims.repository.toLowerCase()) {
    throw new AppError('unauthorized', `the GitHub OIDC token is for ${claims.repository}, but job ${job.id} runs on ${repository}`);
  }
  const prefix = `${repository}/.github/workflows/`;
  const workflowRef = claims.workflow_ref;
  const rest = workflowRef.slice(prefix.length);
  if (workflowRef.slice(0, prefix.length).toLowerCase() !== prefix.toLowerCase() || !rest.startsWith(`${workflow}@`)) {
    throw new AppError('unauthorized', `the GitHub OIDC token comes from the workflow ${workflowRef}, but job ${job.id} runs the workflow .github/workflows/${workflow} of ${repository}`);
  }
  if (claims.event_name !== 'workflow_dispatch') {
    throw new AppError('unauthorized', `the GitHub OIDC token comes from a run started by "${claims.event_name}", but the orchestrator starts runs by workflow_dispatch`);
  }
  if (String(claims.run_id) !== String(runId)) {
    throw new AppError('unauthorized', `the GitHub OIDC token belongs to run ${String(claims.run_id)}, but the body reports run ${String(runId)}`);
  }
}

/** Look up the job a token-authenticated callback names and check the token may report on it (404 unknown job, 401 not its run). */
export async function authorizeOidcCallback(db: Queryable, claims: GithubOidcClaims, body: { job_id: string; run_id: string | number }): Promise<void> {
  const job = await getJobRow(db, body.job_id);
  // Always loaded: the workflow file to expect is the project's, even once the run is known.
  const project = await getProject(db, job.project_id);
  assertTokenMatchesJob(claims, job, expectedRun(job, project?.github), body.run_id);
}
