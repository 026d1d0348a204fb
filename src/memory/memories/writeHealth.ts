// Owns whether memories can be written right now, for /health: does the configured embedder
// embed, and does memory.memories take a row. Two sources of evidence, and the newer one wins:
// the outcome of real POST /api/v1/memory calls (recorded by the route), and an active probe that
// /health runs when it holds nothing younger than the TTL — one short text embedded with the
// configured embedder, and one insert into memory.memories inside a transaction that is rolled
// back. So /health stays cheap under polling (a busy service is judged by its own writes and is
// not probed), yet never says "ok" while nothing can be stored.
import type { Database } from '../../platform/database/database.js';
import { AppError } from '../../platform/errors.js';
import type { Embedder } from '../embeddings/embedder.js';
import type { EmbedderPool } from '../embeddings/embedderPool.js';

/** How old evidence may be before /health probes again. */
export const DEFAULT_PROBE_TTL_MS = 5_000;
/** A probe slower than this counts as a failure, so /health answers in bounded time. */
export const DEFAULT_PROBE_TIMEOUT_MS = 3_000;

export interface Evidence {
  ok: boolean;
  /** Why it failed, in the backend's words. */
  reason?: string;
  /** When it was observed (ms since the epoch). */
  at: number;
  source: 'probe' | 'write';
}

export interface WriteHealthReport {
  embeddings: Evidence;
  memories: Evidence;
}

export interface WriteHealthOptions {
  ttlMs?: number;
  timeoutMs?: number;
}

const PROBE_TEXT = 'autobuild health probe: can this memory be embedded?';
const ROLLBACK = Symbol('health probe rollback');

/** A failure of the database itself (it carries a SQLSTATE or a socket error code), not a bug. */
export function isStoreFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (/^[0-9A-Z]{5}$/.test(code) || /^E[A-Z]+$/.test(code));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class MemoryWriteHealth {
  private embeddings: Evidence | undefined;
  private memories: Evidence | undefined;
  private probing: Promise<void> | undefined;
  private readonly ttlMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly deps: { db: Database; embedders: EmbedderPool },
    options: WriteHealthOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? DEFAULT_PROBE_TTL_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  }

  /** A memory was embedded and stored. */
  recordWritten(): void {
    const at = Date.now();
    this.note('embeddings', { ok: true, at, source: 'write' });
    this.note('memories', { ok: true, at, source: 'write' });
  }

  /**
   * A memory could not be written: the embedder's 503s are recorded as such; a database failure is
   * recorded and returned as a 503 with the database's words, so a client knows to retry later. Any
   * other error is a bug and is returned unchanged (a logged 500).
   */
  recordFailure(error: unknown): unknown {
    const at = Date.now();
    if (error instanceof AppError) {
      if (error.code === 'dependency_unavailable') this.note('embeddings', { ok: false, reason: error.message, at, source: 'write' });
      return error;
    }
    if (!isStoreFailure(error)) return error;
    const reason = messageOf(error);
    this.note('memories', { ok: false, reason, at, source: 'write' });
    return new AppError('dependency_unavailable', `the memory store refused the write: ${reason}`);
  }

  /** The latest evidence, probing first whatever has none younger than the TTL. */
  async report(): Promise<WriteHealthReport> {
    if (this.stale(this.embeddings) || this.stale(this.memories)) {
      this.probing ??= this.probe().finally(() => {
        this.probing = undefined;
      });
      await this.probing;
    }
    return { embeddings: this.embeddings!, memories: this.memories! };
  }

  private stale(evidence: Evidence | undefined): boolean {
    return !evidence || Date.now() - evidence.at > this.ttlMs;
  }

  /** Keeps the newer of what is known and what was just seen. */
  private note(which: 'embeddings' | 'memories', evidence: Evidence): void {
    const known = this[which];
    if (!known || evidence.at >= known.at) this[which] = evidence;
  }

  private async probe(): Promise<void> {
    const [embeddings, memories] = await Promise.all([
      this.stale(this.embeddings) ? this.timed('embedding', () => this.probeEmbedder()) : undefined,
      this.stale(this.memories) ? this.timed('writing to memory.memories', () => this.probeStore()) : undefined,
    ]);
    if (embeddings) this.note('embeddings', embeddings);
    if (memories) this.note('memories', memories);
  }

  /** Runs a probe with the timeout; its outcome is stamped with when it started. */
  private async timed(what: string, run: () => Promise<void>): Promise<Evidence> {
    const at = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      await Promise.race([run(), timeout]);
      return { ok: true, at, source: 'probe' };
    } catch (error) {
      return { ok: false, reason: messageOf(error), at, source: 'probe' };
    } finally {
      clearTimeout(timer);
    }
  }

  private async probeEmbedder(): Promise<void> {
    // configured() retries a backend that failed to load, so a server that came back is seen here.
    const embedder: Embedder = await this.deps.embedders.configured();
    const [vector] = await embedder.embed([PROBE_TEXT]);
    if (!vector || vector.length !== embedder.dimension || !vector.every(Number.isFinite)) {
      throw new Error(`the embedder returned no usable ${embedder.dimension}-d vector`);
    }
  }

  /** A real insert (constraints, triggers, read-only settings, disk all apply), never committed. */
  private async probeStore(): Promise<void> {
    try {
      await this.deps.db.transaction(async (tx) => {
        await tx.query(
          `insert into memory.memories (project_id, type, content, content_text, embedding, provider, model, dimension)
           values ('autobuild-health-probe', 'health_probe', '"probe"'::jsonb, 'probe', '[1]'::vector, 'health', 'probe', 1)`,
        );
        throw ROLLBACK;
      });
    } catch (error) {
      if (error !== ROLLBACK) throw error;
    }
  }
}
