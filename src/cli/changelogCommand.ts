// `autobuild changelog`: asks the memory service for the changelog of a git range
// (POST /api/v1/changelog/generate) and prints the markdown, or the API's JSON with --json.
// The repository is read by the service, so --repo is resolved to an absolute path here and must
// be visible to the service (as with `autobuild up` on this machine). Without --repo or --project
// the current directory is the repository.
import path from 'node:path';
import { type Command, Option } from 'commander';
import { MemoryClient, type ChangelogRequest } from '../clients/memory.js';
import { checkedToken, requestTimeoutMs } from './connection.js';
import { json } from './output.js';
import { CliError, reportFailure } from './failure.js';

const DEFAULT_MEMORY_URL = 'http://127.0.0.1:8000';

interface ChangelogOptions {
  repo?: string;
  project?: string;
  from?: string;
  to?: string;
  version?: string;
  json?: boolean;
  memoryUrl?: string;
  token?: string;
}

export function registerChangelogCommand(program: Command): void {
  // `--version <version>` is this command's own option: without positional options the program's
  // `-V, --version` would claim it anywhere on the line. Program options (-V, -h) now go before
  // the subcommand, which is where they belong.
  program.enablePositionalOptions();
  program
    .command('changelog')
    .description('changelog of a git range from Conventional Commits (default: the latest tag to HEAD), as Keep a Changelog markdown')
    .option('--repo <path>', 'the git repository (default: the current directory); the memory service reads it, so it must be on its machine')
    .option('--project <id>', 'an indexed project instead of --repo (needs the service to know its repository path)')
    .option('--from <ref>', 'start, exclusive (default: the latest tag; the whole history when there is none)')
    .option('--to <ref>', 'end, inclusive (default: HEAD)')
    .option('--version <version>', 'the release heading, e.g. 1.2.0 (default: Unreleased)')
    .option('--json', 'print the API JSON (markdown and entries)')
    .addOption(new Option('--memory-url <url>', 'memory service base URL').env('MEMORY_SERVICE_URL').default(DEFAULT_MEMORY_URL))
    .addOption(new Option('--token <token>', 'API bearer token').env('AUTOBUILD_API_TOKEN'))
    .action(async (options: ChangelogOptions) => {
      try {
        if (options.repo !== undefined && options.project !== undefined) throw new CliError('give --repo or --project, not both');
        const body: ChangelogRequest = options.project !== undefined ? { project_id: options.project } : { repo: path.resolve(options.repo ?? process.cwd()) };
        if (options.from !== undefined) body.from = options.from;
        if (options.to !== undefined) body.to = options.to;
        if (options.version !== undefined) body.version = options.version;
        // A whole range, with a model's summary when configured, may take minutes.
        const client = new MemoryClient({ baseUrl: options.memoryUrl || DEFAULT_MEMORY_URL, token: checkedToken(options.token), timeoutMs: requestTimeoutMs(300_000) });
        const result = await client.changelog(body);
        process.stdout.write(options.json ? json(result) : result.changelog);
      } catch (error) {
        reportFailure(error);
      }
    });
}
