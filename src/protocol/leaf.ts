/**
 * Ledger leaves (docs/protocol.md § Leaves): tagged canonical JSON, never plaintext, so a body
 * can be withheld without breaking any proof. Leaf hash = SHA-256(0x00 ‖ JCS(leaf)).
 */
import { type Static, Type } from '@sinclair/typebox';
import { B64, Ext, Hex32, Slug, Timestamp } from './common.ts';
import { Header } from './envelope.ts';
import { SignedReceipt } from './receipt.ts';

const Direction = Type.Union([Type.Literal('in'), Type.Literal('out')]);

/** An envelope sent (one leaf per recipient) or received. */
export const EnvelopeLeaf = Type.Object(
  {
    leaf: Type.Literal('envelope'),
    dir: Direction,
    /** Release time (out) or the receiver's receivedAt (in). */
    at: Timestamp,
    header: Header,
    sig: B64(64),
    /** SHA-256(JCS(sealed)) of the sealed part for this recipient. */
    sealedHash: Hex32,
  },
  { additionalProperties: false },
);
export type EnvelopeLeaf = Static<typeof EnvelopeLeaf>;

export const ReceiptLeaf = Type.Object(
  { leaf: Type.Literal('receipt'), dir: Direction, at: Timestamp, receipt: SignedReceipt },
  { additionalProperties: false },
);
export type ReceiptLeaf = Static<typeof ReceiptLeaf>;

/** A local event that matters later: unanswered, alarm, approval, override, equivocation, skew. */
export const EventLeaf = Type.Object(
  { leaf: Type.Literal('event'), type: Slug, at: Timestamp, detail: Ext },
  { additionalProperties: false },
);
export type EventLeaf = Static<typeof EventLeaf>;

export const Leaf = Type.Union([EnvelopeLeaf, ReceiptLeaf, EventLeaf]);
export type Leaf = Static<typeof Leaf>;
