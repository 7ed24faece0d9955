/**
 * Pinned mutual TLS between nodes (docs/protocol.md § Transport), two nodes on loopback. The
 * federation listener takes only a pinned peer's certificate, and only for that peer's name; the
 * sender takes only the certificate the peer's card pins, and a proxy in the middle presenting its
 * own is refused with an alarm; a peer still on version 1 (no pin) exchanges messages over plain
 * HTTP, and moves to pinned TLS with `hotline rotate`.
 */
import type { Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import { makeTlsIdentity } from '../../src/crypto/tls.ts';
import { initDataDir, openNodeStore } from '../../src/node/core/data.ts';
import { pinPeer } from '../../src/node/core/peers.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { freePort } from '../support/ports.ts';
import { federationRequest, tlsOf, tlsProxy } from '../support/tls.ts';

/** The heartbeat a node would send, good enough to be checked: only its `from` matters here. */
const heartbeatFrom = (from: string) => ({ heartbeat: { from }, sig: 'x' });

/** A third party, uk (on version 2), made and pinned by `site` too: answers its TLS identity. */
async function pinThird(pair: Pair, site: 'us' | 'cn') {
  const ukDir = `${pair.root}/uk`;
  const ukCard = await initDataDir(ukDir, {
    party: 'uk',
    names: { en: 'London' },
    endpoints: [`https://127.0.0.1:${await freePort()}`],
  });
  const store = await openNodeStore(pair[site].dir);
  await pinPeer(store, ukCard, site);
  await store.close();
  await pair[site].running?.peers.reload();
  return tlsOf(ukDir);
}

const delivered = async (pair: Pair, to: 'us' | 'cn', id: string) =>
  eventually(
    async () =>
      (await pair[to].running?.store.listInbox(100))?.some((m) => m.id === id) ? true : undefined,
    15_000,
    `message ${id} at ${to}`,
  );

describe('two nodes on version 2', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await createPair();
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);
  afterAll(async () => {
    await pair?.close();
  });

  test('exchange messages over pinned mutual TLS, and plain HTTP is closed', async () => {
    const us = pair.us.running;
    if (!us) throw new Error('not running');
    expect(us.card.card.protocols).toEqual([1, 2]);
    expect(us.card.card.ext?.tls).toEqual({ spki: tlsOf(pair.us.dir).pin });
    const { id } = await us.node.release(
      ['cn'],
      draft({ text: { lang: 'en', body: 'Over TLS.' } }),
    );
    await delivered(pair, 'cn', id);
    const refused = await fetch(`http://${pair.cn.listen}/federation/v1/card`).then(
      () => 'answered',
      () => 'refused',
    );
    expect(refused).toBe('refused');
  }, 30_000);

  test('a client with a certificate no card pins is refused', async () => {
    const stranger = await makeTlsIdentity('us');
    const noCert = await federationRequest(pair.cn.listen, '/federation/v1/card', undefined).then(
      () => 'answered',
      () => 'refused',
    );
    expect(noCert).toBe('refused');
    const wrong = await federationRequest(
      pair.cn.listen,
      '/federation/v1/heartbeat',
      stranger,
      heartbeatFrom('us'),
    ).then(
      () => 'answered',
      () => 'refused',
    );
    expect(wrong).toBe('refused');
    const own = await federationRequest(pair.cn.listen, '/federation/v1/card', tlsOf(pair.us.dir));
    expect(own.status).toBe(200);
  }, 30_000);

  test("another pinned party's valid certificate cannot claim the first party's name", async () => {
    const uk = await pinThird(pair, 'cn');
    const asUs = await federationRequest(
      pair.cn.listen,
      '/federation/v1/heartbeat',
      uk,
      heartbeatFrom('us'),
    );
    expect(asUs.status).toBe(403);
    expect(asUs.body).toMatchObject({ error: { code: 'E_TLS_PEER' } });
    // As itself it gets as far as the heartbeat's own checks.
    const asUk = await federationRequest(
      pair.cn.listen,
      '/federation/v1/heartbeat',
      uk,
      heartbeatFrom('uk'),
    );
    expect(asUk.status).toBe(400);
    expect(asUk.body).toMatchObject({ error: { code: 'E_MALFORMED' } });
  }, 30_000);

  test("a peer's health probe is answered on its pinned certificate, and no one else's", async () => {
    const probe = await federationRequest(pair.cn.listen, '/healthz', tlsOf(pair.us.dir));
    expect(probe.status).toBe(200);
    expect(probe.body).toEqual({ status: 'ok' });
    // The listener stays closed to unpinned connections, probes included.
    const anonymous = await federationRequest(pair.cn.listen, '/healthz', undefined).then(
      () => 'answered',
      () => 'refused',
    );
    expect(anonymous).toBe('refused');
  }, 30_000);
});

