/**
 * Sealing (docs/protocol.md § Sealing): HPKE (RFC 9180) epochs and per-message keys.
 *
 * An epoch opens with one HPKE encapsulation (base mode) to the receiver's sealing key, with
 *   info = "hotline/v1/epoch\n" ‖ from ‖ "\n" ‖ to ‖ "\n" ‖ epochId(16 bytes)
 * and exports the epoch secret: Export("hotline/v1/epoch-secret\n", 32) (RFC 9180 §5.3).
 * Each message is then sealed with AES-256-GCM under
 *   key   = HKDF-Expand-SHA256(epochSecret, "hotline/v1/msg\n" ‖ SHA-256(JCS(header)), 32)
 *   nonce = 12 zero bytes (the key is used for this one header only)
 *   aad   = JCS(header)
 */
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { XWing } from '@hpke/hybridkem-x-wing';
import { concatBytes, utf8 } from '../protocol/encoding.ts';
import type { SuiteName } from '../protocol/envelope.ts';
import { LABELS } from './context.ts';

export type { SuiteName };

const suites: Record<SuiteName, CipherSuite> = {
  'x-wing': new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() }),
  x25519: new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  }),
};

/** Lengths of `enc` (the encapsulated key) per suite. */
export const ENC_BYTES: Record<SuiteName, number> = { 'x-wing': 1120, x25519: 32 };
export const EPOCH_ID_BYTES = 16;
export const EPOCH_SECRET_BYTES = 32;
const GCM_TAG_BYTES = 16;
const ZERO_NONCE = new Uint8Array(12);

export interface SealingKeyPair {
  readonly secret: Uint8Array;
  readonly publicKey: Uint8Array;
}

export async function generateSealingKey(suite: SuiteName): Promise<SealingKeyPair> {
  const kem = suites[suite].kem;
  const pair = await kem.generateKeyPair();
  return {
    secret: new Uint8Array(await kem.serializePrivateKey(pair.privateKey)),
    publicKey: new Uint8Array(await kem.serializePublicKey(pair.publicKey)),
  };
}

/** Derives a key pair from input keying material (RFC 9180 §7.1.3 DeriveKeyPair): vectors only. */
export async function deriveSealingKey(suite: SuiteName, ikm: Uint8Array): Promise<SealingKeyPair> {
  const kem = suites[suite].kem;
  const pair = await kem.deriveKeyPair(ikm);
  return {
    secret: new Uint8Array(await kem.serializePrivateKey(pair.privateKey)),
    publicKey: new Uint8Array(await kem.serializePublicKey(pair.publicKey)),
  };
}

/** `info` binding an epoch to its channel: "hotline/v1/epoch\n" ‖ from ‖ "\n" ‖ to ‖ "\n" ‖ id. */
export function epochInfo(from: string, to: string, epochId: Uint8Array): Uint8Array {
  if (epochId.length !== EPOCH_ID_BYTES) throw new Error('epoch id must be 16 bytes');
  return concatBytes(utf8(`${LABELS.epochInfo}${from}\n${to}\n`), epochId);
}

export interface SenderEpoch {
  readonly suite: SuiteName;
  readonly id: Uint8Array;
  readonly enc: Uint8Array;
  readonly secret: Uint8Array;
}

/**
 * Opens an epoch toward a recipient's sealing public key. `ekm` fixes the encapsulation's
 * randomness and exists for the golden vectors only.
 */
export async function openSenderEpoch(
  suite: SuiteName,
  recipientPublicKey: Uint8Array,
  from: string,
  to: string,
  epochId: Uint8Array,
  ekm?: Uint8Array,
): Promise<SenderEpoch> {
  const cs = suites[suite];
  const context = await cs.createSenderContext({
    recipientPublicKey: await cs.kem.deserializePublicKey(recipientPublicKey),
    info: epochInfo(from, to, epochId),
    ...(ekm ? { ekm } : {}),
  });
  const secret = new Uint8Array(await context.export(utf8(LABELS.epochSecret), EPOCH_SECRET_BYTES));
  return { suite, id: new Uint8Array(epochId), enc: new Uint8Array(context.enc), secret };
}

/** The receiver's side: decapsulates `enc` and exports the same epoch secret. Throws on failure. */
export async function openRecipientEpoch(
  suite: SuiteName,
  recipientSecret: Uint8Array,
  from: string,
  to: string,
  epochId: Uint8Array,
  enc: Uint8Array,
): Promise<Uint8Array> {
  if (enc.length !== ENC_BYTES[suite]) throw new Error(`enc must be ${ENC_BYTES[suite]} bytes`);
  const cs = suites[suite];
  const context = await cs.createRecipientContext({
    recipientKey: await cs.kem.deserializePrivateKey(recipientSecret),
    enc,
    info: epochInfo(from, to, epochId),
  });
  return new Uint8Array(await context.export(utf8(LABELS.epochSecret), EPOCH_SECRET_BYTES));
}

/**
 * HKDF-Expand (RFC 5869 §2.3) with HMAC-SHA256:
 *   T(0) = empty; T(i) = HMAC-Hash(PRK, T(i-1) | info | i); OKM = first L octets of T(1) | T(2) …
 */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length < 1 || length > 255 * 32) throw new Error('HKDF-Expand length out of range');
  const okm = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    previous = new Uint8Array(
      createHmac('sha256', prk).update(previous).update(info).update(Uint8Array.of(i)).digest(),
    );
    okm.set(previous.subarray(0, Math.min(32, length - at)), at);
    at += 32;
  }
  return okm;
}

/** The one-use AES-256-GCM key of a message: HKDF-Expand(secret, label ‖ headerHash, 32). */
export function messageKey(epochSecret: Uint8Array, headerHash: Uint8Array): Uint8Array {
  if (epochSecret.length !== EPOCH_SECRET_BYTES) throw new Error('epoch secret must be 32 bytes');
  if (headerHash.length !== 32) throw new Error('header hash must be 32 bytes');
  return hkdfExpand(epochSecret, concatBytes(utf8(LABELS.messageKey), headerHash), 32);
}

/** AES-256-GCM(key, nonce 0, aad = JCS(header)) of the canonical body bytes; ct ‖ tag. */
export function sealMessage(
  key: Uint8Array,
  headerBytes: Uint8Array,
  body: Uint8Array,
): Uint8Array {
  const cipher = createCipheriv('aes-256-gcm', key, ZERO_NONCE);
  cipher.setAAD(headerBytes);
  return new Uint8Array(Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]));
}

/** Opens a sealed message; undefined when the tag does not verify. */
export function openMessage(
  key: Uint8Array,
  headerBytes: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | undefined {
  if (sealed.length < GCM_TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, ZERO_NONCE);
    decipher.setAAD(headerBytes);
    decipher.setAuthTag(sealed.subarray(sealed.length - GCM_TAG_BYTES));
    return new Uint8Array(
      Buffer.concat([
        decipher.update(sealed.subarray(0, sealed.length - GCM_TAG_BYTES)),
        decipher.final(),
      ]),
    );
  } catch {
    return undefined;
  }
}
