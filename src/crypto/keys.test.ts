/**
 * A node's keys: ids as docs/protocol.md § Key ids defines them, one per purpose.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toBase64url } from '../protocol/encoding.ts';
import {
  ed25519Key,
  generateNodeKeys,
  keyId,
  logKeyName,
  NodeKeys,
  sealingKey,
  witnessKeyName,
} from './keys.ts';
import { deriveSealingKey } from './seal.ts';

describe('key ids', () => {
  it('reproduce the worked example of docs/protocol.md', () => {
    const key = ed25519Key('identity', new Uint8Array(32).fill(1));
    const pub = fromHex('8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c');
    expect(key.entry.pub).toBe(toBase64url(pub));
    expect(key.entry.pub).toBe('iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w');
    expect(keyId('ed25519', pub)).toBe('01897c25c442c751e1152f1072f8a316');
    expect(key.entry.kid).toBe('01897c25c442c751e1152f1072f8a316');
  });

  it('name the algorithm, so the same 32 bytes are another key under another alg', () => {
    const bytes = new Uint8Array(32).fill(5);
    expect(keyId('ed25519', bytes)).not.toBe(keyId('x25519', bytes));
    expect(keyId('ed25519', bytes)).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('generated node keys', () => {
  it('hold one key per purpose, both sealing suites, and C2SP names for log and witness', async () => {
    const keys = await generateNodeKeys('us');
    expect(keys.map((k) => `${k.entry.purpose}/${k.entry.alg}`)).toEqual([
      'identity/ed25519',
      'signing/ed25519',
      'log/ed25519',
      'witness/ed25519',
      'sealing/x-wing',
      'sealing/x25519',
      'recovery/ed25519',
    ]);
    expect(keys.find((k) => k.entry.purpose === 'log')?.entry.name).toBe('hotline/us/log');
    expect(logKeyName('cn')).toBe('hotline/cn/log');
    expect(witnessKeyName('cn')).toBe('hotline/cn/witness');
    expect(new Set(keys.map((k) => k.entry.kid)).size).toBe(7);
  });

  it('differ from node to node', async () => {
    const [a, b] = await Promise.all([generateNodeKeys('us'), generateNodeKeys('us')]);
    expect(a.map((k) => k.entry.pub)).not.toEqual(b?.map((k) => k.entry.pub));
  });
});

describe('NodeKeys', () => {
  it('finds keys by purpose and suite, and caches signing key objects', async () => {
    const keys = [
      ed25519Key('identity', new Uint8Array(32).fill(1)),
      ed25519Key('signing', new Uint8Array(32).fill(3)),
      await sealingKey('x25519', await deriveSealingKey('x25519', new Uint8Array(32).fill(7))),
    ];
    const node = new NodeKeys(keys);
    expect(node.get('signing')).toBe(keys[1]);
    expect(node.sealing('x25519')).toBe(keys[2]);
    expect(node.sealing('x-wing')).toBeUndefined();
    expect(() => node.get('log')).toThrow('no log key');
    const signer = node.signer('signing');
    expect(signer.kid).toBe(keys[1]?.entry.kid);
    expect(node.signer('signing').key).toBe(signer.key);
  });
});
