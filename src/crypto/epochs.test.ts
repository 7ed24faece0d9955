/**
 * Epoch bookkeeping: the sender opens as few epochs as its policy allows, the receiver remembers
 * secrets it was told to, and forgets the least recently used first.
 */
import { describe, expect, it } from 'vitest';
import { EpochCache, type EpochRef, SenderEpochs } from './epochs.ts';
import { generateSealingKey, openRecipientEpoch } from './seal.ts';

const beijing = await generateSealingKey('x25519');
const brussels = await generateSealingKey('x25519');

function clock(start = 0) {
  const time = { now: start };
  return { time, now: () => time.now };
}

describe('SenderEpochs', () => {
  it('seal many messages to one recipient under one epoch', async () => {
    const epochs = new SenderEpochs('us');
    const first = await epochs.next('cn', 'x25519', beijing.publicKey);
    for (let i = 0; i < 5; i++)
      expect(await epochs.next('cn', 'x25519', beijing.publicKey)).toBe(first);
    const secret = await openRecipientEpoch(
      'x25519',
      beijing.secret,
      'us',
      'cn',
      first.id,
      first.enc,
    );
    expect(secret).toEqual(first.secret);
  });

  it('open a new epoch once one has sealed its maximum of messages', async () => {
    const epochs = new SenderEpochs('us', { maxMessages: 3, maxAgeMs: 3_600_000 });
    const used = [];
    for (let i = 0; i < 7; i++) used.push(await epochs.next('cn', 'x25519', beijing.publicKey));
    expect(new Set(used).size).toBe(3);
    expect(used[0]).toBe(used[2]);
    expect(used[3]).not.toBe(used[2]);
    expect(used[3]).toBe(used[5]);
    expect(used[6]).not.toBe(used[5]);
  });

  it('open a new epoch once one is older than its maximum age', async () => {
    const { time, now } = clock(1_000);
    const epochs = new SenderEpochs('us', { maxMessages: 100, maxAgeMs: 60_000 }, now);
    const first = await epochs.next('cn', 'x25519', beijing.publicKey);
    time.now += 59_999;
    expect(await epochs.next('cn', 'x25519', beijing.publicKey)).toBe(first);
    time.now += 1;
    const second = await epochs.next('cn', 'x25519', beijing.publicKey);
    expect(second).not.toBe(first);
    expect(second.id).not.toEqual(first.id);
  });

  it('open a new epoch when the recipient rotates its sealing key', async () => {
    const epochs = new SenderEpochs('us');
    const before = await epochs.next('cn', 'x25519', beijing.publicKey);
    const rotated = await generateSealingKey('x25519');
    const after = await epochs.next('cn', 'x25519', rotated.publicKey);
    expect(after).not.toBe(before);
    const secret = await openRecipientEpoch(
      'x25519',
      rotated.secret,
      'us',
      'cn',
      after.id,
      after.enc,
    );
    expect(secret).toEqual(after.secret);
  });

  it('keep one epoch per recipient and suite', async () => {
    const epochs = new SenderEpochs('us');
    const toBeijing = await epochs.next('cn', 'x25519', beijing.publicKey);
    const toBrussels = await epochs.next('eu', 'x25519', brussels.publicKey);
    expect(toBrussels).not.toBe(toBeijing);
    expect(await epochs.next('cn', 'x25519', beijing.publicKey)).toBe(toBeijing);
    const xwing = await generateSealingKey('x-wing');
    const hybrid = await epochs.next('cn', 'x-wing', xwing.publicKey);
    expect(hybrid.suite).toBe('x-wing');
    expect(await epochs.next('cn', 'x25519', beijing.publicKey)).toBe(toBeijing);
  });

  it('share one encapsulation between messages sealed at the same moment', async () => {
    const epochs = new SenderEpochs('us');
    const all = await Promise.all(
      Array.from({ length: 8 }, () => epochs.next('cn', 'x25519', beijing.publicKey)),
    );
    expect(new Set(all).size).toBe(1);
  });
});

describe('EpochCache', () => {
  const enc = (n: number): EpochRef => ({
    suite: 'x25519',
    id: new Uint8Array(16).fill(n),
    enc: new Uint8Array(32).fill(n),
  });
  const secret = (n: number) => new Uint8Array(32).fill(100 + n);

  it('answers a remembered secret for the same sender and epoch only', () => {
    const cache = new EpochCache();
    expect(cache.get('us', enc(1))).toBeUndefined();
    cache.remember('us', enc(1), secret(1));
    expect(cache.get('us', enc(1))).toEqual(secret(1));
    expect(cache.get('eu', enc(1))).toBeUndefined();
    expect(cache.get('us', enc(2))).toBeUndefined();
    expect(cache.get('us', { ...enc(1), suite: 'x-wing' })).toBeUndefined();
    expect(cache.get('us', { ...enc(1), id: new Uint8Array(16) })).toBeUndefined();
    expect(cache.get('us', { ...enc(1), enc: new Uint8Array(32) })).toBeUndefined();
    expect(cache.size).toBe(1);
  });

  it('forgets the least recently used secret when full', () => {
    const cache = new EpochCache(2);
    cache.remember('us', enc(1), secret(1));
    cache.remember('us', enc(2), secret(2));
    expect(cache.get('us', enc(1))).toEqual(secret(1));
    cache.remember('us', enc(3), secret(3));
    expect(cache.size).toBe(2);
    expect(cache.get('us', enc(2))).toBeUndefined();
    expect(cache.get('us', enc(1))).toEqual(secret(1));
    expect(cache.get('us', enc(3))).toEqual(secret(3));
  });

  it('does not grow when the same epoch is remembered again', () => {
    const cache = new EpochCache(2);
    for (let i = 0; i < 5; i++) cache.remember('us', enc(1), secret(1));
    expect(cache.size).toBe(1);
  });
});
