/**
 * Restore from a backup without breaking trust (docs/ledger.md § Restore): given Washington and
 * Beijing talking, a backup of Washington taken, and 200 more messages each way after it, when
 * Washington is stopped and restored from the backup (`hotline restore`), then on starting it
 * begins a new log origin with a discontinuity statement, Beijing checks it against what it
 * witnessed and resends what Washington lost, no seq is used twice, no message is lost or doubled
 * in either inbox, new messages flow both ways, and `hotline verify` of both exports passes and
 * names the discontinuity. On SQLite (`hotline restore --from`) and on PostgreSQL (pg_dump, then
 * pg_restore into a fresh database and `hotline restore` without --from).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, expect, test } from 'vitest';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { backupNode, libpqEnvironment } from '../../src/node/record/backup.ts';
import { createPair, draft, eventually, type Pair, type Site } from '../support/pair.ts';
import { TEST_POSTGRES } from '../support/postgres.ts';
import { hotline, hotlineOk } from './nodes.ts';

const BEFORE = 20;
const AFTER = 200;
const NEW = 5;

const run = randomBytes(4).toString('hex');
const schemaOf = (party: string) => `hotline_restore_${run}_${party}`;
const restoredDb = `hotline_restored_${run}`;

const pairs: Pair[] = [];
afterAll(async () => {
  for (const p of pairs) await p.close();
  const client = new pg.Client({ connectionString: TEST_POSTGRES });
  await client.connect();
  for (const party of ['us', 'cn'])
    await client.query(`drop schema if exists ${schemaOf(party)} cascade`);
  await client.query(`drop database if exists ${restoredDb}`);
  await client.end();
});

function running(site: Site) {
  if (!site.running) throw new Error(`${site.party} is not running`);
  return site.running;
}

async function send(from: Site, to: Site, first: number, count: number): Promise<void> {
  const { node } = running(from);
  for (let i = first; i < first + count; i++)
    await node.release([to.party], draft({ text: { lang: 'en', body: `${from.party} ${i}` } }));
}

/** Every message `from` released to `to` is receipted. */
async function receipted(from: Site, to: Site, count: number): Promise<void> {
  await eventually(
    async () => {
      const { store } = running(from);
      const stats = await store.outboxStats(to.party);
      return stats.pending === 0 && (await store.listOutbox(10_000)).length === count
        ? true
        : undefined;
    },
    120_000,
    `${count} messages from ${from.party} receipted`,
  );
}

/** The inbox of `site`: its message texts and the seqs they came with. */
async function inbox(site: Site) {
  const rows = await running(site).store.listInbox(10_000);
  return { texts: rows.map((r) => r.body.text?.body ?? ''), seqs: rows.map((r) => r.seq) };
}

const range = (from: Site, n: number) => Array.from({ length: n }, (_, i) => `${from.party} ${i}`);

