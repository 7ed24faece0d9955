/**
 * A relay over pinned mutual TLS (docs/protocol.md § Relay API, Transport), with two nodes on
 * loopback. The relay takes a connection only with a certificate one of its cards pins, and lets
 * it speak for that party alone; a node takes only the relay certificate its configuration pins,
 * and one presented by a proxy in the middle is refused with a `tls-pin` alarm, nothing sent. A
 * party still on version 1 (no TLS key) keeps using the relay over plain HTTP, for itself alone.
 */
import type { Server } from 'node:tls';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { relayAuthHeaders } from '../../src/crypto/relay-auth.ts';
import { makeTlsIdentity } from '../../src/crypto/tls.ts';
import { type Config, readConfig, writeConfig } from '../../src/node/core/config.ts';
import { readNodeKeys, readOwnCard } from '../../src/node/core/data.ts';
import { type RunningRelay, startRelay } from '../../src/relay/server.ts';
import { createPair, draft, eventually, type Pair, type Site } from '../support/pair.ts';
import { freePort } from '../support/ports.ts';
import { tlsOf, tlsProxy, tlsRequest } from '../support/tls.ts';

function configure(site: Site, extra: Partial<Config>): void {
  writeConfig(site.dir, { ...readConfig(site.dir), ...extra });
}

/** A relay serving both parties of `pair`, in its folder. */
function relayFor(pair: Pair): Promise<RunningRelay> {
  return startRelay(
    {
      data: `${pair.root}/relay`,
      limits: { maxBytes: 64 * 1024 * 1024, maxItemsPerBox: 10_000 },
      cards: [readOwnCard(pair.us.dir).card, readOwnCard(pair.cn.dir).card],
      logger: pino({ level: 'silent' }),
    },
    '127.0.0.1:0',
  );
}

/** Washington's path to Beijing: its direct path dead, then the relay at `url`. */
const relayPath = (url: string, pin?: string): Partial<Config> => ({
  paths: {
    cn: [
      { id: 'direct', kind: 'direct', url: 'https://127.0.0.1:9', priority: 0 },
      { id: 'relay-geneva', kind: 'relay', url, priority: 50, ...(pin ? { pin } : {}) },
    ],
  },
});

const signedAs = (site: Site, method: 'GET' | 'POST', url: string, body?: string) =>
  relayAuthHeaders(site.party, readNodeKeys(site.dir).signer('signing'), method, url, body);

const outcome = (request: Promise<unknown>) =>
  request.then(
    () => 'answered',
    () => 'refused',
  );

