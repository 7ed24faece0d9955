import { describe, expect, test } from 'vitest';
import { base32Decode, base32Encode, hotp, keyUri, matchStep, totp } from './totp.ts';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('RFC 4226 appendix D: HOTP with the secret "12345678901234567890"', () => {
  const expected = [
    '755224',
    '287082',
    '359152',
    '969429',
    '338314',
    '254676',
    '287922',
    '162583',
    '399871',
    '520489',
  ];
  test.each(expected.map((code, count) => [count, code]))('count %i gives %s', (count, code) => {
    expect(hotp(ascii('12345678901234567890'), count)).toBe(code);
  });
});

describe('RFC 6238 appendix B: TOTP, 8 digits, step 30 s', () => {
  // The seeds of the appendix: the ASCII digits repeated to the hash's length.
  const seeds = {
    sha1: ascii('12345678901234567890'),
    sha256: ascii('12345678901234567890123456789012'),
    sha512: ascii('1234567890123456789012345678901234567890123456789012345678901234'),
  };
  const table: [number, string, keyof typeof seeds][] = [
    [59, '94287082', 'sha1'],
    [59, '46119246', 'sha256'],
    [59, '90693936', 'sha512'],
    [1111111109, '07081804', 'sha1'],
    [1111111109, '68084774', 'sha256'],
    [1111111109, '25091201', 'sha512'],
    [1111111111, '14050471', 'sha1'],
    [1111111111, '67062674', 'sha256'],
    [1111111111, '99943326', 'sha512'],
    [1234567890, '89005924', 'sha1'],
    [1234567890, '91819424', 'sha256'],
    [1234567890, '93441116', 'sha512'],
    [2000000000, '69279037', 'sha1'],
    [2000000000, '90698825', 'sha256'],
    [2000000000, '38618901', 'sha512'],
    [20000000000, '65353130', 'sha1'],
    [20000000000, '77737706', 'sha256'],
    [20000000000, '47863826', 'sha512'],
  ];
  test.each(table)('at %i s: %s (%s)', (time, code, hash) => {
    expect(totp(seeds[hash], time, { digits: 8, hash })).toBe(code);
  });
});

describe('accepting a code', () => {
  const key = ascii('12345678901234567890');
  test('within one step either side of now, naming its step; not two steps away', () => {
    const now = 1234567890;
    const step = Math.floor(now / 30);
    expect(matchStep(key, totp(key, now), now)).toBe(step);
    expect(matchStep(key, totp(key, now - 30), now)).toBe(step - 1);
    expect(matchStep(key, totp(key, now + 30), now)).toBe(step + 1);
    expect(matchStep(key, totp(key, now - 60), now)).toBeUndefined();
    expect(matchStep(key, '12345', now)).toBeUndefined();
    expect(matchStep(key, 'abcdef', now)).toBeUndefined();
  });
});

describe('RFC 4648 §10 base32 vectors and the key URI', () => {
  test.each([
    ['', ''],
    ['f', 'MY'],
    ['fo', 'MZXQ'],
    ['foo', 'MZXW6'],
    ['foob', 'MZXW6YQ'],
    ['fooba', 'MZXW6YTB'],
    ['foobar', 'MZXW6YTBOI'],
  ])('%j ↔ %s', (plain, encoded) => {
    expect(base32Encode(ascii(plain))).toBe(encoded);
    expect(new TextDecoder().decode(base32Decode(encoded))).toBe(plain);
  });
  test('an otpauth URI names the issuer and account and carries the secret', () => {
    const uri = keyUri(ascii('12345678901234567890'), 'Hotline us', 'bob');
    expect(uri).toBe(
      'otpauth://totp/Hotline%20us:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Hotline+us&algorithm=SHA1&digits=6&period=30',
    );
  });
});
