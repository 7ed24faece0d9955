/**
 * Signed notes: C2SP signed-note v1.0.0.
 * https://github.com/C2SP/C2SP/blob/main/signed-note.md
 *
 * A note is UTF-8 text signed by one or more keys. Keys travel as the text encodings of
 * golang.org/x/mod/sumdb/note: a verifier key `<name>+<key id, 8 hex>+<base64(type ‖ public
 * key)>` and a signer key `PRIVATE+KEY+<name>+<key id>+<base64(type ‖ Ed25519 seed)>`.
 */
import {
  type Ed25519SigningKey,
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
  PUBLIC_KEY_LENGTH,
  privateKeyObject,
  SEED_LENGTH,
} from '../crypto/ed25519.ts';
import { fromHex, sha256, toHex, utf8 } from '../protocol/encoding.ts';
import { fromBase64, toBase64 } from './base64.ts';

/** Signature type 0x01 (signed-note §Signature types): Ed25519 over the note text. */
export const SIGNATURE_TYPE_ED25519 = 0x01;

/**
 * Signature type 0x04 (signed-note §Signature types): timestamped Ed25519 witness cosignatures,
 * c2sp.org/tlog-cosignature (see cosignature.ts).
 */
export const SIGNATURE_TYPE_COSIGNATURE_V1 = 0x04;

/** The largest note accepted, in bytes: room for 16 post-quantum signatures and then some. */
export const MAX_NOTE_SIZE = 1 << 20;

/** The most signature lines accepted in one note (the spec requires at least 16). */
export const MAX_SIGNATURES = 100;

/** One signature line: the key name, its 32-bit key ID, and the signature bytes after the ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A note's text (ending in a newline) and its signature lines, verified or not. */
export interface Note {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** A note after openNote: its text and which signatures a known key verified. */
export interface OpenedNote {
  readonly text: string;
  /** Signatures by known keys, each verified; one per key. */
  readonly verified: readonly NoteSignature[];
  /** Signatures by keys not among the verifiers, ignored as the spec requires. */
  readonly unverified: readonly NoteSignature[];
}

/** Checks signatures by one key, identified by name and key ID. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Signs note texts with one key, identified by name and key ID. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(text: Uint8Array): Uint8Array;
}

/** A decoded verifier key: any signature type whose key ID follows the spec's recommendation. */
export interface VerifierKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
}

/** A decoded signer key of an Ed25519-based type (0x01 or 0x04). */
export interface SignerKey {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly seed: Uint8Array;
}

/** Why a note was refused: unreadable, signed by no known key, badly signed, or ambiguous. */
export type NoteErrorReason = 'malformed' | 'unverified' | 'invalid-signature' | 'ambiguous-key';

/** A note that cannot be trusted, with the reason. */
export class NoteError extends Error {
  readonly reason: NoteErrorReason;

  constructor(reason: NoteErrorReason, message: string) {
    super(message);
    this.name = 'NoteError';
    this.reason = reason;
  }
}

// A BOM is note text like any other, so it must survive decoding for signatures to verify.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const SIGNATURE_PREFIX = '\u2014 ';
const LONE_SURROGATE = /\p{Cs}/u;
const NAME = /^[^\p{White_Space}+]+$/u;

// signed-note §Format: "Key names MUST be non-empty and MUST NOT contain any Unicode spaces or
// plus (U+002B) characters."
/** Whether `name` may name a key: non-empty, well-formed, no Unicode space, plus or control. */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === 'string' && NAME.test(name) && !LONE_SURROGATE.test(name) && !hasControl(name)
  );
}

/**
 * Whether `text` can be a note's text: it ends in a newline, is well-formed Unicode (so UTF-8
 * encodes it), and has no ASCII control character but newline.
 */
export function isNoteText(text: string): boolean {
  return (
    typeof text === 'string' &&
    text.endsWith('\n') &&
    !hasControl(text) &&
    !LONE_SURROGATE.test(text)
  );
}

// signed-note §Signatures: "key ID = SHA-256(key name || 0x0A || signature type || public
// key)[:4]", read as a big-endian uint32.
/** The recommended key ID of a key: the first four bytes of SHA-256(name ‖ 0x0A ‖ type ‖ key). */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  if (!isValidKeyName(name)) throw new Error('bad key name');
  if (!Number.isInteger(type) || type < 0 || type > 0xff) throw new Error('bad signature type');
  if (!(publicKey instanceof Uint8Array)) throw new TypeError('public key must be a Uint8Array');
  const digest = sha256(utf8(name), Uint8Array.of(0x0a, type), publicKey);
  return readUint32(digest);
}

