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
import { readConfig } from '../../src/node/core/config.ts';
import { initNode, paths } from '../../src/node/core/data.ts';
import { backupNode } from '../../src/node/record/backup.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { freePort } from '../support/ports.ts';
import { hotline } from './nodes.ts';

let pair: Pair;
afterAll(async () => {
  await pair?.close();
});

test('a backup of one "us" node is not restored into another "us" node’s folder', async () => {
  pair = await createPair();
  const { us, cn } = pair;
  await pair.start(us);
  await pair.start(cn);
  const sent = await us.running?.node.release(['cn'], draft());
  await eventually(
    async () =>
      (await us.running?.store.getOutbox('cn', sent?.id ?? ''))?.status === 'receipted' ||
      undefined,
    30_000,
    'the message receipted',
  );
  const backup = join(pair.root, 'us-backup.db');
  await backupNode(us.dir, readConfig(us.dir), backup);

  const other = join(pair.root, 'other-us');
  const listen = `127.0.0.1:${await freePort()}`;
  const { signed } = await initNode(other, {
    party: 'us',
    names: { en: 'Washington' },
    endpoints: [`https://${listen}`],
    listen,
    operatorListen: `127.0.0.1:${await freePort()}`,
  });
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
