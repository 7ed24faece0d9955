import pino from 'pino';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair } from '../../../test/support/pair.ts';
import type { PostgresChannel } from '../../store/postgres/notify.ts';
import { NodeEvents } from './events.ts';
import { Peers } from './peers.ts';
import { ReplicaFeed } from './replica-feed.ts';

let pair: Pair;
beforeEach(async () => {
  pair = await createPair();
});
afterEach(async () => {
  await pair.close();
});

/** A channel on which no word of another replica ever comes (its publisher died, say). */
const silent = {
  listen: async () => {},
  publish: async () => {},
  close: async () => {},
} as unknown as PostgresChannel;

/**
 * A replica counts every message the party's store holds, also those no notice of reached it: a
 * replica killed between its commit and its notice leaves the others none, and their status and
 * heartbeats would report the seqs as missing for good.
 */
test('a replica that heard nothing counts what another stored, from the store', async () => {
  const us = await pair.start(pair.us);
  const cn = await pair.start(pair.cn);
  // Another replica of us over the same store: its own seqs received, and a feed that hears nothing.
  const other = await Peers.open(us.store);
  const feed = new ReplicaFeed(new NodeEvents(), 'us-2', pino({ level: 'silent' }), other);
  await feed.start(silent);
  try {
    for (let i = 0; i < 3; i++) await cn.node.release(['us'], draft());
    await eventually(async () => {
      const stored = await us.store.inboxSeqs('cn');
      return stored.length === 3 ? stored : undefined;
    });
    expect(us.peers.received('cn').contiguous).toBe(3);
    await eventually(async () => (other.received('cn').contiguous === 3 ? true : undefined));
    expect(other.received('cn').ranges(8)).toEqual([]);
  } finally {
    await feed.stop();
  }
});
