/**
 * Ed25519 (RFC 8032) through node:crypto, on raw 32-byte keys.
 *
 * Keys travel as raw bytes on the wire; node:crypto wants KeyObjects, so we wrap raw keys in
 * their fixed DER prefixes (RFC 8410) rather than going through JWK strings.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  KeyObject,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';

const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

export const PUBLIC_KEY_LENGTH = 32;
export const SEED_LENGTH = 32;
export const SIGNATURE_LENGTH = 64;

export interface Ed25519KeyPair {
  /** The 32-byte private seed (RFC 8032 §5.1.5). */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

export function generateEd25519(): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return ed25519FromSeed(seedOf(privateKey));
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519KeyPair {
  if (seed.length !== SEED_LENGTH) throw new Error('Ed25519 seed must be 32 bytes');
  const publicKey = createPublicKey(privateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return { seed: new Uint8Array(seed), publicKey: new Uint8Array(publicKey.subarray(12)) };
}

export function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== SEED_LENGTH) throw new Error('Ed25519 seed must be 32 bytes');
  return createPrivateKey({
    key: Buffer.concat([PKCS8_PREFIX, seed]),
    format: 'der',
    type: 'pkcs8',
  });
}

export function publicKeyObject(publicKey: Uint8Array): KeyObject {
  if (publicKey.length !== PUBLIC_KEY_LENGTH)
    throw new Error('Ed25519 public key must be 32 bytes');
  return createPublicKey({
    key: Buffer.concat([SPKI_PREFIX, publicKey]),
    format: 'der',
    type: 'spki',
  });
}

function seedOf(privateKey: KeyObject): Uint8Array {
  return new Uint8Array(privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16));
}

/**
 * An Ed25519 private key kept outside this process (on a PKCS#11 token, src/node/core/pkcs11.ts):
 * it signs, and never gives its secret out.
 */
export interface ExternalEd25519Key {
  sign(message: Uint8Array): Uint8Array;
}

/** What signs: an in-process KeyObject (the fast path) or an external key. */
export type Ed25519SigningKey = KeyObject | ExternalEd25519Key;

/** Signs `message` (cache a KeyObject: building one costs more than signing). */
export function ed25519Sign(privateKey: Ed25519SigningKey, message: Uint8Array): Uint8Array {
  if (privateKey instanceof KeyObject) return new Uint8Array(nodeSign(null, message, privateKey));
  return privateKey.sign(message);
}

/** Public KeyObjects by raw key: building one costs more than a verification. */
const publicKeys = new Map<string, KeyObject>();
const PUBLIC_KEY_CACHE = 1024;

function cachedPublicKey(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex');
  let key = publicKeys.get(id);
  if (!key) {
    key = publicKeyObject(publicKey);
    if (publicKeys.size >= PUBLIC_KEY_CACHE) publicKeys.clear();
    publicKeys.set(id, key);
  }
  return key;
}

/** Verifies; never throws on a malformed signature or key, answers false. */
export function ed25519Verify(
  publicKey: KeyObject | Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (signature.length !== SIGNATURE_LENGTH) return false;
  try {
    const key = publicKey instanceof Uint8Array ? cachedPublicKey(publicKey) : publicKey;
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}
