/**
 * Byte encodings used on the wire (docs/protocol.md § Encodings).
 *
 * - digests (SHA-256) are lowercase hexadecimal, 64 characters;
 * - every other byte string (keys, signatures, ciphertexts, salts) is base64url without padding
 *   (RFC 4648 §5);
 * - C2SP signed notes keep their own standard base64, as that spec requires.
 */
import { hash } from 'node:crypto';

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, throwing on malformed input rather than inserting U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  return utf8Decoder.decode(bytes);
}

export function toBase64url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/**
 * Strict base64url: no padding, no other alphabet, and canonical (re-encodes to itself). The
 * re-encoding is the whole check: Node's decoder skips what is not base64url (or takes standard
 * base64's `+/=`), and the bytes it makes of such a text never re-encode to that text.
 */
export function fromBase64url(text: string): Uint8Array {
  if (text.length % 4 === 1) throw new Error('not base64url');
  const bytes = new Uint8Array(Buffer.from(text, 'base64url'));
  if (toBase64url(bytes) !== text) throw new Error('not canonical base64url');
  return bytes;
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX = /^(?:[0-9a-f]{2})*$/;

export function fromHex(text: string): Uint8Array {
  if (!HEX.test(text)) throw new Error('not lowercase hex');
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function sha256(...parts: Uint8Array[]): Uint8Array {
  // One-shot hashing of one buffer costs about half of a createHash object per call, which
  // matters in the ledger, where every leaf and interior node is a hash of under a kilobyte.
  const digest = hash(
    'sha256',
    parts.length === 1 ? (parts[0] as Uint8Array) : concatBytes(...parts),
    'buffer',
  );
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
}

/**
 * SHA-256 of a text's UTF-8 bytes, as lowercase hex: the digest of a canonical JSON text without
 * encoding it into a buffer of its own first (node:crypto encodes strings as UTF-8 itself).
 */
export function sha256HexOfText(text: string): string {
  return hash('sha256', text, 'hex');
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
