/**
 * The sealing primitives: HKDF-Expand against RFC 5869, the message key and epoch `info` of
 * docs/protocol.md § Sealing, HPKE epochs in both suites, and the AES-256-GCM seal.
 */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromHex, toHex, utf8 } from '../protocol/encoding.ts';
import { SUITES } from '../protocol/envelope.ts';
import {
  deriveSealingKey,
  ENC_BYTES,
  epochInfo,
  generateSealingKey,
  hkdfExpand,
  messageKey,
  openMessage,
  openRecipientEpoch,
  openSenderEpoch,
  sealMessage,
} from './seal.ts';

// RFC 5869 Appendix A.1–A.3 (SHA-256): Expand from the published PRK to the published OKM.
const RFC5869 = [
  {
    name: 'A.1 basic',
    prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    length: 42,
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    name: 'A.2 longer inputs and outputs (three blocks)',
    prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
    info:
      'b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf' +
      'd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef' +
      'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    length: 82,
    okm:
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
      '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
      'cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    name: 'A.3 zero-length salt and info',
    prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
    info: '',
    length: 42,
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

describe('HKDF-Expand (RFC 5869 §2.3)', () => {
  it.each(RFC5869)('$name: PRK → OKM', (t) => {
    expect(toHex(hkdfExpand(fromHex(t.prk), fromHex(t.info), t.length))).toBe(t.okm);
  });

  it('gives prefixes of the same stream for shorter lengths', () => {
    const [, long] = RFC5869;
    if (!long) throw new Error('no vector');
    for (const length of [1, 31, 32, 33, 64, 65])
      expect(toHex(hkdfExpand(fromHex(long.prk), fromHex(long.info), length))).toBe(
        long.okm.slice(0, length * 2),
      );
  });

  it('refuses lengths outside 1 … 255 × 32', () => {
    const prk = new Uint8Array(32);
    expect(hkdfExpand(prk, new Uint8Array(), 255 * 32)).toHaveLength(8160);
    expect(() => hkdfExpand(prk, new Uint8Array(), 0)).toThrow();
    expect(() => hkdfExpand(prk, new Uint8Array(), 255 * 32 + 1)).toThrow();
  });
});

describe('the message key', () => {
  const secret = Uint8Array.from({ length: 32 }, (_, i) => i);
  const headerHash = fromHex('44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');

  it('is the worked example of docs/protocol.md', () => {
    expect(toHex(messageKey(secret, headerHash))).toBe(
      '46a229296f6dc3a9fe72cb2d7c8b9bee1a281b4ef8f8a4fd11dfe5c0dbfffd89',
    );
  });

  it('is one HMAC block: HMAC-SHA256(secret, "hotline/v1/msg\\n" ‖ headerHash ‖ 0x01)', () => {
    const block = createHmac('sha256', secret)
      .update(concatBytes(utf8('hotline/v1/msg\n'), headerHash, Uint8Array.of(1)))
      .digest();
    expect(messageKey(secret, headerHash)).toEqual(new Uint8Array(block));
  });

  it('refuses a secret or header hash of the wrong length', () => {
    expect(() => messageKey(secret.subarray(1), headerHash)).toThrow('epoch secret');
    expect(() => messageKey(secret, headerHash.subarray(1))).toThrow('header hash');
  });
});

describe('epoch info', () => {
  it('binds sender, recipient and epoch id, as in docs/protocol.md', () => {
    expect(toHex(epochInfo('us', 'cn', new Uint8Array(16).fill(0xab)))).toBe(
      ['686f746c696e652f76312f65706f63680a', '75730a', '636e0a', 'ab'.repeat(16)].join(''),
    );
    expect(() => epochInfo('us', 'cn', new Uint8Array(15))).toThrow('16 bytes');
  });
});

describe.each(SUITES)('HPKE epochs, %s', (suite) => {
  const epochId = new Uint8Array(16).fill(7);

  it('give sender and recipient the same secret', async () => {
    const beijing = await generateSealingKey(suite);
    const sent = await openSenderEpoch(suite, beijing.publicKey, 'us', 'cn', epochId);
    expect(sent.enc).toHaveLength(ENC_BYTES[suite]);
    expect(sent.secret).toHaveLength(32);
    const opened = await openRecipientEpoch(suite, beijing.secret, 'us', 'cn', epochId, sent.enc);
    expect(opened).toEqual(sent.secret);
  });

  it('give anyone else, or the same key under another channel or id, another secret', async () => {
    const beijing = await generateSealingKey(suite);
    const brussels = await generateSealingKey(suite);
    const sent = await openSenderEpoch(suite, beijing.publicKey, 'us', 'cn', epochId);
    const attempts = [
      () => openRecipientEpoch(suite, brussels.secret, 'us', 'cn', epochId, sent.enc),
      () => openRecipientEpoch(suite, beijing.secret, 'eu', 'cn', epochId, sent.enc),
      () => openRecipientEpoch(suite, beijing.secret, 'us', 'eu', epochId, sent.enc),
      () => openRecipientEpoch(suite, beijing.secret, 'us', 'cn', new Uint8Array(16), sent.enc),
    ];
    for (const attempt of attempts) {
      const secret = await attempt().catch(() => undefined);
      expect(secret).not.toEqual(sent.secret);
    }
  });

  it('refuse an enc of the wrong length', async () => {
    const beijing = await generateSealingKey(suite);
    const enc = new Uint8Array(ENC_BYTES[suite] + 1);
    await expect(
      openRecipientEpoch(suite, beijing.secret, 'us', 'cn', epochId, enc),
    ).rejects.toThrow(`${ENC_BYTES[suite]} bytes`);
  });

  it('are fresh each time unless the encapsulation randomness is fixed', async () => {
    const beijing = await deriveSealingKey(suite, new Uint8Array(32).fill(1));
    const ekm = new Uint8Array(suite === 'x-wing' ? 64 : 32).fill(2);
    const a = await openSenderEpoch(suite, beijing.publicKey, 'us', 'cn', epochId);
    const b = await openSenderEpoch(suite, beijing.publicKey, 'us', 'cn', epochId);
    expect(a.enc).not.toEqual(b.enc);
    const c = await openSenderEpoch(suite, beijing.publicKey, 'us', 'cn', epochId, ekm);
    const d = await openSenderEpoch(suite, beijing.publicKey, 'us', 'cn', epochId, ekm);
    expect(c).toEqual(d);
  });

  it('derive the same key pair from the same ikm, and fresh ones otherwise', async () => {
    const ikm = new Uint8Array(32).fill(9);
    const a = await deriveSealingKey(suite, ikm);
    expect(await deriveSealingKey(suite, ikm)).toEqual(a);
    expect(a.publicKey).toHaveLength(suite === 'x-wing' ? 1216 : 32);
    expect((await generateSealingKey(suite)).publicKey).not.toEqual(a.publicKey);
  });
});

describe('AES-256-GCM seal', () => {
  const key = new Uint8Array(32).fill(3);
  const header = utf8('{"id":"h"}');
  const body = utf8('{"text":"北京"}');

  it('opens what it sealed, under the same header only', () => {
    const sealed = sealMessage(key, header, body);
    expect(sealed).toHaveLength(body.length + 16);
    expect(openMessage(key, header, sealed)).toEqual(body);
    expect(openMessage(key, utf8('{"id":"g"}'), sealed)).toBeUndefined();
    expect(openMessage(new Uint8Array(32).fill(4), header, sealed)).toBeUndefined();
  });

  it('refuses any flipped byte, a truncated tag, and a stub', () => {
    const sealed = sealMessage(key, header, body);
    for (let at = 0; at < sealed.length; at++) {
      const flipped = new Uint8Array(sealed);
      flipped[at] = (flipped[at] ?? 0) ^ 0x01;
      expect(openMessage(key, header, flipped), `byte ${at}`).toBeUndefined();
    }
    expect(openMessage(key, header, sealed.subarray(0, -1))).toBeUndefined();
    expect(openMessage(key, header, new Uint8Array(15))).toBeUndefined();
  });
});
