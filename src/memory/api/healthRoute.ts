// GET /health: the service, its database, the embedder in use (provider and model, or why none),
// and the LLM.
import type { Database } from '../../platform/database/database.js';
import type { HttpApp } from '../../platform/http/app.js';
import type { EmbedderPool } from '../embeddings/embedderPool.js';

export interface HealthDeps {
  db: Database;
  embedders: EmbedderPool;
  llmModel: string | undefined;
  version: string;
  startedAt: number;
}

function embeddingsCheck(embedders: EmbedderPool): { text: string; ok: boolean } {
  const status = embedders.current();
  if (status.state === 'loading') return { text: 'loading', ok: true };
  if (status.state === 'unavailable') return { text: `unavailable: ${status.reason}`, ok: false };
  const name = `${status.embedder.provider} ${status.embedder.model}`;
  return { text: status.note ? `${name} (auto fallback: ${status.note})` : name, ok: true };
}

export function registerHealthRoute(app: HttpApp, deps: HealthDeps): void {
  app.get('/health', { schema: { summary: 'Health of the memory service and what it depends on', tags: ['health'] } }, async (_request, reply) => {
    const database = await deps.db.query('select 1').then(() => 'ok' as const, () => 'down' as const);
    const embeddings = embeddingsCheck(deps.embedders);
    const status = database !== 'ok' ? 'down' : embeddings.ok ? 'ok' : 'degraded';
    return reply.status(status === 'down' ? 503 : 200).send({
      status,
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      checks: { database, embeddings: embeddings.text, llm: deps.llmModel ? `configured ${deps.llmModel}` : 'disabled' },
    });
  });
}
