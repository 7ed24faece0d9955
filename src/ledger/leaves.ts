/**
 * Building ledger leaves (docs/protocol.md § Leaves), their RFC 9162 leaf hashes, and reading one
 * back from the text the log keeps.
 */
import { sha256, toHex } from '../protocol/encoding.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import type { EnvelopeLeaf, EventLeaf, Leaf, ReceiptLeaf } from '../protocol/leaf.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import { leafHash, leafHashOfText } from './merkle.ts';

// Leaves are built with their members in JCS order, so that their canonical text is what
// JSON.stringify writes (jcs.ts) when what they hold is in order too.

/** The leaf of an envelope sent (`out`, at release) or received (`in`, at receivedAt). */
export function envelopeLeaf(dir: 'in' | 'out', at: string, envelope: Envelope): EnvelopeLeaf {
  return {
    at,
    dir,
    header: envelope.header,
    leaf: 'envelope',
    sealedHash: toHex(sha256(jcsBytes(envelope.sealed))),
    sig: envelope.sig,
  };
}

export function receiptLeaf(dir: 'in' | 'out', at: string, receipt: SignedReceipt): ReceiptLeaf {
  return { at, dir, leaf: 'receipt', receipt };
}

export function eventLeaf(type: string, at: string, detail: Record<string, unknown>): EventLeaf {
  return { at, detail, leaf: 'event', type };
}

/**
 * A leaf of this node's own log, from its stored text. The text is the record (what the tree
 * hashes and an export carries); this is what it says, parsed here only.
 */
export function parseLeaf(text: string): Leaf {
  return JSON.parse(text) as Leaf;
}

/**
 * The leaf hash of the `in` leaf a recipient logged for our `out` leaf `text` (as our log keeps
 * it): the same leaf with `at` = receivedAt and `dir` = "in". The text is canonical (RFC 8785
 * sorts keys: "at", a timestamp with no quote in it, then "dir"), so only its head changes and the
 * rest is hashed as it is, not parsed and serialised again. Undefined for a text of another form.
 */
export function receivedLeafHash(text: string, receivedAt: string): Uint8Array | undefined {
  const head = text.indexOf(',"dir":"out",');
  // `{"at":"<at>","dir":"out",…`: the first quote after the timestamp's opening one closes it.
  if (!text.startsWith('{"at":"') || head < 0 || text.indexOf('"', 7) !== head - 1)
    return undefined;
  const rest = text.slice(head + ',"dir":"out",'.length);
  return leafHashOfText(`{"at":${JSON.stringify(receivedAt)},"dir":"in",${rest}`);
}

/** SHA-256(0x00 ‖ JCS(leaf)). */
export function hashLeaf(leaf: Leaf): Uint8Array {
  return leafHash(jcsBytes(leaf));
}
