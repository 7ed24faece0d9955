import { describe, expect, test } from 'vitest';
import type { BatchResult } from '../protocol/federation.ts';
import { BatchAnswers, KEEP_ANSWERED, KEEP_MS, within } from './batch-answers.ts';

const result = (n: number): BatchResult => ({
  receipts: [],
  rejected: [{ index: n, code: 'E_MALFORMED', message: `batch ${n}` }],
});

describe('batch answers', () => {
  test('a batch sent again while in work joins that work: it is done once', async () => {
    const batches = new BatchAnswers();
    let runs = 0;
    let finish: (r: BatchResult) => void = () => {};
    const work = () => {
      runs++;
      return new Promise<BatchResult>((resolve) => {
        finish = resolve;
      });
    };
    const first = batches.answer('a', work);
    const second = batches.answer('a', work);
    expect(batches.inWork).toBe(1);
    finish(result(1));
    expect(await first).toEqual(result(1));
    expect(await second).toEqual(result(1));
    expect(runs).toBe(1);
    // Answered lately: the same answer again, from the poll and from a resend.
    expect(await batches.get('a')).toEqual(result(1));
    expect(await batches.answer('a', work)).toEqual(result(1));
    expect(runs).toBe(1);
    expect(batches.get('b')).toBeUndefined();
  });

  test('a failed batch is forgotten, so sending it again runs it again', async () => {
    const batches = new BatchAnswers();
    await expect(batches.answer('a', () => Promise.reject(new Error('E_STORE')))).rejects.toThrow(
      'E_STORE',
    );
    expect(batches.get('a')).toBeUndefined();
    expect(await batches.answer('a', async () => result(2))).toEqual(result(2));
  });

  test('answers are kept a while and a few at most; work in progress is never dropped', async () => {
    let now = 0;
    const batches = new BatchAnswers(() => now);
    const pending = batches.answer('in work', () => new Promise<BatchResult>(() => {}));
    for (let i = 0; i < KEEP_ANSWERED + 5; i++)
      await batches.answer(`k${i}`, async () => result(i));
    expect(batches.get('k0')).toBeUndefined();
    expect(batches.get(`k${KEEP_ANSWERED + 4}`)).toBeDefined();
    now += KEEP_MS + 1;
    expect(batches.get(`k${KEEP_ANSWERED + 4}`)).toBeUndefined();
    expect(batches.get('in work')).toBe(pending);
  });

  test('within answers what is done in time, and undefined for what is not', async () => {
    expect(await within(Promise.resolve(1), 1000)).toBe(1);
    expect(await within(new Promise(() => {}), 10)).toBeUndefined();
  });
});
