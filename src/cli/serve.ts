// `autobuild up` and `autobuild orchestrator`: open the database, build the services, serve until
// SIGINT/SIGTERM, then stop gracefully (running jobs are saved on their branches and requeued).
import { loadConfig, type Config } from '../platform/config.js';
import type { Database } from '../platform/database/database.js';
import { lockEmbeddedDatabase } from '../platform/database/embeddedLock.js';
import { openDatabase } from '../platform/database/open.js';
import { createLogger, type Logger } from '../platform/logger.js';
import { redactUrlCredentials } from '../platform/redact.js';
import { buildOrchestrator } from '../orchestrator/orchestrator.js';

interface Service {
  stop(): Promise<void>;
}

async function openShared(config: Config, logger: Logger): Promise<{ db: Database; release: () => void }> {
  const release = config.databaseUrl ? () => undefined : lockEmbeddedDatabase(config.home);
  try {
    const db = await openDatabase({ databaseUrl: config.databaseUrl, home: config.home, logger });
    logger.info({ database: config.databaseUrl ? redactUrlCredentials(config.databaseUrl) : `embedded (${config.home}/db)` }, 'database open');
    return { db, release };
  } catch (error) {
    release();
    throw error;
  }
}

function untilSignal(logger: Logger, services: Service[], db: Database, release: () => void): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      for (const service of services) await service.stop().catch((error: Error) => logger.error({ err: error.message }, 'stop failed'));
      await db.close().catch(() => undefined);
      release();
      resolve();
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });
}

export async function serve(which: 'up' | 'orchestrator', env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const config = loadConfig(env);
  const logger = createLogger({ level: config.logLevel, secrets: [config.apiToken, config.callbackSecret, config.github.token, config.anthropic.apiKey] });
  const { db, release } = await openShared(config, logger);
  const services: Service[] = [];
  try {
    const orchestrator = await buildOrchestrator({ config, db, logger, agentEnv: env });
    services.push(orchestrator);
    const url = await orchestrator.start();
    process.stdout.write(`AutoBuild orchestrator on ${url}${which === 'up' ? ' (memory service and dashboard: not part of this version yet)' : ''}\n`);
  } catch (error) {
    for (const service of services) await service.stop().catch(() => undefined);
    await db.close().catch(() => undefined);
    release();
    throw error;
  }
  await untilSignal(logger, services, db, release);
}
