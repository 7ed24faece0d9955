/**
 * The heartbeat (docs/protocol.md § Heartbeat): sent on every path, seconds apart, answered by
 * the peer's own heartbeat echoing the nonce. It measures round-trip time, reports which `seq`
 * numbers arrived (so gaps are resent), and carries both logs' checkpoints for mutual witnessing.
 */
import { type Static, Type } from '@sinclair/typebox';
import { KeyId } from './card.ts';
import { B64, Ext, Hex32, PartyId, Slug, Timestamp, Uint } from './common.ts';
import { LIMITS } from './limits.ts';

const Note = Type.String({ minLength: 1, maxLength: LIMITS.noteChars });

export const Heartbeat = Type.Object(
  {
    v: Type.Integer({ minimum: 1, maximum: 65535 }),
    from: PartyId,
    to: PartyId,
    /** The endpoint id (from the receiver's card) this heartbeat travels on. */
    path: Slug,
    kid: KeyId,
    sent: Timestamp,
    nonce: B64(16),
    /** The last nonce received from the peer on this path. */
    echo: Type.Optional(B64(16)),
    /** Seq numbers of the channel to → from received so far. */
    received: Type.Object(
      {
        /** Every seq from 1 to this has arrived. */
        contiguous: Uint,
        /** Inclusive ranges above `contiguous` that have arrived, ascending. */
        ranges: Type.Array(Type.Tuple([Uint, Uint]), { maxItems: LIMITS.heartbeatRanges }),
      },
      { additionalProperties: false },
    ),
    /** The sender's latest signed checkpoint. */
    checkpoint: Note,
    /** Consistency proof from the size the peer last accepted, when the sender knows it. */
    consistency: Type.Optional(
      Type.Object(
        { from: Uint, proof: Type.Array(Hex32, { maxItems: LIMITS.proofHashes }) },
        { additionalProperties: false },
      ),
    ),
    /** The sender's co-signature (C2SP cosignature/v1 signature line) of the peer's checkpoint. */
    cosignature: Type.Optional(
      Type.Object({ size: Uint, line: Note }, { additionalProperties: false }),
    ),
    /** The serial of the sender's current card. */
    card: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    ext: Type.Optional(Ext),
  },
  { additionalProperties: false },
);
export type Heartbeat = Static<typeof Heartbeat>;

export const SignedHeartbeat = Type.Object(
  { heartbeat: Heartbeat, sig: B64(64) },
  { additionalProperties: false },
);
export type SignedHeartbeat = Static<typeof SignedHeartbeat>;
