// The orchestrator's client commands: `autobuild jobs submit|list|show|cancel|logs|follow-up|diff|pr`
// and `autobuild queue`, over the typed client. Humans get tables, `--json` gets the API's JSON.
import path from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import {
  AGENT_TYPES,
  ApiError,
  EXECUTORS,
  JOB_STATUSES,
  OrchestratorClient,
  PRIORITIES,
  type AgentSpec,
  type AgentType,
  type DiffFile,
  type ExecutorName,
  type Job,
  type JobResult,
  type JobStatus,
  type Priority,
  type QueueSnapshot,
  type SubmitJobRequest,
} from '../clients/orchestrator.js';
import { cell, fields, json, shortTime, table } from './output.js';
import { checkedToken, requestTimeoutMs } from './connection.js';
import { CliError, runAction } from './failure.js';
import { displayUrl } from '../clients/http.js';

const DEFAULT_URL = 'http://127.0.0.1:8080';

interface ConnectionOptions {
  url?: string;
  token?: string;
}

interface SubmitOptions extends ConnectionOptions {
  project: string;
  prompt: string;
  repo?: string;
  title?: string;
  priority?: Priority;
  agent?: AgentType;
  executor?: ExecutorName;
  timeout?: number;
  maxAttempts?: number;
  baseBranch?: string;
  branch?: string;
  idempotencyKey?: string;
  maxCost?: number;
  json?: boolean;
}

/** --url and --token, from the environment when not given (this is the process entry). */
function withConnectionOptions(command: Command): Command {
  return command
    .addOption(new Option('--url <url>', 'orchestrator base URL').env('AUTOBUILD_URL').default(DEFAULT_URL))
    .addOption(new Option('--token <token>', 'API bearer token').env('AUTOBUILD_API_TOKEN'));
}

function clientOf(command: Command): OrchestratorClient {
  const { url, token } = command.optsWithGlobals<ConnectionOptions>();
  return new OrchestratorClient({ baseUrl: url || DEFAULT_URL, token: checkedToken(token), timeoutMs: requestTimeoutMs(60_000) });
}

function wholeNumber(min: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) throw new InvalidArgumentError(`must be a whole number of at least ${min}.`);
    return Number(value);
  };
}

/** Dollars: a decimal number of at least 0, e.g. 0.5 or 2. */
function dollars(value: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value)) throw new InvalidArgumentError('must be an amount in dollars, e.g. 0.5 or 2.');
  return Number(value);
}

const out = (text: string) => process.stdout.write(text);

