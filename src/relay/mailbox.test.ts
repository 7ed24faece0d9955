import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { type Deposit, Mailboxes, MailboxFull } from './mailbox.ts';

/** A relay's boxes: no one box takes the whole relay, and what nobody collects expires. */
let dir: string;
let boxes: Mailboxes;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotline-mailbox-'));
  boxes = new Mailboxes(join(dir, 'relay.db'), {
    maxBytes: 4000,
    maxItemsPerBox: 100,
    maxBytesPerBox: 1000,
    maxAgeMs: 3600_000,
  });
});
afterEach(() => {
  boxes.close();
  rmSync(dir, { recursive: true, force: true });
});

const item = (key: string): Deposit => ({
  kind: 'envelope',
  from: 'us',
  key,
  data: 'x'.repeat(400),
});

test('a box full of uncollected items refuses more, and the other boxes still take theirs', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  boxes.deposit('cn', [item('a'), item('b')], now);
  expect(() => boxes.deposit('cn', [item('c')], now)).toThrow(MailboxFull);
  expect(() => boxes.deposit('cn', [item('c')], now)).toThrow(/box of "cn" holds 800 bytes/);
  expect(boxes.deposit('eu', [item('a'), item('b')], now)).toEqual({ stored: 2, held: 2 });
  expect(boxes.bytes).toBe(1600);
});

test('items older than the age limit are dropped, freeing their box', () => {
  const now = Date.parse('2026-06-01T00:00:00Z');
  boxes.deposit('cn', [item('a'), item('b')], now);
  const later = now + 3600_000 + 1000;
  expect(boxes.deposit('cn', [item('c')], later)).toEqual({ stored: 1, held: 1 });
  expect(boxes.collect('cn', 0, 10).map((i) => i.n)).toEqual([3]);
  expect(boxes.bytes).toBe(400);
});
