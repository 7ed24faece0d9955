import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { ed25519Sign, ed25519Verify, generateEd25519, privateKeyObject } from './ed25519.ts';
import { Ed25519Pool } from './ed25519-pool.ts';

let pool: Ed25519Pool | undefined;
afterEach(async () => {
  await pool?.close();
});

describe('Ed25519 verification on worker threads', () => {
  test('answers every check as a check in line does: good, forged, other key, other message, bad lengths', async () => {
    const keys = [generateEd25519(), generateEd25519()];
    const checks = Array.from({ length: 1000 }, (_, i) => {
      const key = keys[i % 2] as (typeof keys)[0];
      const message = randomBytes(50 + (i % 700));
      const signature = ed25519Sign(privateKeyObject(key.seed), message);
      let publicKey = key.publicKey;
      if (i % 7 === 1) signature[i % 64] = (signature[i % 64] as number) ^ 1;
      if (i % 7 === 2) publicKey = (keys[(i + 1) % 2] as (typeof keys)[0]).publicKey;
      if (i % 7 === 3) message[0] = (message[0] as number) ^ 1;
      return {
        publicKey,
        message,
        signature: i % 7 === 4 ? signature.subarray(1) : signature,
      };
    });
    pool = new Ed25519Pool(2);
    const answers: (boolean | undefined)[] = new Array(checks.length);
    for (const [i, c] of checks.entries())
      pool.verify(c.publicKey, c.message, c.signature, (ok) => {
        answers[i] = ok;
      });
    await pool.settle();
    expect(pool.pending).toBe(0);
    const expected = checks.map((c) => ed25519Verify(c.publicKey, c.message, c.signature));
    expect(answers).toEqual(expected);
    // Indexes 1 to 4 mod 7 are bad: 143 of each among 0 … 999.
    expect(expected.filter((ok) => !ok).length).toBe(572);
  });

  test('a background pool answers a batch in order, and refuses checks once closed', async () => {
    const key = generateEd25519();
    const messages = Array.from({ length: 300 }, (_, i) => randomBytes(20 + i));
    const checks = messages.map((message, i) => ({
      publicKey: key.publicKey,
      message,
      signature: ed25519Sign(privateKeyObject(key.seed), i % 3 ? message : randomBytes(5)),
    }));
    pool = new Ed25519Pool(2, { background: true });
    const answers = await pool.verifyAll(checks);
    expect(answers).toEqual(checks.map((_, i) => i % 3 !== 0));
    expect(await pool.verifyAll([])).toEqual([]);
    expect(pool.failed).toBe(false);
    await pool.close();
    expect(pool.failed).toBe(true);
    await expect(pool.verifyAll(checks)).rejects.toThrow(/closed/);
  });
});
