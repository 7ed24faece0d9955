/**
 * A receipt signed by a peer's new key before its rotation has arrived. Washington was stopped
 * and rotated while Beijing had a message queued for it, long enough for that message's backoff
 * to reach its longest. Washington comes back, stores the message and receipts it with its new
 * signing key, but its rotation has not reached Beijing: here the line from Washington to Beijing
 * is cut, so the rotation waits in Washington's outbox (in the wild, Beijing's lane simply sent
 * first). Beijing cannot verify the receipt yet. It must not raise an alarm blaming Washington for
 * its own rotation, and once the rotation comes the message must be cleared at once, not after
 * its backoff.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import type { RunningNode } from '../../src/app/start.ts';
import type { FaultProxy } from '../support/faultproxy.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { proxyPath } from '../support/tls.ts';

describe('a receipt signed by a key the peer rotated to', () => {
  let pair: Pair;
  let proxy: FaultProxy;
  const us = () => pair.us.running as RunningNode;
  const cn = () => pair.cn.running as RunningNode;

  async function inbox(site: 'us' | 'cn', id: string) {
    await eventually(
      async () =>
        (await pair[site].running?.store.listInbox(100))?.some((m) => m.id === id)
          ? true
          : undefined,
      20_000,
      `message ${id} at ${site}`,
    );
  }
  const statusAtCn = async (id: string) => (await cn().store.getOutbox('us', id))?.status;
  const unknownKeys = async () =>
    (await cn().metrics.rejections.get()).values
      .filter((v) => v.labels.peer === 'us' && v.labels.code === 'E_UNKNOWN_KEY')
      .reduce((sum, v) => sum + v.value, 0);

  beforeAll(async () => {
    pair = await createPair();
    await pair.start(pair.cn);
    // Washington reaches Beijing through a proxy the test can cut; Beijing reaches it directly.
    proxy = await proxyPath(pair.us, pair.cn, 7);
    await pair.start(pair.us);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    await proxy?.close();
  });

  test('is set aside without an alarm, and verifies at once when the rotation comes', async () => {
    const hello = await us().node.release(['cn'], draft());
    await inbox('cn', hello.id);
    await pair.stop(pair.us);
    const queued = (await cn().node.release(['us'], draft())).id;
    await rotateDataDir(pair.us.dir, { reason: 'routine' });
    // A long outage: Beijing's next try after a failed one would wait out the longest backoff.
    await cn()
      .store.db.updateTable('outbox')
      .set({ attempts: 12 })
      .where('party', '=', 'us')
      .where('id', '=', queued)
      .execute();
    proxy.partition(600_000);
    await pair.start(pair.us);
    await cn()
      .store.db.updateTable('outbox')
      .set({ next_attempt_at: Date.now() })
      .where('party', '=', 'us')
      .where('id', '=', queued)
      .execute();
    cn().outbox.kick('us');
    await inbox('us', queued);
    await eventually(
      async () => ((await unknownKeys()) > 0 ? true : undefined),
      20_000,
      'Beijing holding a receipt signed by a key it does not know yet',
    );
    expect(cn().peers.pinned('us').card.serial).toBe(1);
    expect(await statusAtCn(queued)).toBe('pending');
    expect((await cn().store.openAlarms()).map((a) => `${a.type}: ${a.message}`)).toEqual([]);

    proxy.heal();
    await eventually(
      async () => (cn().peers.pinned('us').card.serial === 2 ? true : undefined),
      20_000,
      'Beijing pinned serial 2',
    );
    // Within a few heartbeats of the rotation, well inside the 15–30 s its backoff would take.
    await eventually(
      async () => ((await statusAtCn(queued)) === 'receipted' ? true : undefined),
      8_000,
      'the queued message receipted once the rotation was applied',
    );
    expect((await cn().store.openAlarms()).map((a) => `${a.type}: ${a.message}`)).toEqual([]);
  }, 90_000);
});
