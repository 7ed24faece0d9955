/**
 * Verifying a peer's batched receipt (docs/protocol.md § Receipt): the signature against the
 * pinned card, the checkpoint against the peer's log key, and for every entry that the header
 * hash is the one we sent and that the leaf the peer must have logged is in its tree.
 */
import { verifyReceiptSignature } from '../crypto/statements.ts';
import type { Card } from '../protocol/card.ts';
import { fromBase64url, utf8 } from '../protocol/encoding.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { EnvelopeLeaf } from '../protocol/leaf.ts';
import type { ReceiptEntry, SignedReceipt } from '../protocol/receipt.ts';
import { type Checkpoint, openCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { cosignatureVerifier } from './cosignature.ts';
import { envelopeLeaf, hashLeaf } from './leaves.ts';
import { RecordChecker } from './merkle.ts';
import { ed25519NoteVerifier, parseNote } from './note.ts';

export interface SentEnvelope {
  headerHash: string;
  envelope: Envelope;
}

/** What the sender's own log holds of an envelope it sent: its `out` leaf (no sealed part). */
export interface SentLeaf {
  headerHash: string;
  leaf: EnvelopeLeaf;
}

/** The same, as the leaf hash the recipient logged for it at `receivedAt`, however computed. */
export interface SentLeafHash {
  headerHash: string;
  receivedLeafHash(receivedAt: string): Uint8Array;
}

export interface VerifiedReceipt {
  receipt: SignedReceipt;
  checkpoint: Checkpoint;
  /** The entries that matched an envelope we sent, each proven. */
  entries: ReceiptEntry[];
}

/** The peer's log key as a C2SP note verifier. */
export function logVerifier(card: Card) {
  const key = card.keys.find((k) => k.purpose === 'log');
  if (!key?.name) throw new ProtocolError('E_BAD_CARD', 'the card has no named log key');
  return ed25519NoteVerifier(key.name, fromBase64url(key.pub));
}

/** The peer's witness key as a C2SP `cosignature/v1` verifier, for its co-signatures of ours. */
export function witnessVerifier(card: Card) {
  const key = card.keys.find((k) => k.purpose === 'witness');
  if (!key?.name) throw new ProtocolError('E_BAD_CARD', 'the card has no named witness key');
  return cosignatureVerifier(key.name, fromBase64url(key.pub));
}

/**
 * Whether `origin` is an origin of the log key `keyName`: its name, or a new origin a restore
 * from a backup started (`<name>/restored/<time>`, ledger/discontinuity.ts). Which origin a peer's
 * log has now is the witness's to know (node/record/witness.ts).
 */
export function isOriginOf(origin: string, keyName: string): boolean {
  return origin === keyName || origin.startsWith(`${keyName}/restored/`);
}

/**
 * Opens a signed checkpoint note of the log of `card`, of any of its origins (`isOriginOf`);
 * E_BAD_PROOF when it is not signed by its log key.
 */
export function openPeerCheckpoint(card: Card, note: string): Checkpoint {
  const verifier = logVerifier(card);
  try {
    const message = utf8(note);
    const origin = parseCheckpoint(parseNote(message).text).origin;
    if (!isOriginOf(origin, verifier.name)) throw new Error('checkpoint is from another log');
    return openCheckpoint(message, origin, verifier).checkpoint;
  } catch (e) {
    throw new ProtocolError(
      'E_BAD_PROOF',
      `the checkpoint does not verify: ${(e as Error).message}`,
    );
  }
}

/**
 * Checks a receipt for envelopes we sent. `sent` looks up what we sent by message id; an entry
 * for something we did not send is an error, as is any failing proof.
 */
export function verifyReceipt(
  input: unknown,
  peerCard: Card,
  me: string,
  sent: (id: string) => SentEnvelope | SentLeaf | SentLeafHash | undefined,
): VerifiedReceipt {
  return checkReceipt(verifyReceiptSignature(input, peerCard, me), peerCard, sent);
}

/** `verifyReceipt` of a receipt whose schema, addressing and signature are checked. */
export function checkReceipt(
  receipt: SignedReceipt,
  peerCard: Card,
  sent: (id: string) => SentEnvelope | SentLeaf | SentLeafHash | undefined,
): VerifiedReceipt {
  const checkpoint = openPeerCheckpoint(peerCard, receipt.receipt.checkpoint);
  // One tree head for every entry: neighbouring leaves' proofs are not hashed twice.
  const proofs = new RecordChecker(checkpoint.size, checkpoint.root);
  for (const entry of receipt.receipt.entries) {
    const mine = sent(entry.id);
    if (!mine)
      throw new ProtocolError(
        'E_BAD_RECEIPT',
        `the receipt names ${entry.id}, which we did not send`,
      );
    if (mine.headerHash !== entry.headerHash)
      throw new ProtocolError(
        'E_BAD_RECEIPT',
        `the receipt's header hash for ${entry.id} is not what we sent`,
      );
    const leaf =
      'receivedLeafHash' in mine
        ? mine.receivedLeafHash(entry.receivedAt)
        : hashLeaf(receivedLeaf(mine, entry.receivedAt));
    if (!proofs.check(entry.proof, entry.index, leaf))
      throw new ProtocolError('E_BAD_PROOF', `the inclusion proof for ${entry.id} does not verify`);
  }
  return { receipt, checkpoint, entries: receipt.receipt.entries };
}

/** The leaf the receiver logged for what we sent: the same envelope, `in`, at its receivedAt. */
function receivedLeaf(mine: SentEnvelope | SentLeaf, receivedAt: string): EnvelopeLeaf {
  if ('envelope' in mine) return envelopeLeaf('in', receivedAt, mine.envelope);
  return { ...mine.leaf, dir: 'in', at: receivedAt };
}
