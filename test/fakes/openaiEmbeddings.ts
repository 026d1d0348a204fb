// A local HTTP server speaking the OpenAI embeddings API (POST /v1/embeddings: {model, input: string[],
// encoding_format?, dimensions?} → {object: 'list', data: [{object, index, embedding}], model, usage})
// for the real OpenAI SDK. Vectors come from the built-in hash embedder (48 dimensions), cut to
// `dimensions` when asked, and are answered as some local servers answer them: not normalised and
// listed in reverse order (the index decides). A test makes it fail by answering from `intercept`.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HashEmbedder } from '../../src/memory/embeddings/hashEmbedder.js';

export interface EmbeddingsRequest {
  model: string;
  input: string[];
  encoding_format?: string;
  dimensions?: number;
  /** The bearer token the client sent ('' without one). */
  key: string;
}

/** An answer other than the embeddings: an error status and its body. */
export interface EmbeddingsReply {
  status: number;
  body: unknown;
}

export interface FakeEmbeddings {
  /** The API base, ending in /v1. */
  baseUrl: string;
  /** Every embeddings request, in order. */
  requests: EmbeddingsRequest[];
  /** What the vectors are made from (a test compares against it). */
  reference: HashEmbedder;
  /** Answers a request instead of the embeddings when it returns a reply. */
  intercept: (request: EmbeddingsRequest) => EmbeddingsReply | undefined;
  close(): Promise<void>;
}

export async function startFakeEmbeddings(): Promise<FakeEmbeddings> {
  const reference = new HashEmbedder(48);
  const fake: Omit<FakeEmbeddings, 'baseUrl' | 'close'> = { requests: [], reference, intercept: () => undefined };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    if (req.method !== 'POST' || req.url !== '/v1/embeddings') return send(404, { error: { message: `no route ${req.url}` } });
    const request = { ...(JSON.parse(raw) as Omit<EmbeddingsRequest, 'key'>), key: (req.headers.authorization ?? '').replace(/^Bearer /, '') };
    fake.requests.push(request);
    const reply = fake.intercept(request);
    if (reply) return send(reply.status, reply.body);
    const width = request.dimensions ?? reference.dimension;
    const vectors = await reference.embed(request.input);
    const data = vectors.map((v, index) => ({ object: 'embedding', index, embedding: Array.from(v.slice(0, width), (x) => x * 3) })).reverse();
    send(200, { object: 'list', data, model: request.model, usage: { prompt_tokens: 1, total_tokens: 1 } });
  }

  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fake, {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}
