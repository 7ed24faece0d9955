/**
 * Several paths to a peer: failover on a send timeout, flash on every path, receivers showing a
 * message once however often it arrives, and the state of each path in the operator's status.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { FaultProxy } from '../../../test/support/faultproxy.ts';
import { createPair, draft, eventually, type Pair, type Site } from '../../../test/support/pair.ts';
import { proxyTls } from '../../../test/support/tls.ts';
import type { Config } from '../core/config.ts';
import { parseConfig, readConfig, writeConfig } from '../core/config.ts';
import { ACK_ALARMS } from '../incidents/escalation.ts';
import { relayConnection } from './paths.ts';

function configure(site: Site, extra: Partial<Config>): void {
  writeConfig(site.dir, { ...readConfig(site.dir), ...extra });
}

async function receipted(site: Site, party: string, id: string): Promise<void> {
  await eventually(
    async () =>
      (await site.running?.store.getOutbox(party, id))?.status === 'receipted' ? true : undefined,
    20_000,
    `${id} receipted`,
  );
}

describe('paths', () => {
  let pair: Pair;
  const proxies: FaultProxy[] = [];

  afterEach(async () => {
    await pair?.close();
    for (const p of proxies.splice(0)) await p.close();
  });

  /** Washington reaches Beijing through two proxies: `direct` (preferred) and `alternate`. */
  async function twoPaths(settings: Partial<Config> = {}) {
    // Over pinned mutual TLS: the proxies hold both nodes' keys to stand in the middle.
    pair = await createPair(settings);
    const port = Number(pair.cn.listen.split(':')[1]);
    const tls = proxyTls(pair.cn.dir, pair.us.dir);
    for (const seed of [1, 2])
      proxies.push(await FaultProxy.start({ targetPort: port, seed, tls }));
    const [direct, alternate] = proxies as [FaultProxy, FaultProxy];
    configure(pair.us, {
      paths: {
        cn: [
          { id: 'direct', kind: 'direct', url: direct.url, priority: 0 },
          { id: 'alternate', kind: 'direct', url: alternate.url, priority: 10 },
        ],
      },
    });
    // Beijing first: with heartbeats far apart, Washington's first one must find it serving.
    const cn = await pair.start(pair.cn);
    const us = await pair.start(pair.us);
    await eventually(
      async () => us.paths.status('cn').paths.every((p) => p.state === 'up') || undefined,
      10_000,
      'both paths up',
    );
    return { us, cn, direct, alternate };
  }

  test('a batch unanswered on the preferred path within failoverMs goes over the next one', async () => {
    // Heartbeats an hour apart: only the send timeout can notice the dead path.
    const { us, cn, direct } = await twoPaths({
      heartbeatMs: 600_000,
      outbox: {
        batch: 256,
        backoffBaseMs: 60_000,
        backoffMaxMs: 120_000,
        sendTimeoutMs: 30_000,
        failoverMs: 300,
      },
    });
    direct.blackhole = true;
    const { id } = await us.node.release(['cn'], draft());
    await receipted(pair.us, 'cn', id);
    const status = us.paths.status('cn');
    expect(status.failovers).toBeGreaterThanOrEqual(1);
    expect(status.lastFailover).toMatchObject({ from: 'direct', to: 'alternate' });
    expect(status.lastFailover?.reason).toMatch(/no answer in 300 ms/);
    expect((await cn.store.listInbox(10)).map((r) => r.id)).toEqual([id]);
    const metrics = await us.metrics.registry.metrics();
    expect(metrics).toMatch(
      /hotline_path_failovers_total\{[^}]*from="direct",to="alternate"[^}]*\} [1-9]/,
    );
  });

  test('a refused connection fails over at once, and the dead path drops behind the live one', async () => {
    const { us, direct } = await twoPaths({ heartbeatMs: 600_000 });
    direct.partition(600_000);
    const { id } = await us.node.release(['cn'], draft());
    await receipted(pair.us, 'cn', id);
    const [first, second] = us.paths.status('cn').paths;
    expect(first).toMatchObject({ path: 'alternate', state: 'up' });
    expect(second).toMatchObject({ path: 'direct', state: 'degraded', failures: 1 });
    expect(second?.lastError).toBeTruthy();
  });

  test('flash goes on every healthy path at once; Beijing shows it once', async () => {
    const { us, cn, direct, alternate } = await twoPaths({ heartbeatMs: 600_000 });
    // Batches posted, whatever their query (a sender names the size it witnessed, `?witnessed=`).
    const envelopes = (p: FaultProxy) =>
      [...p.seen]
        .filter(([line]) => line.split('?')[0] === 'POST /federation/v1/envelopes')
        .reduce((sum, [, n]) => sum + n, 0);
    const { id: routine } = await us.node.release(['cn'], draft());
    await receipted(pair.us, 'cn', routine);
    expect([envelopes(direct), envelopes(alternate)]).toEqual([1, 0]);

    const { id: flash } = await us.node.release(['cn'], draft({ precedence: 'flash' }));
    await receipted(pair.us, 'cn', flash);
    await eventually(async () => (envelopes(alternate) === 1 ? true : undefined), 10_000);
    expect(envelopes(direct)).toBe(2);
    const inbox = (await cn.store.listInbox(10)).map((r) => r.id);
    expect(inbox.sort()).toEqual([routine, flash].sort());
  });

  test('the operator status lists every path with its state', async () => {
    const { us } = await twoPaths();
    const { peers } = (await (
      await fetch(`${us.operatorUrl}/api/v1/status`, {
        headers: { authorization: `Bearer ${await tokenOf(pair.us)}` },
      })
    ).json()) as { peers: Array<{ paths: Array<{ path: string; state: string }> }> };
    expect(peers[0]?.paths.map((p) => [p.path, p.state])).toEqual([
      ['direct', 'up'],
      ['alternate', 'up'],
    ]);
  });

  test('a message whose sent time is far off is accepted, and raises a skew alarm', async () => {
    pair = await createPair({ skewAlarmMs: 60_000 });
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    const hourAgo = new Date(Date.now() - 3_600_000);
    const { id } = await us.node.release(['cn'], draft(), hourAgo);
    await receipted(pair.us, 'cn', id);
    expect((await cn.store.listInbox(10)).map((r) => r.id)).toEqual([id]);
    const alarms = (await cn.store.openAlarms()).filter((a) => !ACK_ALARMS.has(a.type));
    expect(alarms.map((a) => a.type)).toEqual(['skew']);
    expect(alarms[0]?.message).toContain(hourAgo.toISOString());
  });
});

