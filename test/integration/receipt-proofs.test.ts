/**
 * Consistency proofs with the receipts answer: Washington names the size of Beijing's log it has
 * witnessed when it posts a batch, and Beijing's answer carries the proofs the receipts need, so
 * a flash is receipted in one round trip — Beijing answers no GET …/proof/consistency. A peer that
 * does not know the field (played here by a proxy that drops the query, as an older node ignores
 * it) answers without proofs, and Washington falls back to asking for each one.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import type { FaultProxy } from '../support/faultproxy.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { proxyPath } from '../support/tls.ts';

describe('consistency proofs with the receipts answer', () => {
  let pair: Pair;
  let proxy: FaultProxy;
  const us = () => pair.us.running as RunningNode;
  const cn = () => pair.cn.running as RunningNode;

  /** Requests Beijing's federation listener answered on one route, by its own count. */
  async function answered(route: string, method: string): Promise<number> {
    const { values } = await cn().metrics.federationRequests.get();
    return values
      .filter((v) => v.labels.route === route && v.labels.method === method)
      .reduce((sum, v) => sum + v.value, 0);
  }
  const proofGets = () => answered('/federation/v1/proof/consistency', 'GET');
  const batchPosts = () => answered('/federation/v1/envelopes', 'POST');

  /** Batches posted to Beijing naming the size of its log Washington witnessed. */
  const namedWitnessed = () =>
    [...proxy.seen]
      .filter(([line]) =>
        /^POST \/federation\/v1\/envelopes\?witnessed=[1-9][0-9]*&wait=\d+$/.test(line),
      )
      .reduce((sum, [, n]) => sum + n, 0);

  /** Washington sends flash messages one at a time, each receipted before the next. */
  async function flashes(n: number): Promise<void> {
    for (let i = 0; i < n; i++) {
      const { id } = await us().node.release(['cn'], draft({ precedence: 'flash' }));
      await eventually(
        async () =>
          (await us().store.getOutbox('cn', id))?.status === 'receipted' ? true : undefined,
        20_000,
        `a receipt for flash ${i + 1}`,
      );
    }
  }

  beforeAll(async () => {
    // Heartbeats once a minute: the proofs counted are the receipts', not the heartbeats'.
    // Over pinned mutual TLS: the proxy holds both nodes' keys to read the requests inside.
    pair = await createPair({ heartbeatMs: 60_000 });
    await pair.start(pair.cn);
    proxy = await proxyPath(pair.us, pair.cn, 19);
    await pair.start(pair.us);
    // Washington witnesses a checkpoint of Beijing's log first (the first receipt's, at least).
    await flashes(1);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    await proxy?.close();
  });

  test('a peer that is asked answers with the proofs: no second request per flash', async () => {
    const gets = await proofGets();
    const posts = await batchPosts();
    const before = (await us().witness.witnessedSize('cn')) ?? 0;
    const named = namedWitnessed();
    await flashes(5);
    expect(await batchPosts()).toBe(posts + 5);
    expect(await proofGets()).toBe(gets);
    // Every batch named the size witnessed, and each receipt's larger checkpoint was proven and
    // accepted with the proofs that came with it.
    expect(namedWitnessed()).toBe(named + 5);
    expect(await us().witness.witnessedSize('cn')).toBeGreaterThan(before);
  });

  test('a peer that ignores the question is asked for each proof, as before', async () => {
    proxy.rewriteLine = (line) => line.replace(/\?witnessed=\d+&wait=\d+$/, '');
    const gets = await proofGets();
    await flashes(3);
    // Each receipt's checkpoint is larger than the last: Washington asks for each proof.
    expect(await proofGets()).toBeGreaterThanOrEqual(gets + 3);
  });
});
