/**
 * A receiver slower than the sender's timeouts (issue 19). Beijing takes 3 s over every batch,
 * longer than Washington's send timeout (2 s) and far past its failover (500 ms), on two paths.
 * Before, each batch was sent again on the second path at 500 ms and resent whole after every
 * timeout, and none was ever answered in time. Now Beijing says it is still processing (`202`)
 * and Washington waits for the answer: every message is stored once, each envelope is checked
 * once, and the batches posted stay within one per batch and path. Asked without `wait` (as by
 * an older sender), Beijing still checks each batch once: the copy that comes on the second path
 * joins the work already under way.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { readConfig, writeConfig } from '../../src/node/core/config.ts';
import { FaultProxy } from '../support/faultproxy.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { proxyTls } from '../support/tls.ts';

const MESSAGES = 120;
const SLOW_MS = 3000;

describe('a receiver slower than the send timeout', () => {
  let pair: Pair;
  const proxies: FaultProxy[] = [];

  afterEach(async () => {
    await pair?.close();
    for (const p of proxies.splice(0)) await p.close();
  });

  /** Washington → Beijing on two paths; Beijing's batches each take SLOW_MS longer. */
  async function slowPeer(sendTimeoutMs: number) {
    pair = await createPair({
      heartbeatMs: 600_000,
      outbox: {
        batch: 32,
        backoffBaseMs: 100,
        backoffMaxMs: 2000,
        sendTimeoutMs,
        failoverMs: 500,
      },
    });
    const port = Number(pair.cn.listen.split(':').pop());
    // Over pinned mutual TLS: the proxies hold both nodes' keys to read the requests inside.
    const tls = proxyTls(pair.cn.dir, pair.us.dir);
    for (const seed of [1, 2])
      proxies.push(await FaultProxy.start({ targetPort: port, seed, tls }));
    const [direct, alternate] = proxies as [FaultProxy, FaultProxy];
    writeConfig(pair.us.dir, {
      ...readConfig(pair.us.dir),
      paths: {
        cn: [
          { id: 'direct', kind: 'direct', url: direct.url, priority: 0 },
          { id: 'alternate', kind: 'direct', url: alternate.url, priority: 10 },
        ],
      },
    });
    const cn = await pair.start(pair.cn);
    const us = await pair.start(pair.us);
    const work = { batches: 0, envelopes: 0 };
    const receive = cn.node.receiveBatch.bind(cn.node);
    cn.node.receiveBatch = async (envelopes, now) => {
      work.batches++;
      work.envelopes += envelopes.length;
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      return receive(envelopes, now);
    };
    return { us, cn, direct, alternate, work };
  }

  /** Batches posted on both paths, whatever their query. */
  const posts = () =>
    proxies
      .flatMap((p) => [...p.seen])
      .filter(([line]) => line.startsWith('POST /federation/v1/envelopes'))
      .reduce((sum, [, n]) => sum + n, 0);

  async function sendAll(us: RunningNode, cn: RunningNode): Promise<string[]> {
    const ids = (
      await Promise.all(Array.from({ length: MESSAGES }, () => us.node.release(['cn'], draft())))
    ).map((r) => r.id);
    await eventually(
      async () => ((await us.store.pendingCount('cn')) === 0 ? true : undefined),
      90_000,
      'every message receipted',
    );
    const stored = await cn.store.listInbox(MESSAGES * 2);
    expect(stored.map((r) => r.id).sort()).toEqual([...ids].sort());
    return ids;
  }

  test('the sender waits for a batch in work: each message stored once, no resend storm', async () => {
    const { us, cn, work } = await slowPeer(2000);
    await sendAll(us, cn);
    // Nothing was sent again while in work: before, every batch went twice at 500 ms and again
    // after each 2 s timeout, and none was ever answered. (A stall of this loaded machine longer
    // than the send timeout may still fail a batch whose rows then go out in other batches.)
    expect(work.envelopes).toBeLessThan(1.5 * MESSAGES);
    // A POST per batch and a copy on the second path; a stall past the send timeout may add a
    // resend, which joins the batch's work or gets its answer.
    expect(posts()).toBeLessThanOrEqual(3 * work.batches);
    const metrics = await us.metrics.registry.metrics();
    expect(metrics).toMatch(/hotline_batches_processing_total\{peer="cn"[^}]*\} [1-9]/);
  }, 120_000);

  test('a batch sent again on the second path joins the work on it, even unasked', async () => {
    // As from a sender that predates `wait` (the proxies drop the query): the send timeout is
    // longer than Beijing's work, but every batch is copied on the second path at 500 ms.
    const { us, cn, work } = await slowPeer(10_000);
    for (const p of proxies)
      p.rewriteLine = (line) => line.replace(/^(POST \/federation\/v1\/envelopes)\?.*$/, '$1');
    await sendAll(us, cn);
    // Copies were sent, but each joined the work on its batch: every envelope checked once.
    expect(posts()).toBeGreaterThan(work.batches);
    expect(work.envelopes).toBe(MESSAGES);
  }, 120_000);
});
