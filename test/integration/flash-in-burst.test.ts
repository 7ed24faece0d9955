/**
 * A flash released during a burst of routine releases (issue 19). Releases are signed and
 * committed in groups of up to 512, and the node went from one group to the next without its
 * event loop turning: a flash released behind 4,096 routine messages was committed after all of
 * them, and nothing left the node — not even a flash already committed — until the whole burst
 * was. Now a group takes a flash waiting beyond it first, and the loop turns between full groups,
 * so the flash is in the next group and crosses to the peer while the burst is still being
 * released.
 */
import { afterEach, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';

/** Eight full groups. */
const BURST = 4096;

let pair: Pair;

afterEach(async () => {
  await pair?.close();
});

test('a flash released behind a burst is receipted before the burst is released', async () => {
  pair = await createPair({ heartbeatMs: 600_000 });
  const cn = await pair.start(pair.cn);
  const us = await pair.start(pair.us);
  // The link is up before the burst.
  await us.node.release(['cn'], draft());
  await eventually(async () => ((await us.store.pendingCount('cn')) === 0 ? true : undefined));

  let released = 0;
  const burst = Array.from({ length: BURST }, () =>
    us.node.release(['cn'], draft()).then(() => {
      released++;
    }),
  );
  const flash = us.node.release(['cn'], draft({ precedence: 'flash' }));
  const at: { release?: number; arrival?: number; receipt?: number } = {};
  const { id } = await flash;
  at.release = released;
  const receive = cn.node.receiveBatch.bind(cn.node);
  cn.node.receiveBatch = (envelopes, now) => {
    if (envelopes.some((e) => (e as { header?: { id?: unknown } }).header?.id === id))
      at.arrival ??= released;
    return receive(envelopes, now);
  };
  us.events.on('receipted', (_party, ids) => {
    if (ids.includes(id)) at.receipt ??= released;
  });
  await Promise.all(burst);

  // Routine releases resolved by then: the flash went in the first group, and reached Beijing
  // and came back receipted while most of the burst was still to be signed.
  expect(at.release).toBe(0);
  expect(at.arrival).toBeLessThan(BURST);
  expect(at.receipt).toBeLessThan(BURST);
  await eventually(
    async () => ((await us.store.pendingCount('cn')) === 0 ? true : undefined),
    120_000,
    'the burst receipted',
  );
  expect((await cn.store.listInbox(BURST + 10)).length).toBe(BURST + 2);
}, 180_000);