// signed-note §Format: "A signed note consists of a text ending in newline (U+000A), followed by
// a blank line (only a newline), followed by one or more signature lines of this form: em dash
// (U+2014), space (U+0020), key name, space, base64-encoded signature, newline. Signed notes MUST
// be valid UTF-8 and MUST NOT contain any ASCII control characters (those below U+0020) other than
// newline. [...] the text is separated from the signatures by the last empty line in the note."
/** Splits a signed note into its text and signature lines, checking only its syntax. */
export function parseNote(msg: Uint8Array): Note {
  return parseNoteParts(msg).note;
}

function parseNoteParts(msg: Uint8Array): { note: Note; text: Uint8Array } {
  if (!(msg instanceof Uint8Array)) throw new TypeError('note must be a Uint8Array');
  if (msg.length > MAX_NOTE_SIZE) throw malformed('note too large');
  let all: string;
  try {
    all = strictUtf8.decode(msg);
  } catch {
    throw malformed('note is not UTF-8');
  }
  if (hasControl(all)) throw malformed('control character in note');
  const split = Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength).lastIndexOf('\n\n');
  if (split < 0) throw malformed('note has no blank line');
  const text = msg.subarray(0, split + 1);
  const lines = strictUtf8.decode(msg.subarray(split + 2));
  if (!lines.endsWith('\n')) throw malformed('note does not end in a signature line');
  const signatureLines = lines.slice(0, -1).split('\n');
  if (signatureLines.length > MAX_SIGNATURES) throw malformed('too many signatures');
  const signatures = signatureLines.map(parseSignatureLine);
  return { note: { text: strictUtf8.decode(text), signatures }, text };
}

function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(SIGNATURE_PREFIX)) throw malformed('bad signature line');
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(' ');
  const name = rest.slice(0, space);
  if (space < 0 || !isValidKeyName(name)) throw malformed('bad key name in signature line');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(rest.slice(space + 1));
  } catch {
    throw malformed('bad base64 in signature line');
  }
  // "Signatures are the base64 encoding of 4+n bytes. The first four bytes in the signature are
  // the uint32 key ID stored in big-endian order."
  if (bytes.length < 5) throw malformed('signature too short');
  return { name, keyId: readUint32(bytes), signature: bytes.slice(4) };
}

/** The text of one signature line, newline included: `— <name> base64(key ID ‖ signature)`. */
export function formatSignatureLine(signature: NoteSignature): string {
  const { name, keyId: id, signature: bytes } = signature;
  if (!isValidKeyName(name)) throw new Error('bad key name');
  if (!isUint32(id)) throw new Error('bad key ID');
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new Error('empty signature');
  const raw = new Uint8Array(4 + bytes.length);
  new DataView(raw.buffer).setUint32(0, id);
  raw.set(bytes, 4);
  return `${SIGNATURE_PREFIX}${name} ${toBase64(raw)}\n`;
}

/** Writes a note: its text, a blank line, then its signature lines, as parseNote reads them. */
export function formatNote(note: Note): Uint8Array {
  checkText(note.text);
  if (note.signatures.length === 0) throw new Error('a note needs a signature');
  if (note.signatures.length > MAX_SIGNATURES) throw new Error('too many signatures');
  const msg = utf8(`${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`);
  if (msg.length > MAX_NOTE_SIZE) throw new Error('note too large');
  return msg;
}

/**
 * Signs a note's text with each signer and writes the note. Signatures already on the note are
 * kept first, except those by a key that signs again (name and key ID), as Go's note.Sign does.
 */
export function signNote(note: Note | string, signers: readonly NoteSigner[]): Uint8Array {
  const { text, signatures } = typeof note === 'string' ? { text: note, signatures: [] } : note;
  checkText(text);
  const bytes = utf8(text);
  const fresh = signers.map((signer): NoteSignature => {
    if (!isValidKeyName(signer.name) || !isUint32(signer.keyId)) throw new Error('bad signer');
    return { name: signer.name, keyId: signer.keyId, signature: signer.sign(bytes) };
  });
  const kept = signatures.filter((old) => !fresh.some((sig) => sameKey(sig, old)));
  return formatNote({ text, signatures: [...kept, ...fresh] });
}

