/**
 * The attack suite, part two (issue 14): the store and delivery under damage and backlog. Tests
 * damage a real SQLite file the way a failing disk or a hand at the database would, and show the
 * damage seen, alarmed and answered with its own code rather than served silently or answered 500;
 * an outbox to a peer that never answers stays bounded; a node whose receipts its witness refuses
 * as a fork stops resending. docs/security.md lists which test shows which defence.
 */
import { closeSync, copyFileSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { readToken } from '../../src/node/core/data.ts';
import type { InboxItem } from '../../src/protocol/views.ts';
import type { AlarmRow } from '../../src/store/store.ts';
import { openNode } from '../support/node.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { peerFetch } from '../support/tls.ts';

let pair: Pair | undefined;

afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/**
 * Overwrites the first bytes of the b-tree page that holds table or index `name` (its root) in a
 * stopped node's SQLite file: what a bad sector does to it.
 */
function damagePage(dir: string, name: string): void {
  const file = join(dir, 'hotline.db');
  const db = new Database(file, { readonly: true });
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const row = db.prepare('select rootpage from sqlite_master where name = ?').get(name) as
    | { rootpage: number }
    | undefined;
  db.close();
  if (!row) throw new Error(`no table or index ${name}`);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, (row.rootpage - 1) * pageSize);
  closeSync(fd);
}

async function openAlarms(node: RunningNode, type: string): Promise<AlarmRow[]> {
  return (await node.store.openAlarms({ limit: 1000 })).filter((a) => a.type === type);
}

/** us sends `n` messages to cn and waits until cn's receipts for them are verified. */
async function sendReceipted(us: RunningNode, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++)
    ids.push((await us.node.release(['cn'], draft({ text: { lang: 'en', body: `m${i}` } }))).id);
  await eventually(async () => {
    const rows = await us.store.outboxRowsOf(ids.at(-1) as string);
    return rows[0]?.status === 'receipted' || undefined;
  }, 20_000);
  return ids;
}

describe('damage to the store while the node runs', () => {
  test('a byte flipped in a stored body is detected, alarmed and not served', async () => {
    pair = await createPair({ heartbeatMs: 60_000 });
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const [flipped, intact] = await sendReceipted(us, 2);
    // One letter of the stored text changes; the JSON stays valid, so only the hash can tell.
    await sql`update inbox set body = replace(body, 'm0', 'M0') where id = ${flipped}`.execute(
      cn.store.db,
    );
    const inbox = await fetch(`${cn.operatorUrl}/api/v1/inbox`, {
      headers: { authorization: `Bearer ${readToken(pair.cn.dir)}` },
    });
    expect(inbox.status).toBe(200);
    const items = (await inbox.json()) as InboxItem[];
    expect(items.map((m) => m.id)).toEqual([intact]);
    // Only the intact text is served (not a substring test: a random salt may hold "M0").
    expect(items.map((m) => m.body.text?.body)).toEqual(['m1']);
    await expect(cn.store.getInbox('us', flipped as string)).rejects.toMatchObject({
      code: 'E_STORE',
    });
    const [alarm, ...more] = await eventually(async () => {
      const alarms = await openAlarms(cn, 'integrity');
      return alarms.length ? alarms : undefined;
    });
    expect(more).toEqual([]);
    expect(alarm?.party).toBe('us');
    expect(alarm?.message).toContain(flipped);
    expect(alarm?.message).toContain('does not match the bodyHash');
  }, 60_000);

  test('a damaged index is found by the check at start; a replay gets its receipt or E_STORE', async () => {
    pair = await createPair({ heartbeatMs: 60_000 });
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    const [id] = await sendReceipted(us, 3);
    const row = await us.store.getOutbox('cn', id as string);
    await pair.stop(pair.cn);
    damagePage(pair.cn.dir, 'sqlite_autoindex_inbox_1');
    const cn = await pair.start(pair.cn);
    const [found] = await eventually(async () => {
      const alarms = await openAlarms(cn, 'integrity');
      return alarms.length ? alarms : undefined;
    });
    expect(found?.cause).toBe('quick_check');
    expect(found?.message).toContain('structure check found damage');
    // A replay of the exact envelope: the receiver's lookup of (from, id) reads the damaged index.
    const replay = await peerFetch(
      pair.us.dir,
      `http://${pair.cn.listen}/federation/v1/envelopes`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: `{"envelopes":[${row?.text}]}`,
      },
    );
    const answer = (await replay.json()) as {
      receipts: Array<{ receipt: { entries: Array<{ id: string }> } }>;
      error: { code: string };
    };
    if (replay.status === 200) expect(answer.receipts[0]?.receipt.entries[0]?.id).toBe(id);
    else {
      expect(replay.status).toBe(503);
      expect(answer.error.code).toBe('E_STORE');
      const [failed] = await openAlarms(cn, 'store-error');
      expect(failed?.message).toContain('receiving envelopes');
    }
  }, 60_000);

  test('a damaged inbox table: every batch is answered E_STORE, and both sides alarm', async () => {
    pair = await createPair({
      heartbeatMs: 60_000,
      outbox: {
        batch: 256,
        backoffBaseMs: 50,
        backoffMaxMs: 200,
        sendTimeoutMs: 5000,
        failoverMs: 750,
      },
    });
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await sendReceipted(us, 2);
    await pair.stop(pair.cn);
    damagePage(pair.cn.dir, 'inbox');
    const cn = await pair.start(pair.cn);
    const { id } = await us.node.release(['cn'], draft());
    const [atUs] = await eventually(async () => {
      const alarms = await openAlarms(us, 'peer-store-error');
      return alarms.length ? alarms : undefined;
    }, 20_000);
    expect(atUs?.party).toBe('cn');
    expect(atUs?.message).toContain('E_STORE');
    const [atCn] = await openAlarms(cn, 'store-error');
    expect(atCn?.message).toContain('receiving envelopes');
    const [pending] = await us.store.outboxRowsOf(id);
    expect(pending?.status).toBe('pending');
    expect(pending?.last_error).toContain('E_STORE');
    const path = us.paths.status('cn').paths[0];
    expect(path?.lastError).toContain('E_STORE');
    // Retries count the one alarm on each side; they add none.
    await eventually(async () => {
      const [again] = await openAlarms(us, 'peer-store-error');
      return (again?.count ?? 0) >= 3 || undefined;
    }, 20_000);
    expect(await openAlarms(us, 'peer-store-error')).toHaveLength(1);
    expect(await openAlarms(cn, 'store-error')).toHaveLength(1);
  }, 60_000);
});

