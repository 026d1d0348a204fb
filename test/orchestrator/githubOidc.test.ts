// GitHub Actions OIDC as the callback's alternative to the shared secret: a real orchestrator, the
// fake GitHub API for dispatch, and a local OIDC issuer whose RSA key signs the tokens. A token is
// accepted only when its signature, issuer, audience, lifetime, repository, workflow file, event and
// run all check out; anything else is a 401 that leaves the job as it was (a 503 when the keys cannot
// be checked yet, which the runner retries). The HMAC path is unchanged beside it.
import { createHmac } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { api, startTestOrchestrator, waitForJob, type TestOrchestrator } from '../support/orchestrator.js';
import { createTestRepo } from '../support/repo.js';
import { startFakeGithub, type FakeGithub } from '../fakes/githubServer.js';
import { startFakeOidcIssuer, type FakeOidcIssuer } from '../fakes/oidcIssuer.js';
import { deliverCallback } from '../../src/orchestrator/executors/githubRunner.js';
import { createGithubOidcVerifier } from '../../src/orchestrator/api/callbackOidc.js';
import { AppError } from '../../src/platform/errors.js';
import { loadConfig } from '../../src/platform/config.js';

const SECRET = 'callback-secret-for-oidc-tests';
const AUDIENCE = 'https://autobuild.example';
const sign = (raw: string) => `sha256=${createHmac('sha256', SECRET).update(raw).digest('hex')}`;

let gh: FakeGithub;
let issuer: FakeOidcIssuer;
let t: TestOrchestrator | undefined;
let repo: string;
beforeAll(async () => {
  [gh, issuer] = await Promise.all([startFakeGithub(), startFakeOidcIssuer()]);
  repo = createTestRepo();
});
afterAll(async () => Promise.all([gh.close(), issuer.close()]));
afterEach(async () => {
  await t?.stop();
  t = undefined;
  gh.runs.length = 0;
  issuer.down = false;
});

async function start(env: Record<string, string> = {}) {
  t = await startTestOrchestrator({
    env: {
      GITHUB_TOKEN: 'gh-test-token',
      GITHUB_API_URL: gh.url,
      AUTOBUILD_PUBLIC_URL: AUDIENCE,
      AUTOBUILD_GITHUB_OIDC: 'true',
      AUTOBUILD_GITHUB_OIDC_ISSUER: issuer.url,
      AUTOBUILD_GITHUB_WRITE_INTERVAL_MS: '0',
      ...env,
    },
  });
  const headers: Record<string, string> = env.AUTOBUILD_API_TOKEN ? { authorization: `Bearer ${env.AUTOBUILD_API_TOKEN}` } : {};
  const project = await api(t.url, 'POST', '/api/v1/projects', { id: 'remote', repo, github: { owner: 'acme', repo: 'widgets', workflow: 'autobuild-agent.yml' } }, headers);
  expect(project.status).toBe(201);
  return t;
}

/** A github-actions job, dispatched and running; the issuer mints tokens for its run. */
async function runningJob(headers: Record<string, string> = {}) {
  const submitted = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'remote', prompt: 'Fix it', executor: 'github-actions', agent: { type: 'claude-code' } }, headers);
  expect(submitted.status).toBe(201);
  const job = await waitForJob(t!.url, submitted.body.id, (j) => j.status === 'running', 10_000, headers);
  const runId = gh.runs.find((r) => r.inputs.job_id === job.id)!.id;
  issuer.runClaims = { repository: 'acme/widgets', repository_owner: 'acme', run_id: String(runId) };
  const raw = JSON.stringify({ job_id: job.id, status: 'succeeded', run_id: runId, exit_code: 0, files_changed: ['a.ts'], summary: 'done' });
  return { job, runId, raw };
}

const postWithToken = (raw: string, token: string, headers: Record<string, string> = {}) =>
  api(t!.url, 'POST', '/api/v1/callback', raw, { 'content-type': 'application/json', 'x-autobuild-oidc-token': token, ...headers });

const statusOf = async (id: string, headers: Record<string, string> = {}) => (await api(t!.url, 'GET', `/api/v1/jobs/${id}`, undefined, headers)).body.status;

