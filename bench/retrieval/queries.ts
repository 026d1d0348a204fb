// The labelled query set of the retrieval-quality benchmark (bench/retrievalQuality.ts).
//
// The corpus is the JavaScript source of four well-known packages as installed in node_modules
// (fastify 5, pino 10, commander 14, pg 8): code that no one on this project wrote. Paths are
// `<package>/<path inside the package>`. Each query was labelled by reading that code: `relevant`
// lists the files (1-3) a developer asking the question needs to open, the most important first;
// relevance is binary. Kinds:
//   natural       a behaviour described in plain words, as someone new to the code would ask
//   architecture  how parts fit together (spans files, no single identifier to look for)
//   identifier    a name from the code, as written (`reply.serializer`, `buildRouting`)
// Labels were checked against the package versions above; the benchmark fails when a labelled
// file is missing from the corpus (another version installed), rather than scoring against it.

export type QueryKind = 'natural' | 'architecture' | 'identifier';

export interface LabelledQuery {
  id: string;
  kind: QueryKind;
  query: string;
  relevant: string[];
}

/** What is indexed from each package: files and directories (walked for .js/.mjs/.cjs/.ts). */
export const CORPUS: ReadonlyArray<{ name: string; include: string[] }> = [
  { name: 'fastify', include: ['fastify.js', 'lib'] },
  { name: 'pino', include: ['pino.js', 'browser.js', 'file.js', 'lib'] },
  { name: 'commander', include: ['index.js', 'lib'] },
  { name: 'pg', include: ['lib'] },
];

