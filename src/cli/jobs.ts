// Placeholder: replaced by the client commands (jobs submit|list|show|logs|cancel).
import type { Command } from 'commander';

export function registerJobCommands(_program: Command): void {}
