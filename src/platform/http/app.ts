// The Fastify factory both services use: schema validation, the contract's error bodies, bearer
// auth, OpenAPI at /openapi.json with docs at /docs, and HTTP request metrics.
import fastify, { LogController, type FastifyError, type FastifyReply, type FastifyInstance, type FastifyBaseLogger, type RawServerDefault } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Histogram, type Registry } from 'prom-client';
import { AppError, type FieldProblem } from '../errors.js';
import { isDatabaseUnavailable } from '../database/database.js';
import type { Logger } from '../logger.js';
import { bearerTokenMatches } from './auth.js';
import { validatorCompiler } from './validation.js';

export type HttpApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

export interface HttpAppOptions {
  title: string;
  version: string;
  description: string;
  logger: Logger;
  apiToken: string | undefined;
  bodyLimitBytes: number;
  /** Paths answered without a token (the contract: health only). */
  publicPaths: string[];
  registry: Registry;
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

function fieldProblems(errors: AjvError[], part: string): FieldProblem[] {
  return errors.map((e) => {
    let field = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
      field = field ? `${field}.${e.params.missingProperty}` : e.params.missingProperty;
      return { field, message: 'is required' };
    }
    if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') {
      field = field ? `${field}.${e.params.additionalProperty}` : e.params.additionalProperty;
      return { field, message: 'is not a known field' };
    }
    if (e.keyword === 'discriminator' && typeof e.params?.tag === 'string') {
      const tag = field ? `${field}.${e.params.tag}` : e.params.tag;
      return { field: tag, message: e.params.error === 'tag' ? 'is required' : `"${String(e.params.tagValue)}" is not a known ${e.params.tag}` };
    }
    if (e.keyword === 'enum' && Array.isArray(e.params?.allowedValues)) {
      return { field: field || part, message: `must be one of ${(e.params.allowedValues as unknown[]).join(', ')}` };
    }
    return { field: field || part, message: e.message ?? 'is invalid' };
  });
}

/** Fastify's own client-error codes, mapped onto the contract's. */
function fromFastifyError(error: FastifyError): AppError | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 'send the body as application/json');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 'the request body is larger than this service accepts');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('malformed_json', 'the body is empty but the content type says JSON');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('malformed_json', 'the body is not valid JSON');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('validation_failed', 'the Content-Length header does not match the body');
  }
  if (error instanceof SyntaxError || error.name === 'SyntaxError') return new AppError('malformed_json', 'the body is not valid JSON');
  const status = error.statusCode ?? 500;
  if (status === 413) return new AppError('payload_too_large', 'the request body is larger than this service accepts');
  if (status === 415) return new AppError('unsupported_media_type', 'send the body as application/json');
  if (status >= 400 && status < 500) return new AppError('validation_failed', error.message);
  return undefined;
}

/** What the router rejects before any route runs (a malformed %-escape, a path parameter past maxParamLength). */
function frameworkError(error: FastifyError): AppError {
  return new AppError('validation_failed', error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'a path parameter is longer than any valid one' : 'the URL is not valid');
}

/** Requests Node's HTTP parser refuses before Fastify sees them: still the contract's error body. */
function clientErrorHandler(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const appError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('headers_too_large', 'the request headers are larger than this service accepts')
      : error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('request_timeout', 'the request did not arrive in time')
        : new AppError('validation_failed', 'the request is not valid HTTP');
  const body = JSON.stringify(appError.toBody());
  // As Node's own handler: no error response in the middle of one already under way on this
  // connection (a pipelined bad request while a log stream is being sent), only the close.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    socket.write(`HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

export async function createHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = fastify({
    loggerInstance: options.logger as unknown as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Live log streams (SSE) must not hold a stopping server open.
    forceCloseConnections: true,
    bodyLimit: options.bodyLimitBytes,
    // Only the API's own paths; the router answers unknown ones with the contract's 404.
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify's own bodies for these are not the contract's.
    frameworkErrors: (error, _request, reply) => {
      void (reply as FastifyReply).status(400).send(frameworkError(error).toBody());
    },
    clientErrorHandler,
  }).withTypeProvider<TypeBoxTypeProvider>();

  // JSON only: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  // A request with no body (every DELETE, a bodiless POST) is taken whatever content type the client
  // labels it with: many client wrappers send `Content-Type: application/json` on every request.
  app.addHook('onRequest', async (request) => {
    const headers = request.headers;
    if (headers['content-type'] !== undefined && headers['transfer-encoding'] === undefined && (headers['content-length'] ?? '0') === '0') {
      delete headers['content-type'];
    }
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSchemaErrorFormatter((errors, dataVar) => {
    const error = new AppError('validation_failed', `invalid ${dataVar}`, fieldProblems(errors as AjvError[], dataVar));
    const first = (error.details as FieldProblem[])[0];
    if (first) error.message = `${first.field}: ${first.message}`;
    return error;
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = error instanceof AppError ? error : fromFastifyError(error as FastifyError);
    if (appError) {
      if (appError.status === 401) reply.header('www-authenticate', 'Bearer');
      return reply.status(appError.status).send(appError.toBody());
    }
    if (isDatabaseUnavailable(error)) {
      request.log.warn({ err: error, url: request.url, method: request.method }, 'the database failed');
      return reply.status(503).send(new AppError('dependency_unavailable', 'the database did not complete the request; try again').toBody());
    }
    request.log.error({ err: error, url: request.url, method: request.method }, 'unexpected error');
    return reply.status(500).send(new AppError('internal_error', 'an unexpected error occurred; it has been logged').toBody());
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(new AppError('not_found', `no route for ${request.method} ${request.url.split('?')[0]}`).toBody());
  });

  const httpDuration = new Histogram({
    name: 'autobuild_http_request_duration_seconds',
    help: 'HTTP request duration in seconds, by method, route template and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [options.registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    httpDuration.observe({ method: request.method, route, status_code: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const token = options.apiToken;
  if (token) {
    const open = new Set(options.publicPaths);
    app.addHook('onRequest', async (request) => {
      const pathOnly = request.url.split('?')[0] ?? '';
      if (open.has(pathOnly)) return;
      if (!bearerTokenMatches(request.headers.authorization, token)) {
        throw new AppError('unauthorized', 'a valid "Authorization: Bearer <token>" header is required');
      }
    });
  }

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: options.title, version: options.version, description: options.description },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: token ? [{ bearer: [] }] : [],
    },
    // Shared schemas (components.ts) keep their own names in #/components/schemas.
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  return app;
}

/** The contract's error body as a JSON schema, for OpenAPI responses. */
export const ErrorBodySchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;
