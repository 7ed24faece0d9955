/**
 * Standard base64 with padding: RFC 4648 §4, which signed notes and checkpoints use.
 * https://www.rfc-editor.org/rfc/rfc4648#section-4
 *
 * Decoding is strict: only the standard alphabet, padding to a multiple of four characters, and
 * the one canonical spelling of the bytes (no stray bits after the last byte), so one byte string
 * has exactly one text form and signed text cannot vary without its bytes varying.
 */

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Encodes bytes as padded standard base64. */
export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

/** Decodes padded standard base64, throwing on any other spelling. */
export function fromBase64(text: string): Uint8Array {
  if (!BASE64.test(text)) throw new Error('not base64');
  const bytes = new Uint8Array(Buffer.from(text, 'base64'));
  if (toBase64(bytes) !== text) throw new Error('not canonical base64');
  return bytes;
}
