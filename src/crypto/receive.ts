/**
 * The receiver's checks (docs/protocol.md § Receiving), in this order, and
 * nothing is stored until every one has passed:
 *
 *   1. version, schema and size        E_UNSUPPORTED_VERSION, E_TOO_LARGE, E_MALFORMED
 *   2. sender and kid known            E_UNKNOWN_PARTY, E_UNKNOWN_KEY
 *      card not expired (but rotations) E_CARD_EXPIRED
 *   3. signature                       E_BAD_SIGNATURE
 *   4. addressed to me                 E_NOT_FOR_ME
 *   5. (from, id) seen: same header → duplicate; different header → E_EQUIVOCATION
 *   6. (from, seq) used by another id  E_EQUIVOCATION
 *   7. open the seal                   E_UNSUPPORTED_SUITE, E_BAD_SEAL
 *   8. body hash, then body schema     E_BAD_BODY_HASH, E_MALFORMED, E_BAD_ROTATION
 */
import { type Body, Body as BodySchema, bodyRuleViolation } from '../protocol/body.ts';
import type { Card, KeyEntry } from '../protocol/card.ts';
import {
  equalBytes,
  fromBase64url,
  fromHex,
  fromUtf8,
  sha256,
  toHex,
} from '../protocol/encoding.ts';
import { Envelope, type Header } from '../protocol/envelope.ts';
import type { ErrorCode, Rejection } from '../protocol/errors.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { jcs, jcsBytes } from '../protocol/jcs.ts';
import { LIMITS } from '../protocol/limits.ts';
import { untrustedOf } from '../protocol/rotation.ts';
import { schemaError } from '../protocol/validate.ts';
import { FORMAT_VERSIONS } from '../protocol/version.ts';
import { cardExpired, verifyCard } from './card.ts';
import { signedBytes } from './context.ts';
import { ed25519Verify } from './ed25519.ts';
import type { EpochCache, EpochRef } from './epochs.ts';
import { messageKey, openMessage, openRecipientEpoch } from './seal.ts';

/** What the receiver knows of a pinned peer. */
export interface PinnedPeer {
  card: Card;
  /** Keys replaced by a rotation, valid for this peer's seq up to `untilSeq` inclusive. */
  retired: ReadonlyArray<{ key: KeyEntry; untilSeq: number }>;
}

export interface ReceiveContext {
  me: string;
  peer(party: string): PinnedPeer | undefined;
  /**
   * My sealing private keys for a suite, the current first: after a rotation, a retired one opens
   * what a peer sealed before it learned the new key. Empty when I have none of that suite.
   */
  sealingSecrets(suite: string): readonly Uint8Array[];
  epochs: EpochCache;
  /** The receiver's time, for card expiry; without it expiry is not checked. */
  now?: Date;
  /** The header hash (hex) already stored for (from, id), if any. */
  seenId(from: string, id: string): Promise<string | undefined> | string | undefined;
  /** The id already stored for (from, seq) on my channel, if any. */
  seqOwner(from: string, seq: number): Promise<string | undefined> | string | undefined;
  /** Signatures already checked (on worker threads, `signatureToCheck`); the rest in line. */
  checked?: CheckedSignatures;
}

/** One envelope's signature check: the key (raw and as the card lists it), bytes and sig. */
export interface SignatureCheck {
  pub: string;
  sig: string;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/**
 * The signature check an envelope will need (step 3), if it gets that far, or undefined: what a
 * receiver can hand to worker threads before it takes its write lock. The key is chosen exactly
 * as step 2 chooses it; the check is used only if step 3 comes to the very same key, bytes and
 * signature (`CheckedSignatures`), so a card that changed in between is checked in line.
 */
export function signatureToCheck(
  input: unknown,
  peer: (party: string) => PinnedPeer | undefined,
  me: string,
): SignatureCheck | undefined {
  if (schemaError(Envelope, input)) return undefined;
  const { header, sig } = input as Envelope;
  const pinned = peer(header.from);
  const key = pinned && signingKeyFor(pinned, header, header.seq[me]);
  if (!key) return undefined;
  try {
    return {
      pub: key.pub,
      sig,
      publicKey: fromBase64url(key.pub),
      message: signedBytes('envelope', jcsBytes(header)),
      signature: fromBase64url(sig),
    };
  } catch {
    return undefined;
  }
}

/** Signatures checked ahead, by signature: an answer counts only for the same key and bytes. */
export class CheckedSignatures {
  readonly #bySig = new Map<string, { check: SignatureCheck; ok: boolean }>();

