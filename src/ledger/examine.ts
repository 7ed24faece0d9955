/**
 * A leaf's checks that need nothing but its record and the cards (docs/ledger.md § Audit, step
 * 3): what `hotline verify` spreads over worker threads (verify-threads.ts), each leaf on its
 * own, before `BundleVerifier` takes them in bundle order with everything that depends on the
 * leaves before.
 */
import { SIGNATURE_CONTEXTS } from '../crypto/context.ts';
import { ed25519Verify } from '../crypto/ed25519.ts';
import type { Card, KeyEntry } from '../protocol/card.ts';
import { isComplianceType } from '../protocol/compliance.ts';
import { fromBase64url, sha256HexOfText, utf8 } from '../protocol/encoding.ts';
import type { Header } from '../protocol/envelope.ts';
import { jcs } from '../protocol/jcs.ts';
import { type EnvelopeLeaf, Leaf, type ReceiptLeaf } from '../protocol/leaf.ts';
import { schemaError } from '../protocol/validate.ts';
import { LeafRecord } from './bundle.ts';
import { leafHashOfText } from './merkle.ts';

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
    hash: leafHashOfText(record.leaf),
    hasBody: record.body !== undefined,
  };
  let leaf: Leaf;
  try {
    leaf = JSON.parse(record.leaf) as Leaf;
  } catch {
    return { ...examined, unreadable: 'the leaf is not JSON' };
  }
  const error = schemaError(Leaf, leaf);
  if (error) return { ...examined, unreadable: `not a leaf: the leaf ${error}` };
  if (jcs(leaf) !== record.leaf)
    return { ...examined, unreadable: 'the leaf text is not canonical JSON (RFC 8785)' };
  examined.leaf = leaf;
  if (leaf.leaf === 'envelope') {
    examined.envelope = examineEnvelope(leaf, headerText(leaf, record.leaf), record.body, context);
    if (leaf.dir === 'out') examined.text = record.leaf;
  }
  if (leaf.leaf === 'receipt') examined.statement = utf8(statementText(leaf, record.leaf));
  return examined;
}

/*
 * A canonical leaf text holds the JCS of each of its members verbatim: RFC 8785 writes an object
 * as its members in key order, each as its key's string, a colon and the member's own JCS. So
 * what is signed or hashed of a leaf that passed the canonical check is a slice of its text,
 * between the members before and after it, not the member serialised again. Strings are written
 * as JSON.stringify writes them (RFC 8785 §3.2.2.2).
 */

/** JCS(leaf.header) of an envelope leaf's canonical text: members at, dir, header, leaf, sealedHash, sig. */
function headerText(leaf: EnvelopeLeaf, text: string): string {
  const head = `{"at":${JSON.stringify(leaf.at)},"dir":${JSON.stringify(leaf.dir)},"header":`;
  const tail = `,"leaf":"envelope","sealedHash":${JSON.stringify(leaf.sealedHash)},"sig":${JSON.stringify(leaf.sig)}}`;
  return memberText(text, head, tail) ?? jcs(leaf.header);
}

/** JCS(leaf.receipt.receipt), the signed statement, of a receipt leaf's canonical text. */
function statementText(leaf: ReceiptLeaf, text: string): string {
  const head = `{"at":${JSON.stringify(leaf.at)},"dir":${JSON.stringify(leaf.dir)},"leaf":"receipt","receipt":{"receipt":`;
  const tail = `,"sig":${JSON.stringify(leaf.receipt.sig)}}}`;
  return memberText(text, head, tail) ?? jcs(leaf.receipt.receipt);
}

/** The text between `head` and `tail`, when `text` is exactly head ‖ member ‖ tail. */
function memberText(text: string, head: string, tail: string): string | undefined {
  if (text.length < head.length + tail.length || !text.startsWith(head) || !text.endsWith(tail))
    return undefined;
  return text.slice(head.length, text.length - tail.length);
}

function examineEnvelope(
  leaf: EnvelopeLeaf,
  canonicalHeader: string,
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
  if (!headerSigned(signerCards, header, canonicalHeader, leaf.sig))
    return {
      failure: `the header signature does not verify with "${signer}"'s key ${header.kid}`,
    };
  const headerHash = sha256HexOfText(canonicalHeader);
  if (body === undefined) return { headerHash, body: 'withheld' };
  if (!bodyMatches(body, header.bodyHash)) return { headerHash, body: 'differs' };
  return { headerHash, body: 'matches', ...(isComplianceType(body) ? { compliance: body } : {}) };
}

/** The header's signature by the key its kid names, in any card of its signer. */
function headerSigned(
  cards: readonly Card[],
  header: Header,
  canonicalHeader: string,
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
  // The context and the header encoded in one go: what signedBytes('envelope', JCS(header)) is.
  const signed = Buffer.from(SIGNATURE_CONTEXTS.envelope + canonicalHeader, 'utf8');
  return ed25519Verify(publicKey, signed, signature);
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
    return sha256HexOfText(jcs(body)) === bodyHash;
  } catch {
    return false;
  }
}
