import { describe, expect, test } from 'vitest';
import { SeqTracker } from './seqs.ts';

describe('which seqs arrived', () => {
  test('reports the contiguous prefix and the ranges above it', () => {
    const t = new SeqTracker([1, 2, 3, 5, 6, 9]);
    expect(t.contiguous).toBe(3);
    expect(t.ranges(64)).toEqual([
      [5, 6],
      [9, 9],
    ]);
    t.add(4);
    expect(t.contiguous).toBe(6);
    expect(t.ranges(64)).toEqual([[9, 9]]);
  });

  test('a peer report answers whether it has a seq', () => {
    const report = SeqTracker.fromReport(3, [[5, 6]]);
    expect([1, 3, 4, 5, 6, 7].map((s) => report.has(s))).toEqual([
      true,
      true,
      false,
      true,
      true,
      false,
    ]);
  });
});
