/**
 * A leaf's checks that need nothing but its record and the cards (docs/ledger.md § Audit, step
 * 3): what `hotline verify` spreads over worker threads (verify-threads.ts), each leaf on its
 * own, before `BundleVerifier` takes them in bundle order with everything that depends on the
 * leaves before.
 */
import { signedBytes } from '../crypto/context.ts';
import { ed25519Verify } from '../crypto/ed25519.ts';
import type { Card, KeyEntry } from '../protocol/card.ts';
import { isComplianceType } from '../protocol/compliance.ts';
import { fromBase64url, sha256, toHex, utf8 } from '../protocol/encoding.ts';
import type { Header } from '../protocol/envelope.ts';
import { jcs, jcsBytes } from '../protocol/jcs.ts';
import { type EnvelopeLeaf, Leaf } from '../protocol/leaf.ts';
import { schemaError } from '../protocol/validate.ts';
import { LeafRecord } from './bundle.ts';
import { leafHash } from './merkle.ts';

/**
 * What checking a leaf needs besides the leaf: whose bundle it is and every verified card of each
 * party. Cards come before the leaves (a later one is refused), so this is fixed from the first
 * leaf on, and leaves can be checked apart — on worker threads — then taken in order
 * (`examineLeafLine`, `BundleVerifier.addExamined`).
 */
export interface LeafContext {
  party: string | undefined;
  /** Each party's verified cards, by ascending serial. */
  cards: ReadonlyMap<string, readonly Card[]>;
}

/** One leaf record checked on its own: what its place in the tree and the tables needs. */
export interface ExaminedLeaf {
  /** The record's `index`. */
  index: number;
  /** The RFC 9162 leaf hash of its text, as it is. */
  hash: Uint8Array;
  hasBody: boolean;
  /** Why the text is not a leaf (not JSON, not a valid leaf, not canonical): nothing else is checked. */
  unreadable?: string;
  leaf?: Leaf;
  /** An `out` envelope's text, which the peer's receipts prove. */
  text?: string;
  /** A receipt's signed statement, `JCS(receipt)`: the bulk of a receipt's bytes. */
  statement?: Uint8Array;
  envelope?: ExaminedEnvelope;
}

/** An envelope leaf's own checks: a failure before its body, or its header hash and body. */
export type ExaminedEnvelope =
  | { failure: string }
  | {
      headerHash: string;
      body: 'withheld' | 'matches' | 'differs';
      /** The body, when it matches and compliance is computed from messages of its type. */
      compliance?: unknown;
    };

/**
 * A bundle line checked on its own when it is a leaf record (a worker thread's part of the
 * work); undefined for anything else, which the verifier then reads itself (`addLine`).
 */
export function examineLeafLine(text: string, context: LeafContext): ExaminedLeaf | undefined {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch {
    return undefined;
  }
  if ((record as { type?: unknown } | null)?.type !== 'leaf') return undefined;
  if (schemaError(LeafRecord, record) !== undefined) return undefined;
  return examineLeaf(record as LeafRecord, context);
}

/**
 * A leaf's checks that need nothing but its record and the cards: its text appended as it is
 * (`SHA-256(0x00 ‖ UTF-8(text))`), then it parses, is a valid leaf and is its own JCS; an
 * envelope's sender or recipient, header signature and body.
 */
export function examineLeaf(record: LeafRecord, context: LeafContext): ExaminedLeaf {
  const examined: ExaminedLeaf = {
    index: record.index,
    hash: leafHash(utf8(record.leaf)),
    hasBody: record.body !== undefined,
  };
  let leaf: Leaf;
  try {
    leaf = JSON.parse(record.leaf) as Leaf;
  } catch {
    return { ...examined, unreadable: 'the leaf is not JSON' };
  }
  const error = schemaError(Leaf, leaf);
  if (error) return { ...examined, unreadable: `not a leaf: ${error}` };
  if (jcs(leaf) !== record.leaf)
    return { ...examined, unreadable: 'the leaf text is not canonical JSON (RFC 8785)' };
  examined.leaf = leaf;
  if (leaf.leaf === 'envelope') {
    examined.envelope = examineEnvelope(leaf, record.body, context);
    if (leaf.dir === 'out') examined.text = record.leaf;
  }
  if (leaf.leaf === 'receipt') examined.statement = jcsBytes(leaf.receipt.receipt);
  return examined;
}

function examineEnvelope(
  leaf: EnvelopeLeaf,
  body: unknown,
  { party: me, cards }: LeafContext,
): ExaminedEnvelope {
  const { header } = leaf;
  const signer = leaf.dir === 'out' ? me : header.from;
  if (leaf.dir === 'out' && header.from !== me)
    return { failure: `an out envelope from "${header.from}"` };
  if (leaf.dir === 'in' && (header.from === me || me === undefined || header.seq[me] === undefined))
    return { failure: `an in envelope not addressed to "${me}"` };
  const signerCards = signer === undefined ? undefined : cards.get(signer);
  if (!signerCards) return { failure: `no verified card of "${signer}"` };
  const headerBytes = jcsBytes(header);
  if (!headerSigned(signerCards, header, headerBytes, leaf.sig))
    return {
      failure: `the header signature does not verify with "${signer}"'s key ${header.kid}`,
    };
  const headerHash = toHex(sha256(headerBytes));
  if (body === undefined) return { headerHash, body: 'withheld' };
  if (!bodyMatches(body, header.bodyHash)) return { headerHash, body: 'differs' };
  return { headerHash, body: 'matches', ...(isComplianceType(body) ? { compliance: body } : {}) };
}

/** The header's signature by the key its kid names, in any card of its signer. */
function headerSigned(
  cards: readonly Card[],
  header: Header,
  headerBytes: Uint8Array,
  sig: string,
): boolean {
  const key = cards.map((card) => headerKey(card, header)).find((k) => k !== undefined);
  if (!key) return false;
  let publicKey: Uint8Array;
  let signature: Uint8Array;
  try {
    publicKey = publicKeyBytes(key.pub);
    signature = fromBase64url(sig);
  } catch {
    return false;
  }
  return ed25519Verify(publicKey, signedBytes('envelope', headerBytes), signature);
}

/** Public keys decoded once per key rather than once per leaf. */
const decodedKeys = new Map<string, Uint8Array>();

function publicKeyBytes(pub: string): Uint8Array {
  let bytes = decodedKeys.get(pub);
  if (!bytes) {
    bytes = fromBase64url(pub);
    if (decodedKeys.size >= 256) decodedKeys.clear();
    decodedKeys.set(pub, bytes);
  }
  return bytes;
}

/** The key that may sign this header: a signing key for messages, identity or recovery for rotations. */
function headerKey(card: Card, header: Header): KeyEntry | undefined {
  const purposes = header.kind === 'rotation' ? ['identity', 'recovery'] : ['signing'];
  return card.keys.find((k) => k.kid === header.kid && purposes.includes(k.purpose));
}

function bodyMatches(body: unknown, bodyHash: string): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  try {
    return toHex(sha256(jcsBytes(body))) === bodyHash;
  } catch {
    return false;
  }
}
