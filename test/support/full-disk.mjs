/**
 * Preloaded into a CLI run (`NODE_OPTIONS=--import …/full-disk.mjs`): the disk is full for the
 * files a command writes beside their name (`<file>.partial`, src/node/core/out-file.ts), so a
 * test sees what the command does when its --out file cannot be completed.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

const partial = new Set();
const { openSync, writeSync } = fs;
fs.openSync = (path, ...rest) => {
  const fd = openSync(path, ...rest);
  if (String(path).endsWith('.partial')) partial.add(fd);
  return fd;
};
fs.writeSync = (fd, ...rest) => {
  if (partial.has(fd))
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      errno: -28,
      syscall: 'write',
    });
  return writeSync(fd, ...rest);
};
syncBuiltinESMExports();
