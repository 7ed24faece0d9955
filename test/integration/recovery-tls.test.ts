/**
 * A restored node whose TLS key is not the one its peer pinned: given Washington talking to
 * Beijing and a backup of Washington restored, when Washington serves with another TLS key (the
 * keys of another node of "us"), then Beijing hangs up on each recovery request after the
 * handshake, and Washington says so in its log and raises a `recovery-refused` alarm instead of
 * waiting on "ECONNRESET" alone.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { makeTlsIdentity } from '../../src/crypto/tls.ts';
import { paths } from '../../src/node/core/data.ts';
import { writeTlsFiles } from '../../src/node/core/keyfiles.ts';
import { eventually, type Pair, pairWithBackup } from '../support/pair.ts';
import { hotlineOk } from './nodes.ts';

let pair: Pair;
afterAll(async () => {
  await pair?.close();
});

test('a restored node whose TLS key its peer does not pin says so, and raises an alarm', async () => {
  let backup: string;
  ({ pair, backup } = await pairWithBackup());
  const { us } = pair;
  await pair.stop(us);
  await hotlineOk(['restore', '--data', us.dir, '--from', backup]);
  for (const file of ['tls.key', 'tls.crt']) rmSync(join(paths(us.dir).keys, file));
  writeTlsFiles(paths(us.dir).keys, await makeTlsIdentity('us'));

  const serve = spawn(process.execPath, ['bin/hotline.js', 'serve', '--data', us.dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  serve.stdout.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  serve.stderr.setEncoding('utf8').on('data', (d: string) => {
    log += d;
  });
  try {
    await eventually(
      async () => log.includes('"alarm":"recovery-refused"') || undefined,
      30_000,
      `the recovery-refused alarm in the log:\n${log}`,
    );
  } finally {
    serve.kill('SIGKILL');
  }
  expect(log).toContain('it does not accept this node’s certificate, most likely');
  expect(log).not.toContain('restored: recovered from every peer');
  const db = new Database(paths(us.dir).db, { readonly: true });
  try {
    const alarm = db
      .prepare("SELECT party, message FROM alarms WHERE type = 'recovery-refused'")
      .get() as { party: string; message: string };
    expect(alarm.party).toBe('cn');
    expect(alarm.message).toContain("it does not accept this node's TLS certificate");
  } finally {
    db.close();
  }
}, 120_000);