  add(check: SignatureCheck, ok: boolean): void {
    this.#bySig.set(check.sig, { check, ok });
  }

  /** The answer for exactly this key, bytes and signature, if it was checked. */
  get(pub: string, message: Uint8Array, sig: string): boolean | undefined {
    const found = this.#bySig.get(sig);
    if (!found || found.check.pub !== pub || !equalBytes(found.check.message, message))
      return undefined;
    return found.ok;
  }
}

export interface Accepted {
  status: 'accepted';
  envelope: Envelope;
  header: Header;
  headerHash: string;
  body: Body;
}
export interface Duplicate {
  status: 'duplicate';
  header: Header;
  headerHash: string;
}
export interface Rejected extends Rejection {
  status: 'rejected';
  /** The message id, when the envelope got far enough to name one. */
  id?: string;
}
export type ReceiveResult = Accepted | Duplicate | Rejected;

function reject(code: ErrorCode, message: string, id?: string): Rejected {
  return id === undefined
    ? { status: 'rejected', code, message }
    : { status: 'rejected', code, message, id };
}

/** Runs every check on one untrusted envelope for `ctx.me`. Never throws on bad input. */
export async function receiveEnvelope(input: unknown, ctx: ReceiveContext): Promise<ReceiveResult> {
  // 1. version, size, schema
  const version = (input as { header?: { v?: unknown } } | null)?.header?.v;
  if (typeof version === 'number' && !FORMAT_VERSIONS.includes(version))
    return reject('E_UNSUPPORTED_VERSION', `protocol version ${version} is not supported`);
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(input) ?? '');
  } catch {
    return reject('E_MALFORMED', 'the envelope is not JSON');
  }
  if (size > LIMITS.envelopeBytes)
    return reject(
      'E_TOO_LARGE',
      `the envelope has ${size} bytes; the limit is ${LIMITS.envelopeBytes}`,
    );
  const error = schemaError(Envelope, input);
  if (error) return reject('E_MALFORMED', `envelope ${error}`);
  const envelope = input as Envelope;
  const { header } = envelope;
  const id = header.id;
  const seqKeys = Object.keys(header.seq).sort().join();
  if (seqKeys !== [...header.to].sort().join())
    return reject('E_MALFORMED', 'header.seq must name exactly the parties in header.to', id);
  if (header.to.includes(header.from))
    return reject('E_MALFORMED', 'a party cannot send to itself', id);

  // 2. sender and key
  const peer = ctx.peer(header.from);
  if (!peer) return reject('E_UNKNOWN_PARTY', `party "${header.from}" is not a pinned peer`, id);
  const mySeq = header.seq[ctx.me];
  const key = signingKeyFor(peer, header, mySeq);
  if (!key)
    return reject('E_UNKNOWN_KEY', `key ${header.kid} is not valid for this ${header.kind}`, id);
  // 2c. an expired card signs nothing more but the rotation that renews it
  if (ctx.now && header.kind !== 'rotation' && cardExpired(peer.card, ctx.now))
    return reject(
      'E_CARD_EXPIRED',
      `the card of "${header.from}" expired at ${peer.card.expires}: only a rotation is taken`,
      id,
    );

  // 3. signature
  const headerBytes = jcsBytes(header);
  const signed = signedBytes('envelope', headerBytes);
  const ok =
    ctx.checked?.get(key.pub, signed, envelope.sig) ??
    ed25519Verify(fromBase64url(key.pub), signed, fromBase64url(envelope.sig));
  if (!ok) return reject('E_BAD_SIGNATURE', 'the header signature does not verify', id);

  // 4. addressed to me
  if (mySeq === undefined)
    return reject('E_NOT_FOR_ME', `the envelope is not addressed to "${ctx.me}"`, id);

  // 5. (from, id) seen
  const headerHash = toHex(sha256(headerBytes));
  const seenHash = await ctx.seenId(header.from, id);
  if (seenHash !== undefined) {
    if (seenHash === headerHash) return { status: 'duplicate', header, headerHash };
    return reject(
      'E_EQUIVOCATION',
      `message ${id} was already received with a different header`,
      id,
    );
  }

  // 6. (from, seq) used by another id. A compromise rotation signed by the recovery key may take
  // a seq a thief's message holds: that message is one it disputes (checked at 8g).
  const owner = await ctx.seqOwner(header.from, mySeq);
  const recovering = key.purpose === 'recovery';
  if (owner !== undefined && owner !== id && !recovering)
    return reject(
      'E_EQUIVOCATION',
      `seq ${mySeq} from "${header.from}" already belongs to ${owner}`,
      id,
    );

  // 7. open the seal
  const opened = await openSeal(envelope, headerBytes, ctx);
  if ('code' in opened) return reject(opened.code, opened.message, id);

  // 8. body hash, then body
  if (!equalBytes(sha256(opened.plaintext), fromHex(header.bodyHash)))
    return reject('E_BAD_BODY_HASH', 'the body does not match header.bodyHash', id);
  const body = parseBody(opened.plaintext);
  if ('code' in body) return reject(body.code, body.message, id);
  const rotationError = rotationViolation(header, body, peer, ctx.me);
  if (rotationError) return reject('E_BAD_ROTATION', rotationError, id);
  if (owner !== undefined && owner !== id && !disputesOwnSeq(body, ctx.me))
    return reject(
      'E_EQUIVOCATION',
      `seq ${mySeq} from "${header.from}" already belongs to ${owner}`,
      id,
    );
  ctx.epochs.remember(header.from, opened.epoch, opened.secret);
  return { status: 'accepted', envelope, header, headerHash, body };
}

