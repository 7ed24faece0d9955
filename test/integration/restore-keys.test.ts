/**
 * A backup restored into the data folder of another node of the same party: given Washington
 * talking to Beijing and a backup of Washington taken, when `hotline restore` is given a fresh
 * `hotline init` of "us" (other keys) and that backup, then it is refused naming the folder's
 * fingerprint and the backup's log key, and the folder is left as it was: served with those keys,
 * the restored node's recovery would be refused by Beijing, which pins Washington's card.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { fingerprint } from '../../src/crypto/card.ts';
import { paths } from '../../src/node/core/data.ts';
import { initOnLoopback } from '../support/node.ts';
import { type Pair, pairWithBackup } from '../support/pair.ts';
import { hotline } from './nodes.ts';

let pair: Pair;
afterAll(async () => {
  await pair?.close();
});

test('a backup of one "us" node is not restored into another "us" node’s folder', async () => {
  let backup: string;
  ({ pair, backup } = await pairWithBackup());

  const other = join(pair.root, 'other-us');
  const { signed } = await initOnLoopback(other, { scheme: 'https' });
  const before = readFileSync(paths(other).db);
  const restore = await hotline(['restore', '--data', other, '--from', backup]);
  expect(restore.code).toBe(1);
  expect(restore.stdout).toBe('');
  expect(restore.stderr).toMatch(
    new RegExp(
      `^hotline: E_CONFLICT: ${backup} is the backup of another "us" node than the one whose keys are in ${other}: its checkpoints are signed by log key hotline/us/log\\+[0-9a-f]{8}, and this folder's card \\(fingerprint ${fingerprint(signed.card)}\\) has log key [0-9a-f]{8}\\. Nothing was changed`,
    ),
  );
  expect(readFileSync(paths(other).db).equals(before)).toBe(true);
  expect(existsSync(paths(other).restored)).toBe(false);
}, 120_000);
