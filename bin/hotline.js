#!/usr/bin/env node
// The `hotline` command: the compiled JavaScript in dist/ (`npm run build`, run by `npm ci`'s
// prepare step and before `npm start` and `npm test`), so no compiler loads at run time.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('hotline: not built yet: run "npm run build" (npm ci does it) in the repository');
  process.exit(1);
}
await import(main.href);