/** An argv for display: words quoted only when the shell would need it. */
function shellWords(argv: string[]): string {
  return argv.map((word) => (/^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`)).join(' ');
}

function agentText(agent: AgentSpec): string {
  return agent.type === 'command' ? `command: ${shellWords(agent.command)}` : agent.type;
}

/** An amount in dollars: at least two decimals, up to four for small amounts ($0.50, $0.0123, $12.35). */
export function usd(value: number): string {
  const fixed = value.toFixed(value >= 100 ? 2 : 4);
  return `$${fixed.replace(/(\.\d\d\d?)0+$/, '$1').replace(/(\.\d\d)0$/, '$1')}`;
}

const count = (n: number | undefined) => (n ?? 0).toLocaleString('en-US');

/** Tokens in, out and cached (read from the cache / written to it). */
function tokensText(usage: NonNullable<JobResult['usage']>): string {
  return `${count(usage.input_tokens)} in, ${count(usage.output_tokens)} out, ${count(usage.cache_read_input_tokens)} cache read, ${count(usage.cache_creation_input_tokens)} cache write`;
}

function costText(result: JobResult): string | undefined {
  if (result.cost_usd === null || result.cost_usd === undefined) return undefined;
  // A run that reported neither cost nor tokens (a command agent) has nothing to show, not $0.
  if (!result.cost_source && result.cost_usd === 0 && !result.usage) return undefined;
  const source = result.cost_source === 'agent' ? ' (agent-reported)' : result.cost_source === 'price_table' ? ' (estimated from tokens)' : '';
  return `${usd(result.cost_usd)}${source}`;
}

/** The tools the agent was denied; "0" said only for agents that ask for permissions (a command never does). */
function denialsText(job: Job, result: JobResult): string | undefined {
  const denied = result.denied_tools ?? [];
  const n = Math.max(result.permission_denials ?? 0, denied.length);
  if (n === 0) return job.agent.type !== 'command' && result.permission_denials !== undefined ? '0' : undefined;
  return denied.length > 0 ? `${n}: ${denied.join('; ')}` : String(n);
}

export function describeJob(job: Job): string {
  const result = job.result;
  const stat = result?.diff_stat;
  const queued = job.status === 'queued';
  return fields([
    ['id', job.id],
    ['status', job.status],
    ['queue position', job.queue_position ?? undefined],
    ['waiting', queued ? (job.waiting_reason ?? undefined) : undefined],
    ['not before', queued ? (job.not_before ?? undefined) : undefined],
    ['parent job', job.parent_job_id ?? undefined],
    ['priority', job.priority],
    ['project', job.project_id],
    ['ticket', job.ticket_id ?? undefined],
    ['title', job.title],
    ['prompt', cell(job.prompt, 200)],
    ['agent', agentText(job.agent)],
    ['executor', job.executor],
    ['repo', job.repo],
    ['base branch', job.base_branch],
    ['branch', job.branch],
    ['worktree', job.worktree?.path],
    ['attempt', `${job.attempt} of ${job.max_attempts}`],
    ['max cost', job.max_cost_usd === null || job.max_cost_usd === undefined ? undefined : usd(job.max_cost_usd)],
    ['created', job.created_at],
    ['started', job.started_at ?? undefined],
    ['finished', job.finished_at ?? undefined],
    ['exit code', job.exit_code ?? undefined],
    ['error', job.error ?? undefined],
    ['commits', result?.commits.length ? result.commits.map((c) => `${c.sha.slice(0, 12)} ${c.message.split('\n')[0] ?? ''}`).join('; ') : undefined],
    ['files changed', result?.files_changed.length ? result.files_changed.join(', ') : undefined],
    ['diff', stat ? `${stat.files} ${stat.files === 1 ? 'file' : 'files'}, +${stat.insertions} -${stat.deletions}` : undefined],
    ['qa', result?.qa ? (result.qa.passed ? 'passed' : 'failed') : undefined],
    ['pull request', result?.pr_url ?? undefined],
    ['summary', result?.summary ?? undefined],
    ['model', result?.model ?? undefined],
    ['session', result?.session_id ?? undefined],
    ['turns', result?.num_turns ?? undefined],
    ['tokens', result?.usage ? tokensText(result.usage) : undefined],
    ['cost', result ? costText(result) : undefined],
    ['permission denials', result ? denialsText(job, result) : undefined],
  ]);
}

function jobsTable(jobs: Job[]): string {
  return table(
    ['ID', 'STATUS', 'PRIORITY', 'PROJECT', 'TITLE', 'CREATED'],
    jobs.map((job) => [job.id, job.status, job.priority, job.project_id, cell(job.title, 50), shortTime(job.created_at)]),
  );
}

function queueText(queue: QueueSnapshot): string {
  const byPriority = PRIORITIES.map((p) => `${p} ${queue.by_priority[p] ?? 0}`).join(', ');
  const head = `running ${queue.running} of ${queue.max_parallel}, queued ${queue.queued} (${byPriority})\n`;
  if (queue.queued_jobs.length === 0) return head;
  return `${head}\n${table(
    ['POS', 'ID', 'PRIORITY', 'PROJECT', 'TITLE'],
    queue.queued_jobs.map((q) => [q.queue_position, q.id, q.priority, q.project_id, cell(q.title, 50)]),
  )}`;
}

/** A path is resolved against the user's directory (the orchestrator has its own); URLs pass through. */
function repoArgument(repo: string): string {
  const isUrl = /^[a-z][a-z0-9+.-]*:\/\//i.test(repo) || /^[\w.-]+@[\w.-]+:/.test(repo);
  return isUrl ? repo : path.resolve(repo);
}

/**
 * The agent's argv must follow a literal `--`, so that an unquoted prompt never becomes a
 * command by accident. Commander drops the `--`, so the root command's raw arguments tell.
 */
function followsDoubleDash(command: Command, words: string[]): boolean {
  let root = command;
  while (root.parent) root = root.parent;
  const raw = (root as unknown as { rawArgs?: unknown }).rawArgs;
  if (!Array.isArray(raw)) return true;
  const at = raw.length - words.length - 1;
  return at >= 0 && raw[at] === '--' && words.every((word, i) => raw[at + 1 + i] === word);
}

function agentFrom(words: string[], type: AgentType | undefined, command: Command): AgentSpec | undefined {
  if (words.length > 0) {
    if (!followsDoubleDash(command, words)) command.error(`error: unexpected argument '${words[0]}': put the agent's command after --`);
    if (type && type !== 'command') command.error(`error: --agent ${type} cannot take a command; words after -- make a command agent`);
    return { type: 'command', command: words };
  }
  if (type === 'command') command.error("error: --agent command needs the command to run after --, e.g. -- sh -c 'make test'");
  return type ? ({ type } as AgentSpec) : undefined;
}

function registerSubmit(jobs: Command): void {
  jobs
    .command('submit')
    .description('submit a job; words after -- make a command agent with that argv')
    .argument('[command...]', "the agent's command and its arguments, after --")
    .requiredOption('--project <id>', 'project id')
    .requiredOption('--prompt <text>', 'what the agent should do')
    .option('--repo <path>', 'repository (a path, resolved against this directory, or a git URL); required unless the project is registered')
    .option('--title <title>', 'title (default: the prompt\'s first line)')
    .addOption(new Option('--priority <priority>', 'priority').choices(PRIORITIES))
    .addOption(new Option('--agent <type>', 'agent type (default from the configuration)').choices(AGENT_TYPES))
    .addOption(new Option('--executor <executor>', 'where the job runs').choices(EXECUTORS))
    .option('--timeout <seconds>', 'time limit in seconds', wholeNumber(1))
    .option('--max-attempts <n>', 'attempts before the job fails', wholeNumber(1))
    .option('--base-branch <branch>', 'branch the work starts from')
    .option('--branch <branch>', 'branch the work is committed on')
    .option('--idempotency-key <key>', 'the same key submits the job once and returns it after')
    .option('--max-cost <usd>', 'stop the run and fail the job once it has spent more than this many dollars', dollars)
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (words: string[], options: SubmitOptions, command: Command) => {
        const agent = agentFrom(words, options.agent, command);
        const body: SubmitJobRequest = {
          project_id: options.project,
          prompt: options.prompt,
          ...(options.repo !== undefined && { repo: repoArgument(options.repo) }),
          ...(options.title !== undefined && { title: options.title }),
          ...(options.priority && { priority: options.priority }),
          ...(agent && { agent }),
          ...(options.executor && { executor: options.executor }),
          ...(options.timeout !== undefined && { timeout_s: options.timeout }),
          ...(options.maxAttempts !== undefined && { max_attempts: options.maxAttempts }),
          ...(options.baseBranch !== undefined && { base_branch: options.baseBranch }),
          ...(options.branch !== undefined && { branch: options.branch }),
          ...(options.maxCost !== undefined && { max_cost_usd: options.maxCost }),
        };
        const job = await clientOf(command).submitJob(body, { idempotencyKey: options.idempotencyKey });
        out(options.json ? json(job) : describeJob(job));
      }),
    );
}

