// The dashboard's web server (`up` on WEB_PORT): the built single-page app (dist/web) with an SPA
// fallback, and a same-origin proxy to both public APIs, /api/orchestrator/* and /api/memory/*,
// that streams (SSE passes through unbuffered). It holds no credentials: the page sends its own
// bearer token and the services check it.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import httpProxy from '@fastify/http-proxy';
import type { Logger } from '../platform/logger.js';

/** dist/web, next to the compiled server (dist/src/dashboard). */
export const DEFAULT_ASSETS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web');

export interface DashboardOptions {
  host: string;
  port: number;
  orchestratorUrl: string;
  memoryUrl: string | undefined;
  logger: Logger;
  assetsDir?: string;
}

export interface Dashboard {
  app: FastifyInstance;
  url: string;
  stop(): Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // Inline style attributes come from React (charts, diff gutters); scripts only from this origin.
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
};

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>AutoBuild</title>
<p>The dashboard is not built. Run <code>npm run build</code> (or <code>npm install</code>) and restart <code>autobuild up</code>.</p>`;

function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const assetsDir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  const built = existsSync(path.join(assetsDir, 'index.html'));
  const app = fastify({
    loggerInstance: options.logger.child({ service: 'dashboard' }) as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Live streams through the proxy must not hold a stopping server open.
    forceCloseConnections: true,
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!reply.hasHeader(name)) reply.header(name, value);
    return payload;
  });

  const upstreams: Array<[string, string | undefined, string]> = [
    ['/api/orchestrator', options.orchestratorUrl, 'orchestrator'],
    ['/api/memory', options.memoryUrl, 'memory service'],
  ];
  for (const [prefix, upstream, name] of upstreams) {
    if (!upstream) {
      app.all(`${prefix}/*`, async (_request, reply) => reply.status(503).send(errorBody('service_unavailable', `the ${name} is not part of this deployment`)));
      continue;
    }
    await app.register(httpProxy, {
      upstream,
      prefix,
      rewritePrefix: '',
      // A log or event stream may stay open for as long as its job runs.
      undici: { bodyTimeout: 0 },
      replyOptions: {
        onError: (reply, { error }) => {
          options.logger.warn({ err: error.message, upstream: name }, 'dashboard proxy error');
          void reply.status(503).send(errorBody('service_unavailable', `the ${name} did not answer`));
        },
      },
    });
  }

  if (built) {
    await app.register(fastifyStatic, {
      root: assetsDir,
      wildcard: false,
      index: false,
      setHeaders: (res, file) => {
        // Vite names assets by content hash: they never change under the same name.
        res.setHeader('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }

  // The SPA's routes (/jobs/…, /projects, …) all load index.html; unknown API paths stay JSON 404s.
  app.setNotFoundHandler(async (request, reply) => {
    const pathname = request.url.split('?')[0] ?? '/';
    if (pathname.startsWith('/api/') || (request.method !== 'GET' && request.method !== 'HEAD')) {
      return reply.status(404).send(errorBody('not_found', `no route for ${request.method} ${pathname}`));
    }
    if (/\.[a-z0-9]+$/i.test(pathname) && !pathname.endsWith('.html')) {
      return reply.status(404).type('text/plain').send('not found');
    }
    if (!built) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });

  const url = await app.listen({ host: options.host, port: options.port });
  options.logger.info({ address: url }, 'dashboard listening');
  return {
    app,
    url,
    async stop() {
      await app.close();
    },
  };
}