export const QUERIES: readonly LabelledQuery[] = [
  // ---------------------------------------------------------------------------------- fastify
  {
    id: 'fastify-body-parsing',
    kind: 'natural',
    query: 'where are incoming request bodies parsed by content type',
    relevant: ['fastify/lib/content-type-parser.js', 'fastify/lib/handle-request.js'],
  },
  {
    id: 'fastify-proto-poisoning',
    kind: 'natural',
    query: 'protect against prototype poisoning when parsing a JSON body',
    relevant: ['fastify/lib/content-type-parser.js'],
  },
  {
    id: 'fastify-body-limit',
    kind: 'natural',
    query: 'stop reading the request stream when the payload exceeds the body size limit',
    relevant: ['fastify/lib/content-type-parser.js'],
  },
  {
    id: 'fastify-media-type',
    kind: 'natural',
    query: 'parse the Content-Type header into a media type and its parameters',
    relevant: ['fastify/lib/content-type.js'],
  },
  {
    id: 'fastify-request-id',
    kind: 'natural',
    query: 'generate a request id, or take it from a request header',
    relevant: ['fastify/lib/req-id-gen-factory.js'],
  },
  {
    id: 'fastify-trust-proxy',
    kind: 'natural',
    query: 'client ip address, host and protocol behind a reverse proxy (X-Forwarded headers)',
    relevant: ['fastify/lib/request.js'],
  },
  {
    id: 'fastify-default-error',
    kind: 'natural',
    query: 'default error handler: pick the status code from the error and send it as JSON',
    relevant: ['fastify/lib/error-handler.js', 'fastify/lib/error-status.js'],
  },
  {
    id: 'fastify-not-found',
    kind: 'natural',
    query: 'custom not found handler for a route prefix',
    relevant: ['fastify/lib/four-oh-four.js'],
  },
  {
    id: 'fastify-validation',
    kind: 'natural',
    query: 'validate params, querystring, headers and body of a request against the route schema',
    relevant: ['fastify/lib/validation.js'],
  },
  {
    id: 'fastify-stream-payload',
    kind: 'natural',
    query: 'send a Node stream or a web ReadableStream / Response as the reply payload',
    relevant: ['fastify/lib/reply.js'],
  },
  {
    id: 'fastify-head-routes',
    kind: 'natural',
    query: 'automatically register HEAD routes for GET routes',
    relevant: ['fastify/lib/route.js', 'fastify/lib/head-route.js'],
  },
  {
    id: 'fastify-localhost-bindings',
    kind: 'natural',
    query: 'listen on both IPv4 and IPv6 addresses when the host is localhost',
    relevant: ['fastify/lib/server.js'],
  },
  {
    id: 'fastify-handler-timeout',
    kind: 'natural',
    query: 'abort a route handler that runs longer than its timeout',
    relevant: ['fastify/lib/route.js'],
  },
  {
    id: 'fastify-bad-url',
    kind: 'natural',
    query: 'answer 400 when the URL path cannot be decoded, and 414 when a parameter is too long',
    relevant: ['fastify/fastify.js'],
  },
  {
    id: 'fastify-client-error',
    kind: 'natural',
    query: 'reply on the raw socket when a client times out or sends headers that are too large',
    relevant: ['fastify/fastify.js'],
  },
  {
    id: 'fastify-trailers',
    kind: 'natural',
    query: 'HTTP trailers sent after a chunked response body',
    relevant: ['fastify/lib/reply.js'],
  },
  {
    id: 'fastify-plugin-encapsulation',
    kind: 'architecture',
    query: 'how are plugins encapsulated',
    relevant: ['fastify/lib/plugin-override.js', 'fastify/lib/plugin-utils.js'],
  },
  {
    id: 'fastify-lifecycle',
    kind: 'architecture',
    query: 'request lifecycle from the router through the hooks to the route handler',
    relevant: ['fastify/lib/route.js', 'fastify/lib/handle-request.js', 'fastify/lib/hooks.js'],
  },
  {
    id: 'fastify-serializers',
    kind: 'architecture',
    query: 'how response schemas become serializer functions chosen by status code and content type',
    relevant: ['fastify/lib/schemas.js', 'fastify/lib/validation.js', 'fastify/lib/reply.js'],
  },
  {
    id: 'fastify-logger-setup',
    kind: 'architecture',
    query: 'how the framework creates its logger from options or a user supplied logger instance, and a child logger per request',
    relevant: ['fastify/lib/logger-factory.js', 'fastify/lib/logger-pino.js'],
  },
  {
    id: 'fastify-shutdown',
    kind: 'architecture',
    query: 'graceful shutdown: preClose hooks, closing open connections, 503 while closing',
    relevant: ['fastify/fastify.js', 'fastify/lib/route.js'],
  },
  { id: 'fastify-reply-serializer', kind: 'identifier', query: 'reply.serializer', relevant: ['fastify/lib/reply.js'] },
  { id: 'fastify-buildRouting', kind: 'identifier', query: 'buildRouting', relevant: ['fastify/lib/route.js'] },
  { id: 'fastify-hookRunnerApplication', kind: 'identifier', query: 'hookRunnerApplication', relevant: ['fastify/lib/hooks.js'] },
  { id: 'fastify-decorateRequest', kind: 'identifier', query: 'decorateRequest', relevant: ['fastify/lib/decorate.js'] },
  { id: 'fastify-wrapThenable', kind: 'identifier', query: 'wrapThenable', relevant: ['fastify/lib/wrap-thenable.js'] },
  { id: 'fastify-getSchemaSerializer', kind: 'identifier', query: 'getSchemaSerializer', relevant: ['fastify/lib/schemas.js'] },
  {
    id: 'fastify-body-too-large',
    kind: 'identifier',
    query: 'FST_ERR_CTP_BODY_TOO_LARGE',
    relevant: ['fastify/lib/errors.js', 'fastify/lib/content-type-parser.js'],
  },

  // ---------------------------------------------------------------------------------- pino
  {
    id: 'pino-redaction',
    kind: 'natural',
    query: 'hide sensitive fields such as passwords in log objects',
    relevant: ['pino/lib/redaction.js'],
  },
  {
    id: 'pino-multistream',
    kind: 'natural',
    query: 'write logs to several destinations, each with its own minimum level',
    relevant: ['pino/lib/multistream.js'],
  },
  {
    id: 'pino-timestamps',
    kind: 'natural',
    query: 'timestamp formats: epoch milliseconds, unix seconds, ISO 8601 with nanoseconds',
    relevant: ['pino/lib/time.js'],
  },
  {
    id: 'pino-custom-levels',
    kind: 'natural',
    query: 'custom log levels must not collide with the built-in levels',
    relevant: ['pino/lib/levels.js'],
  },
  {
    id: 'pino-json-line',
    kind: 'natural',
    query: 'serialize one log line as JSON with the time, level, bindings and message',
    relevant: ['pino/lib/tools.js'],
  },
  {
    id: 'pino-exit-flush',
    kind: 'natural',
    query: 'flush buffered log output before the process exits',
    relevant: ['pino/lib/tools.js', 'pino/lib/transport.js'],
  },
  {
    id: 'pino-browser',
    kind: 'natural',
    query: 'logging in the browser through console methods',
    relevant: ['pino/browser.js'],
  },
  {
    id: 'pino-transports',
    kind: 'architecture',
    query: 'how log transports run in a worker thread and pipe logs to their targets',
    relevant: ['pino/lib/transport.js', 'pino/lib/worker.js', 'pino/lib/transport-stream.js'],
  },
  {
    id: 'pino-level-methods',
    kind: 'architecture',
    query: 'how setting the level replaces the log methods below it with no-ops',
    relevant: ['pino/lib/levels.js', 'pino/lib/tools.js'],
  },
  {
    id: 'pino-child',
    kind: 'architecture',
    query: 'child loggers: inheriting serializers and formatters and adding bindings',
    relevant: ['pino/lib/proto.js'],
  },
  { id: 'pino-isLevelEnabled', kind: 'identifier', query: 'isLevelEnabled', relevant: ['pino/lib/levels.js'] },
  { id: 'pino-buildSafeSonicBoom', kind: 'identifier', query: 'buildSafeSonicBoom', relevant: ['pino/lib/tools.js'] },
  { id: 'pino-multistream-ident', kind: 'identifier', query: 'multistream', relevant: ['pino/lib/multistream.js'] },

  // ---------------------------------------------------------------------------------- commander
  {
    id: 'commander-suggest',
    kind: 'natural',
    query: 'suggest the closest command or option name when the user mistypes one',
    relevant: ['commander/lib/suggestSimilar.js', 'commander/lib/command.js'],
  },
  {
    id: 'commander-help-wrap',
    kind: 'natural',
    query: 'format the help text in columns and wrap it to the terminal width',
    relevant: ['commander/lib/help.js'],
  },
  {
    id: 'commander-env',
    kind: 'natural',
    query: 'take an option value from an environment variable',
    relevant: ['commander/lib/command.js', 'commander/lib/option.js'],
  },
  {
    id: 'commander-executable',
    kind: 'natural',
    query: 'run a subcommand implemented as a separate executable file',
    relevant: ['commander/lib/command.js'],
  },
  {
    id: 'commander-negate',
    kind: 'natural',
    query: 'negatable boolean flags like --no-color',
    relevant: ['commander/lib/option.js', 'commander/lib/command.js'],
  },
  {
    id: 'commander-conflicts',
    kind: 'natural',
    query: 'report options that conflict with each other',
    relevant: ['commander/lib/command.js', 'commander/lib/option.js'],
  },
  {
    id: 'commander-argv',
    kind: 'architecture',
    query: 'how command-line arguments are split into known options, operands and unknown arguments',
    relevant: ['commander/lib/command.js'],
  },
  { id: 'commander-requiredOption', kind: 'identifier', query: 'requiredOption', relevant: ['commander/lib/command.js'] },
  { id: 'commander-InvalidArgumentError', kind: 'identifier', query: 'InvalidArgumentError', relevant: ['commander/lib/error.js'] },

  // ---------------------------------------------------------------------------------- pg
  {
    id: 'pg-scram',
    kind: 'natural',
    query: 'SCRAM-SHA-256 password authentication',
    relevant: ['pg/lib/crypto/sasl.js', 'pg/lib/client.js'],
  },
  {
    id: 'pg-env-defaults',
    kind: 'natural',
    query: 'connection settings from PGHOST, PGUSER and other environment variables, with defaults',
    relevant: ['pg/lib/connection-parameters.js', 'pg/lib/defaults.js'],
  },
  {
    id: 'pg-escape',
    kind: 'natural',
    query: 'escape a string literal or an identifier for use in SQL',
    relevant: ['pg/lib/utils.js'],
  },
  {
    id: 'pg-values',
    kind: 'natural',
    query: 'convert JavaScript arrays, dates and objects into query parameter text',
    relevant: ['pg/lib/utils.js'],
  },
  {
    id: 'pg-tls',
    kind: 'natural',
    query: 'upgrade the socket to TLS after the server accepts the SSL request',
    relevant: ['pg/lib/connection.js'],
  },
  {
    id: 'pg-row-mode',
    kind: 'natural',
    query: 'return rows as arrays instead of objects and parse column values by type',
    relevant: ['pg/lib/result.js'],
  },
  {
    id: 'pg-cancel',
    kind: 'natural',
    query: 'cancel a running query from a second connection',
    relevant: ['pg/lib/client.js', 'pg/lib/connection.js'],
  },
  {
    id: 'pg-channel-binding',
    kind: 'natural',
    query: "channel binding: the hash algorithm of the server certificate's signature",
    relevant: ['pg/lib/crypto/cert-signatures.js', 'pg/lib/crypto/sasl.js'],
  },
  {
    id: 'pg-extended-protocol',
    kind: 'architecture',
    query: 'how a parameterized query goes through parse, bind, describe and execute messages',
    relevant: ['pg/lib/query.js', 'pg/lib/connection.js'],
  },
  {
    id: 'pg-native',
    kind: 'architecture',
    query: 'the native libpq binding as an alternative client implementation',
    relevant: ['pg/lib/native/client.js', 'pg/lib/native/query.js', 'pg/lib/index.js'],
  },
  {
    id: 'pg-type-parsers',
    kind: 'architecture',
    query: 'per-client type parser overrides by OID and text or binary format',
    relevant: ['pg/lib/type-overrides.js', 'pg/lib/client.js'],
  },
  { id: 'pg-_pulseQueryQueue', kind: 'identifier', query: '_pulseQueryQueue', relevant: ['pg/lib/client.js', 'pg/lib/native/client.js'] },
  { id: 'pg-ConnectionParameters', kind: 'identifier', query: 'ConnectionParameters', relevant: ['pg/lib/connection-parameters.js'] },
  { id: 'pg-escapeLiteral', kind: 'identifier', query: 'escapeLiteral', relevant: ['pg/lib/utils.js', 'pg/lib/client.js'] },
];