function registerReads(jobs: Command): void {
  jobs
    .command('list')
    .description('list jobs, newest first')
    .addOption(new Option('--status <status>', 'only jobs in this status').choices(JOB_STATUSES))
    .option('--project <id>', 'only jobs of this project')
    .option('--limit <n>', 'at most this many (default 50, at most 500)', wholeNumber(1))
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (options: { status?: JobStatus; project?: string; limit?: number; json?: boolean }, command: Command) => {
        const page = await clientOf(command).listJobs({ status: options.status, project_id: options.project, limit: options.limit });
        if (options.json) return void out(json(page));
        if (page.jobs.length === 0) return void out('no jobs\n');
        out(jobsTable(page.jobs));
        if (page.next_cursor) out(`(more jobs than shown; raise --limit, at most 500)\n`);
      }),
    );

  jobs
    .command('show')
    .description('one job')
    .argument('<id>', 'job id')
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (id: string, options: { json?: boolean }, command: Command) => {
        const job = await clientOf(command).getJob(id);
        out(options.json ? json(job) : describeJob(job));
      }),
    );

  jobs
    .command('cancel')
    .description('cancel a queued or running job')
    .argument('<id>', 'job id')
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (id: string, options: { json?: boolean }, command: Command) => {
        const job = await clientOf(command).cancelJob(id);
        out(options.json ? json(job) : describeJob(job));
      }),
    );

  jobs
    .command('logs')
    .description("the job's log; --follow streams it until the job ends")
    .argument('<id>', 'job id')
    .option('-f, --follow', 'stream live until the job ends')
    .action(
      runAction(async (id: string, options: { follow?: boolean }, command: Command) => {
        const client = clientOf(command);
        if (!options.follow) return void out(await client.getLogs(id));
        const status = await client.followLogs(id, out);
        if (process.stderr.isTTY) process.stderr.write(`autobuild: job ${id} ended: ${status}\n`);
      }),
    );
}

