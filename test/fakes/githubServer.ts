// A local HTTP server speaking the parts of the GitHub REST API AutoBuild uses: workflow dispatch,
// runs list/get/cancel, pulls create/list. Real Octokit clients talk to it through GITHUB_API_URL.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface FakeRun {
  id: number;
  name: string;
  display_title: string;
  status: 'queued' | 'in_progress' | 'completed';
  conclusion: string | null;
  html_url: string;
  created_at: string;
  updated_at: string;
  run_started_at: string | null;
  event: string;
  owner: string;
  repo: string;
  workflow: string;
  inputs: Record<string, string>;
  ref: string;
}

export interface FakePull {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  html_url: string;
  owner: string;
  repo: string;
  /** As GitHub: only open pull requests count for a duplicate, and list returns open ones unless asked. */
  state: 'open' | 'closed';
}

export interface FakeGithub {
  url: string;
  runs: FakeRun[];
  pulls: FakePull[];
  requests: Array<{ method: string; path: string; body: unknown; authorization: string | undefined }>;
  /** Answer the next n requests (matching method+path prefix, if given) with this status and headers. */
  failNext(n: number, status: number, headers?: Record<string, string>, match?: string): void;
  /** Drop failures set up by failNext that no request has used. */
  clearFailures(): void;
  /** Whether dispatch answers 200 with the run (GitHub.com today) or 204 (older servers). */
  returnRunDetails: boolean;
  /** Whether a dispatch creates a run at all (false: the workflow never starts). */
  createRuns: boolean;
  setRun(id: number, patch: Partial<FakeRun>): void;
  /** Change a pull request (e.g. close it: `{ state: 'closed' }`). */
  setPull(number: number, patch: Partial<FakePull>): void;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => (data += c));
    req.on('end', () => {
      try {
        resolve(data ? JSON.parse(data) : undefined);
      } catch {
        resolve(data);
      }
    });
  });
}

