// GET /health: the service, its database, the embedder in use (provider and model, or why none),
// whether memories can be written now, and the LLM. Honest rather than optimistic: the embedder and
// memory checks come from real writes or an active probe (see memories/writeHealth.ts), so a
// failing embedding server or a store that refuses writes makes the service `degraded` with the
// reason in the check; an unreachable database makes it `down` (503).
import type { Database } from '../../platform/database/database.js';
import type { HttpApp } from '../../platform/http/app.js';
import type { EmbedderPool } from '../embeddings/embedderPool.js';
import type { Evidence, MemoryWriteHealth } from '../memories/writeHealth.js';

export interface HealthDeps {
  db: Database;
  embedders: EmbedderPool;
  writes: MemoryWriteHealth;
  llmModel: string | undefined;
  version: string;
  startedAt: number;
}

interface Check {
  text: string;
  ok: boolean;
}

/** `hash autobuild-hash-v1-384`, with the auto fallback's note; `unavailable: why` when it cannot load; `<name> failing: why`. */
function embeddingsCheck(embedders: EmbedderPool, evidence: Evidence): Check {
  const status = embedders.current();
  if (status.state === 'unavailable') return { text: `unavailable: ${status.reason}`, ok: false };
  if (status.state === 'loading') return evidence.ok ? { text: 'loading', ok: true } : { text: `failing: ${evidence.reason}`, ok: false };
  const name = `${status.embedder.provider} ${status.embedder.model}`;
  if (!evidence.ok) return { text: `${name} failing: ${evidence.reason}`, ok: false };
  return { text: status.note ? `${name} (auto fallback: ${status.note})` : name, ok: true };
}

function memoriesCheck(evidence: Evidence): Check {
  return evidence.ok ? { text: 'ok', ok: true } : { text: `failing: ${evidence.reason}`, ok: false };
}

export function registerHealthRoute(app: HttpApp, deps: HealthDeps): void {
  app.get('/health', { schema: { summary: 'Health of the memory service and what it depends on', tags: ['health'] } }, async (_request, reply) => {
    const [database, writes] = await Promise.all([
      deps.db.query('select 1').then(() => 'ok' as const, () => 'down' as const),
      deps.writes.report(),
    ]);
    const embeddings = embeddingsCheck(deps.embedders, writes.embeddings);
    const memories = memoriesCheck(writes.memories);
    const status = database !== 'ok' ? 'down' : embeddings.ok && memories.ok ? 'ok' : 'degraded';
    return reply.status(status === 'down' ? 503 : 200).send({
      status,
      version: deps.version,
      uptime_s: Math.round((Date.now() - deps.startedAt) / 1000),
      checks: {
        database,
        embeddings: embeddings.text,
        memories: memories.text,
        llm: deps.llmModel ? `configured ${deps.llmModel}` : 'disabled',
      },
    });
  });
}
