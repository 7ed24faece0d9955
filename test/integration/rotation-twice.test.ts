/**
 * Two rotations made while Washington was stopped: Beijing may refuse the second (E_UNKNOWN_KEY)
 * when it arrives before the first is applied, then take it on resend. Once Beijing has receipted
 * both, Washington shows no refusal alarm about them and no retired key waiting on that receipt.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import type { RunningNode } from '../../src/app/start.ts';
import { createPair, eventually, type Pair } from '../support/pair.ts';

describe('two rotations made while the node was stopped', () => {
  let pair: Pair;
  const us = () => pair.us.running as RunningNode;

  beforeAll(async () => {
    pair = await createPair();
    await pair.start(pair.us);
    await pair.start(pair.cn);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
  });

  test('once both are receipted, no refusal alarm and no waiting on them is left', async () => {
    await pair.stop(pair.us);
    const first = await rotateDataDir(pair.us.dir, { reason: 'routine' });
    const second = await rotateDataDir(pair.us.dir, { reason: 'routine' });
    await pair.start(pair.us);
    for (const { id } of [first, second])
      await eventually(
        async () =>
          (await us().store.getOutbox('cn', id))?.status === 'receipted' ? true : undefined,
        30_000,
        `rotation ${id} receipted by cn`,
      );
    const refusals = (await us().store.openAlarms()).filter((a) => a.type === 'rejected-by-peer');
    expect(refusals.map((a) => a.message)).toEqual([]);
    const waiting = (await us().sealingKeys.status()).flatMap((k) => k.waiting);
    expect(waiting.filter((w) => w.includes('has not receipted our rotation'))).toEqual([]);
  }, 90_000);
});
