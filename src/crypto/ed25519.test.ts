/**
 * Ed25519 through node:crypto against RFC 8032 §7.1, TEST 1 to TEST 3.
 */
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../protocol/encoding.ts';
import {
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
  generateEd25519,
  privateKeyObject,
  publicKeyObject,
} from './ed25519.ts';

const RFC8032 = [
  {
    name: 'TEST 1',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
];

describe('Ed25519 (RFC 8032 §7.1)', () => {
  it.each(RFC8032)('$name: derives the public key, signs and verifies', (t) => {
    const seed = fromHex(t.secret);
    const message = fromHex(t.message);
    expect(toHex(ed25519FromSeed(seed).publicKey)).toBe(t.public);
    const signature = ed25519Sign(privateKeyObject(seed), message);
    expect(toHex(signature)).toBe(t.signature);
    expect(ed25519Verify(fromHex(t.public), message, signature)).toBe(true);
    expect(ed25519Verify(publicKeyObject(fromHex(t.public)), message, signature)).toBe(true);
  });

  it.each(RFC8032)('$name: refuses the signature over another message or bit', (t) => {
    const message = fromHex(t.message);
    const signature = fromHex(t.signature);
    expect(ed25519Verify(fromHex(t.public), Uint8Array.of(...message, 0), signature)).toBe(false);
    for (const at of [0, 31, 32, 63]) {
      const flipped = new Uint8Array(signature);
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      expect(ed25519Verify(fromHex(t.public), message, flipped), `byte ${at}`).toBe(false);
    }
  });

  it('answers false, never throws, on a malformed key or signature', () => {
    const [t] = RFC8032;
    if (!t) throw new Error('no vector');
    const signature = fromHex(t.signature);
    expect(ed25519Verify(new Uint8Array(31), new Uint8Array(), signature)).toBe(false);
    expect(ed25519Verify(fromHex(t.public), new Uint8Array(), signature.subarray(1))).toBe(false);
    expect(ed25519Verify(fromHex(t.public), new Uint8Array(), new Uint8Array(64))).toBe(false);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => ed25519FromSeed(new Uint8Array(31))).toThrow('32 bytes');
    expect(() => privateKeyObject(new Uint8Array(33))).toThrow('32 bytes');
  });

  it('generates fresh pairs whose seed gives back the same public key', () => {
    const a = generateEd25519();
    const b = generateEd25519();
    expect(a.seed).not.toEqual(b.seed);
    expect(ed25519FromSeed(a.seed).publicKey).toEqual(a.publicKey);
    const signature = ed25519Sign(privateKeyObject(a.seed), Uint8Array.of(1, 2, 3));
    expect(ed25519Verify(a.publicKey, Uint8Array.of(1, 2, 3), signature)).toBe(true);
    expect(ed25519Verify(b.publicKey, Uint8Array.of(1, 2, 3), signature)).toBe(false);
  });
});
