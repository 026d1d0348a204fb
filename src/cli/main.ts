// The `autobuild` command line: the services (up, orchestrator, memory) and the client commands.
import { Command } from 'commander';
import { VERSION } from '../platform/version.js';
import { registerChangelogCommand } from './changelogCommand.js';
import { registerChatCommand } from './chatCommand.js';
import { registerJobCommands } from './jobs.js';
import { registerMemoryCommands } from './memoryCommands.js';
import { registerMemoryNoteCommands } from './memoryNotes.js';
import { registerRunnerCommand } from './runner.js';
import type { ServeMode } from './serve.js';

/** The services load on demand: a client command need not load them (a second of start-up). */
async function serve(mode: ServeMode): Promise<void> {
  await (await import('./serve.js')).serve(mode);
}

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
  // `autobuild memory` alone starts the service (the runtime contract); its subcommands are clients.
  const memory = program.command('memory').description('start the memory service alone (the default), or add, list, search and delete memories');
  memory
    .command('serve', { isDefault: true })
    .description('start the memory service alone (what `autobuild memory` does)')
    // A mistyped subcommand (`autobuild memory lst`) lands here as the default's argument: say so,
    // rather than "too many arguments for 'serve'".
    .allowExcessArguments()
    .action((_options: unknown, command: Command) => {
      const unknown = command.args[0];
      if (unknown !== undefined) command.error(`error: unknown command 'memory ${unknown}' (commands: add, list, search, delete; none starts the service)`);
      return serve('memory');
    });
  registerMemoryNoteCommands(memory);

  registerJobCommands(program);
  registerMemoryCommands(program);
  registerChatCommand(program);
  registerChangelogCommand(program);
  registerRunnerCommand(program);
  await program.parseAsync(argv);
}
