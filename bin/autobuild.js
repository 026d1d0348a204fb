#!/usr/bin/env node
// The `autobuild` command: a thin launcher for the compiled CLI (built by `npm install` via `prepare`).
import { main } from '../dist/src/cli/main.js';

main(process.argv).catch((error) => {
  process.stderr.write(`autobuild: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