export async function startFakeGithub(): Promise<FakeGithub> {
  let nextRunId = 1000;
  let nextPull = 1;
  const failures: Array<{ status: number; headers: Record<string, string>; match?: string }> = [];
  const fake: FakeGithub = {
    url: '',
    runs: [],
    pulls: [],
    requests: [],
    returnRunDetails: true,
    createRuns: true,
    failNext(n, status, headers = {}, match) {
      for (let i = 0; i < n; i++) failures.push({ status, headers, match });
    },
    clearFailures() {
      failures.length = 0;
    },
    setRun(id, patch) {
      const run = fake.runs.find((r) => r.id === id);
      if (!run) throw new Error(`no run ${id}`);
      Object.assign(run, patch, { updated_at: patch.updated_at ?? new Date().toISOString() });
    },
    setPull(number, patch) {
      const pull = fake.pulls.find((p) => p.number === number);
      if (!pull) throw new Error(`no pull request ${number}`);
      Object.assign(pull, patch);
    },
    close: async () => undefined,
  };
  // A pull request as GitHub's REST API shows it (the fields clients read).
  const pullJson = (p: FakePull) => ({
    number: p.number,
    state: p.state,
    title: p.title,
    body: p.body,
    html_url: p.html_url,
    url: `${fake.url}/repos/${p.owner}/${p.repo}/pulls/${p.number}`,
    head: { ref: p.head, label: `${p.owner}:${p.head}` },
    base: { ref: p.base, label: `${p.owner}:${p.base}` },
  });

  const send = (res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const body = await readBody(req);
    fake.requests.push({ method: req.method ?? '', path: url.pathname + url.search, body, authorization: req.headers.authorization });
    const failureIndex = failures.findIndex((f) => !f.match || `${req.method} ${url.pathname}`.startsWith(f.match));
    if (failureIndex >= 0) {
      const failure = failures.splice(failureIndex, 1)[0]!;
      return send(res, failure.status, { message: failure.status === 403 ? 'API rate limit exceeded' : 'Server Error' }, failure.headers);
    }
    if (req.headers.authorization !== 'token gh-test-token' && req.headers.authorization !== 'Bearer gh-test-token') {
      return send(res, 401, { message: 'Bad credentials' });
    }
    let m: RegExpExecArray | null;
    if (req.method === 'POST' && (m = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/dispatches$/.exec(url.pathname))) {
      const [, owner, repo, workflow] = m as unknown as [string, string, string, string];
      const { ref, inputs = {}, return_run_details } = body as { ref: string; inputs?: Record<string, string>; return_run_details?: boolean };
      if (workflow === 'missing.yml') return send(res, 404, { message: 'Not Found' });
      if (!fake.createRuns) return send(res, 204);
      const id = nextRunId++;
      const now = new Date().toISOString();
      const run: FakeRun = {
        id, name: `autobuild ${inputs.job_id ?? ''}`, display_title: `autobuild ${inputs.job_id ?? ''}`, status: 'queued', conclusion: null,
        html_url: `https://github.example/${owner}/${repo}/actions/runs/${id}`, created_at: now, updated_at: now, run_started_at: null,
        event: 'workflow_dispatch', owner, repo, workflow, inputs, ref,
      };
      fake.runs.push(run);
      if (return_run_details && fake.returnRunDetails) {
        return send(res, 200, { workflow_run_id: id, run_url: `${fake.url}/repos/${owner}/${repo}/actions/runs/${id}`, html_url: run.html_url });
      }
      return send(res, 204);
    }
    if (req.method === 'GET' && (m = /^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/runs$/.exec(url.pathname))) {
      const [, owner, repo, workflow] = m as unknown as [string, string, string, string];
      const runs = fake.runs.filter((r) => r.owner === owner && r.repo === repo && r.workflow === workflow);
      return send(res, 200, { total_count: runs.length, workflow_runs: runs });
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)(\/cancel)?$/.exec(url.pathname))) {
      const run = fake.runs.find((r) => r.id === Number(m![3]));
      if (!run) return send(res, 404, { message: 'Not Found' });
      if (req.method === 'GET' && !m[4]) return send(res, 200, run);
      if (req.method === 'POST' && m[4]) {
        if (run.status === 'completed') return send(res, 409, { message: 'Cannot cancel a workflow run that is completed.' });
        fake.setRun(run.id, { status: 'completed', conclusion: 'cancelled' });
        return send(res, 202, {});
      }
    }
    if ((m = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(url.pathname))) {
      const [, owner, repo] = m as unknown as [string, string, string];
      if (req.method === 'POST') {
        const { head, base, title, body: prBody } = body as { head: string; base: string; title: string; body: string };
        if (!head || !base || !title) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'missing_field' }] });
        if (fake.pulls.some((p) => p.owner === owner && p.repo === repo && p.head === head && p.base === base && p.state === 'open')) {
          return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${head}.` }] });
        }
        const number = nextPull++;
        const pull: FakePull = { number, head, base, title, body: prBody, html_url: `https://github.example/${owner}/${repo}/pull/${number}`, owner, repo, state: 'open' };
        fake.pulls.push(pull);
        return send(res, 201, pullJson(pull));
      }
      if (req.method === 'GET') {
        // GitHub's filters: head as "owner:branch", base, and state (open unless asked: open|closed|all).
        const head = url.searchParams.get('head');
        const base = url.searchParams.get('base');
        const state = url.searchParams.get('state') ?? 'open';
        if (!['open', 'closed', 'all'].includes(state)) return send(res, 422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'state', code: 'invalid' }] });
        const list = fake.pulls.filter(
          (p) => p.owner === owner && p.repo === repo && (!head || `${owner}:${p.head}` === head) && (!base || p.base === base) && (state === 'all' || p.state === state),
        );
        return send(res, 200, list.map(pullJson));
      }
    }
    return send(res, 404, { message: 'Not Found' });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}
