import { describe, expect, test } from 'vitest';
import type { BatchResult } from '../protocol/federation.ts';
import { BatchAnswers, KEEP_ANSWERED, KEEP_MS, within } from './batch-answers.ts';

/** An answer that refused envelope `n`. */
const result = (n: number): BatchResult => ({
  receipts: [],
  rejected: [{ index: n, code: 'E_MALFORMED', message: `batch ${n}` }],
});
/** An answer that refused nothing. */
const clean = (): BatchResult => ({ receipts: [], rejected: [] });

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
    const answer = clean();
    finish(answer);
    expect(await first).toBe(answer);
    expect(await second).toBe(answer);
    expect(runs).toBe(1);
    // Answered lately: the same answer again, from the poll and from a resend.
    expect(await batches.get('a')).toBe(answer);
    expect(await batches.answer('a', work)).toBe(answer);
    expect(runs).toBe(1);
    expect(batches.get('b')).toBeUndefined();
  });

  test('a batch whose answer refused an envelope is checked again when sent again', async () => {
    // Beijing refused an envelope signed by a key it did not know yet; Washington's rotation
    // arrives, and the same batch sent again must be checked against the new card.
    const batches = new BatchAnswers();
    const refused = result(0);
    expect(await batches.answer('a', async () => refused)).toBe(refused);
    // The sender polling for it by key still gets it.
    expect(await batches.get('a')).toBe(refused);
    const accepted = clean();
    expect(await batches.answer('a', async () => accepted)).toBe(accepted);
    expect(await batches.get('a')).toBe(accepted);
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
