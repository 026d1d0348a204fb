// POST /api/v1/insights/chat: a grounded answer about a project's code (insights/chat.ts), as JSON,
// or as server-sent events when the client sends `Accept: text/event-stream`:
//   event: sources  data: {"sources": [...]}            (first)
//   event: delta    data: {"text": "..."}               (the answer, in pieces)
//   event: done     data: {"model": "..." | null}        (last)
//   event: error    data: {"error": {code, message}}     (the model failed mid-answer; then the stream ends)
// A failure before anything is streamed (unknown project, model down or rate limited) is the
// ordinary JSON error with its status, and Retry-After when the model API gave one.
import type { FastifyReply } from 'fastify';
import { Type } from 'typebox';
import { AppError } from '../../platform/errors.js';
import type { HttpApp } from '../../platform/http/app.js';
import { LlmError, type LlmClient } from '../../platform/llm.js';
import { ANSWER_MAX_TOKENS, answerChat, passagesAnswer, prepareChat, type ChatDeps, type ChatRequest } from '../insights/chat.js';
import type { SearchDeps } from '../retrieval/search.js';
import { ProjectId } from './schemas.js';

export const ChatBody = Type.Object(
  {
    project_id: ProjectId,
    message: Type.String({ minLength: 1, maxLength: 20_000, pattern: '\\S', description: 'the question' }),
    conversation_history: Type.Optional(
      Type.Array(
        Type.Object(
          {
            role: Type.Union([Type.Literal('user'), Type.Literal('assistant')]),
            content: Type.String({ minLength: 1, maxLength: 16_000 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 50, description: 'earlier turns, oldest first (at most 50)' },
      ),
    ),
  },
  { additionalProperties: false },
);

const Source = Type.Object({ path: Type.String(), start_line: Type.Integer(), end_line: Type.Integer() });

export const ChatResponse = Type.Object({
  response: Type.String({ description: 'the answer (markdown); without a model, a plain statement of that and the most relevant passages' }),
  sources: Type.Array(Source, { description: 'the passages the answer was grounded in' }),
  model: Type.Union([Type.String(), Type.Null()], { description: 'the model that answered; null when no language model is configured (no ANTHROPIC_API_KEY)' }),
});

export interface ChatRouteDeps {
  search: SearchDeps;
  llm: LlmClient | undefined;
  recallNotes?: ChatDeps['recallNotes'];
}

function withRetryAfter(reply: FastifyReply, error: unknown): unknown {
  if (error instanceof LlmError && error.retryAfterS !== undefined) reply.header('retry-after', String(error.retryAfterS));
  return error;
}

function sseEvent(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerChatRoute(app: HttpApp, deps: ChatRouteDeps): void {
  const chatDeps: ChatDeps = { search: deps.search, llm: deps.llm, recallNotes: deps.recallNotes };

  app.post(
    '/api/v1/insights/chat',
    {
      schema: {
        summary: "Ask about a project's code: retrieval over its index, then Claude (JSON, or SSE with Accept: text/event-stream)",
        tags: ['insights'],
        body: ChatBody,
        response: { 200: ChatResponse },
      },
    },
    async (request, reply) => {
      const { project_id, message, conversation_history = [] } = request.body;
      const chat: ChatRequest = { projectId: project_id, message, history: conversation_history };
      const closed = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) closed.abort();
      });
      const wantsStream = (request.headers.accept ?? '').includes('text/event-stream');

      if (!wantsStream) {
        try {
          return await answerChat(chatDeps, chat, closed.signal);
        } catch (error) {
          throw withRetryAfter(reply, error);
        }
      }

      const prepared = await prepareChat(chatDeps, chat);
      let first: IteratorResult<string, void> | undefined;
      let deltas: AsyncGenerator<string, void, undefined> | undefined;
      if (deps.llm) {
        deltas = deps.llm.stream({ system: prepared.system, messages: prepared.messages, maxTokens: ANSWER_MAX_TOKENS, signal: closed.signal });
        try {
          // Nothing is sent until the model has answered: its failures are still proper statuses.
          first = await deltas.next();
        } catch (error) {
          throw withRetryAfter(reply, error);
        }
      }

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      const send = (event: string, data: unknown) => {
        if (!res.destroyed) res.write(sseEvent(event, data));
      };
      try {
        if (!deltas || !first) {
          const answer = passagesAnswer(prepared);
          send('sources', { sources: answer.sources });
          send('delta', { text: answer.response });
          send('done', { model: null });
          return;
        }
        send('sources', { sources: prepared.sources });
        if (!first.done) {
          send('delta', { text: first.value });
          for await (const text of deltas) {
            if (closed.signal.aborted) break;
            send('delta', { text });
          }
        }
        send('done', { model: deps.llm?.model ?? null });
      } catch (error) {
        const body = error instanceof AppError ? error.toBody() : new AppError('dependency_unavailable', 'the language model call failed unexpectedly').toBody();
        if (!(error instanceof AppError)) request.log.error({ err: error }, 'chat stream failed');
        send('error', body);
      } finally {
        res.end();
      }
    },
  );
}
