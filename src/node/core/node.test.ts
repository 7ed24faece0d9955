import { connect } from 'node:tls';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair, type Site } from '../../../test/support/pair.ts';
import { tlsOf } from '../../../test/support/tls.ts';
import { makeParty } from '../../../test/support/world.ts';
import { buildServices } from '../../app/services.ts';
import { envelopeLeaf } from '../../ledger/leaves.ts';
import { verifyBundle } from '../../ledger/verify.ts';
import type { Envelope } from '../../protocol/envelope.ts';
import { jcs } from '../../protocol/jcs.ts';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import { exportLedger } from '../record/export.ts';
import { readConfig, writeConfig } from './config.ts';
import { paths, readNodeKeys, readOwnCard } from './data.ts';
import { pinPeer } from './peers.ts';

let pair: Pair;
beforeEach(async () => {
  pair = await createPair();
});
afterEach(async () => {
  await pair.close();
});

async function receipted(site: Pair['us'], to: string, id: string) {
  return eventually(
    async () => {
      const row = await site.running?.store.getOutbox(to, id);
      return row?.status === 'receipted' ? row : undefined;
    },
    15_000,
    `a verified receipt for ${id}`,
  );
}

/** A stopped node's services, built on its own SQLite file (not serving, no loops running). */
async function servicesOf(site: Site) {
  const store = await openSqliteStore(paths(site.dir).db);
  const { node } = await buildServices({
    config: readConfig(site.dir),
    keys: readNodeKeys(site.dir),
    card: readOwnCard(site.dir),
    store,
    logger: pino({ level: 'silent' }),
    clock: () => new Date(),
  });
  return { node, store };
}

/** Releases `n` messages from a stopped node's folder: they wait in its outbox, unsent. */
async function releaseWhileStopped(site: Site, to: string, n: number): Promise<string[]> {
  const { node, store } = await servicesOf(site);
  try {
    const ids: string[] = [];
    for (let i = 0; i < n; i++)
      ids.push((await node.release([to], draft({ text: { lang: 'en', body: `queued ${i}` } }))).id);
    return ids;
  } finally {
    await store.close();
  }
}

test('a release whose commit cannot start is refused, not left waiting, and so is the next', async () => {
  const { node, store } = await servicesOf(pair.us);
  // The sealing epoch is open before the store closes: the release gets as far as its commit.
  await node.release(['cn'], draft());
  await store.close();
  await expect(node.release(['cn'], draft())).rejects.toThrow();
  await expect(node.release(['cn'], draft({ precedence: 'flash' }))).rejects.toThrow();
});