/**
 * The key that may sign this header: a signing key for messages; the identity key (routine) or
 * recovery key (compromise) for rotations. A retired key stays valid up to its last seq.
 */
function signingKeyFor(
  peer: PinnedPeer,
  header: Header,
  mySeq: number | undefined,
): KeyEntry | undefined {
  const purposes = header.kind === 'rotation' ? ['identity', 'recovery'] : ['signing'];
  const fits = (k: KeyEntry) => k.kid === header.kid && purposes.includes(k.purpose);
  const current = peer.card.keys.find(fits);
  if (current) return current;
  const retired = peer.retired.find((r) => fits(r.key));
  if (retired && mySeq !== undefined && mySeq <= retired.untilSeq) return retired.key;
  return undefined;
}

async function openSeal(
  envelope: Envelope,
  headerBytes: Uint8Array,
  ctx: ReceiveContext,
): Promise<{ plaintext: Uint8Array; epoch: EpochRef; secret: Uint8Array } | Rejection> {
  const { header, sealed } = envelope;
  const secretKeys = ctx.sealingSecrets(sealed.suite);
  if (!secretKeys.length)
    return { code: 'E_UNSUPPORTED_SUITE', message: `suite ${sealed.suite} is not accepted here` };
  let enc: Uint8Array;
  let epochId: Uint8Array;
  let ct: Uint8Array;
  try {
    enc = fromBase64url(sealed.epoch.enc);
    epochId = fromBase64url(sealed.epoch.id);
    ct = fromBase64url(sealed.ct);
  } catch {
    return { code: 'E_MALFORMED', message: 'the sealed part is not canonical base64url' };
  }
  const epoch: EpochRef = { suite: sealed.suite, id: epochId, enc };
  const messageKeyOf = (secret: Uint8Array) => messageKey(secret, sha256(headerBytes));
  const cached = ctx.epochs.get(header.from, epoch);
  if (cached) {
    const plaintext = openMessage(messageKeyOf(cached), headerBytes, ct);
    if (!plaintext)
      return { code: 'E_BAD_SEAL', message: 'the seal does not open with this header' };
    return { plaintext, epoch, secret: cached };
  }
  // A KEM decapsulates with any key (X-Wing and DHKEM reject implicitly): only the AEAD tells
  // which of my keys the epoch was sealed to.
  let opened = false;
  for (const secretKey of secretKeys) {
    let secret: Uint8Array;
    try {
      secret = await openRecipientEpoch(sealed.suite, secretKey, header.from, ctx.me, epochId, enc);
    } catch {
      continue;
    }
    opened = true;
    const plaintext = openMessage(messageKeyOf(secret), headerBytes, ct);
    if (plaintext) return { plaintext, epoch, secret };
  }
  if (!opened) return { code: 'E_BAD_SEAL', message: 'the epoch could not be opened' };
  return { code: 'E_BAD_SEAL', message: 'the seal does not open with this header' };
}

