import { describe, expect, test } from 'vitest';
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
  test('are set aside for two minutes from the first, then alarm', () => {
    const wait = new CardWait(2000);
    expect(wait.waiting(1_000)).toBe(true);
    expect(wait.waiting(120_999)).toBe(true);
    expect(wait.waiting(121_000)).toBe(false);
  });

  test('start a new grace once a receipt verified or the card was re-pinned', () => {
    const wait = new CardWait(2000);
    wait.waiting(0);
    wait.clear();
    expect(wait.waiting(200_000)).toBe(true);
  });

  test('wait at least three heartbeats when heartbeats are slow', () => {
    const wait = new CardWait(600_000);
    expect(wait.waiting(0)).toBe(true);
    expect(wait.waiting(1_799_999)).toBe(true);
    expect(wait.waiting(1_800_000)).toBe(false);
  });
});
