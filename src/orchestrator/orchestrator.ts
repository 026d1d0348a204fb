// Builds the orchestrator service: its API, scheduler, executor, worktrees and janitor over one
// database handle. `up` and `autobuild orchestrator` call this; so do the tests.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { assertSafeBind, type Config } from '../platform/config.js';
import type { Database } from '../platform/database/database.js';
import { migrate } from '../platform/database/migrate.js';
import { createHttpApp, type HttpApp } from '../platform/http/app.js';
import type { Logger } from '../platform/logger.js';
import { VERSION } from '../platform/version.js';
import { registerJobRoutes } from './api/jobsRoutes.js';
import { registerJobRunRoutes } from './api/jobRunRoutes.js';
import { registerPullRequestRoute } from './api/pullRequestRoute.js';
import { openPullRequestAfterSuccess } from './pullRequests/pullRequests.js';
import { registerOtherRoutes } from './api/otherRoutes.js';
import { orchestratorComponents } from './api/wireSchemas.js';
import { registerComponents } from '../platform/http/components.js';
import { LocalExecutor, type ContextProvider } from './executors/localExecutor.js';
import { GithubActionsExecutor } from './executors/githubActionsExecutor.js';
import { registerCallbackRoute } from './api/callbackRoute.js';
import { createGithubClient } from '../platform/github.js';
import { acquireProcessLauncher } from '../platform/processes/processLauncher.js';
import { JobLogs } from './logs/jobLogs.js';
import { JobMetrics } from './metrics.js';
import { JOBS_CHANNEL, JobScheduler } from './scheduler/jobScheduler.js';
import { QueueOrder } from './jobs/queue.js';
import { memoryContextProvider } from './memoryContext.js';
import { OutcomeOutbox } from './memoryOutbox.js';
import { WorktreeJanitor } from './worktrees/worktreeJanitor.js';
import { WorktreeManager } from './worktrees/worktreeManager.js';

export interface OrchestratorOptions {
  config: Config;
  db: Database;
  logger: Logger;
  /** The environment agents inherit (minus AutoBuild's secrets). */
  agentEnv: NodeJS.ProcessEnv;
  /** Memory context for a job; default: the memory service at config.memoryServiceUrl, if any. */
  context?: ContextProvider;
  /** Whether this process runs jobs (false: API only). */
  runJobs?: boolean;
}

export interface Orchestrator {
  app: HttpApp;
  scheduler: JobScheduler;
  janitor: WorktreeJanitor;
  /** Job outcomes on their way to the memory service. */
  outbox: OutcomeOutbox;
  workerId: string;
  /** Listen on config.orchestratorPort; returns the bound URL. */
  start(): Promise<string>;
  stop(): Promise<void>;
}

export async function buildOrchestrator(options: OrchestratorOptions): Promise<Orchestrator> {
  const { config, db, logger } = options;
  assertSafeBind(config);
  await migrate(db, 'orchestrator');

  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const logs = new JobLogs(path.join(config.home, 'logs'));
  const worktrees = new WorktreeManager(db, config.worktrees.root, logger);
  const janitor = new WorktreeJanitor(db, worktrees, logger, {
    root: config.worktrees.root,
    retainFinished: config.worktrees.retainFinished,
    maxAgeS: config.worktrees.maxAgeS,
    owner: workerId,
  });
  const executor = new LocalExecutor({
    db,
    config,
    logger,
    logs,
    worktrees,
    workerId,
    context: options.context ?? memoryContextProvider({ memoryServiceUrl: config.memoryServiceUrl, apiToken: config.apiToken }),
    baseEnv: options.agentEnv,
    onSpend: (job, spend) => metrics.agentSpent(job.project_id, job.agent.type, spend.usage, spend.costUsd),
  });
  const github = createGithubClient({ token: config.github.token, apiUrl: config.github.apiUrl, logger, writeIntervalMs: config.github.writeIntervalMs });
  const remote = new GithubActionsExecutor({
    db,
    config,
    logger,
    logs,
    workerId,
    github,
  });
  const metrics: JobMetrics = new JobMetrics(db, (): number => scheduler.runningCount);
  const pullRequestDeps = { db, logs, github: config.github.token ? github : null, publicUrl: config.publicUrl };
  const scheduler: JobScheduler = new JobScheduler({
    db,
    config,
    logger,
    logs,
    executor,
    janitor,
    workerId,
    metrics,
    remote,
    afterSuccess: (job) => openPullRequestAfterSuccess(pullRequestDeps, job),
  });

  const app = await createHttpApp({
    title: 'AutoBuild Agent Orchestrator',
    version: VERSION,
    description: 'Queues coding jobs by priority and runs each agent in its own git worktree and branch.',
    logger,
    apiToken: config.apiToken,
    bodyLimitBytes: config.bodyLimitBytes,
    publicPaths: ['/api/v1/health'],
    registry: metrics.registry,
  });
  registerComponents(app, orchestratorComponents);
  const queue = new QueueOrder(db);
  const outbox = new OutcomeOutbox(db, config, logger);
  registerJobRoutes(app, { db, config, logs, remote, queue });
  registerJobRunRoutes(app, { db, logs, queue });
  registerPullRequestRoute(app, pullRequestDeps);
  registerCallbackRoute(app, { db, config, logs });
  registerOtherRoutes(app, {
    db,
    queue,
    config,
    worktrees,
    metrics,
    version: VERSION,
    startedAt: Date.now(),
    memoryServiceUrl: () => config.memoryServiceUrl,
  });

  let listening = false;
  let releaseLauncher: (() => void) | undefined;
  let unlisten: (() => Promise<void>) | undefined;
  return {
    app,
    scheduler,
    janitor,
    outbox,
    workerId,
    async start() {
      // Git and agents start from a small launcher process: forking this one (which may hold the
      // embedded database) for every child would stall the event loop.
      releaseLauncher = await acquireProcessLauncher();
      // Any change to the queued set, on any replica, is announced on this channel.
      unlisten = await db.listen(
        JOBS_CHANNEL,
        (payload) => {
          queue.invalidate();
          if (payload === 'finished') outbox.kick();
        },
        () => {
          queue.invalidate();
          outbox.kick();
        },
      );
      outbox.start();
      if (options.runJobs !== false) await scheduler.start();
      const address = await app.listen({ host: config.host, port: config.orchestratorPort });
      listening = true;
      logger.info({ address, workerId, database: db.kind }, 'orchestrator listening');
      return address;
    },
    async stop() {
      await scheduler.stop();
      if (listening) await app.close();
      await unlisten?.();
      await outbox.stop();
      releaseLauncher?.();
    },
  };
}
