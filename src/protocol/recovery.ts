/**
 * Recovery after a restore from a backup (docs/protocol.md § Recovery): the restored node's
 * discontinuity statement, its signed request to each peer, and the peer's signed answer.
 * `POST /federation/v1/recovery` is an optional addition: a peer without it answers 404, and the
 * restored node keeps asking.
 */
import { type Static, Type } from '@sinclair/typebox';
import { KeyId } from './card.ts';
import { B64, Hex32, PartyId, Timestamp, Uint } from './common.ts';
import { LIMITS } from './limits.ts';

const Note = Type.String({ minLength: 1, maxLength: LIMITS.noteChars });
const Proof = Type.Array(Hex32, { maxItems: LIMITS.proofHashes });

/**
 * The `detail` of the `discontinuity` event leaf, the first leaf of a restored node's new log
 * origin: the last checkpoint the restored log holds (old origin, size N), and per peer the
 * largest of its checkpoints that peer co-signed, with the proof that N extends it.
 */
export const Discontinuity = Type.Object(
  {
    /** The new origin line, `<log key name>/restored/<UTC time>`. */
    origin: Type.String({ minLength: 1, maxLength: 256, pattern: '^[^\\n]+$' }),
    /** The restored log's last checkpoint (signed note, old origin, size N). */
    last: Note,
    cosigned: Type.Array(
      Type.Object(
        {
          party: PartyId,
          /** Our checkpoint the peer co-signed (signed note), size C ≤ N. */
          note: Note,
          /** The peer's co-signature line on it. */
          line: Note,
          /** RFC 9162 consistency proof from C to N. */
          proof: Proof,
        },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
  },
  { additionalProperties: false },
);
export type Discontinuity = Static<typeof Discontinuity>;

export const RecoveryRequest = Type.Object(
  {
    v: Type.Integer({ minimum: 1, maximum: 65535 }),
    from: PartyId,
    to: PartyId,
    kid: KeyId,
    sent: Timestamp,
    nonce: B64(16),
    /** The discontinuity leaf's text (canonical JSON), at leaf `index` (N). */
    leaf: Type.String({ minLength: 1, maxLength: 64 * 1024 }),
    index: Uint,
    /** The first checkpoint of the new origin, size N + 1. */
    checkpoint: Note,
    /** Inclusion proof of leaf N in the tree of size N + 1. */
    inclusion: Proof,
    /** Consistency proof from N to N + 1. */
    consistency: Proof,
    /** Seq numbers of the channel to → from the restored node holds (as a heartbeat reports). */
    received: Type.Object(
      {
        contiguous: Uint,
        ranges: Type.Array(Type.Tuple([Uint, Uint]), { maxItems: LIMITS.heartbeatRanges }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type RecoveryRequest = Static<typeof RecoveryRequest>;

export const SignedRecoveryRequest = Type.Object(
  { request: RecoveryRequest, sig: B64(64) },
  { additionalProperties: false },
);
export type SignedRecoveryRequest = Static<typeof SignedRecoveryRequest>;

export const RecoveryAnswer = Type.Object(
  {
    v: Type.Integer({ minimum: 1, maximum: 65535 }),
    from: PartyId,
    to: PartyId,
    kid: KeyId,
    sent: Timestamp,
    /** The request's nonce. */
    echo: B64(16),
    /** The highest seq of the channel to → from the peer holds: the restored node goes on above it. */
    lastSeq: Uint,
    /** The peer's messages the restored node lacked, due again now in the peer's outbox. */
    resent: Uint,
    /** The peer's co-signature line on the new origin's first checkpoint. */
    cosignature: Note,
  },
  { additionalProperties: false },
);
export type RecoveryAnswer = Static<typeof RecoveryAnswer>;

export const SignedRecoveryAnswer = Type.Object(
  { answer: RecoveryAnswer, sig: B64(64) },
  { additionalProperties: false },
);
export type SignedRecoveryAnswer = Static<typeof SignedRecoveryAnswer>;
