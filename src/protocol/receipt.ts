/**
 * The batched receipt (docs/protocol.md § Receipt): the receiver's signed statement that
 * envelopes are durably stored and in its ledger, with one checkpoint for the batch and an
 * inclusion proof per entry.
 */
import { type Static, Type } from '@sinclair/typebox';
import { KeyId } from './card.ts';
import { B64, Hex32, PartyId, Timestamp, Uint, Uuid7 } from './common.ts';
import { LIMITS } from './limits.ts';

export const ReceiptEntry = Type.Object(
  {
    id: Uuid7,
    /** SHA-256(JCS(header)) as received. */
    headerHash: Hex32,
    /** The receiver's own time of storing it; also the `at` of its ledger leaf. */
    receivedAt: Timestamp,
    /** The index of the envelope's leaf in the receiver's log. */
    index: Uint,
    /** RFC 9162 inclusion proof of that leaf in the tree of the receipt's checkpoint. */
    proof: Type.Array(Hex32, { maxItems: LIMITS.proofHashes }),
  },
  { additionalProperties: false },
);
export type ReceiptEntry = Static<typeof ReceiptEntry>;

export const Receipt = Type.Object(
  {
    v: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** The receiver, who signs. */
    from: PartyId,
    /** The sender of the envelopes. */
    to: PartyId,
    kid: KeyId,
    issued: Timestamp,
    entries: Type.Array(ReceiptEntry, { minItems: 1, maxItems: LIMITS.batchEnvelopes }),
    /** The receiver's C2SP checkpoint (signed note) covering every entry. */
    checkpoint: Type.String({ minLength: 1, maxLength: LIMITS.noteChars }),
  },
  { additionalProperties: false },
);
export type Receipt = Static<typeof Receipt>;

export const SignedReceipt = Type.Object(
  { receipt: Receipt, sig: B64(64) },
  { additionalProperties: false },
);
export type SignedReceipt = Static<typeof SignedReceipt>;
