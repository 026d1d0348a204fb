// The held-out queries of the retrieval-quality benchmark (bench/retrievalQuality.ts): same corpus,
// same kinds and labelling rules as retrieval/queries.ts, but written and labelled (by reading the
// packages' code) before any search change they are used to judge, and never used to choose a
// ranking feature or weight. The development set (QUERIES) is what ranking work is tuned on; these
// say whether what was learned there carries over to questions it was not tuned on.
import type { LabelledQuery } from './queries.js';

export const HELD_OUT_QUERIES: readonly LabelledQuery[] = [
  // ---------------------------------------------------------------------------------- fastify
  {
    id: 'ho-fastify-decorate-duplicate',
    kind: 'natural',
    query: 'adding a property to the server, request or reply object fails when the name is already taken',
    relevant: ['fastify/lib/decorate.js'],
  },
  {
    id: 'ho-fastify-redirect',
    kind: 'natural',
    query: 'redirect the client to another URL with a 3xx status',
    relevant: ['fastify/lib/reply.js'],
  },
  {
    id: 'ho-fastify-request-logging-off',
    kind: 'natural',
    query: 'turn off the incoming request and request completed log lines',
    relevant: ['fastify/lib/log-controller.js'],
  },
  {
    id: 'ho-fastify-http2',
    kind: 'natural',
    query: 'create an HTTP/2 or HTTPS server from the options',
    relevant: ['fastify/lib/server.js'],
  },
  {
    id: 'ho-fastify-abort-hook',
    kind: 'natural',
    query: 'run hooks when the client aborts the request before a response is sent',
    relevant: ['fastify/lib/hooks.js', 'fastify/lib/route.js'],
  },
  {
    id: 'ho-fastify-schema-compilers',
    kind: 'architecture',
    query: 'how validator and serializer compilers are built for each plugin context, and where shared schemas added with addSchema are kept',
    relevant: ['fastify/lib/schema-controller.js', 'fastify/lib/schemas.js', 'fastify/lib/plugin-override.js'],
  },
  { id: 'ho-fastify-onRequestAbortHookRunner', kind: 'identifier', query: 'onRequestAbortHookRunner', relevant: ['fastify/lib/hooks.js'] },
  { id: 'ho-fastify-SchemaController', kind: 'identifier', query: 'SchemaController', relevant: ['fastify/lib/schema-controller.js'] },

  // ------------------------------------------------------------------------------------- pino
  {
    id: 'ho-pino-caller-file',
    kind: 'natural',
    query: 'find the file that called the logger from the stack trace, to resolve transport targets relative to it',
    relevant: ['pino/lib/caller.js', 'pino/lib/transport.js'],
  },
  {
    id: 'ho-pino-remove-redacted',
    kind: 'natural',
    query: 'remove redacted keys entirely instead of replacing them with a placeholder',
    relevant: ['pino/lib/redaction.js'],
  },
  {
    id: 'ho-pino-mixin',
    kind: 'natural',
    query: 'add properties returned by a function to every log line',
    relevant: ['pino/lib/proto.js'],
  },
  {
    id: 'ho-pino-destination',
    kind: 'architecture',
    query: 'how the logger decides where output goes: a destination stream, a file descriptor, or a transport',
    relevant: ['pino/lib/tools.js', 'pino/pino.js', 'pino/lib/transport.js'],
  },
  { id: 'ho-pino-defaultMixinMergeStrategy', kind: 'identifier', query: 'defaultMixinMergeStrategy', relevant: ['pino/lib/proto.js'] },

  // -------------------------------------------------------------------------------- commander
  {
    id: 'ho-commander-choices',
    kind: 'natural',
    query: 'only accept a fixed set of allowed values for an option or argument',
    relevant: ['commander/lib/option.js', 'commander/lib/argument.js'],
  },
  {
    id: 'ho-commander-hidden',
    kind: 'natural',
    query: 'hide an option or a subcommand from the help output',
    relevant: ['commander/lib/help.js', 'commander/lib/option.js', 'commander/lib/command.js'],
  },
  {
    id: 'ho-commander-exit',
    kind: 'natural',
    query: 'throw instead of calling process.exit so that the program can handle the error itself',
    relevant: ['commander/lib/command.js', 'commander/lib/error.js'],
  },
  {
    id: 'ho-commander-subcommands',
    kind: 'architecture',
    query: 'how a program dispatches to a subcommand and runs preAction and postAction hooks around its action handler',
    relevant: ['commander/lib/command.js'],
  },
  { id: 'ho-commander-exitOverride', kind: 'identifier', query: 'exitOverride', relevant: ['commander/lib/command.js'] },
  { id: 'ho-commander-humanReadableArgName', kind: 'identifier', query: 'humanReadableArgName', relevant: ['commander/lib/argument.js'] },

  // --------------------------------------------------------------------------------------- pg
  {
    id: 'ho-pg-md5',
    kind: 'natural',
    query: "hash the password with md5 and the server's salt during login",
    relevant: ['pg/lib/crypto/utils.js', 'pg/lib/client.js'],
  },
  {
    id: 'ho-pg-notify',
    kind: 'natural',
    query: 'receive LISTEN/NOTIFY notifications as events on the client',
    relevant: ['pg/lib/client.js', 'pg/lib/native/client.js'],
  },
  {
    id: 'ho-pg-connect-timeout',
    kind: 'natural',
    query: 'give up connecting when the server does not answer within a time limit',
    relevant: ['pg/lib/client.js', 'pg/lib/connection-parameters.js'],
  },
  {
    id: 'ho-pg-cloudflare',
    kind: 'natural',
    query: 'choose a socket implementation that works in Cloudflare Workers',
    relevant: ['pg/lib/stream.js'],
  },
  {
    id: 'ho-pg-result-building',
    kind: 'architecture',
    query: 'how query results are assembled from the row description and data row messages',
    relevant: ['pg/lib/result.js', 'pg/lib/query.js'],
  },
  { id: 'ho-pg-prepareValue', kind: 'identifier', query: 'prepareValue', relevant: ['pg/lib/utils.js'] },
];