describe('callback with a GitHub OIDC token', () => {
  it('completes the job with a valid token from its repository and run, and accepts an identical repeat', async () => {
    await start();
    const { job, raw } = await runningJob();
    // GitHub names are case-insensitive: the token may spell the repository differently.
    const token = await issuer.mint({ repository: 'Acme/Widgets' });
    const accepted = await postWithToken(raw, token);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ accepted: true, changed: true, job: { id: job.id, status: 'succeeded' } });
    const done = (await api(t!.url, 'GET', `/api/v1/jobs/${job.id}`)).body;
    expect(done.result).toMatchObject({ files_changed: ['a.ts'], summary: 'done' });

    const repeat = await postWithToken(raw, await issuer.mint());
    expect(repeat.status).toBe(200);
    expect(repeat.body.changed).toBe(false);
  });

  it('rejects every token that is not this run\'s, with 401 and the job unchanged', async () => {
    await start();
    const { job, raw } = await runningJob();
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const valid = await issuer.mint();
    const [header, payload, signature] = valid.split('.') as [string, string, string];
    const forgedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), repository: 'acme/widgets', run_id: '1' })).toString('base64url');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${payload}.`;

    const cases: Array<[string, string, RegExp]> = [
      ['wrong audience', await issuer.mint({ aud: 'https://someone-else.example' }), /"aud" claim has an unexpected value/],
      ['wrong issuer', await issuer.mint({ iss: 'https://token.actions.githubusercontent.com' }), /"iss" claim has an unexpected value/],
      ['expired', await issuer.mint({}, { issuedAgoS: 900, expiresInS: 300 }), /expired/],
      ['not yet valid', await issuer.mint({ nbf: Math.floor(Date.now() / 1000) + 600 }), /"nbf" claim/],
      ['another repository', await issuer.mint({ repository: 'acme/gadgets' }), /is for acme\/gadgets, but job .* runs on acme\/widgets/],
      ['another run of the repository', await issuer.mint({ run_id: '424242' }), /belongs to run 424242/],
      // Any workflow of the repository granted id-token: write can mint a token for the audience.
      ['another workflow of the repository', await issuer.mint({ workflow_ref: 'acme/widgets/.github/workflows/ci.yml@refs/heads/main' }), /workflow acme\/widgets\/\.github\/workflows\/ci\.yml@refs\/heads\/main, but job .* runs the workflow \.github\/workflows\/autobuild-agent\.yml of acme\/widgets/],
      ['a workflow whose name only starts like it', await issuer.mint({ workflow_ref: 'acme/widgets/.github/workflows/autobuild-agent.yml.bak@refs/heads/main' }), /comes from the workflow/],
      ['the workflow of another repository', await issuer.mint({ workflow_ref: 'acme/gadgets/.github/workflows/autobuild-agent.yml@refs/heads/main' }), /comes from the workflow/],
      ['the workflow run by a push', await issuer.mint({ event_name: 'push' }), /started by "push", but the orchestrator starts runs by workflow_dispatch/],
      ['no workflow_ref claim', await issuer.mint({ workflow_ref: undefined }), /"workflow_ref" claim is missing/],
      ['no event_name claim', await issuer.mint({ event_name: undefined }), /"event_name" claim is missing/],
      ['no repository claim', await issuer.mint({ repository: undefined }), /"repository" claim is missing/],
      ['signed by another key (same kid)', await issuer.mint({}, { key: otherKey }), /signature does not verify/],
      ['tampered payload', `${header}.${forgedPayload}.${signature}`, /signature does not verify/],
      ['unsigned (alg none)', unsigned, /not signed with RS256|not a JWT/],
      ['not a JWT', 'Bearer nonsense', /not a JWT/],
    ];
    for (const [what, token, message] of cases) {
      const res = await postWithToken(raw, token);
      expect(res.status, what).toBe(401);
      expect(res.body.error.code, what).toBe('unauthorized');
      expect(res.body.error.message, what).toMatch(message);
      expect(JSON.stringify(res.body), what).not.toContain(token.split('.')[2] || token);
    }
    expect(await statusOf(job.id)).toBe('running');
    // A key id the issuer never published, while the keys were just fetched: it may be a key the
    // issuer just rotated in, so 503 (retried) rather than 401; after the cooldown, 401 (below).
    const unknownKid = await postWithToken(raw, await issuer.mint({}, { key: otherKey, kid: 'attacker' }));
    expect(unknownKid.status).toBe(503);
    expect(unknownKid.body.error.code).toBe('dependency_unavailable');
    expect(await statusOf(job.id)).toBe('running');
    expect((await postWithToken(raw, valid)).status).toBe(200);
  });

  it('answers 503, not 401, for a token signed by a key the issuer rotated in right after the orchestrator fetched its keys', async () => {
    await start();
    const { job, raw } = await runningJob();
    // The orchestrator fetches the issuer's keys (this token is refused for its run, not its key).
    expect((await postWithToken(raw, await issuer.mint({ run_id: '424242' }))).status).toBe(401);
    const fetches = issuer.keyFetches;
    await issuer.rotate();
    const res = await postWithToken(raw, await issuer.mint());
    expect(res.status).toBe(503);
    expect(res.body.error).toMatchObject({ code: 'dependency_unavailable', message: expect.stringMatching(/signing key the orchestrator has not seen .* retry/) });
    expect(issuer.keyFetches).toBe(fetches);
    expect(await statusOf(job.id)).toBe('running');
  });

  it('answers 404 for an unknown job with a valid token, and 400 for an invalid body', async () => {
    await start();
    const { job, raw } = await runningJob();
    const unknown = raw.replace(job.id, '00000000-0000-4000-8000-000000000000');
    const res = await postWithToken(unknown, await issuer.mint());
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe('job_not_found');
    const invalid = raw.replace('"succeeded"', '"exploded"');
    expect((await postWithToken(invalid, await issuer.mint())).status).toBe(400);
    expect(await statusOf(job.id)).toBe('running');
  });

  it('answers 503 while the issuer\'s keys cannot be fetched, and accepts the token once they can', async () => {
    await start();
    const { job, raw } = await runningJob();
    issuer.down = true;
    const res = await postWithToken(raw, await issuer.mint());
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    expect(res.body.error.message).toMatch(/openid-configuration: HTTP 503/);
    expect(await statusOf(job.id)).toBe('running');
    issuer.down = false;
    expect((await postWithToken(raw, await issuer.mint())).status).toBe(200);
  });

  it('keeps the HMAC path beside OIDC, with the API token in Authorization as before', async () => {
    const auth = { authorization: 'Bearer orchestrator-token' };
    await start({ AUTOBUILD_CALLBACK_SECRET: SECRET, AUTOBUILD_API_TOKEN: 'orchestrator-token' });
    const first = await runningJob(auth);
    // The OIDC token in Authorization instead of its own header is refused by the API-token check.
    const misplaced = await api(t!.url, 'POST', '/api/v1/callback', first.raw, { 'content-type': 'application/json', authorization: `Bearer ${await issuer.mint()}` });
    expect(misplaced.status).toBe(401);
    // A bad signature is judged as a signature even when a valid token comes along.
    const badSignature = await postWithToken(first.raw, await issuer.mint(), { ...auth, 'x-autobuild-signature-256': `sha256=${'0'.repeat(64)}` });
    expect(badSignature.status).toBe(401);
    expect(badSignature.body.error.message).toMatch(/signature does not match/);
    const signed = await api(t!.url, 'POST', '/api/v1/callback', first.raw, { 'content-type': 'application/json', 'x-autobuild-signature-256': sign(first.raw), ...auth });
    expect(signed.status).toBe(200);
    expect(await statusOf(first.job.id, auth)).toBe('succeeded');

    const second = await runningJob(auth);
    expect((await postWithToken(second.raw, await issuer.mint(), auth)).status).toBe(200);
    expect(await statusOf(second.job.id, auth)).toBe('succeeded');
  });

  it('refuses tokens when OIDC is off, while signed callbacks still work', async () => {
    await start({ AUTOBUILD_GITHUB_OIDC: 'false', AUTOBUILD_CALLBACK_SECRET: SECRET });
    const { job, raw } = await runningJob();
    const res = await postWithToken(raw, await issuer.mint());
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/AUTOBUILD_GITHUB_OIDC is off/) });
    expect(await statusOf(job.id)).toBe('running');
    expect((await api(t!.url, 'POST', '/api/v1/callback', raw, { 'content-type': 'application/json', 'x-autobuild-signature-256': sign(raw) })).status).toBe(200);
  });

  it('needs a callback secret or OIDC before it accepts github-actions jobs', async () => {
    await start({ AUTOBUILD_GITHUB_OIDC: 'false' });
    const res = await api(t!.url, 'POST', '/api/v1/jobs', { project_id: 'remote', prompt: 'x', executor: 'github-actions', agent: { type: 'codex' } });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toMatch(/AUTOBUILD_CALLBACK_SECRET \(or AUTOBUILD_GITHUB_OIDC\)/);
  });
});

describe('the verifier across a key rotation', () => {
  const COOLDOWN_MS = 30_000;
  // jose times its cooldown by Date.now(): the clock stands still in this test and moves only here,
  // so how long a busy machine takes between two steps cannot end the cooldown early.
  const cooledDown = () => vi.setSystemTime(Date.now() + COOLDOWN_MS + 1000);
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('the token was accepted'); }, (error: unknown) => error as AppError);

  it('answers 503 for a just-rotated key until the cooldown allows a refetch, then accepts it; an unknown key stays 401', async () => {
    const verifier = createGithubOidcVerifier({ issuer: issuer.url, audience: AUDIENCE, jwksCooldownMs: COOLDOWN_MS });
    issuer.runClaims = { repository: 'acme/widgets', repository_owner: 'acme', run_id: '77' };
    expect((await verifier.verify(await issuer.mint())).run_id).toBe('77');

    // The issuer rotates right after the keys were fetched: a retryable 503, no refetch yet.
    await issuer.rotate();
    const rotated = await issuer.mint();
    const early = await failure(verifier.verify(rotated));
    expect(early).toBeInstanceOf(AppError);
    expect(early).toMatchObject({ code: 'dependency_unavailable', status: 503 });
    // Past the cooldown the same token makes the verifier refetch, and it verifies.
    cooledDown();
    expect((await verifier.verify(rotated)).run_id).toBe('77');

    // A key the issuer never published: past the cooldown the set is refetched and still lacks it,
    // so it is the token's fault (401); right after that refetch it is 503 again.
    const { privateKey: otherKey } = await generateKeyPair('RS256');
    const forged = await issuer.mint({}, { key: otherKey, kid: 'attacker' });
    cooledDown();
    const fetches = issuer.keyFetches;
    expect(await failure(verifier.verify(forged))).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/not signed by any of the issuer's keys/) });
    expect(issuer.keyFetches).toBe(fetches + 1);
    expect(await failure(verifier.verify(forged))).toMatchObject({ code: 'dependency_unavailable' });
  });
});

describe('OIDC settings', () => {
  it('defaults the audience to the public URL and the issuer to GitHub\'s, and refuses OIDC without an audience', () => {
    const config = loadConfig({ AUTOBUILD_HOME: '/tmp/unused-autobuild-home', AUTOBUILD_GITHUB_OIDC: 'on', AUTOBUILD_PUBLIC_URL: 'https://ab.example/' });
    expect(config.github.oidc).toEqual({ enabled: true, issuer: 'https://token.actions.githubusercontent.com', audience: 'https://ab.example' });
    expect(() => loadConfig({ AUTOBUILD_HOME: '/tmp/unused-autobuild-home', AUTOBUILD_GITHUB_OIDC: 'true' })).toThrow(/AUTOBUILD_GITHUB_OIDC_AUDIENCE/);
    expect(loadConfig({ AUTOBUILD_HOME: '/tmp/unused-autobuild-home' }).github.oidc.enabled).toBe(false);
  });
});

describe('the runner side', () => {
  it('asks the token service for the audience and stops with a clear message when it refuses', async () => {
    await start();
    const { job, raw } = await runningJob();
    const body = JSON.parse(raw) as Record<string, unknown>;
    const refused = deliverCallback(`${t!.url}/api/v1/callback`, { kind: 'oidc', requestUrl: issuer.tokenRequestUrl, requestToken: 'not-the-request-token', audience: AUDIENCE }, body, undefined, 10, 2);
    await expect(refused).rejects.toThrow(/HTTP 403 .*id-token: write/);
    expect(await statusOf(job.id)).toBe('running');

    issuer.audiences.length = 0;
    const delivered = await deliverCallback(`${t!.url}/api/v1/callback`, { kind: 'oidc', requestUrl: issuer.tokenRequestUrl, requestToken: issuer.requestToken, audience: AUDIENCE }, body, undefined, 10, 2);
    expect(delivered).toBe(true);
    expect(issuer.audiences).toEqual([AUDIENCE]);
    expect(await statusOf(job.id)).toBe('succeeded');
  });
});
