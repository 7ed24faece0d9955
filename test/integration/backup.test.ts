/**
 * `hotline backup` while the node runs, and a restore as docs/deployment.md tells it: given
 * Washington sending to Beijing, a backup taken mid-stream is a consistent copy — restored in
 * place of the records (SQLite: the file; PostgreSQL: the dump into a fresh database), the node
 * starts, holds exactly the messages of the copy, and its exported ledger verifies offline.
 *
 * Beijing is stopped before Washington is restored: a restored node is behind its own co-signed
 * history, which its peer rightly refuses (the discontinuity is issue 16's part 3, not built).
 */

import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { Agent, fetch } from 'undici';
import { afterAll, describe, expect, test } from 'vitest';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { readToken } from '../../src/node/core/data.ts';
import { libpqEnvironment } from '../../src/node/record/backup.ts';
import type { OutboxItem, Released } from '../../src/protocol/views.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { TEST_POSTGRES } from '../support/postgres.ts';
import { hotline, hotlineOk } from './nodes.ts';

/**
 * Connections of the operator API calls; replaced when a node restarts, so no call goes out on a
 * kept-alive socket to the stopped process.
 */
let agent = new Agent();

const BEFORE = 30;
const DURING = 20;

async function api<T>(pair: Pair, site: 'us' | 'cn', method: string, path: string, body?: unknown) {
  const running = pair[site].running;
  if (!running) throw new Error(`${site} is not running`);
  const response = await fetch(`${running.operatorUrl}${path}`, {
    dispatcher: agent,
    method,
    headers: {
      authorization: `Bearer ${readToken(pair[site].dir)}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${site} ${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

const send = (pair: Pair, i: number) =>
  api<Released>(pair, 'us', 'POST', '/api/v1/messages', {
    to: ['cn'],
    message: draft({ text: { lang: 'en', body: `message ${i}` } }),
  });

const outbox = (pair: Pair) => api<OutboxItem[]>(pair, 'us', 'GET', '/api/v1/outbox?limit=1000');

async function allReceipted(pair: Pair, count: number): Promise<OutboxItem[]> {
  return eventually(
    async () => {
      const rows = await outbox(pair);
      return rows.length === count && rows.every((r) => r.status === 'receipted')
        ? rows
        : undefined;
    },
    30_000,
    `${count} messages receipted`,
  );
}

/** `hotline export` of the node's folder, then `hotline verify` of the bundle: exit 0. */
async function exportVerifies(pair: Pair): Promise<void> {
  const bundle = join(pair.root, `us-${randomBytes(3).toString('hex')}.jsonl`);
  await hotlineOk(['export', '--data', pair.us.dir, '--out', bundle]);
  const verified = await hotline(['verify', bundle]);
  expect(verified.stderr).toBe('');
  expect(verified.code).toBe(0);
}

describe.each(['sqlite', 'postgres'] as const)('backup and restore on %s', (backend) => {
  const run = randomBytes(4).toString('hex');
  const schemaOf = (party: string) => `hotline_bak_${run}_${party}`;
  const restoredDb = `hotline_restore_${run}`;
  let pair: Pair | undefined;

  afterAll(async () => {
    await pair?.close();
    if (backend === 'postgres') {
      const client = new pg.Client({ connectionString: TEST_POSTGRES });
      await client.connect();
      for (const party of ['us', 'cn'])
        await client.query(`drop schema if exists ${schemaOf(party)} cascade`);
      await client.query(`drop database if exists ${restoredDb}`);
      await client.end();
    }
  });

  test('a backup taken mid-stream restores to a node whose ledger verifies', async () => {
    pair = await createPair({ heartbeatMs: 500 }, (party) =>
      backend === 'postgres'
        ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
        : {},
    );
    await pair.start(pair.us);
    await pair.start(pair.cn);
    for (let i = 0; i < BEFORE; i++) await send(pair, i);
    await allReceipted(pair, BEFORE);

    // The backup runs while Washington keeps releasing.
    const file = join(pair.root, backend === 'sqlite' ? 'us-backup.db' : 'us-backup.dump');
    const [backup] = await Promise.all([
      hotlineOk(['backup', '--data', pair.us.dir, '--out', file]),
      (async () => {
        for (let i = BEFORE; i < BEFORE + DURING; i++) await send(pair as Pair, i);
      })(),
    ]);
    expect(backup.stdout).toContain(file);
    // It holds the whole store: readable by its owner alone.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    // Never overwritten: a second backup to the same file is refused in one line.
    const again = await hotline(['backup', '--data', pair.us.dir, '--out', file]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`hotline: ${file} exists: refusing to overwrite it\n`);
    const after = await allReceipted(pair, BEFORE + DURING);
    expect(after).toHaveLength(BEFORE + DURING);

    // Restore: both nodes stopped, the copy put in place of Washington's records.
    await pair.stop(pair.cn);
    await pair.stop(pair.us);
    if (backend === 'sqlite') {
      // Washington's copy is not Beijing's: restoring it there is refused, and changes nothing.
      const foreign = await hotline(['restore', '--data', pair.cn.dir, '--from', file]);
      expect(foreign.code).toBe(1);
      expect(foreign.stderr).toContain(`is the backup of another party's node ("us"), not of "cn"`);
      expect(existsSync(join(pair.cn.dir, 'restored.json'))).toBe(false);
      const db = join(pair.us.dir, 'hotline.db');
      renameSync(db, `${db}.replaced`);
      for (const side of ['-wal', '-shm']) rmSync(`${db}${side}`, { force: true });
      copyFileSync(file, db);
    } else {
      const env = { ...process.env, ...libpqEnvironment(TEST_POSTGRES) };
      execFileSync('createdb', [restoredDb], { env });
      execFileSync('pg_restore', ['--no-owner', `--dbname=${restoredDb}`, file], { env });
      const config = readConfig(pair.us.dir);
      const url = new URL(TEST_POSTGRES);
      url.pathname = `/${restoredDb}`;
      writeConfig(pair.us.dir, { ...config, store: { ...config.store, url: url.toString() } });
    }
    expect(existsSync(file)).toBe(true);
    await agent.close();
    agent = new Agent();
    await pair.start(pair.us);

    // It holds the messages of the copy: every one released before the backup began, each once,
    // with the receipts it had; none of those released after it ended is invented.
    const restored = await outbox(pair);
    const texts = restored.map((r) => r.body.text?.body);
    expect(new Set(texts).size).toBe(texts.length);
    for (let i = 0; i < BEFORE; i++) expect(texts).toContain(`message ${i}`);
    expect(restored.length).toBeGreaterThanOrEqual(BEFORE);
    expect(restored.length).toBeLessThanOrEqual(BEFORE + DURING);
    const seqs = restored.map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: restored.length }, (_, i) => i + 1));
    for (const r of restored.filter((r) => Number(r.body.text?.body.split(' ')[1]) < BEFORE))
      expect(r.status).toBe('receipted');
    if (backend === 'sqlite') {
      const leaves = Number(/ledger of (\d+) leaves/.exec(backup.stdout)?.[1]);
      // The copy's leaves, and what the node appended on starting (its start-up events).
      expect(leaves).toBeGreaterThan(BEFORE);
      expect(pair.us.running?.ledger.size).toBeGreaterThanOrEqual(leaves);
    }

    // And its ledger, exported, verifies offline.
    await exportVerifies(pair);
  }, 180_000);
});
