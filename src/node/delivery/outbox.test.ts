import { describe, expect, test } from 'vitest';
import type { Card, KeyEntry } from '../../protocol/card.ts';
import { backoffMs, CardWait } from './outbox.ts';

describe('retry backoff', () => {
  test('doubles from the base, is capped, and jitters within half a step', () => {
    expect(backoffMs(1, 250, 30_000, () => 1)).toBe(250);
    expect(backoffMs(3, 250, 30_000, () => 1)).toBe(1000);
    expect(backoffMs(3, 250, 30_000, () => 0)).toBe(500);
    expect(backoffMs(40, 250, 30_000, () => 1)).toBe(30_000);
  });
});

describe('receipts signed by a key the pinned card lacks', () => {
  const key = (kid: string) => ({ kid, purpose: 'signing', alg: 'ed25519', pub: '' }) as KeyEntry;
  const peer = {
    card: { keys: [] as KeyEntry[] } as Card,
    retired: [{ key: key('old'), untilSeq: 9 }],
  };

  test('wait for two minutes from the first of that key, then alarm', () => {
    const wait = new CardWait(2000);
    expect(wait.waiting('new', peer, 1_000)).toBe(true);
    expect(wait.waiting('other', peer, 60_000)).toBe(true);
    expect(wait.waiting('new', peer, 120_999)).toBe(true);
    expect(wait.waiting('new', peer, 121_000)).toBe(false);
    // Each key has its own grace: another's receipts do not extend it.
    expect(wait.waiting('other', peer, 179_999)).toBe(true);
    expect(wait.waiting('other', peer, 180_000)).toBe(false);
  });

  test('wait at least three heartbeats when heartbeats are slow', () => {
    const wait = new CardWait(600_000);
    expect(wait.waiting('new', peer, 0)).toBe(true);
    expect(wait.waiting('new', peer, 1_799_999)).toBe(true);
    expect(wait.waiting('new', peer, 1_800_000)).toBe(false);
  });

  test('alarm at once for a key a rotation retired, or past a bound of unknown keys', () => {
    const wait = new CardWait(2000);
    expect(wait.waiting('old', peer, 0)).toBe(false);
    for (let i = 0; i < 16; i++) expect(wait.waiting(`k${i}`, peer, 0)).toBe(true);
    expect(wait.waiting('k16', peer, 0)).toBe(false);
    expect(wait.waiting('k3', peer, 1)).toBe(true);
    // A rotation brought k0 and k1: they are forgotten, and two new keys may wait again.
    const rotated = { ...peer, card: { keys: [key('k0'), key('k1')] } as Card };
    expect(wait.waiting('k16', rotated, 2)).toBe(true);
    expect(wait.waiting('k17', rotated, 2)).toBe(true);
    expect(wait.waiting('k18', rotated, 2)).toBe(false);
  });
});
