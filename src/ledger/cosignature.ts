/**
 * Witness cosignatures: C2SP tlog-cosignature, the Ed25519 type `cosignature/v1` (0x04).
 * https://github.com/C2SP/C2SP/blob/main/tlog-cosignature.md
 *
 * A cosignature is a note signature on a checkpoint by a cosigner (a witness): the bytes after
 * the key ID are a big-endian u64 POSIX timestamp, then an Ed25519 signature over
 * `cosignature/v1\ntime <timestamp>\n` followed by the checkpoint's note text. It states that, as
 * of that time, this was the largest consistent tree the cosigner had seen from the log.
 */
import {
  type Ed25519SigningKey,
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
  privateKeyObject,
} from '../crypto/ed25519.ts';
import { concatBytes, fromUtf8, utf8 } from '../protocol/encoding.ts';
import { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.ts';
import {
  decodeVerifierKey,
  keyId,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  SIGNATURE_TYPE_COSIGNATURE_V1,
} from './note.ts';

const TIMESTAMP_SIZE = 8;
const ED25519_SIGNATURE_SIZE = 64;
const MAX_TIMESTAMP = 2n ** 63n - 1n;

// tlog-cosignature §Format: "The key ID for Ed25519 cosignatures MUST be computed as
// SHA-256(<name> || "\n" || 0x04 || 32-byte Ed25519 cosigner public key)[:4]".
/** The key ID of the Ed25519 cosigner key `publicKey` named `name`. */
export function cosignatureKeyId(name: string, publicKey: Uint8Array): number {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) {
    throw new Error('Ed25519 public key must be 32 bytes');
  }
  return keyId(name, SIGNATURE_TYPE_COSIGNATURE_V1, publicKey);
}

// tlog-cosignature §Ed25519 signed message: "The signed message MUST be two newline (U+000A)
// terminated lines (one header line and one timestamp line) followed by the whole note body of
// the cosigned checkpoint (including the final newline, but not including any signature lines).
// The header line MUST be the fixed string cosignature/v1 [...]. The timestamp line MUST consist
// of the string time, a single space (0x20), and timestamped_signature.timestamp encoded as an
// ASCII decimal with no leading zeroes."
/** The message a cosigner signs: `cosignature/v1\ntime <timestamp>\n` ‖ checkpoint text. */
export function cosignedMessage(
  timestamp: number | bigint,
  checkpointText: Uint8Array,
): Uint8Array {
  const time = toTimestamp(timestamp);
  return concatBytes(utf8(`cosignature/v1\ntime ${time}\n`), checkpointText);
}

// tlog-cosignature §Format: "The signature MUST be a timestamped_signature structure. struct {
// u64 timestamp; [...] opaque ed25519_signature[64]; } timestamped_signature; [...] serialized in
// sequence, with the timestamp encoded in big-endian order."
/**
 * A cosigner of checkpoints with the Ed25519 seed `seed`, named `name`, reading the time (POSIX
 * seconds) from `now`. It refuses to sign a text that is not a checkpoint.
 */
export function cosignatureSigner(name: string, seed: Uint8Array, now: () => number): NoteSigner {
  return cosignatureKeySigner(name, ed25519FromSeed(seed).publicKey, privateKeyObject(seed), now);
}

/** A cosigner whose key may live outside the process (a PKCS#11 token). */
export function cosignatureKeySigner(
  name: string,
  publicKey: Uint8Array,
  key: Ed25519SigningKey,
  now: () => number,
): NoteSigner {
  const id = cosignatureKeyId(name, publicKey);
  return {
    name,
    keyId: id,
    sign(text) {
      parseCheckpoint(fromUtf8(text));
      const timestamp = toTimestamp(now());
      const stamped = new Uint8Array(TIMESTAMP_SIZE);
      new DataView(stamped.buffer).setBigUint64(0, timestamp);
      return concatBytes(stamped, ed25519Sign(key, cosignedMessage(timestamp, text)));
    },
  };
}

/** A verifier of `cosignature/v1` signatures by the Ed25519 cosigner key `publicKey`. */
export function cosignatureVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const id = cosignatureKeyId(name, publicKey);
  // Raw bytes: ed25519Verify keeps their KeyObject, which costs more to build than a check.
  const key = new Uint8Array(publicKey);
  return {
    name,
    keyId: id,
    verify(text, signature) {
      if (signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) return false;
      const timestamp = readTimestamp(signature);
      // "It MUST NOT exceed 2^63 - 1".
      if (timestamp > MAX_TIMESTAMP) return false;
      const message = cosignedMessage(timestamp, text);
      return ed25519Verify(key, message, signature.subarray(TIMESTAMP_SIZE));
    },
  };
}

// tlog-cosignature §Format: "Ed25519 public keys MAY be encoded as vkeys with signature type 0x04
// and the 32-byte Ed25519 cosigner public key as the public key material."
/** A verifier for a cosigner's verifier key such as `remora.n621.de+da77ade7+BOvN…`. */
export function cosignatureVerifierFromKey(vkey: string): NoteVerifier {
  const key = decodeVerifierKey(vkey);
  if (key.type !== SIGNATURE_TYPE_COSIGNATURE_V1) throw new Error('not a cosignature/v1 key');
  return cosignatureVerifier(key.name, key.publicKey);
}

/** Cosigns a checkpoint: the signature line a witness hands back to the log. */
export function cosignCheckpoint(checkpoint: Checkpoint, cosigner: NoteSigner): NoteSignature {
  const signature = cosigner.sign(utf8(formatCheckpoint(checkpoint)));
  return { name: cosigner.name, keyId: cosigner.keyId, signature };
}

/** Whether `signature` is a valid cosignature on `checkpoint` by the cosigner `verifier`. */
export function verifyCosignature(
  checkpoint: Checkpoint,
  signature: NoteSignature,
  verifier: NoteVerifier,
): boolean {
  if (signature.name !== verifier.name || signature.keyId !== verifier.keyId) return false;
  return verifier.verify(utf8(formatCheckpoint(checkpoint)), signature.signature);
}

/** The time (POSIX seconds) a cosignature claims; throws if it is not one or not a safe integer. */
export function cosignatureTimestamp(signature: NoteSignature): number {
  if (signature.signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) {
    throw new Error('not a cosignature/v1 signature');
  }
  const timestamp = readTimestamp(signature.signature);
  if (timestamp > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('timestamp too large');
  return Number(timestamp);
}

function readTimestamp(signature: Uint8Array): bigint {
  return new DataView(signature.buffer, signature.byteOffset, TIMESTAMP_SIZE).getBigUint64(0);
}

function toTimestamp(value: number | bigint): bigint {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    throw new RangeError('bad cosignature time');
  }
  const timestamp = BigInt(value);
  if (timestamp < 0n || timestamp > MAX_TIMESTAMP) throw new RangeError('bad cosignature time');
  return timestamp;
}
