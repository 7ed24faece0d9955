/**
 * The envelope (docs/protocol.md § Envelope): everything numbered that crosses between nodes.
 *
 *   header   = { v, kind, id, from, to, seq, sent, kid, bodyHash }
 *   sig      = Ed25519("hotline/v1/envelope\n" ‖ JCS(header))
 *   sealed   = { suite, epoch: { id, enc }, ct }
 *   envelope = { header, sig, sealed }
 */
import { type Static, Type } from '@sinclair/typebox';
import { KeyId } from './card.ts';
import { B64, B64Max, Hex32, OneOf, PartyId, Seq, Timestamp, Uuid7 } from './common.ts';
import { LIMITS } from './limits.ts';

/** `message` for content; `rotation` for a key rotation, signed by the identity or recovery key. */
export const ENVELOPE_KINDS = ['message', 'rotation'] as const;
export type EnvelopeKind = (typeof ENVELOPE_KINDS)[number];

export const Header = Type.Object(
  {
    v: Type.Integer({ minimum: 1, maximum: 65535 }),
    kind: OneOf(ENVELOPE_KINDS),
    id: Uuid7,
    from: PartyId,
    to: Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients, uniqueItems: true }),
    /** Each recipient's channel number (from → that recipient); keys are exactly `to`. */
    seq: Type.Record(PartyId, Seq, {
      minProperties: 1,
      maxProperties: LIMITS.recipients,
      additionalProperties: false,
    }),
    /** The sender's claim of time; never a reason to reject. */
    sent: Timestamp,
    kid: KeyId,
    /** SHA-256(JCS(body)). */
    bodyHash: Hex32,
  },
  { additionalProperties: false },
);
export type Header = Static<typeof Header>;

/** HPKE suites (RFC 9180): KEM, HKDF-SHA256, AES-256-GCM. */
export const SUITES = ['x-wing', 'x25519'] as const;
export type SuiteName = (typeof SUITES)[number];

export const Sealed = Type.Object(
  {
    suite: OneOf(SUITES),
    epoch: Type.Object(
      {
        id: B64(16),
        /** The HPKE encapsulation that opened the epoch: 1120 bytes (X-Wing) or 32 (X25519). */
        enc: B64Max(1494),
      },
      { additionalProperties: false },
    ),
    /** AES-256-GCM ciphertext and tag of JCS(body). */
    ct: B64Max(Math.ceil(((LIMITS.bodyBytes + 16) * 4) / 3)),
  },
  { additionalProperties: false },
);
export type Sealed = Static<typeof Sealed>;

export const Envelope = Type.Object(
  { header: Header, sig: B64(64), sealed: Sealed },
  { additionalProperties: false },
);
export type Envelope = Static<typeof Envelope>;
