// `autobuild up`, `autobuild orchestrator` and `autobuild memory`: open the database, build the
// services over that one handle, serve until SIGINT/SIGTERM, then stop gracefully (running jobs are
// saved on their branches and requeued).
import { loadConfig, type Config } from '../platform/config.js';
import type { Database } from '../platform/database/database.js';
import { lockEmbeddedDatabase } from '../platform/database/embeddedLock.js';
import { openDatabase } from '../platform/database/open.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { redactUrlCredentials } from '../platform/redact.js';
import { buildOrchestrator } from '../orchestrator/orchestrator.js';
import { buildMemory } from '../memory/memory.js';
import { startDashboard } from '../dashboard/dashboardServer.js';

export type ServeMode = 'up' | 'orchestrator' | 'memory';

interface Service {
  stop(): Promise<void>;
}

export interface RunningServices {
  orchestratorUrl?: string;
  memoryUrl?: string;
  /** `up` only: the dashboard, proxying to both services. */
  dashboardUrl?: string;
  logger: Logger;
  /** Stops the services (orchestrator first: it may still be talking to the memory service), then the database. */
  stop(): Promise<void>;
}

async function openShared(config: Config, logger: Logger): Promise<{ db: Database; release: () => void }> {
  const release = config.databaseUrl ? () => undefined : lockEmbeddedDatabase(config.home);
  try {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, home: config.home, logger, sharedBuffersMb: config.pgliteSharedBuffersMb });
    logger.info({ database: config.databaseUrl ? redactUrlCredentials(config.databaseUrl) : `embedded (${config.home}/db)` }, 'database open');
    return { db, release };
  } catch (error) {
    release();
    throw error;
  }
}

/** A URL another local process can call: a wildcard bind address is reached through loopback. */
function reachable(url: string): string {
  const parsed = new URL(url);
  if (parsed.hostname === '0.0.0.0') parsed.hostname = '127.0.0.1';
  if (parsed.hostname === '[::]') parsed.hostname = '[::1]';
  return parsed.toString().replace(/\/+$/, '');
}

/** Start the services of `mode` over one database handle; `up` points the orchestrator at the memory service it started. */
export async function startServices(mode: ServeMode, env: NodeJS.ProcessEnv = process.env): Promise<RunningServices> {
  const config = loadConfig(env);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    secrets: [config.apiToken, config.callbackSecret, config.github.token, config.anthropic.apiKey, config.embedding.openaiApiKey],
  });
  const { db, release } = await openShared(config, logger);
  const started: Service[] = [];
  const stop = async () => {
    for (const service of [...started].reverse()) await service.stop().catch((error: Error) => logger.error({ err: error.message }, 'stop failed'));
    await db.close().catch(() => undefined);
    release();
  };
  try {
    const running: RunningServices = { logger, stop };
    if (mode !== 'orchestrator') {
      const memory = await buildMemory({ config, db, logger });
      started.push(memory);
      running.memoryUrl = await memory.start();
    }
    if (mode !== 'memory') {
      // MEMORY_SERVICE_URL wins; otherwise `up` hands the orchestrator the memory service it started.
      const memoryServiceUrl = config.memoryServiceUrl ?? (running.memoryUrl ? reachable(running.memoryUrl) : undefined);
      const orchestrator = await buildOrchestrator({ config: { ...config, memoryServiceUrl }, db, logger, agentEnv: env });
      started.push(orchestrator);
      running.orchestratorUrl = await orchestrator.start();
    }
    if (mode === 'up' && running.orchestratorUrl) {
      const dashboard = await startDashboard({
        host: config.host,
        port: config.webPort,
        orchestratorUrl: reachable(running.orchestratorUrl),
        memoryUrl: running.memoryUrl ? reachable(running.memoryUrl) : undefined,
        logger,
      });
      // Stopped first: its proxied streams end before the services they read.
      started.push(dashboard);
      running.dashboardUrl = dashboard.url;
    }
    return running;
  } catch (error) {
    await stop();
    throw error;
  }
}

function untilSignal(running: RunningServices): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      running.logger.info({ signal }, 'stopping');
      await running.stop();
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

export async function serve(mode: ServeMode, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const running = await startServices(mode, env);
  const lines = [
    running.orchestratorUrl ? `AutoBuild orchestrator on ${running.orchestratorUrl}` : undefined,
    running.memoryUrl ? `AutoBuild memory service on ${running.memoryUrl}` : undefined,
    running.dashboardUrl ? `AutoBuild dashboard on ${running.dashboardUrl}` : undefined,
  ].filter((line): line is string => line !== undefined);
  process.stdout.write(`${lines.join('\n')}\n`);
  await untilSignal(running);
}
