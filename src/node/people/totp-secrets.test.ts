import { randomBytes } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { TotpSecrets } from './totp-secrets.ts';

const key = new Uint8Array(randomBytes(32));
const secret = new Uint8Array(randomBytes(20));

describe('a sealed TOTP secret', () => {
  test('opens for its own row with the node key', () => {
    const box = new TotpSecrets(key);
    expect(box.open(box.seal(secret, 'f1', 'oscar'), 'f1', 'oscar')).toEqual(secret);
  });

  test('does not open when an insider copies it into another account or factor row', () => {
    const box = new TotpSecrets(key);
    const sealed = box.seal(secret, 'f1', 'oscar');
    expect(box.open(sealed, 'f1', 'olga')).toBeUndefined();
    expect(box.open(sealed, 'f2', 'oscar')).toBeUndefined();
  });

  test('does not open with another node key, nor when altered, nor from the clear form', () => {
    const sealed = new TotpSecrets(key).seal(secret, 'f1', 'oscar');
    expect(new TotpSecrets(new Uint8Array(randomBytes(32))).open(sealed, 'f1', 'oscar')).toBe(
      undefined,
    );
    const flipped = `${sealed.slice(0, -2)}${sealed.endsWith('AA') ? 'AB' : 'AA'}`;
    expect(new TotpSecrets(key).open(flipped, 'f1', 'oscar')).toBeUndefined();
    expect(new TotpSecrets(key).open('JBSWY3DPEHPK3PXP', 'f1', 'oscar')).toBeUndefined();
  });
});
