#!/usr/bin/env node
// The `hil` command: runs the compiled CLI (npm ci builds it through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../dist/harness/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error(`hil: ${main} is missing. Run "npm ci" (or "npm run build") in the project folder first.`);
  process.exit(2);
}
const { main: run } = await import(main);
process.exitCode = await run(process.argv);