// signed-note §Signatures: "Verifiers MUST ignore signatures from unknown keys, even if they share
// a name or ID (but not both) with a known key. If the key name and ID match a known key,
// verifiers MUST verify the signature. If a signature from a known key fails to verify, clients
// SHOULD reject the whole note. If no signature from a known key verifies successfully, clients
// MUST reject the note."
/**
 * Parses a note and checks every signature by a known key. Throws a NoteError when the note is
 * malformed, a known key's signature fails, two verifiers share a name and key ID, or no known key
 * signed; otherwise answers the text with the verified and the ignored signatures.
 */
export function openNote(msg: Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const { note, text } = parseNoteParts(msg);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const sig of note.signatures) {
    const known = verifiers.filter((v) => sameKey(v, sig));
    const [verifier] = known;
    if (verifier === undefined) {
      if (!unverified.some((old) => sameSignature(old, sig))) unverified.push(sig);
      continue;
    }
    const key = `${sig.name}+${hex8(sig.keyId)}`;
    if (known.length > 1) throw new NoteError('ambiguous-key', `ambiguous key ${key}`);
    if (!verifier.verify(text, sig.signature)) {
      throw new NoteError('invalid-signature', `invalid signature for key ${key}`);
    }
    if (!verified.some((old) => sameKey(old, sig))) verified.push(sig);
  }
  if (verified.length === 0) {
    throw new NoteError('unverified', 'note has no verifiable signatures');
  }
  return { text: note.text, verified, unverified };
}

// signed-note §Ed25519 signatures: "Ed25519 signatures are generated according to RFC 8032 over
// the note text. The key ID is generated as recommended above, with the public key encoded as 32
// bytes according to RFC 8032 and signature type identifier byte 0x01."
/** A verifier of type 0x01 signatures by the Ed25519 key `publicKey` named `name`. */
export function ed25519NoteVerifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const id = keyId(name, SIGNATURE_TYPE_ED25519, checkPublicKey(publicKey));
  // Raw bytes: ed25519Verify keeps their KeyObject, which costs more to build than a check, and
  // a verifier is made per checkpoint opened.
  const key = new Uint8Array(publicKey);
  return {
    name,
    keyId: id,
    verify: (text, signature) => ed25519Verify(key, text, signature),
  };
}

/** A signer of type 0x01 signatures with the Ed25519 seed `seed`, under the key name `name`. */
export function ed25519NoteSigner(name: string, seed: Uint8Array): NoteSigner {
  const { publicKey } = ed25519FromSeed(checkSeed(seed));
  return ed25519KeyNoteSigner(name, publicKey, privateKeyObject(seed));
}

/** A signer of type 0x01 signatures by a key that may live outside the process (a token). */
export function ed25519KeyNoteSigner(
  name: string,
  publicKey: Uint8Array,
  key: Ed25519SigningKey,
): NoteSigner {
  const id = keyId(name, SIGNATURE_TYPE_ED25519, publicKey);
  return { name, keyId: id, sign: (text) => ed25519Sign(key, text) };
}

/** Encodes a verifier key: `<name>+<key ID, 8 lowercase hex>+<base64(type ‖ public key)>`. */
export function encodeVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  const id = keyId(name, type, publicKey);
  const material = new Uint8Array([type, ...publicKey]);
  return `${name}+${hex8(id)}+${toBase64(material)}`;
}

/**
 * Decodes a verifier key as Go's note.NewVerifier reads it, but strictly (lowercase hex,
 * canonical base64), and checks that its key ID is the one its name, type and key give.
 */
export function decodeVerifierKey(vkey: string): VerifierKey {
  const { name, id, bytes } = decodeKeyParts(chop(vkey, 2));
  const [type] = bytes;
  if (type === undefined || bytes.length < 2) throw new Error('bad verifier key');
  const publicKey = bytes.slice(1);
  if (keyId(name, type, publicKey) !== id) throw new Error('verifier key ID mismatch');
  return { name, keyId: id, type, publicKey };
}

/** A verifier for an Ed25519 (type 0x01) verifier key such as `PeterNeumann+c74f20a3+ARpc…`. */
export function verifierFromKey(vkey: string): NoteVerifier {
  const key = decodeVerifierKey(vkey);
  if (key.type !== SIGNATURE_TYPE_ED25519) throw new Error('not an Ed25519 verifier key');
  return ed25519NoteVerifier(key.name, key.publicKey);
}

