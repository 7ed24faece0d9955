/**
 * The export bundle (docs/ledger.md § Bundle): everything needed to audit one node's ledger
 * offline — both parties' cards, every leaf exactly as logged, the bodies this side can read,
 * every signed checkpoint and the co-signatures on them.
 *
 * The bundle is JSON Lines (one JSON value per line, `\n`-terminated, UTF-8), one record per
 * line, in this order:
 *
 *   header · card… · leaf… · checkpoint… · cosignature… · end
 *
 * Why lines rather than one document: a log of a million leaves is a gigabyte of JSON, beyond what
 * one JavaScript string (or many JSON parsers) can hold. Lines are written as the store is read and
 * checked as they are read, each on its own, so exporting and verifying run in memory that grows
 * with the tree's hashes, not with the file; a truncated file is obvious (no `end` record); and
 * `grep`, `head` and `jq -c` work on it.
 *
 * A leaf record carries the leaf's canonical JSON as a string, so the bytes that were hashed
 * survive any JSON reader unchanged. A body is optional on every envelope leaf: withholding it
 * breaks no proof, since leaves only commit to `header.bodyHash`.
 */
import { type Static, Type } from '@sinclair/typebox';
import { PartyId, Timestamp, Uint } from '../protocol/common.ts';

/** The bundle format version this code writes and reads. */
export const BUNDLE_VERSION = 1;

/** The first record: whose ledger this is, when it was exported, how many leaves follow. */
export const BundleHeader = Type.Object(
  {
    type: Type.Literal('hotline-export'),
    version: Type.Literal(BUNDLE_VERSION),
    /** The party whose ledger this is. */
    party: PartyId,
    exportedAt: Timestamp,
    /** The tree size exported: leaf records 0 … leaves − 1 follow. */
    leaves: Uint,
  },
  { additionalProperties: false },
);
export type BundleHeader = Static<typeof BundleHeader>;

/**
 * A party's signed card: `self` is the exporting node's own card (its log key signs the
 * checkpoints), `peer` each pinned peer's card. The card is checked by the verifier
 * (`verifyCard`), not by this schema, so a bad card is reported as such.
 */
export const CardRecord = Type.Object(
  {
    type: Type.Literal('card'),
    role: Type.Union([Type.Literal('self'), Type.Literal('peer')]),
    signed: Type.Unknown(),
  },
  { additionalProperties: false },
);
export type CardRecord = Static<typeof CardRecord>;

/** One leaf, in index order from 0. */
export const LeafRecord = Type.Object(
  {
    type: Type.Literal('leaf'),
    index: Uint,
    /** The leaf's canonical JSON (JCS) text, exactly as hashed: SHA-256(0x00 ‖ UTF-8(leaf)). */
    leaf: Type.String(),
    /** For an envelope leaf, the plain body where this side can read it (opt.). */
    body: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);
export type LeafRecord = Static<typeof LeafRecord>;

/** One signed checkpoint of this log (a C2SP signed note), in increasing size. */
export const CheckpointRecord = Type.Object(
  {
    type: Type.Literal('checkpoint'),
    note: Type.String(),
    /** When the node stored it (informative; not signed). */
    at: Type.Optional(Timestamp),
  },
  { additionalProperties: false },
);
export type CheckpointRecord = Static<typeof CheckpointRecord>;

/**
 * A `cosignature/v1` signature line by `by`'s witness key on `log`'s checkpoint of tree size
 * `size`. On this bundle's own log (`log` = the header's party) the checkpoint text is the one of
 * the recomputed tree at `size`; on a peer's log the signed checkpoint note is carried along.
 */
export const CosignatureRecord = Type.Object(
  {
    type: Type.Literal('cosignature'),
    log: PartyId,
    by: PartyId,
    size: Uint,
    line: Type.String(),
    /** The co-signed checkpoint note, when it is of another party's log. */
    checkpoint: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type CosignatureRecord = Static<typeof CosignatureRecord>;

/** The last record: what came before, so a truncated or spliced file is seen at once. */
export const EndRecord = Type.Object(
  {
    type: Type.Literal('end'),
    cards: Uint,
    leaves: Uint,
    bodies: Uint,
    checkpoints: Uint,
    cosignatures: Uint,
  },
  { additionalProperties: false },
);
export type EndRecord = Static<typeof EndRecord>;

export const BundleRecord = Type.Union([
  BundleHeader,
  CardRecord,
  LeafRecord,
  CheckpointRecord,
  CosignatureRecord,
  EndRecord,
]);
export type BundleRecord = Static<typeof BundleRecord>;

/** The schema of each record type, to name the first offending field of a bad record. */
export const RECORD_SCHEMAS = {
  'hotline-export': BundleHeader,
  card: CardRecord,
  leaf: LeafRecord,
  checkpoint: CheckpointRecord,
  cosignature: CosignatureRecord,
  end: EndRecord,
} as const;
export type RecordType = keyof typeof RECORD_SCHEMAS;

/** The order records come in: each type's rank; records of one type are consecutive. */
export const RECORD_ORDER: Record<RecordType, number> = {
  'hotline-export': 0,
  card: 1,
  leaf: 2,
  checkpoint: 3,
  cosignature: 4,
  end: 5,
};

/** One record as its line in the bundle (JSON, then `\n`). */
export function bundleLine(record: BundleRecord): string {
  return `${JSON.stringify(record)}\n`;
}

/**
 * The lines of UTF-8 bundle bytes that end at a line end or at the file's end (without their
 * line ends), split where Node's readline splits them: at "\n", "\r\n" or a lone "\r". Each line
 * is decoded on its own, never a whole stretch of the file into one string (which V8 would place
 * in memory fresh from the system each time); a line end is never inside a UTF-8 sequence.
 */
export function bundleLines(bytes: Uint8Array): string[] {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lines: string[] = [];
  for (let start = 0; start < buffer.length; ) {
    let end = buffer.indexOf(0x0a, start);
    if (end === -1) end = buffer.length;
    const text = buffer.toString('utf8', start, end);
    start = end + 1;
    if (!text.includes('\r')) lines.push(text);
    else lines.push(...(text.endsWith('\r') ? text.slice(0, -1) : text).split('\r'));
  }
  return lines;
}