/** Per file: path (old -> new for a rename), status, +/-; then the totals. */
export function diffStatText(files: DiffFile[]): string {
  if (files.length === 0) return 'no changes\n';
  const rows = files.map((f) => [f.old_path && f.old_path !== f.path ? `${f.old_path} -> ${f.path}` : f.path, f.status, `+${f.insertions}`, `-${f.deletions}`]);
  const insertions = files.reduce((sum, f) => sum + f.insertions, 0);
  const deletions = files.reduce((sum, f) => sum + f.deletions, 0);
  return `${table(['PATH', 'STATUS', '+', '-'], rows)}${files.length} file${files.length === 1 ? '' : 's'} changed, +${insertions} -${deletions}\n`;
}

/** The diff's 404: the job's branch is made when it starts and gets its first commit, so there is nothing yet. */
async function diffOrExplain<T>(id: string, reading: Promise<T>): Promise<T> {
  try {
    return await reading;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'branch_not_found') {
      throw new CliError(`job ${id} has no changes to show: the branch does not exist yet (${error.message}) [${error.code}, HTTP ${error.status}]`);
    }
    throw error;
  }
}

function registerRunCommands(jobs: Command): void {
  jobs
    .command('follow-up')
    .description("continue a finished job: a new job on its branch that resumes the agent's session")
    .argument('<id>', 'the finished job to continue')
    .requiredOption('--prompt <text>', 'what the agent should do next')
    .addOption(new Option('--priority <priority>', 'priority').choices(PRIORITIES))
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (id: string, options: { prompt: string; priority?: Priority; json?: boolean }, command: Command) => {
        const job = await clientOf(command).followUp(id, { prompt: options.prompt, ...(options.priority && { priority: options.priority }) });
        out(options.json ? json(job) : describeJob(job));
      }),
    );

  jobs
    .command('diff')
    .description("the job branch's changes against its base, as a unified diff (pipe it to less or git apply)")
    .argument('<id>', 'job id')
    .option('--stat', 'per file: path, status, lines added and removed')
    .option('--json', 'print the API JSON (per file, with its patch)')
    .action(
      runAction(async (id: string, options: { stat?: boolean; json?: boolean }, command: Command) => {
        const client = clientOf(command);
        if (options.json || options.stat) {
          const diff = await diffOrExplain(id, client.getDiffFiles(id));
          return void out(options.json ? json(diff) : diffStatText(diff.files));
        }
        const text = await diffOrExplain(id, client.getDiff(id));
        // As is, to a pager or to git apply; which needs the last line ended (a server may trim it).
        if (text) out(text.endsWith('\n') ? text : `${text}\n`);
        else if (process.stderr.isTTY) process.stderr.write(`autobuild: job ${id} has no changes\n`);
      }),
    );

  jobs
    .command('pr')
    .description("open (or return the existing) pull request for a finished job's branch; prints its URL")
    .argument('<id>', 'job id')
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (id: string, options: { json?: boolean }, command: Command) => {
        const client = clientOf(command);
        let pr;
        try {
          pr = await client.openPullRequest(id);
        } catch (error) {
          // A 404 that is not about the job: the orchestrator has no such route (older than this CLI).
          if (error instanceof ApiError && error.status === 404 && error.code === 'not_found') {
            throw new CliError(`the orchestrator at ${displayUrl(client.baseUrl)} cannot open pull requests yet (${error.message}) [${error.code}, HTTP ${error.status}]`);
          }
          throw error;
        }
        out(options.json ? json(pr) : `${pr.pr_url}\n`);
      }),
    );
}

export function registerJobCommands(program: Command): void {
  const jobs = withConnectionOptions(program.command('jobs').description('submit, list, inspect, cancel and continue jobs on the orchestrator; their diffs and pull requests'));
  registerSubmit(jobs);
  registerReads(jobs);
  registerRunCommands(jobs);

  withConnectionOptions(program.command('queue').description('the queue in start order'))
    .option('--json', 'print the API JSON')
    .action(
      runAction(async (options: { json?: boolean }, command: Command) => {
        const queue = await clientOf(command).getQueue();
        out(options.json ? json(queue) : queueText(queue));
      }),
    );
}