function parseBody(plaintext: Uint8Array): Body | Rejection {
  if (plaintext.length > LIMITS.bodyBytes)
    return { code: 'E_TOO_LARGE', message: `the body exceeds ${LIMITS.bodyBytes} bytes` };
  let value: unknown;
  let text: string;
  try {
    text = fromUtf8(plaintext);
    value = JSON.parse(text);
  } catch {
    return { code: 'E_MALFORMED', message: 'the body is not UTF-8 JSON' };
  }
  const error = schemaError(BodySchema, value);
  if (error) return { code: 'E_MALFORMED', message: `body ${error}` };
  if (jcs(value) !== text)
    return { code: 'E_MALFORMED', message: 'the body is not canonical JSON' };
  const rule = bodyRuleViolation(value as Body);
  if (rule) return { code: 'E_MALFORMED', message: rule };
  return value as Body;
}

/** Whether a (valid) compromise rotation names, for me, a first untrusted seq (≤ its own). */
function disputesOwnSeq(body: Body, me: string): boolean {
  const untrusted = body.rotation?.reason === 'compromise' ? untrustedOf(body) : undefined;
  return untrusted !== undefined && !('error' in untrusted) && untrusted.seq[me] !== undefined;
}

/**
 * A rotation envelope must carry a rotation body and vice versa; its new card must be valid, of
 * the same party, with the same recovery key. A routine rotation is signed by the identity key
 * and raises the serial. A compromise rotation is signed by the recovery key; it need not raise
 * the serial (a thief's rotation may have raised it), and its `ext.untrusted`, when present,
 * names for me a first untrusted seq no later than its own.
 */
function rotationViolation(
  header: Header,
  body: Body,
  peer: PinnedPeer,
  me: string,
): string | undefined {
  const isRotation = header.kind === 'rotation';
  if (isRotation !== (body.type === 'rotation'))
    return 'a rotation body travels in a rotation envelope, and only there';
  if (!body.rotation) return undefined;
  let next: Card;
  try {
    next = verifyCard(body.rotation.card).card;
  } catch (e) {
    return `the new card is invalid: ${e instanceof ProtocolError ? e.message : 'unreadable'}`;
  }
  const current = peer.card;
  if (next.party !== current.party) return 'the new card is for another party';
  const recovery = (c: Card) => c.keys.find((k) => k.purpose === 'recovery')?.pub;
  if (recovery(next) !== recovery(current)) return 'a rotation cannot change the recovery key';
  const signer = current.keys.find((k) => k.kid === header.kid)?.purpose;
  const expected = body.rotation.reason === 'routine' ? 'identity' : 'recovery';
  if (signer !== expected)
    return `a ${body.rotation.reason} rotation is signed by the ${expected} key`;
  if (body.rotation.reason === 'routine') {
    if (next.serial <= current.serial) return 'the new card must have a higher serial';
    if (untrustedOf(body) !== undefined) return 'only a compromise rotation names untrusted seqs';
    return undefined;
  }
  const untrusted = untrustedOf(body);
  if (untrusted && 'error' in untrusted) return untrusted.error;
  const from = untrusted?.seq[me];
  if (from !== undefined && from > (header.seq[me] ?? 0))
    return 'the first untrusted seq cannot be later than the rotation itself';
  return undefined;
}