describe('a TLS-terminating proxy in the middle', () => {
  let pair: Pair;
  let proxy: Server;
  beforeAll(async () => {
    // The proxy answers with its own certificate and forwards to cn's listener.
    const port = await freePort();
    pair = await createPair({}, (party) =>
      party === 'us'
        ? {
            paths: {
              cn: [{ id: 'direct', kind: 'direct', url: `https://127.0.0.1:${port}`, priority: 0 }],
            },
          }
        : {},
    );
    proxy = await tlsProxy(port, Number(pair.cn.listen.split(':')[1]));
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);
  afterAll(async () => {
    proxy?.close();
    await pair?.close();
  });

  test('is refused by the sender, which raises a tls-pin alarm and keeps the message', async () => {
    const us = pair.us.running;
    if (!us) throw new Error('not running');
    const { id } = await us.node.release(
      ['cn'],
      draft({ text: { lang: 'en', body: 'Intercepted?' } }),
    );
    const alarm = await eventually(
      async () => (await us.store.openAlarms()).find((a) => a.type === 'tls-pin'),
      15_000,
      'a tls-pin alarm',
    );
    expect(alarm.party).toBe('cn');
    expect(alarm.message).toContain('does not pin');
    expect((await pair.cn.running?.store.listInbox(100))?.some((m) => m.id === id)).toBe(false);
    const row = await us.store.getOutbox('cn', id);
    expect(row?.receipted_at ?? null).toBeNull();
    // Retries go on (the path may heal) but the alarm is one, counted.
    const again = await eventually(async () => {
      const a = (await us.store.openAlarms()).find((x) => x.type === 'tls-pin');
      return a && a.count > 1 ? a : undefined;
    });
    expect((await us.store.openAlarms()).filter((a) => a.type === 'tls-pin')).toHaveLength(1);
    expect(again.count).toBeGreaterThan(1);
  }, 30_000);
});

describe('a peer still on version 1', () => {
  let pair: Pair;
  beforeAll(async () => {
    pair = await createPair({}, () => ({}), { version1: ['cn'] });
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);
  afterAll(async () => {
    await pair?.close();
  });

  test('exchanges messages with a version-2 node over plain HTTP', async () => {
    const us = pair.us.running;
    const cn = pair.cn.running;
    if (!us || !cn) throw new Error('not running');
    expect(cn.card.card.protocols).toEqual([1]);
    const there = await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'To v1.' } }));
    const back = await cn.node.release(['us'], draft({ text: { lang: 'en', body: 'From v1.' } }));
    await delivered(pair, 'cn', there.id);
    await delivered(pair, 'us', back.id);
    // us takes plain HTTP for cn alone: not for uk, a party pinned there whose card pins TLS.
    await pinThird(pair, 'us');
    const plain = await fetch(`http://${pair.us.listen}/federation/v1/heartbeat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(heartbeatFrom('uk')),
    });
    expect(plain.status).toBe(403);
    expect(await plain.json()).toMatchObject({ error: { code: 'E_TLS_REQUIRED' } });
  }, 30_000);

  test('moves to pinned TLS with hotline rotate, and messages keep flowing', async () => {
    await pair.stop(pair.cn);
    await rotateDataDir(pair.cn.dir, { reason: 'routine' });
    const cn = await pair.start(pair.cn);
    expect(cn.card.card.protocols).toEqual([1, 2]);
    const us = pair.us.running;
    if (!us) throw new Error('not running');
    await eventually(
      async () => (us.peers.pinned('cn').card.ext?.tls ? true : undefined),
      15_000,
      'us to re-pin cn',
    );
    const there = await us.node.release(['cn'], draft({ text: { lang: 'en', body: 'Now TLS.' } }));
    const back = await cn.node.release(['us'], draft({ text: { lang: 'en', body: 'Both TLS.' } }));
    await delivered(pair, 'cn', there.id);
    await delivered(pair, 'us', back.id);
    // Both have moved: plain HTTP is closed on both sides.
    // (A keep-alive connection opened while cn was on version 1 is answered E_TLS_REQUIRED.)
    for (const listen of [pair.us.listen, pair.cn.listen]) {
      const outcome = await fetch(`http://${listen}/federation/v1/card`).then(
        async (r) =>
          `${r.status} ${((await r.json()) as { error?: { code?: string } }).error?.code}`,
        () => 'closed',
      );
      expect(['closed', '403 E_TLS_REQUIRED']).toContain(outcome);
    }
  }, 60_000);
});
