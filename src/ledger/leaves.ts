/**
 * Building ledger leaves (docs/protocol.md § Leaves), their RFC 9162 leaf hashes, and reading one
 * back from the text the log keeps.
 */
import { sha256, toHex } from '../protocol/encoding.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import type { EnvelopeLeaf, EventLeaf, Leaf, ReceiptLeaf } from '../protocol/leaf.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import { leafHash } from './merkle.ts';

/** The leaf of an envelope sent (`out`, at release) or received (`in`, at receivedAt). */
export function envelopeLeaf(dir: 'in' | 'out', at: string, envelope: Envelope): EnvelopeLeaf {
  return {
    leaf: 'envelope',
    dir,
    at,
    header: envelope.header,
    sig: envelope.sig,
    sealedHash: toHex(sha256(jcsBytes(envelope.sealed))),
  };
}

export function receiptLeaf(dir: 'in' | 'out', at: string, receipt: SignedReceipt): ReceiptLeaf {
  return { leaf: 'receipt', dir, at, receipt };
}

export function eventLeaf(type: string, at: string, detail: Record<string, unknown>): EventLeaf {
  return { leaf: 'event', type, at, detail };
}

/**
 * A leaf of this node's own log, from its stored text. The text is the record (what the tree
 * hashes and an export carries); this is what it says, parsed here only.
 */
export function parseLeaf(text: string): Leaf {
  return JSON.parse(text) as Leaf;
}

/** SHA-256(0x00 ‖ JCS(leaf)). */
export function hashLeaf(leaf: Leaf): Uint8Array {
  return leafHash(jcsBytes(leaf));
}