describe('two nodes on version 2 and a pinned relay', () => {
  let pair: Pair;
  let relay: RunningRelay;
  beforeAll(async () => {
    pair = await createPair({ relayPollMs: 100 });
    relay = await relayFor(pair);
    // Washington's relay path names no pin: its `relays` entry for the same relay gives it.
    configure(pair.us, {
      ...relayPath(relay.url),
      relays: [{ url: relay.url, pin: relay.pin }],
    });
    // Beijing's entry says http:, as a card of version 1 would: a pinned relay is called over TLS.
    configure(pair.cn, { relays: [{ url: relay.url.replace('https:', 'http:'), pin: relay.pin }] });
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);
  afterAll(async () => {
    await pair?.close();
    await relay?.stop();
  });

  test('with the direct path down, a message goes through the relay over TLS and is receipted', async () => {
    const us = pair.us.running;
    const cn = pair.cn.running;
    if (!us || !cn) throw new Error('not running');
    const { id } = await us.node.release(
      ['cn'],
      draft({ text: { lang: 'en', body: 'Via Geneva.' } }),
    );
    await eventually(
      async () => ((await us.store.getOutbox('cn', id))?.status === 'receipted' ? true : undefined),
      20_000,
      'a receipt through the relay',
    );
    expect((await cn.store.listInbox(10)).map((r) => r.id)).toEqual([id]);
    expect(relay.boxes.stored.envelope).toBeGreaterThanOrEqual(1);
    expect(us.paths.status('cn').paths.find((p) => p.path === 'relay-geneva')?.state).toBe('up');
    // Both cards pin TLS keys: the relay answers no plain HTTP at all.
    expect(await outcome(fetch(`${relay.url.replace('https:', 'http:')}/relay/v1/health`))).toBe(
      'refused',
    );
    expect((await us.store.openAlarms()).filter((a) => a.type === 'tls-pin')).toEqual([]);
  }, 30_000);

  test('the relay refuses no certificate and a self-made one at the handshake', async () => {
    const health = `${relay.url}/relay/v1/health`;
    expect(await outcome(tlsRequest(health, undefined))).toBe('refused');
    const selfMade = await makeTlsIdentity('us');
    const collect = `${relay.url}/relay/v1/boxes/us?after=0&limit=256`;
    // A thief with Washington's signing key but not its TLS key: refused before any request.
    expect(
      await outcome(tlsRequest(collect, selfMade, { headers: signedAs(pair.us, 'GET', collect) })),
    ).toBe('refused');
    const seen = await tlsRequest(health, tlsOf(pair.us.dir));
    expect(seen.status).toBe(200);
    expect(seen.body).toMatchObject({
      refusedConnections: { 'no certificate': 1, 'unknown certificate': 1, 'plain HTTP': 1 },
    });
  }, 30_000);

  test("another party's valid certificate cannot open the first party's box", async () => {
    const us = pair.us.running;
    if (!us) throw new Error('not running');
    await pair.stop(pair.cn);
    // A message for Beijing waits in its box while Beijing is away.
    const { id } = await us.node.release(['cn'], draft());
    await eventually(async () => (relay.boxes.boxes().cn ? true : undefined), 15_000, 'a deposit');
    const collect = `${relay.url}/relay/v1/boxes/cn?after=0&limit=256`;
    const asUs = tlsOf(pair.us.dir);
    // Signed with Beijing's own key (stolen) over Washington's connection: not Washington's to say.
    const stolen = await tlsRequest(collect, asUs, { headers: signedAs(pair.cn, 'GET', collect) });
    expect(stolen.status).toBe(403);
    expect(stolen.body).toMatchObject({ error: { code: 'E_TLS_PEER' } });
    // Signed as itself: not its box.
    const own = await tlsRequest(collect, asUs, { headers: signedAs(pair.us, 'GET', collect) });
    expect(own.status).toBe(403);
    expect(own.body).toMatchObject({ error: { code: 'E_FORBIDDEN' } });
    expect(relay.boxes.boxes().cn).toBeGreaterThanOrEqual(1);
    // Beijing, back, collects it.
    const cn = await pair.start(pair.cn);
    await eventually(
      async () => ((await cn.store.listInbox(10)).some((r) => r.id === id) ? true : undefined),
      15_000,
      'Beijing to collect',
    );
  }, 45_000);
});

describe('a proxy in the middle of the relay path', () => {
  let pair: Pair;
  let relay: RunningRelay;
  let proxy: Server;
  beforeAll(async () => {
    pair = await createPair({ relayPollMs: 100 });
    relay = await relayFor(pair);
    const port = await freePort();
    proxy = await tlsProxy(port, Number(new URL(relay.url).port));
    const middle = `https://127.0.0.1:${port}`;
    configure(pair.us, relayPath(middle, relay.pin));
    configure(pair.cn, { relays: [{ url: middle, pin: relay.pin }] });
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);
  afterAll(async () => {
    proxy?.close();
    await pair?.close();
    await relay?.stop();
  });

  test('is refused by the sender and the collector: tls-pin alarms, nothing deposited or signed', async () => {
    const us = pair.us.running;
    const cn = pair.cn.running;
    if (!us || !cn) throw new Error('not running');
    const { id } = await us.node.release(
      ['cn'],
      draft({ text: { lang: 'en', body: 'Intercepted?' } }),
    );
    const sending = await eventually(
      async () => (await us.store.openAlarms()).find((a) => a.type === 'tls-pin'),
      15_000,
      "Washington's tls-pin alarm",
    );
    expect(sending).toMatchObject({ party: 'cn', cause: 'relay-geneva' });
    expect(sending.message).toContain("not the relay's pin");
    const collecting = await eventually(
      async () => (await cn.store.openAlarms()).find((a) => a.type === 'tls-pin'),
      15_000,
      "Beijing's tls-pin alarm",
    );
    expect(collecting.party).toBeNull();
    expect(collecting.message).toContain('nothing was collected');
    // Every poll is refused again: one alarm per relay, counted.
    await eventually(
      async () =>
        ((await cn.store.openAlarms()).find((a) => a.type === 'tls-pin')?.count ?? 0) > 2 ||
        undefined,
      15_000,
      'the collector alarm counted',
    );
    expect((await cn.store.openAlarms()).filter((a) => a.type === 'tls-pin')).toHaveLength(1);
    // Each side closed the connection at the proxy's certificate: nothing reached the relay.
    expect(relay.boxes.stored.envelope).toBe(0);
    expect((await us.store.getOutbox('cn', id))?.status).toBe('pending');
    expect(await cn.store.listInbox(10)).toEqual([]);
  }, 30_000);
});

describe('a party still on version 1 and a relay', () => {
  let pair: Pair;
  let relay: RunningRelay;
  beforeAll(async () => {
    pair = await createPair({ relayPollMs: 100 }, () => ({}), { version1: ['cn'] });
    relay = await relayFor(pair);
    configure(pair.us, relayPath(relay.url, relay.pin));
    // Beijing has no TLS key: it reaches the relay over plain HTTP, as before.
    configure(pair.cn, { relays: [relay.url.replace('https:', 'http:')] });
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);
  afterAll(async () => {
    await pair?.close();
    await relay?.stop();
  });

  test('collects over plain HTTP for itself, while Washington is taken over TLS only', async () => {
    const us = pair.us.running;
    const cn = pair.cn.running;
    if (!us || !cn) throw new Error('not running');
    const { id } = await us.node.release(['cn'], draft());
    await eventually(
      async () => ((await us.store.getOutbox('cn', id))?.status === 'receipted' ? true : undefined),
      20_000,
      'a receipt through the relay',
    );
    expect((await cn.store.listInbox(10)).map((r) => r.id)).toEqual([id]);
    // Plain HTTP claiming Washington, whose card pins a TLS key: refused.
    const plain = relay.url.replace('https:', 'http:');
    const collect = `${plain}/relay/v1/boxes/us?after=0&limit=256`;
    const answer = await fetch(collect, { headers: signedAs(pair.us, 'GET', collect) });
    expect(answer.status).toBe(403);
    expect(await answer.json()).toMatchObject({ error: { code: 'E_TLS_REQUIRED' } });
  }, 30_000);
});
