/**
 * Time-based one-time passwords: RFC 6238 (TOTP) over RFC 4226 (HOTP), with secrets written in
 * RFC 4648 base32 as authenticator apps expect (the `otpauth://` key URI of Google Authenticator).
 *
 * https://www.rfc-editor.org/rfc/rfc6238 · https://www.rfc-editor.org/rfc/rfc4226
 */
import { createHmac, randomBytes } from 'node:crypto';

export type TotpHash = 'sha1' | 'sha256' | 'sha512';

export interface TotpParameters {
  /** T0 (RFC 6238 §4.1): the Unix time to start counting steps, 0. */
  t0?: number;
  /** X (RFC 6238 §4.1): the step in seconds, 30. */
  step?: number;
  digits?: number;
  hash?: TotpHash;
}

const DEFAULTS: Required<TotpParameters> = { t0: 0, step: 30, digits: 6, hash: 'sha1' };

/**
 * RFC 4226 §5.3: HOTP(K, C) = Truncate(HMAC(K, C)) mod 10^Digit, C an 8-byte big-endian counter;
 * "dynamic truncation" takes 4 bytes at the offset named by the low 4 bits of the last byte.
 */
export function hotp(
  key: Uint8Array,
  counter: number,
  digits = 6,
  hash: TotpHash = 'sha1',
): string {
  if (!Number.isSafeInteger(counter) || counter < 0) throw new Error('HOTP: a bad counter');
  if (digits < 6 || digits > 10) throw new Error('HOTP: 6 to 10 digits');
  const c = Buffer.alloc(8);
  c.writeBigUInt64BE(BigInt(counter));
  const hs = createHmac(hash, key).update(c).digest();
  const offset = (hs[hs.length - 1] as number) & 0x0f;
  const snum = hs.readUInt32BE(offset) & 0x7fffffff;
  return String(snum % 10 ** digits).padStart(digits, '0');
}

/** RFC 6238 §4.2: T = floor((Current Unix time - T0) / X). */
export function timeStep(unixSeconds: number, parameters: TotpParameters = {}): number {
  const { t0, step } = { ...DEFAULTS, ...parameters };
  return Math.floor((unixSeconds - t0) / step);
}

/** RFC 6238 §4.2: TOTP = HOTP(K, T). */
export function totp(key: Uint8Array, unixSeconds: number, parameters: TotpParameters = {}) {
  const { digits, hash } = { ...DEFAULTS, ...parameters };
  return hotp(key, timeStep(unixSeconds, parameters), digits, hash);
}

/**
 * The time step `code` was made for, within ±`window` steps of now (RFC 6238 §5.2 allows one step
 * of network delay and clock drift), or undefined. Each candidate is compared in constant time.
 */
export function matchStep(
  key: Uint8Array,
  code: string,
  unixSeconds: number,
  window = 1,
  parameters: TotpParameters = {},
): number | undefined {
  const { digits, hash } = { ...DEFAULTS, ...parameters };
  if (!/^[0-9]+$/.test(code) || code.length !== digits) return undefined;
  const now = timeStep(unixSeconds, parameters);
  let found: number | undefined;
  for (let t = now - window; t <= now + window; t++) {
    const expected = hotp(key, t, digits, hash);
    let diff = 0;
    for (let i = 0; i < digits; i++) diff |= expected.charCodeAt(i) ^ code.charCodeAt(i);
    if (diff === 0 && found === undefined) found = t;
  }
  return found;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 §6 base32, without padding (as key URIs carry it). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error('base32: a character outside the alphabet');
    value = (value << 5) | v;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** A new secret: 20 random bytes, the HMAC-SHA-1 key length RFC 4226 §4 recommends. */
export function newTotpSecret(): Uint8Array {
  return new Uint8Array(randomBytes(20));
}

/** The `otpauth://totp/…` key URI an authenticator app reads from a QR code or a paste. */
export function keyUri(secret: Uint8Array, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: 'SHA1',
    digits: '6',
    period: '30',
  });
  return `otpauth://totp/${label}?${query}`;
}
