import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  concatBytes,
  equalBytes,
  fromBase64url,
  fromHex,
  fromUtf8,
  sha256,
  sha256HexOfText,
  toBase64url,
  toHex,
  utf8,
} from './encoding.ts';

describe('base64url', () => {
  it('round-trips any bytes, without padding', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const text = toBase64url(bytes);
        expect(text).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(fromBase64url(text)).toEqual(bytes);
      }),
    );
  });

  it('encodes RFC 4648 §10 test vectors in the url alphabet', () => {
    const cases = ['', 'f', 'fo', 'foo', 'foob', 'fooba', 'foobar'];
    expect(cases.map((s) => toBase64url(utf8(s)))).toEqual([
      '',
      'Zg',
      'Zm8',
      'Zm9v',
      'Zm9vYg',
      'Zm9vYmE',
      'Zm9vYmFy',
    ]);
    expect(toBase64url(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
  });

  it('gives each byte string exactly one accepted spelling', () => {
    expect(fromBase64url('AQ')).toEqual(Uint8Array.of(1));
    for (const other of [
      'AR',
      'AQ==',
      'AQ=',
      '+/8',
      'A',
      'AQ\n',
      ' AQ',
      'A.Q',
      'AQ\u00e9',
      'A\u0000Q',
    ])
      expect(() => fromBase64url(other), other).toThrow();
  });

  it('accepts a text only if it is all base64url, of a possible length, and canonical', () => {
    // A seeded stream of short texts over base64url, standard base64 and a few strangers.
    const chars = 'ABQgwz09-_+/=. \n\u00e9';
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 5000; i++) {
      const text = Array.from({ length: next() % 9 }, () => chars[next() % chars.length]).join('');
      const expected =
        /^[A-Za-z0-9_-]*$/.test(text) &&
        text.length % 4 !== 1 &&
        Buffer.from(text, 'base64url').toString('base64url') === text;
      let accepted = true;
      try {
        fromBase64url(text);
      } catch {
        accepted = false;
      }
      expect(accepted, JSON.stringify(text)).toBe(expected);
    }
  });

  it('refuses every non-canonical last character of a 16-byte value', () => {
    const text = toBase64url(new Uint8Array(16).fill(7));
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const accepted = [...alphabet].filter((c) => {
      try {
        fromBase64url(text.slice(0, -1) + c);
        return true;
      } catch {
        return false;
      }
    });
    expect(accepted).toEqual(['A', 'Q', 'g', 'w']);
  });
});

describe('hex, UTF-8 and SHA-256', () => {
  it('writes digests as lowercase hex and reads only that', () => {
    expect(toHex(Uint8Array.of(0, 0xab, 0xff))).toBe('00abff');
    expect(fromHex('00abff')).toEqual(Uint8Array.of(0, 0xab, 0xff));
    for (const bad of ['00ABFF', '0', 'zz', '00 ab']) expect(() => fromHex(bad), bad).toThrow();
  });

  it('refuses malformed UTF-8 instead of substituting U+FFFD', () => {
    expect(fromUtf8(utf8('北京 €'))).toBe('北京 €');
    expect(() => fromUtf8(Uint8Array.of(0xc3))).toThrow();
    expect(() => fromUtf8(Uint8Array.of(0xed, 0xa0, 0x80))).toThrow();
  });

  it('hashes FIPS 180-2 "abc" and concatenated parts alike', () => {
    const abc = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
    expect(toHex(sha256(utf8('abc')))).toBe(abc);
    expect(toHex(sha256(utf8('a'), utf8(''), utf8('bc')))).toBe(abc);
    expect(toHex(sha256())).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });

  it('hashes a text as its UTF-8 bytes, a lone surrogate as U+FFFD as TextEncoder does', () => {
    expect(sha256HexOfText('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(sha256HexOfText(text)).toBe(toHex(sha256(utf8(text))));
      }),
    );
    expect(sha256HexOfText('\ud800')).toBe(toHex(sha256(Uint8Array.of(0xef, 0xbf, 0xbd))));
  });

  it('concatenates and compares bytes', () => {
    expect(concatBytes(Uint8Array.of(1), new Uint8Array(), Uint8Array.of(2, 3))).toEqual(
      Uint8Array.of(1, 2, 3),
    );
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBe(false);
  });
});