describe('two nodes on loopback', () => {
  test('a flash report from Beijing reaches Washington once, with a verified receipt', async () => {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const { id, seq } = await cn.node.release(
      ['us'],
      draft({ precedence: 'flash', text: { lang: 'zh', body: '自主系统行为异常' } }),
    );
    expect(seq).toEqual({ us: 1 });
    const row = await receipted(pair.cn, 'us', id);
    expect(row.peer_index).not.toBeNull();
    const inbox = await us.store.listInbox(10);
    expect(inbox.map((r) => r.id)).toEqual([id]);
    expect(inbox[0]?.body.text).toEqual({
      lang: 'zh',
      body: '自主系统行为异常',
    });
    // Both ledgers hold the envelope: sent on one side, received on the other.
    expect(cn.ledger.size).toBeGreaterThanOrEqual(1);
    expect(us.ledger.size).toBeGreaterThanOrEqual(2);
  });

  test('the path to a peer shows up with a round-trip time, and down once the peer stops answering', async () => {
    await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const heartbeats = () => pair.cn.running?.heartbeats;
    const up = await eventually(
      async () => {
        const status = heartbeats()?.status('us');
        return status?.state === 'up' ? status : undefined;
      },
      5000,
      'the path up',
    );
    expect(up.rttMs).toBeGreaterThan(0);
    expect(up.lastHeartbeat).not.toBeNull();
    await pair.stop(pair.us);
    await eventually(
      async () => (heartbeats()?.status('us').state === 'down' ? true : undefined),
      10_000,
      'the path down',
    );
    expect(cn.metrics.registry.getSingleMetric('hotline_path_state')).toBeDefined();
  });

  test('a message released while the peer is down is delivered once the peer comes up', async () => {
    const cn = await pair.start(pair.cn);
    const { id } = await cn.node.release(['us'], draft({ precedence: 'immediate' }));
    await eventually(
      async () => {
        const row = await cn.store.getOutbox('us', id);
        return row && row.attempts > 0 ? row : undefined;
      },
      5000,
      'a failed first attempt',
    );
    const us = await pair.start(pair.us);
    await receipted(pair.cn, 'us', id);
    expect(await us.store.countInbox()).toBe(1);
  });

  test('a message survives the sender restarting before delivery', async () => {
    let cn = await pair.start(pair.cn);
    const { id } = await cn.node.release(['us'], draft());
    await pair.stop(pair.cn);
    const us = await pair.start(pair.us);
    cn = await pair.start(pair.cn);
    await receipted(pair.cn, 'us', id);
    expect((await us.store.listInbox(10)).map((r) => r.id)).toEqual([id]);
  });

  test('gap repair: a heartbeat showing the peer lacks a seq resends it without waiting out the backoff', async () => {
    await pair.close();
    // Retries would wait a minute or more; only the heartbeat can bring the message over sooner.
    pair = await createPair({
      heartbeatMs: 300,
      outbox: {
        batch: 256,
        backoffBaseMs: 60_000,
        backoffMaxMs: 120_000,
        sendTimeoutMs: 2000,
        failoverMs: 1000,
      },
    });
    const cn = await pair.start(pair.cn);
    const { id } = await cn.node.release(['us'], draft({ precedence: 'priority' }));
    const failed = await eventually(
      async () => {
        const row = await cn.store.getOutbox('us', id);
        return row && row.attempts > 0 ? row : undefined;
      },
      5000,
      'a failed first attempt',
    );
    expect(failed.next_attempt_at - Date.now()).toBeGreaterThan(20_000);
    await pair.start(pair.us);
    await receipted(pair.cn, 'us', id);
  });

  test('while the peer is down, a batch that failed together is retried together', async () => {
    await pair.close();
    // Retries wait a minute or more: only the first attempt happens within the test.
    pair = await createPair({
      heartbeatMs: 300,
      outbox: {
        batch: 256,
        backoffBaseMs: 60_000,
        backoffMaxMs: 120_000,
        sendTimeoutMs: 2000,
        failoverMs: 750,
      },
    });
    // Five messages wait in Beijing's outbox before its delivery starts: they leave as one batch.
    const ids = await releaseWhileStopped(pair.cn, 'us', 5);
    const cn = await pair.start(pair.cn);
    const rows = await eventually(
      async () => {
        const rows = await Promise.all(ids.map((id) => cn.store.getOutbox('us', id)));
        return rows.every((r) => r && r.attempts > 0) ? rows : undefined;
      },
      5000,
      'a failed first attempt',
    );
    expect(rows.map((r) => r?.attempts)).toEqual([1, 1, 1, 1, 1]);
    expect(new Set(rows.map((r) => r?.next_attempt_at)).size).toBe(1);
  });

  test('a flash message is not held behind a flood of routine traffic', async () => {
    const cn = await pair.start(pair.cn);
    const routine = new Set<string>();
    for (let i = 0; i < 1500; i++)
      routine.add(
        (await cn.node.release(['us'], draft({ text: { lang: 'en', body: `routine ${i}` } }))).id,
      );
    const flash = await cn.node.release(['us'], draft({ precedence: 'flash' }));
    // Counted as the receipts are verified, not after: a poll would see the batches behind it.
    let before = 0;
    let counting = true;
    cn.events.on('receipted', (_party, ids) => {
      if (!counting) return;
      if (ids.includes(flash.id)) counting = false;
      else before += ids.filter((id) => routine.has(id)).length;
    });
    await pair.start(pair.us);
    await receipted(pair.cn, 'us', flash.id);
    // When the flash receipt is verified, most of the routine backlog is still waiting.
    expect(before).toBeLessThan(750);
  });

  test('a message to two peers, one with a numeric-looking id, is logged in header.to order and its export verifies', async () => {
    // JavaScript orders integer-like keys first: header.to for ["cn", "10"] is ["10", "cn"].
    const store = await openSqliteStore(paths(pair.us.dir).db);
    await pinPeer(store, (await makeParty('10', { en: 'Ten' })).signed, 'us');
    await store.close();
    const us = await pair.start(pair.us);
    const start = us.ledger.size;
    const { id } = await us.node.release(['cn', '10'], draft({ precedence: 'flash' }));
    const rows = await Promise.all(['cn', '10'].map((p) => us.store.getOutbox(p, id)));
    const to = rows[0]?.envelope.header.to ?? [];
    expect(to).toEqual(['10', 'cn']);
    const leaves = await us.store.readLeaves(start, 2);
    for (const row of rows) {
      const envelope = row?.envelope as Envelope;
      expect(row?.leaf_index).toBe(start + to.indexOf(row?.party ?? ''));
      expect(leaves[to.indexOf(row?.party ?? '')]).toBe(
        jcs(envelopeLeaf('out', row?.created_at ?? '', envelope)),
      );
    }
    await pair.stop(pair.us);
    let text = '';
    await exportLedger(pair.us.dir, (chunk) => {
      text += chunk;
    });
    const { report } = verifyBundle(text.trimEnd().split('\n'));
    expect(report.failures).toEqual([]);
    expect(report.counts.envelopes.out).toBe(2);
  });

  test('logs carry neither message text nor key material', async () => {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const secretText = 'SECRET-TEXT-4242 do not log';
    const { id } = await cn.node.release(['us'], draft({ text: { lang: 'en', body: secretText } }));
    await receipted(pair.cn, 'us', id);
    const logs = [...pair.us.logs, ...pair.cn.logs].join('');
    expect(logs.length).toBeGreaterThan(0);
    expect(logs).not.toContain(secretText);
    for (const purpose of ['signing', 'identity', 'log', 'witness'] as const) {
      const secret = Buffer.from(us.keys.get(purpose).secret).toString('base64url');
      expect(logs).not.toContain(secret);
    }
  });

  test('a stop ends within its bound while a client holds a request half-sent', async () => {
    writeConfig(pair.us.dir, { ...readConfig(pair.us.dir), stopWaitMs: 300 });
    await pair.start(pair.us);
    const [host, port] = pair.us.listen.split(':') as [string, string];
    // Over pinned TLS as Beijing, as the listener takes only pinned peers.
    const cn = tlsOf(pair.cn.dir);
    const socket = connect({
      port: Number(port),
      host,
      key: cn.key,
      cert: cn.cert,
      rejectUnauthorized: false,
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    // A whole request, and in the same write the start of a second that never ends: once the
    // first is answered, the listener has read the second's start and cannot finish it.
    const answered = new Promise<void>((resolve) => socket.once('data', () => resolve()));
    socket.write(
      'GET /federation/v1/card HTTP/1.1\r\nHost: x\r\n\r\n' +
        'POST /federation/v1/envelopes HTTP/1.1\r\nHost: x\r\n',
    );
    await answered;
    await pair.stop(pair.us);
    await closed;
    const late = pair.us.logs
      .map((line) => JSON.parse(line) as { msg: string; part?: string })
      .filter((l) => l.msg === 'stopping without waiting for it');
    expect(late.map((l) => l.part)).toEqual(['listener']);
  });

  test('re-reading the pinned peers never hides one, nor shows a loop over them one twice', async () => {
    const us = await pair.start(pair.us);
    const seen: string[] = [];
    let missing = 0;
    for (const party of us.peers.keys()) {
      seen.push(party);
      if (seen.length > 3) break;
      const reloading = us.peers.reload();
      if (!us.peers.has('cn')) missing++;
      await reloading;
    }
    expect(seen).toEqual(['cn']);
    expect(missing).toBe(0);
  });
});