async function tokenOf(site: Site): Promise<string> {
  const { readToken } = await import('../core/data.ts');
  return readToken(site.dir);
}

describe('how a relay is called', () => {
  const pin = 'ab'.repeat(32);
  const identity = { key: 'k', cert: 'c', pin: 'cd'.repeat(32) };
  const config = parseConfig({
    party: 'us',
    relays: [{ url: 'https://geneva.example:7200', pin }, 'https://ca-signed.example'],
    paths: {
      cn: [
        { id: 'vienna', kind: 'relay', url: 'https://vienna.example/hotline', priority: 50, pin },
      ],
    },
  });

  test('a relay the configuration pins, wherever its URL comes from, over pinned TLS only', () => {
    // As a peer's card of version 1 might list it: http:, a trailing slash.
    expect(relayConnection(config, identity, 'http://geneva.example:7200/')).toEqual({
      url: 'https://geneva.example:7200/',
      tls: { pin, identity },
      pinned: true,
    });
    expect(relayConnection(config, identity, 'https://vienna.example/hotline').tls.pin).toBe(pin);
  });

  test('a relay it does not pin is called as its URL says, with our certificate', () => {
    for (const url of ['https://ca-signed.example', 'http://elsewhere.example:7200'])
      expect(relayConnection(config, identity, url)).toEqual({
        url,
        tls: { pin: undefined, identity },
        pinned: false,
      });
    // Another port is another relay.
    expect(relayConnection(config, identity, 'https://geneva.example:7201').pinned).toBe(false);
  });
});
