/**
 * TOTP secrets at rest: each sealed with the node's factor key (src/node/core/factor-key.ts) by
 * AES-256-GCM (NIST SP 800-38D), bound to its row — the factor id and the user — as associated
 * data, so a secret copied into another account's row does not open there. The stored form is
 * `v1.` ‖ base64url(iv ‖ ciphertext ‖ tag); a row written before sealing existed holds the
 * base32 secret in the clear and is sealed at the next start (`SecondFactors.sealStored`).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { fromBase64url, toBase64url } from '../../protocol/encoding.ts';

const PREFIX = 'v1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const aadOf = (id: string, user: string) =>
  Buffer.from(`hotline/v1/totp-secret\n${id}\n${user}`, 'utf8');

export class TotpSecrets {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new Error('the factor key is 32 bytes');
    this.#key = key;
  }

  /** Whether a stored value is sealed (not a secret from before sealing existed). */
  static isSealed(stored: string): boolean {
    return stored.startsWith(PREFIX);
  }

  seal(secret: Uint8Array, id: string, user: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(aadOf(id, user));
    const ct = Buffer.concat([cipher.update(secret), cipher.final(), cipher.getAuthTag()]);
    return `${PREFIX}${toBase64url(Buffer.concat([iv, ct]))}`;
  }

  /** The secret, or undefined when the value was not sealed for this row with this key. */
  open(stored: string, id: string, user: string): Uint8Array | undefined {
    if (!TotpSecrets.isSealed(stored)) return undefined;
    try {
      const bytes = fromBase64url(stored.slice(PREFIX.length));
      if (bytes.length < IV_BYTES + TAG_BYTES) return undefined;
      const decipher = createDecipheriv('aes-256-gcm', this.#key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(aadOf(id, user));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return new Uint8Array(
        Buffer.concat([
          decipher.update(bytes.subarray(IV_BYTES, bytes.length - TAG_BYTES)),
          decipher.final(),
        ]),
      );
    } catch {
      return undefined;
    }
  }
}