test.each(['sqlite', 'postgres'] as const)(
  'on %s, a node restored from a backup 200 messages back recovers and both ledgers verify',
  async (backend) => {
    const pair = await createPair({ heartbeatMs: 300 }, (party) =>
      backend === 'postgres'
        ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
        : {},
    );
    pairs.push(pair);
    const { us, cn } = pair;
    await pair.start(us);
    await pair.start(cn);
    await send(us, cn, 0, BEFORE);
    await send(cn, us, 0, BEFORE);
    await receipted(us, cn, BEFORE);
    await receipted(cn, us, BEFORE);

    const backup = join(pair.root, backend === 'sqlite' ? 'us-backup.db' : 'us-backup.dump');
    const copy = await backupNode(us.dir, readConfig(us.dir), backup);
    await Promise.all([send(us, cn, BEFORE, AFTER), send(cn, us, BEFORE, AFTER)]);
    await receipted(us, cn, BEFORE + AFTER);
    await receipted(cn, us, BEFORE + AFTER);

    // Washington is lost and restored from the backup.
    await pair.stop(us);
    if (backend === 'postgres') {
      // pg_restore into a fresh database, as docs/deployment.md says, then the marker.
      const env = { ...process.env, ...libpqEnvironment(TEST_POSTGRES) };
      execFileSync('createdb', [restoredDb], { env });
      execFileSync('pg_restore', ['--no-owner', `--dbname=${restoredDb}`, backup], { env });
      const config = readConfig(us.dir);
      const url = new URL(TEST_POSTGRES);
      url.pathname = `/${restoredDb}`;
      writeConfig(us.dir, { ...config, store: { ...config.store, url: url.toString() } });
    }
    const restored = await hotlineOk([
      'restore',
      '--data',
      us.dir,
      ...(backend === 'sqlite' ? ['--from', backup] : []),
    ]);
    if (backend === 'sqlite')
      expect(restored.stdout).toContain(`ledger of ${copy.ledgerSize} leaves`);
    expect(restored.stdout).toMatch(/starts the log origin "hotline\/us\/log\/restored\//);
    const again = await pair.start(us);
    expect(again.ledger.origin).toMatch(/^hotline\/us\/log\/restored\//);

    // Beijing resends what Washington lost; Washington goes on above the seqs Beijing holds.
    await eventually(
      async () => (await inbox(us)).texts.length === BEFORE + AFTER || undefined,
      120_000,
      'the messages Washington lost, received again',
    );
    await send(us, cn, BEFORE + AFTER, NEW);
    await send(cn, us, BEFORE + AFTER, NEW);
    await receipted(cn, us, BEFORE + AFTER + NEW);
    await eventually(
      async () => (await inbox(cn)).texts.length === BEFORE + AFTER + NEW || undefined,
      120_000,
      'the new messages from Washington',
    );
    await receipted(us, cn, (await running(us).store.listOutbox(10_000)).length);

    // Each inbox holds every message exactly once, and no seq was used twice: Washington numbered
    // its new messages above what Beijing held, not above what its backup remembered.
    for (const [site, from] of [
      [us, cn],
      [cn, us],
    ] as const) {
      const { texts, seqs } = await inbox(site);
      expect(texts.sort()).toEqual(range(from, BEFORE + AFTER + NEW).sort());
      expect(seqs.sort((a, b) => a - b)).toEqual(
        Array.from({ length: BEFORE + AFTER + NEW }, (_, i) => i + 1),
      );
    }

    // Both exports verify, together, and the report names the discontinuity.
    const bundles = [];
    for (const site of [us, cn]) {
      const file = join(pair.root, `${site.party}-${randomBytes(3).toString('hex')}.jsonl`);
      await hotlineOk(['export', '--data', site.dir, '--out', file]);
      bundles.push(file);
    }
    const [ours, theirs] = bundles as [string, string];
    const verified = await hotline(['verify', ours, '--peer-export', theirs]);
    expect(verified.stderr).toBe('');
    expect(verified.stdout).toMatch(/^OK: /);
    expect(verified.stdout).toMatch(
      /discontinuity at leaf \d+ \(restored from a backup\): origin "hotline\/us\/log" up to size \d+, then origin "hotline\/us\/log\/restored\//,
    );
    expect(verified.stdout).toMatch(/discontinuity of "us" accepted at leaf \d+/);
    expect(verified.stdout).toContain(`the statement matches what "cn" co-signed`);
    // What Washington sent after the backup is in Beijing's records only: named, not failed.
    expect(verified.stdout).toContain(`lost with a restore (${AFTER}, not failures)`);
    expect(verified.code).toBe(0);
    // Beijing took the restore as a discontinuity, not a fork: nothing was held.
    expect(await running(cn).store.hasOpenAlarm('fork', 'us')).toBe(false);
    expect(await running(us).store.hasOpenAlarm('fork', 'cn')).toBe(false);
  },
  600_000,
);

test('a copy put back by hand is caught as rolled back, and `hotline restore` recovers it', async () => {
  const second = await createPair({ heartbeatMs: 300 });
  pairs.push(second);
  const { us, cn } = second;
  await second.start(us);
  await second.start(cn);
  await send(us, cn, 0, 10);
  await send(cn, us, 0, 10);
  await receipted(us, cn, 10);
  await receipted(cn, us, 10);
  const backup = join(second.root, 'us-backup.db');
  await backupNode(us.dir, readConfig(us.dir), backup);
  await send(us, cn, 10, 10);
  await send(cn, us, 10, 10);
  await receipted(us, cn, 20);
  await receipted(cn, us, 20);

  // The copy is put in place by hand and served: Beijing's co-signatures name checkpoints larger
  // than Washington's log, and Washington says what happened and what to do.
  await second.stop(us);
  const db = join(us.dir, 'hotline.db');
  renameSync(db, `${db}.replaced`);
  for (const side of ['-wal', '-shm']) rmSync(`${db}${side}`, { force: true });
  copyFileSync(backup, db);
  await second.start(us);
  const alarm = await eventually(
    async () =>
      (await running(us).store.openAlarmsOf('rolled-back', 'cn', 'rolled-back'))[0] ?? undefined,
    60_000,
    'a rolled-back alarm on Washington',
  );
  expect(alarm.message).toContain('hotline restore');

  // The operator follows it: the records as they are, restored in place.
  await second.stop(us);
  await hotlineOk(['restore', '--data', us.dir]);
  await second.start(us);
  expect(await running(us).store.hasOpenAlarm('rolled-back', 'cn')).toBe(false);
  await eventually(
    async () => (await inbox(us)).texts.length === 20 || undefined,
    120_000,
    'the messages Washington lost, received again',
  );
  await send(us, cn, 20, 1);
  await send(cn, us, 20, 1);
  await eventually(
    async () =>
      ((await inbox(us)).texts.length === 21 && (await inbox(cn)).texts.length === 21) || undefined,
    120_000,
    'one new message each way',
  );
  for (const [site, from] of [
    [us, cn],
    [cn, us],
  ] as const)
    expect((await inbox(site)).texts.sort()).toEqual(range(from, 21).sort());
}, 600_000);