describe('an outbox to a peer that never answers', () => {
  test('is bounded: an alarm near the bound, E_OUTBOX_FULL at it, nothing released dropped', async () => {
    // Beijing is pinned and never running: nothing is ever receipted.
    const node = await openNode({ outboxBound: { maxPendingPerPeer: 10, warnAt: 0.8 } });
    try {
      const full = () =>
        node.store.openAlarms().then((a) => a.filter((x) => x.type === 'outbox-full'));
      const released: string[] = [];
      for (let i = 0; i < 7; i++)
        released.push(
          (await node.node.release(['cn'], draft({ text: { lang: 'en', body: `m${i}` } }))).id,
        );
      expect(await full()).toEqual([]);
      released.push((await node.node.release(['cn'], draft())).id);
      const [near] = await full();
      expect(near?.cause).toBe('near');
      expect(near?.message).toContain('80 %');
      // Several at once (one group commit): those within the bound go, the rest are refused.
      const outcomes = await Promise.allSettled(
        Array.from({ length: 4 }, () => node.node.release(['cn'], draft())),
      );
      const refused = outcomes.filter((o) => o.status === 'rejected');
      expect(refused).toHaveLength(2);
      for (const r of refused)
        expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'E_OUTBOX_FULL' });
      // Through the operator API, the officer is told in the answer.
      const answer = await node.operator.inject({
        method: 'POST',
        url: '/api/v1/messages',
        headers: { authorization: `Bearer ${readToken(node.dir)}` },
        payload: { to: ['cn'], message: draft() },
      });
      expect(answer.statusCode).toBe(507);
      expect(answer.json().error.code).toBe('E_OUTBOX_FULL');
      expect(answer.json().error.message).toContain('holds 10 undelivered messages');
      // Nothing released was dropped: all ten wait, the first eight among them.
      expect(await node.store.pendingCount('cn')).toBe(10);
      for (const id of released)
        expect((await node.store.outboxRowsOf(id))[0]?.status).toBe('pending');
      const alarms = await full();
      expect(alarms.map((a) => a.cause).sort()).toEqual(['full', 'near']);
      // One alarm for every refusal: counted, not repeated.
      expect(alarms.find((a) => a.cause === 'full')?.count).toBe(2);
    } finally {
      await node.close();
    }
  }, 60_000);
});

describe('a peer restored from an old backup', () => {
  test('its receipts are refused as a fork: resends stop after a bound, one alarm says so', async () => {
    const fast = {
      batch: 256,
      backoffBaseMs: 50,
      backoffMaxMs: 200,
      sendTimeoutMs: 5000,
      failoverMs: 750,
    };
    pair = await createPair({
      heartbeatMs: 300,
      outbox: fast,
      integrity: { checkIntervalMs: 3_600_000, forkResends: 2 },
    });
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await sendReceipted(us, 3);
    // Beijing's records copied while it is stopped: the backup.
    await pair.stop(pair.cn);
    const db = join(pair.cn.dir, 'hotline.db');
    copyFileSync(db, `${db}.backup`);
    await pair.start(pair.cn);
    // Washington witnesses Beijing's log grow past the backup.
    await sendReceipted(us, 3);
    // Beijing restored from the backup: its log is back where it was.
    await pair.stop(pair.cn);
    for (const side of ['-wal', '-shm']) rmSync(`${db}${side}`, { force: true });
    copyFileSync(`${db}.backup`, db);
    await pair.start(pair.cn);
    const { id } = await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'after' } }));
    const held = await eventually(async () => {
      const alarms = await openAlarms(us, 'delivery-held');
      return alarms.length ? alarms : undefined;
    }, 20_000);
    expect(held).toHaveLength(1);
    expect(held[0]?.message).toContain('refused as a fork');
    // Long enough for ~20 retries at this backoff (50–200 ms) had delivery kept resending.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const [row] = await us.store.outboxRowsOf(id);
    expect(row?.status).toBe('pending');
    expect(row?.attempts).toBeGreaterThanOrEqual(1);
    expect(row?.attempts).toBeLessThanOrEqual(2);
    const forks = await openAlarms(us, 'fork');
    expect(forks).toHaveLength(1);
    expect(forks[0]?.party).toBe('cn');
    expect(forks[0]?.message).toContain('is smaller than, and its log no longer holds');
    expect(await openAlarms(us, 'delivery-held')).toHaveLength(1);
    // Clearing the fork alarm (the peer recovered, by hand) resumes delivery: it is sent again.
    await us.alarms.clear(forks[0]?.id as number, 'admin', 'restored; checked with Beijing');
    await eventually(async () => {
      const [again] = await us.store.outboxRowsOf(id);
      return (again?.attempts ?? 0) > (row?.attempts ?? 0) || undefined;
    }, 20_000);
  }, 90_000);
});
