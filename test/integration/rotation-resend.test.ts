/**
 * A message received just before a rotation, whose answer was lost. Washington stores Beijing's
 * message and receipts it, but the answer never reaches Beijing. Washington then rotates every
 * online key and Beijing applies the rotation before it resends. The resend is a duplicate, and
 * the receipt Washington gave for it is signed by keys Beijing now knows as retired: Washington
 * must answer with a receipt under its current keys, so that the message is receipted and
 * nobody is blamed for a legitimate rotation.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import type { RunningNode } from '../../src/app/start.ts';
import type { FaultProxy } from '../support/faultproxy.ts';
import { createPair, draft, eventually, type Pair, recordFailures } from '../support/pair.ts';
import { proxyPath } from '../support/tls.ts';

describe('a resend answered after the receiver rotated its keys', () => {
  let pair: Pair;
  let proxy: FaultProxy;
  const us = () => pair.us.running as RunningNode;
  const cn = () => pair.cn.running as RunningNode;
  const statusAtCn = async (id: string) => (await cn().store.getOutbox('us', id))?.status;
  const receiptsToCn = async () =>
    (
      await us()
        .store.db.selectFrom('receipts')
        .select('receipt')
        .where('dir', '=', 'out')
        .where('party', '=', 'cn')
        .execute()
    ).map((r) => JSON.parse(r.receipt) as { receipt: { kid: string; entries: { id: string }[] } });
  const signingKid = () =>
    cn()
      .peers.pinned('us')
      .card.keys.find((k) => k.purpose === 'signing')?.kid;

  beforeAll(async () => {
    pair = await createPair();
    await pair.start(pair.us);
    // Beijing reaches Washington through a proxy that can lose Washington's answers.
    proxy = await proxyPath(pair.cn, pair.us, 11);
    await pair.start(pair.cn);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    await proxy?.close();
  });

  test('gets receipts under the new keys, without an alarm', async () => {
    proxy.loseAnswers = (line) => line.startsWith('POST /federation/v1/envelopes');
    // Two messages, each stored with a receipt of its own whose answer is lost.
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const { id } = await cn().node.release(['us'], draft());
      await eventually(
        async () => ((await us().store.listInbox(100)).some((m) => m.id === id) ? true : undefined),
        20_000,
        `message ${id} at us`,
      );
      ids.push(id);
    }
    for (const id of ids) expect(await statusAtCn(id)).toBe('pending');
    const oldKid = signingKid();
    expect((await receiptsToCn()).map((r) => r.receipt.kid)).toEqual([oldKid, oldKid]);

    await pair.stop(pair.us);
    await rotateDataDir(pair.us.dir, { reason: 'routine' });
    await pair.start(pair.us);
    await eventually(
      async () => (cn().peers.pinned('us').card.serial === 2 ? true : undefined),
      20_000,
      'Beijing pinned serial 2',
    );
    const newKid = signingKid();
    expect(newKid).not.toBe(oldKid);

    proxy.loseAnswers = undefined;
    await cn()
      .store.db.updateTable('outbox')
      .set({ next_attempt_at: Date.now() })
      .where('party', '=', 'us')
      .where('id', 'in', ids)
      .execute();
    cn().outbox.kick('us');
    for (const id of ids)
      await eventually(
        async () => ((await statusAtCn(id)) === 'receipted' ? true : undefined),
        20_000,
        `the resent message ${id} receipted`,
      );
    expect((await cn().store.openAlarms()).map((a) => `${a.type}: ${a.message}`)).toEqual([]);
    expect((await us().store.openAlarms()).map((a) => `${a.type}: ${a.message}`)).toEqual([]);

    // Each given again once: a later resend is answered with the receipts kept in their place.
    const given = await receiptsToCn();
    expect(given.map((r) => r.receipt.kid)).toEqual([oldKid, oldKid, newKid, newKid]);
    expect(given.slice(2).flatMap((r) => r.receipt.entries.map((e) => e.id))).toEqual(
      expect.arrayContaining(ids),
    );
    const envelopes = [];
    for (const id of ids) envelopes.push((await cn().store.getOutbox('us', id))?.envelope);
    const again = await us().node.receiveBatch(envelopes);
    expect(again.rejected).toEqual([]);
    expect(again.receipts.map((r) => r.receipt.kid)).toEqual([newKid, newKid]);
    expect(await receiptsToCn()).toHaveLength(4);

    // Both records, the receipt given again among Washington's, verify offline and agree.
    expect(await recordFailures(pair)).toEqual({ us: [], cn: [], between: [] });
  }, 90_000);
});
