/**
 * Party cards: creation, signing, verification and the fingerprint read aloud at a key ceremony
 * (docs/protocol.md § Party card, § Fingerprint).
 */
import {
  Card,
  type Endpoint,
  type KeyEntry,
  type KeyPurpose,
  PUBLIC_KEY_BYTES,
  SignedCard,
} from '../protocol/card.ts';
import { extTooLarge } from '../protocol/common.ts';
import { fromBase64url, sha256, toBase64url, utf8 } from '../protocol/encoding.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import { schemaError } from '../protocol/validate.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import { LABELS, signedBytes } from './context.ts';
import { type Ed25519SigningKey, ed25519Sign, ed25519Verify } from './ed25519.ts';
import { keyId } from './keys.ts';
import { cardPin, TLS_EXT } from './tls.ts';

export interface CardInput {
  party: string;
  names: Record<string, string>;
  keys: KeyEntry[];
  endpoints: Endpoint[];
  vocabulary: { version: string; hash: string };
  /** The notification regimes counted by, pinned in `ext.regimes` (docs/regimes.md). */
  regimes?: { version: string; hash: string };
  /**
   * The pin of the node's TLS certificate (./tls.ts), in `ext.tls`: with it the card lists
   * protocol 2 (pinned mutual TLS); without it, only 1 (plain HTTP).
   */
  tlsPin?: string | undefined;
  serial?: number;
  issued: Date;
  /** Validity; two years by default. */
  expires?: Date;
}

const TWO_YEARS_MS = 2 * 365 * 24 * 3600 * 1000;

export function createCard(input: CardInput): Card {
  return {
    v: 1,
    party: input.party,
    names: input.names,
    serial: input.serial ?? 1,
    issued: input.issued.toISOString(),
    expires: (input.expires ?? new Date(input.issued.getTime() + TWO_YEARS_MS)).toISOString(),
    protocols: input.tlsPin ? [1, PROTOCOL_VERSION] : [1],
    keys: input.keys,
    endpoints: input.endpoints,
    vocabulary: input.vocabulary,
    ...(input.regimes || input.tlsPin
      ? {
          ext: {
            ...(input.regimes ? { regimes: input.regimes } : {}),
            ...(input.tlsPin ? { [TLS_EXT]: { spki: input.tlsPin } } : {}),
          },
        }
      : {}),
  };
}

/** Signs a card with its identity key: sig = Ed25519(identity, "hotline/v1/card\n" ‖ JCS(card)). */
export function signCard(card: Card, identity: Ed25519SigningKey): SignedCard {
  const violation = cardRuleViolation(card);
  if (violation) throw new ProtocolError('E_BAD_CARD', violation);
  const kid = onlyKey(card, 'identity').kid;
  const sig = ed25519Sign(identity, signedBytes('card', jcsBytes(card)));
  return { card, kid, sig: toBase64url(sig) };
}

/**
 * Checks a signed card as received (from a file, a rotation, a peer): schema, rules, and the
 * identity key's signature. Expiry is the caller's policy; see `cardExpired`.
 */
export function verifyCard(input: unknown): SignedCard {
  const error = schemaError(SignedCard, input);
  if (error) throw new ProtocolError('E_BAD_CARD', `the signed card ${error}`);
  const signed = input as SignedCard;
  const violation = cardRuleViolation(signed.card);
  if (violation) throw new ProtocolError('E_BAD_CARD', violation);
  const identity = onlyKey(signed.card, 'identity');
  if (signed.kid !== identity.kid)
    throw new ProtocolError('E_BAD_CARD', 'the card must be signed by its own identity key');
  const ok = ed25519Verify(
    fromBase64url(identity.pub),
    signedBytes('card', jcsBytes(signed.card)),
    fromBase64url(signed.sig),
  );
  if (!ok) throw new ProtocolError('E_BAD_SIGNATURE', 'the card signature does not verify');
  return signed;
}

export function cardExpired(card: Card, now: Date): boolean {
  return Date.parse(card.expires) <= now.getTime();
}

