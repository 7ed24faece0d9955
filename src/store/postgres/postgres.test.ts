/**
 * The PostgreSQL backend under a real exchange: two nodes whose stores are schemas in the
 * PostgreSQL on 127.0.0.1:5432 (HOTLINE_TEST_POSTGRES overrides the URL).
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair } from '../../../test/support/pair.ts';
import { dropSchemas, TEST_POSTGRES } from '../../../test/support/postgres.ts';
import type { RunningNode } from '../../app/start.ts';
import { compareViews, verifyBundle } from '../../ledger/verify.ts';
import { ConfigError, parseConfig } from '../../node/core/config.ts';
import { paths } from '../../node/core/data.ts';
import { exportLedger } from '../../node/record/export.ts';
import { openPostgresStore } from './index.ts';

const run = randomBytes(4).toString('hex');
const schemaOf = (party: string) => `hotline_test_${run}_${party}`;

let pair: Pair;

beforeAll(async () => {
  pair = await createPair({}, (party) => ({
    store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) },
  }));
});

afterAll(async () => {
  await pair?.close();
  await dropSchemas(...['us', 'cn', 'x'].map(schemaOf));
});

async function receipted(node: RunningNode, to: string, id: string): Promise<void> {
  await eventually(
    async () => ((await node.store.getOutbox(to, id))?.status === 'receipted' ? true : undefined),
    20_000,
    `a verified receipt for ${id}`,
  );
}

async function bundle(dir: string): Promise<unknown[]> {
  let text = '';
  await exportLedger(dir, (chunk) => {
    text += chunk;
  });
  return text
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

describe('two nodes on PostgreSQL', () => {
  test('exchange both ways across a restart: every message once, every receipt verified, both ledgers audit clean', async () => {
    let us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const sent: { from: 'us' | 'cn'; id: string }[] = [];
    const release = async (from: 'us' | 'cn', n: number) => {
      const node = from === 'us' ? us : cn;
      for (let i = 0; i < n; i++) {
        const text =
          from === 'us' ? { lang: 'en', body: `W ${i}` } : { lang: 'zh', body: `北 ${i}` };
        const { id } = await node.node.release([from === 'us' ? 'cn' : 'us'], draft({ text }));
        sent.push({ from, id });
      }
    };
    await Promise.all([release('us', 20), release('cn', 20)]);
    // Washington stops; Beijing's messages wait in its outbox, in PostgreSQL, until it is back.
    await pair.stop(pair.us);
    await release('cn', 10);
    us = await pair.start(pair.us);
    await Promise.all([release('us', 10), release('cn', 10)]);
    for (const { from, id } of sent)
      await receipted(from === 'us' ? us : cn, from === 'us' ? 'cn' : 'us', id);
    // Numbers come back as numbers (int8 is parsed), seqs contiguous from 1, each message once.
    const inboxUs = await us.store.listInbox(1000);
    const inboxCn = await cn.store.listInbox(1000);
    expect(inboxUs.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
    expect(inboxCn.map((r) => r.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    // Each node's log has been witnessed and co-signed by the other.
    await eventually(
      async () =>
        (await us.store.latestCosignature('cn')) && (await cn.store.latestCosignature('us'))
          ? true
          : undefined,
      20_000,
      'co-signatures both ways',
    );
    // No SQLite file was made: the records are in PostgreSQL.
    expect(existsSync(paths(pair.us.dir).db)).toBe(false);
    // The record, read back from PostgreSQL, verifies offline on each side and across both.
    const a = verifyBundle(await bundle(pair.us.dir));
    const b = verifyBundle(await bundle(pair.cn.dir));
    expect(a.report.failures).toEqual([]);
    expect(b.report.failures).toEqual([]);
    expect(a.report.counts.envelopes.in).toBe(40);
    expect(compareViews(a.view as never, b.view as never).failures).toEqual([]);
  }, 120_000);

  test('a second open finds the schema migrated and the data in place', async () => {
    const store = await openPostgresStore({ url: TEST_POSTGRES, schema: schemaOf('x') });
    try {
      await store.setMeta('probe', 'one');
      expect(await store.getMeta('probe')).toBe('one');
    } finally {
      await store.close();
    }
    const again = await openPostgresStore({ url: TEST_POSTGRES, schema: schemaOf('x') });
    try {
      expect(await again.getMeta('probe')).toBe('one');
      expect(await again.ledgerSize()).toBe(0);
    } finally {
      await again.close();
    }
  });

  test('a group-committed transaction is kept, and the commits after it wait for the WAL flush again', async () => {
    const store = await openPostgresStore({ url: TEST_POSTGRES, schema: schemaOf('x') });
    try {
      await store.transaction((tx) => store.setMeta('lazy', 'kept', tx), { durable: false });
      expect(await store.getMeta('lazy')).toBe('kept');
      const setting = await sql<{
        synchronous_commit: string;
      }>`show synchronous_commit`.execute(store.db);
      expect(setting.rows[0]?.synchronous_commit).toBe('on');
      await store.sync();
      expect(await store.getMeta('synced_at')).toBeDefined();
    } finally {
      await store.close();
    }
  });

  test('a unit of work whose failed statement was caught is not reported as committed', async () => {
    const store = await openPostgresStore({ url: TEST_POSTGRES, schema: schemaOf('x') });
    try {
      for (const durable of [true, false])
        await expect(
          store.transaction(
            async (tx) => {
              await store.setMeta('swallowed', String(durable), tx);
              await sql`select 1 / 0`.execute(tx).catch(() => undefined);
              return 'done';
            },
            { durable },
          ),
        ).rejects.toThrow('nothing of it was stored');
      expect(await store.getMeta('swallowed')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});

describe('store settings', () => {
  test('postgres needs a TEST_POSTGRES; sqlite takes neither TEST_POSTGRES nor schema; a schema name is an identifier', () => {
    expect(() => parseConfig({ party: 'us', store: { backend: 'postgres' } })).toThrow(
      /store.url is required/,
    );
    expect(() =>
      parseConfig({ party: 'us', store: { backend: 'sqlite', url: 'postgres://x/y' } }),
    ).toThrow(ConfigError);
    expect(() =>
      parseConfig({
        party: 'us',
        store: { backend: 'postgres', url: 'postgres://x/y', schema: 'a; drop table x' },
      }),
    ).toThrow(/store.schema/);
    expect(parseConfig({ party: 'us' }).store).toEqual({ backend: 'sqlite' });
  });
});
