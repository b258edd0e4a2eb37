#!/usr/bin/env node
// Committed entry point of the `vault-envelope` bin. It exists before any build, so that
// `pnpm install` on a fresh clone can link it; the CLI itself is compiled to ../dist/cli.js.
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`vault-envelope: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
