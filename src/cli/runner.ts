// `autobuild runner`: what the GitHub Actions workflow runs. Everything comes from the
// environment the workflow sets from its inputs and secrets (never interpolated into a shell).
import type { Command } from 'commander';
import { loadConfig } from '../platform/config.js';
import { isValidBranchName } from '../platform/git.js';
import { createLogger } from '../platform/logger.js';
import { runRemoteJob, type CallbackAuth } from '../orchestrator/executors/githubRunner.js';
import type { AgentSpec } from '../orchestrator/jobs/job.js';

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is required (the workflow sets it from its inputs or secrets)`);
  return value;
}

/**
 * The shared secret when the workflow passes one; otherwise the run's GitHub OIDC token, available
 * when the workflow grants `id-token: write`. Its audience is the orchestrator's public URL (what
 * the callback URL starts with) unless AUTOBUILD_GITHUB_OIDC_AUDIENCE names another: the workflow
 * passes it from vars.AUTOBUILD_GITHUB_OIDC_AUDIENCE, empty when that is unset, so that an
 * orchestrator with a custom audience is asked for tokens it accepts.
 */
function callbackAuth(env: NodeJS.ProcessEnv, callbackUrl: string): CallbackAuth {
  if (env.AUTOBUILD_CALLBACK_SECRET) return { kind: 'secret', secret: env.AUTOBUILD_CALLBACK_SECRET };
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  if (!requestUrl || !requestToken) {
    throw new Error('AUTOBUILD_CALLBACK_SECRET is required, unless the workflow grants `permissions: id-token: write` so the callback can carry GitHub\'s OIDC token');
  }
  const audience = env.AUTOBUILD_GITHUB_OIDC_AUDIENCE?.trim() || callbackUrl.replace(/\/api\/v1\/callback\/*$/, '');
  return { kind: 'oidc', requestUrl, requestToken, audience };
}

export function registerRunnerCommand(program: Command): void {
  program
    .command('runner')
    .description('run one job inside a GitHub Actions workflow and call the orchestrator back')
    .option('--workdir <dir>', 'the checked-out repository (default: $GITHUB_WORKSPACE or the current directory)')
    .action(async (options: { workdir?: string }) => {
      const env = process.env;
      const config = loadConfig(env);
      const logger = createLogger({ level: config.logLevel, secrets: [env.AUTOBUILD_CALLBACK_SECRET, env.AUTOBUILD_API_TOKEN, env.GITHUB_TOKEN, env.ACTIONS_ID_TOKEN_REQUEST_TOKEN] });
      const jobId = required(env, 'AUTOBUILD_JOB_ID');
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(jobId)) throw new Error('AUTOBUILD_JOB_ID must be a job UUID');
      const branch = required(env, 'AUTOBUILD_BRANCH');
      const baseBranch = required(env, 'AUTOBUILD_BASE_BRANCH');
      for (const [name, value] of [['AUTOBUILD_BRANCH', branch], ['AUTOBUILD_BASE_BRANCH', baseBranch]] as const) {
        if (!(await isValidBranchName(value))) throw new Error(`${name} is not a valid branch name`);
      }
      let agentFallback: AgentSpec | undefined;
      if (env.AUTOBUILD_AGENT) {
        try {
          agentFallback = JSON.parse(env.AUTOBUILD_AGENT) as AgentSpec;
        } catch {
          throw new Error('AUTOBUILD_AGENT must be a JSON agent object, e.g. {"type":"claude-code"}');
        }
      }
      const callbackUrl = required(env, 'AUTOBUILD_CALLBACK_URL');
      const auth = callbackAuth(env, callbackUrl);
      const controller = new AbortController();
      // GitHub cancels a run with SIGINT, then SIGTERM: stop the agent, keep its work, report.
      const stop = () => controller.abort('cancelled');
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      const outcome = await runRemoteJob(
        {
          jobId,
          branch,
          baseBranch,
          callbackUrl,
          callbackAuth: auth,
          orchestratorUrl: env.AUTOBUILD_URL || undefined,
          apiToken: config.apiToken,
          promptFallback: env.AUTOBUILD_PROMPT || undefined,
          agentFallback,
          workdir: options.workdir ?? env.GITHUB_WORKSPACE ?? process.cwd(),
          runId: env.GITHUB_RUN_ID ?? '0',
          github: { token: config.github.token, apiUrl: config.github.apiUrl, repository: env.GITHUB_REPOSITORY },
          agents: config.agents,
          costs: config.costs,
          defaultAgent: config.jobs.defaultAgent,
          defaultTimeoutS: config.jobs.defaultTimeoutS,
          killGraceMs: config.jobs.killGraceMs,
          baseEnv: env,
          callbackRetryMs: env.AUTOBUILD_CALLBACK_RETRY_MS ? Number(env.AUTOBUILD_CALLBACK_RETRY_MS) : undefined,
          memoryServiceUrl: config.memoryServiceUrl,
        },
        logger,
        controller.signal,
      );
      if (outcome.status !== 'succeeded' || !outcome.delivered) process.exitCode = 1;
    });
}