const EXACTLY_ONE: readonly KeyPurpose[] = ['identity', 'log', 'witness', 'recovery'];
const AT_LEAST_ONE: readonly KeyPurpose[] = ['signing', 'sealing'];

/** Rules beyond the schema, as a sentence naming the first broken one. */
export function cardRuleViolation(card: Card): string | undefined {
  if (Schema(card)) return Schema(card);
  for (const purpose of EXACTLY_ONE) {
    const n = card.keys.filter((k) => k.purpose === purpose).length;
    if (n !== 1) return `a card needs exactly one ${purpose} key, not ${n}`;
  }
  for (const purpose of AT_LEAST_ONE)
    if (!card.keys.some((k) => k.purpose === purpose)) return `a card needs a ${purpose} key`;
  const kids = new Set<string>();
  for (const key of card.keys) {
    const isSealing = key.purpose === 'sealing';
    if (isSealing === (key.alg === 'ed25519'))
      return `key ${key.kid}: a ${key.purpose} key cannot use ${key.alg}`;
    let pub: Uint8Array;
    try {
      pub = fromBase64url(key.pub);
    } catch {
      return `key ${key.kid}: the public key is not base64url`;
    }
    if (pub.length !== PUBLIC_KEY_BYTES[key.alg])
      return `key ${key.kid}: an ${key.alg} public key has ${PUBLIC_KEY_BYTES[key.alg]} bytes`;
    if (keyId(key.alg, pub) !== key.kid) return `key ${key.kid}: the kid does not match the key`;
    if (kids.has(key.kid)) return `key ${key.kid} is listed twice`;
    kids.add(key.kid);
    const named = key.purpose === 'log' || key.purpose === 'witness';
    if (named !== (key.name !== undefined))
      return `key ${key.kid}: log and witness keys, and only they, carry a note key name`;
  }
  if (extTooLarge(card.ext)) return 'the card\'s "ext" is too large';
  const endpointIds = new Set(card.endpoints.map((e) => e.id));
  if (endpointIds.size !== card.endpoints.length) return 'endpoint ids must be unique';
  const sorted = [...new Set(card.protocols)].sort((a, b) => a - b);
  if (sorted.join() !== card.protocols.join()) return 'protocols must be ascending and unique';
  if (Date.parse(card.expires) <= Date.parse(card.issued))
    return 'a card must expire after it is issued';
  if (card.protocols.includes(2) !== (cardPin(card.ext) !== undefined))
    return 'a card lists protocol 2 exactly when it pins its TLS key in "ext.tls" ({"spki": 64 hex})';
  return undefined;
}

function Schema(card: Card): string | undefined {
  const error = schemaError(Card, card);
  return error ? `card ${error}` : undefined;
}

export function onlyKey(card: Card, purpose: KeyPurpose): KeyEntry {
  const key = card.keys.find((k) => k.purpose === purpose);
  if (!key) throw new ProtocolError('E_BAD_CARD', `the card has no ${purpose} key`);
  return key;
}

export function findKey(card: Card, kid: string): KeyEntry | undefined {
  return card.keys.find((k) => k.kid === kid);
}

/**
 * The fingerprint read aloud at the key ceremony: 40 decimal digits in 8 groups of 5, from
 *   n = SHA-256("hotline/v1/fingerprint\n" ‖ party ‖ "\n" ‖ identityPub ‖ recoveryPub)
 * read as a big-endian integer, taken modulo 10^40 (≈ 2^132.9, so ≥ 128 bits). Endpoints and
 * the other keys can change by a newly signed card without changing it.
 */
export function fingerprint(card: Card): string {
  const identity = fromBase64url(onlyKey(card, 'identity').pub);
  const recovery = fromBase64url(onlyKey(card, 'recovery').pub);
  const digest = sha256(utf8(`${LABELS.fingerprint}${card.party}\n`), identity, recovery);
  const n = BigInt(`0x${Buffer.from(digest).toString('hex')}`) % 10n ** 40n;
  const digits = n.toString().padStart(40, '0');
  return digits.match(/.{5}/g)?.join(' ') ?? digits;
}
