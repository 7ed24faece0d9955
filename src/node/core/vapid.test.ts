/**
 * The node's VAPID key file: made once, readable by the owner only, sealed with the passphrase
 * when the node's other keys are, and refused when its group or others may read it.
 */
import { createECDH } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';
import { readVapidKey, writeVapidKey } from './vapid.ts';

const root = mkdtempSync(join(tmpdir(), 'hotline-vapid-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('VAPID key file', () => {
  test('made at the first read, mode 0600, the same key read back', () => {
    const dir = mkdtempSync(join(root, 'plain-'));
    const made = readVapidKey(dir, () => undefined);
    expect(statSync(join(dir, 'vapid.key')).mode & 0o777).toBe(0o600);
    expect(fromBase64url(made.publicKey)).toHaveLength(65);
    expect(readVapidKey(dir, () => undefined)).toEqual(made);
    // The public half is the private key's, whatever the file says.
    const ecdh = createECDH('prime256v1');
    ecdh.setPrivateKey(fromBase64url(made.privateKey));
    expect(toBase64url(ecdh.getPublicKey())).toBe(made.publicKey);
    expect(() => writeVapidKey(dir)).toThrow(/EEXIST/);
  });

  test('sealed beside sealed keys: no secret in the file, the passphrase needed', () => {
    const dir = mkdtempSync(join(root, 'sealed-'));
    // The node's other keys are sealed (only the marker matters here).
    writeFileSync(join(dir, 'identity.key'), JSON.stringify({ sealed: {} }), { mode: 0o600 });
    expect(() => readVapidKey(dir, () => undefined)).toThrow(/sealed/);
    const made = readVapidKey(dir, () => 'a long passphrase');
    const text = readFileSync(join(dir, 'vapid.key'), 'utf8');
    expect(text).not.toContain(made.privateKey);
    expect(JSON.parse(text)).toHaveProperty('sealed');
    expect(readVapidKey(dir, () => 'a long passphrase')).toEqual(made);
    expect(() => readVapidKey(dir, () => 'another passphrase')).toThrow(/passphrase is wrong/);
  });

  test('a key file others may read is refused', () => {
    const dir = mkdtempSync(join(root, 'exposed-'));
    readVapidKey(dir, () => undefined);
    chmodSync(join(dir, 'vapid.key'), 0o644);
    expect(() => readVapidKey(dir, () => undefined)).toThrow(/chmod 600/);
  });
});
