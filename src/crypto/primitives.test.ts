/**
 * The primitives Hotline builds on, checked against their specifications' published vectors:
 * RFC 8785 (JCS), RFC 5869 (HKDF-Expand), RFC 8032 (Ed25519); and the rules of key files,
 * party cards and fingerprints.
 */
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ed25519 } from '@noble/curves/ed25519.js';
import { expand } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { makeParty, type Party } from '../../test/support/world.ts';
import { fromHex, toHex } from '../protocol/encoding.ts';
import { jcs } from '../protocol/jcs.ts';
import { cardRuleViolation, fingerprint, signCard, verifyCard } from './card.ts';
import { ed25519FromSeed, ed25519Sign, ed25519Verify, privateKeyObject } from './ed25519.ts';
import { generateNodeKeys, readKeyFiles, writeKeyFiles } from './keys.ts';
import { hkdfExpand } from './seal.ts';

describe('RFC 8785 canonical JSON', () => {
  test('§3.2.2: the sample object, numbers and string escapes', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(jcs(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  test('§3.2.3: members sorted by UTF-16 code units', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    // (JSON.parse would hoist "1": JavaScript orders integer-like keys first, so read the text.)
    const expected = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];
    const text = jcs(input);
    const positions = expected.map((key) => text.indexOf(`${JSON.stringify(key)}:`));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test('Appendix B: number serialization', () => {
    const samples: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ];
    for (const [bits, text] of samples)
      expect(jcs(Buffer.from(bits, 'hex').readDoubleBE(0))).toBe(text);
  });
});

describe('RFC 5869 HKDF-Expand', () => {
  test('test case 1 (one block)', () => {
    const prk = fromHex('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5');
    const okm = hkdfExpand(prk, fromHex('f0f1f2f3f4f5f6f7f8f9'), 42);
    expect(toHex(okm)).toBe(
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
  });

  test('agrees with @noble/hashes for any key, info and length', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 80 }),
        fc.integer({ min: 1, max: 200 }),
        (prk, info, length) =>
          toHex(hkdfExpand(prk, info, length)) === toHex(expand(sha256, prk, info, length)),
      ),
      { numRuns: 200 },
    );
  });
});

describe('RFC 8032 Ed25519', () => {
  const vectors = [
    {
      seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
      pub: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
      msg: '',
      sig: 'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    },
    {
      seed: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
      pub: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
      msg: '72',
      sig: '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
    },
  ];
  test('§7.1 TEST 1 and 2: public keys and signatures', () => {
    for (const v of vectors) {
      const pair = ed25519FromSeed(fromHex(v.seed));
      expect(toHex(pair.publicKey)).toBe(v.pub);
      expect(toHex(ed25519Sign(privateKeyObject(pair.seed), fromHex(v.msg)))).toBe(v.sig);
      expect(ed25519Verify(pair.publicKey, fromHex(v.msg), fromHex(v.sig))).toBe(true);
      const bad = fromHex(v.sig);
      bad[0] = (bad[0] ?? 0) ^ 1;
      expect(ed25519Verify(pair.publicKey, fromHex(v.msg), bad)).toBe(false);
      expect(ed25519Verify(pair.publicKey, fromHex(v.msg), bad.subarray(1))).toBe(false);
    }
  });

  test('signatures verify with @noble/curves too', () => {
    const pair = ed25519FromSeed(new Uint8Array(32).fill(7));
    const msg = new TextEncoder().encode('hotline');
    expect(ed25519.verify(ed25519Sign(privateKeyObject(pair.seed), msg), msg, pair.publicKey)).toBe(
      true,
    );
  });
});

describe('keys and cards', () => {
  let cn: Party;
  beforeAll(async () => {
    cn = await makeParty('cn', { en: 'Beijing', zh: '北京' });
  });

  test('key files are written readable by their owner only, and read back', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hotline-keys-')), 'keys');
    const keys = await generateNodeKeys('us');
    writeKeyFiles(dir, keys);
    for (const name of readdirSync(dir))
      expect(statSync(join(dir, name)).mode & 0o777, name).toBe(0o600);
    expect(readdirSync(dir)).toContain('recovery-OFFLINE.key');
    const back = readKeyFiles(dir);
    expect(back.map((k) => k.entry.purpose).sort()).toEqual([
      'identity',
      'log',
      'sealing',
      'sealing',
      'signing',
      'witness',
    ]);
    expect(() => writeKeyFiles(dir, keys)).toThrow(/already exists/);
  });

  test('a card verifies; a changed card does not', () => {
    expect(verifyCard(structuredClone(cn.signed)).card.party).toBe('cn');
    const changed = structuredClone(cn.signed);
    changed.card.endpoints[0] = {
      id: 'direct',
      kind: 'direct',
      url: 'https://evil.example',
      priority: 0,
    };
    expect(() => verifyCard(changed)).toThrow(/signature/);
  });

  test('card rules: one identity, recovery, log and witness key; kids that match their keys', () => {
    const card = cn.signed.card;
    expect(cardRuleViolation(card)).toBeUndefined();
    expect(
      cardRuleViolation({ ...card, keys: card.keys.filter((k) => k.purpose !== 'recovery') }),
    ).toMatch(/recovery/);
    expect(
      cardRuleViolation({
        ...card,
        keys: card.keys.map((k) => (k.purpose === 'signing' ? { ...k, kid: '0'.repeat(32) } : k)),
      }),
    ).toMatch(/kid/);
    expect(cardRuleViolation({ ...card, expires: card.issued })).toMatch(/expire/);
    expect(() => signCard({ ...card, keys: [] }, cn.node.signer('identity').key)).toThrow();
  });

  test('the fingerprint: 8 groups of 5 digits, kept across endpoint changes, changed by new keys', async () => {
    const print = fingerprint(cn.signed.card);
    expect(print).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(
      fingerprint({
        ...cn.signed.card,
        endpoints: [{ id: 'b', kind: 'relay', url: 'https://x.example', priority: 5 }],
      }),
    ).toBe(print);
    const other = await makeParty('cn2', { en: 'Other' });
    const swapped = cn.signed.card.keys.map((k) =>
      k.purpose === 'identity'
        ? (other.signed.card.keys.find((o) => o.purpose === 'identity') ?? k)
        : k,
    );
    expect(fingerprint({ ...cn.signed.card, keys: swapped })).not.toBe(print);
    expect(fingerprint({ ...cn.signed.card, party: 'cx' })).not.toBe(print);
  });
});