/**
 * Encodes a signer key: `PRIVATE+KEY+<name>+<key ID>+<base64(type ‖ seed)>`, for an
 * Ed25519-based type (0x01, or 0x04 for a cosigner), the key ID being that of the public key.
 */
export function encodeSignerKey(name: string, type: number, seed: Uint8Array): string {
  const id = keyId(name, checkEd25519Type(type), ed25519FromSeed(checkSeed(seed)).publicKey);
  return `PRIVATE+KEY+${name}+${hex8(id)}+${toBase64(new Uint8Array([type, ...seed]))}`;
}

/**
 * Decodes a signer key as Go's note.NewSigner reads it, but strictly, and checks that its key ID
 * is that of the public key the seed gives.
 */
export function decodeSignerKey(skey: string): SignerKey {
  const [private1, private2, ...parts] = chop(skey, 4);
  if (private1 !== 'PRIVATE' || private2 !== 'KEY') throw new Error('bad signer key');
  const { name, id, bytes } = decodeKeyParts(parts);
  const type = checkEd25519Type(bytes[0]);
  const seed = bytes.slice(1);
  if (seed.length !== SEED_LENGTH) throw new Error('bad signer key');
  if (keyId(name, type, ed25519FromSeed(seed).publicKey) !== id) {
    throw new Error('signer key ID mismatch');
  }
  return { name, keyId: id, type, seed };
}

/** A signer for an Ed25519 (type 0x01) signer key such as `PRIVATE+KEY+PeterNeumann+…`. */
export function signerFromKey(skey: string): NoteSigner {
  const key = decodeSignerKey(skey);
  if (key.type !== SIGNATURE_TYPE_ED25519) throw new Error('not an Ed25519 signer key');
  return ed25519NoteSigner(key.name, key.seed);
}

function checkText(text: string): void {
  if (!isNoteText(text)) {
    throw new Error('note text must end in a newline, be UTF-8, have no control characters');
  }
}

/** Splits at the first `parts` pluses; the last part keeps any further pluses (base64 has them). */
function chop(key: string, parts: number): string[] {
  if (typeof key !== 'string') throw new TypeError('key must be a string');
  const out: string[] = [];
  let rest = key;
  for (let i = 0; i < parts; i++) {
    const plus = rest.indexOf('+');
    if (plus < 0) throw new Error('bad key encoding');
    out.push(rest.slice(0, plus));
    rest = rest.slice(plus + 1);
  }
  out.push(rest);
  return out;
}

/** Reads `<name>+<key ID, 8 lowercase hex>+<base64 key material>`. */
function decodeKeyParts(parts: readonly string[]): { name: string; id: number; bytes: Uint8Array } {
  const [name, id, material] = parts;
  if (name === undefined || !isValidKeyName(name)) throw new Error('bad key name in key');
  if (id === undefined || !/^[0-9a-f]{8}$/.test(id)) throw new Error('bad key ID in key');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64(material ?? '');
  } catch {
    throw new Error('bad base64 in key');
  }
  return { name, id: readUint32(fromHex(id)), bytes };
}

function checkEd25519Type(type: number | undefined): number {
  if (type !== SIGNATURE_TYPE_ED25519 && type !== SIGNATURE_TYPE_COSIGNATURE_V1) {
    throw new Error('unsupported key type');
  }
  return type;
}

function checkPublicKey(publicKey: Uint8Array): Uint8Array {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) {
    throw new Error('Ed25519 public key must be 32 bytes');
  }
  return publicKey;
}

function checkSeed(seed: Uint8Array): Uint8Array {
  if (!(seed instanceof Uint8Array) || seed.length !== SEED_LENGTH) {
    throw new Error('Ed25519 seed must be 32 bytes');
  }
  return seed;
}

/** Whether `text` has an ASCII control character other than newline. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 && code !== 0x0a) return true;
  }
  return false;
}

function sameKey(a: { name: string; keyId: number }, b: { name: string; keyId: number }): boolean {
  return a.name === b.name && a.keyId === b.keyId;
}

function sameSignature(a: NoteSignature, b: NoteSignature): boolean {
  return sameKey(a, b) && Buffer.compare(a.signature, b.signature) === 0;
}

function readUint32(bytes: Uint8Array): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
}

function isUint32(value: number): boolean {
  return Number.isInteger(value) && value >= 0 && value <= 0xffffffff;
}

function hex8(id: number): string {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, id);
  return toHex(bytes);
}

function malformed(message: string): NoteError {
  return new NoteError('malformed', message);
}
