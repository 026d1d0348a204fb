// The `autobuild` command line: the services (up, orchestrator, memory) and the client commands.
import { Command } from 'commander';
import { VERSION } from '../platform/version.js';
import { registerChangelogCommand } from './changelogCommand.js';
import { registerChatCommand } from './chatCommand.js';
import { registerJobCommands } from './jobs.js';
import { registerMemoryCommands } from './memoryCommands.js';
import { registerRunnerCommand } from './runner.js';
import { serve } from './serve.js';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('autobuild')
    .description('Run AI coding agents at scale')
    .version(VERSION)
    .showHelpAfterError();

  program
    .command('up')
    .description('start the whole platform on the embedded database (or DATABASE_URL)')
    .action(() => serve('up'));
  program
    .command('orchestrator')
    .description('start the agent orchestrator alone')
    .action(() => serve('orchestrator'));
  program
    .command('memory')
    .description('start the memory service alone')
    .action(() => serve('memory'));

  registerJobCommands(program);
  registerMemoryCommands(program);
  registerChatCommand(program);
  registerChangelogCommand(program);
  registerRunnerCommand(program);
  await program.parseAsync(argv);
}
