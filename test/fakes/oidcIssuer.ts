// A local HTTP server playing GitHub Actions' OIDC side: the issuer (OpenID discovery document and
// JWKS of an RSA key generated here) and a run's token service (ACTIONS_ID_TOKEN_REQUEST_URL), which
// mints RS256 tokens shaped like GitHub's for the audience asked for.
import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface FakeOidcIssuer {
  /** The issuer (iss) and base URL. */
  url: string;
  /** What the workflow's ACTIONS_ID_TOKEN_REQUEST_URL would be (with its own query, as GitHub's has). */
  tokenRequestUrl: string;
  /** The bearer the token service accepts (ACTIONS_ID_TOKEN_REQUEST_TOKEN). */
  requestToken: string;
  /** Claims the token service puts in every token it mints (repository, run_id, ...). */
  runClaims: JWTPayload;
  /** Audiences the token service was asked for, in order. */
  audiences: string[];
  /** While true, discovery and JWKS answer 503 (the issuer is unreachable). */
  down: boolean;
  /** Requests for the discovery document and the JWKS. */
  keyFetches: number;
  /**
   * Start signing with a new key (new kid), publishing it beside the old one, as GitHub does when
   * it rotates. Returns the new kid.
   */
  rotate(): Promise<string>;
  /** Sign a token: GitHub-like claims, overridable; `key` signs with another private key (same kid unless `kid` given). */
  mint(claims?: JWTPayload, options?: { key?: CryptoKey; kid?: string; expiresInS?: number; issuedAgoS?: number }): Promise<string>;
  close(): Promise<void>;
}

async function signingKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export async function startFakeOidcIssuer(): Promise<FakeOidcIssuer> {
  // Newest first: the first signs, all are published.
  const keys = [await signingKey('fake-github-key-1')];

  const fake: FakeOidcIssuer = {
    url: '',
    tokenRequestUrl: '',
    requestToken: 'actions-id-token-request-token',
    runClaims: { repository: 'acme/widgets', repository_owner: 'acme', run_id: '1' },
    audiences: [],
    down: false,
    keyFetches: 0,
    async rotate() {
      keys.unshift(await signingKey(`fake-github-key-${keys.length + 1}`));
      return keys[0]!.kid;
    },
    async mint(claims = {}, options = {}) {
      const now = Math.floor(Date.now() / 1000) - (options.issuedAgoS ?? 0);
      const payload: JWTPayload = {
        iss: fake.url,
        sub: `repo:${String(fake.runClaims.repository)}:ref:refs/heads/main`,
        aud: 'https://autobuild.example',
        iat: now,
        nbf: now - 5,
        exp: now + (options.expiresInS ?? 300),
        ref: 'refs/heads/main',
        // What a dispatch of the example workflow (the tests' projects register it) carries.
        workflow_ref: `${String(fake.runClaims.repository)}/.github/workflows/autobuild-agent.yml@refs/heads/main`,
        event_name: 'workflow_dispatch',
        ...fake.runClaims,
        ...claims,
      };
      const current = keys[0]!;
      return new SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: options.kid ?? current.kid }).sign(options.key ?? current.privateKey);
    },
    close: async () => undefined,
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === '/.well-known/openid-configuration' || url.pathname === '/.well-known/jwks') {
      fake.keyFetches++;
      if (fake.down) return send(503, { message: 'unavailable' });
      if (url.pathname === '/.well-known/jwks') return send(200, { keys: keys.map((key) => key.jwk) });
      return send(200, { issuer: fake.url, jwks_uri: `${fake.url}/.well-known/jwks`, id_token_signing_alg_values_supported: ['RS256'] });
    }
    if (url.pathname === '/_apis/token') {
      if (req.headers.authorization !== `bearer ${fake.requestToken}`) return send(403, { message: 'Forbidden' });
      const audience = url.searchParams.get('audience');
      if (!audience) return send(400, { message: 'audience is required' });
      fake.audiences.push(audience);
      void fake.mint({ aud: audience }).then((value) => send(200, { count: 1, value }));
      return;
    }
    send(404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.tokenRequestUrl = `${fake.url}/_apis/token?api-version=2.0`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
