/**
 * Card expiry is announced well before it bites, for our own card and each peer's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type OneNode, openNode } from '../../../test/support/node.ts';
import { checkCardExpiry } from './expiry.ts';

let node: OneNode;
beforeAll(async () => {
  node = await openNode();
}, 30_000);
afterAll(async () => {
  await node.close();
});

const DAY = 24 * 3600 * 1000;
const at = (ms: number) => () => new Date(ms);

describe('card expiry', () => {
  it('says nothing while both cards have more than 30 days left', async () => {
    const expires = Date.parse(node.card.card.expires);
    await checkCardExpiry({ ...node, clock: at(expires - 31 * DAY) });
    expect(await node.store.openAlarms()).toEqual([]);
  });

  it('warns once, 30 days before, about our card and the peer’s', async () => {
    const expires = Date.parse(node.card.card.expires);
    await checkCardExpiry({ ...node, clock: at(expires - 29 * DAY) });
    await checkCardExpiry({ ...node, clock: at(expires - 28 * DAY) });
    const alarms = (await node.store.openAlarms()).filter((a) => a.type === 'card-expiring');
    expect(alarms.map((a) => a.party).sort()).toEqual(['cn', null].sort());
    expect(alarms.find((a) => a.party === null)?.message).toContain('run hotline rotate');
  });

  it('raises card-expired once the date has passed', async () => {
    const expires = Date.parse(node.peers.pinned('cn').card.expires);
    await checkCardExpiry({ ...node, clock: at(expires + DAY) });
    const expired = (await node.store.openAlarms()).filter((a) => a.type === 'card-expired');
    expect(expired.map((a) => a.party)).toContain('cn');
    expect(expired.find((a) => a.party === 'cn')?.message).toContain('messages are refused');
  });
});
