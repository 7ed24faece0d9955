/**
 * The offline audit of an export bundle (docs/ledger.md § Audit): pure, with no store and no
 * files. Records go in one at a time, in bundle order, so a bundle of millions of leaves is
 * checked as it is read; `finish` answers the report and the ledger's view, and `compareViews`
 * checks two parties' views of their conversation against each other.
 *
 * What is checked, for one bundle:
 * - every card's signature (`verifyCard`); a party rotated keys has each card it held, in
 *   ascending serial, with one recovery key;
 * - the RFC 9162 tree, recomputed from the leaf texts (each canonical JSON and a valid leaf);
 * - every checkpoint: our log key's signature (C2SP signed-note), and its root equals the
 *   recomputed tree's at its size — so successive checkpoints are consistent, being roots of one
 *   tree — and together they cover every leaf;
 * - every envelope leaf's header signature (`out` by our key, `in` by the sender's), and each
 *   body supplied against `header.bodyHash`;
 * - every receipt leaf: ours (`out`) by our signing key, with our checkpoint and each entry's
 *   inclusion proof against the `in` leaf we logged; the peer's (`in`) with `verifyReceipt`
 *   against its card and the `out` leaves we logged;
 * - every co-signature with the co-signer's witness key (C2SP tlog-cosignature).
 *
 * Each leaf's own checks (hash, JSON, schema, canonical form, an envelope's signature and body)
 * are in examine.ts, which `hotline verify` runs on worker threads; this class takes their
 * answers in bundle order (`addExamined`) and checks what depends on the leaves before.
 *
 * Which key signed what, across rotations (docs/ledger.md § Key rotation): a party's card in
 * effect changes at the `rotation` event leaf naming its new serial. Our checkpoints of a size up
 * to that leaf's index are signed by the old log key, those that include it by the new one; our
 * receipts, and the peer's, by the card in effect where they are logged. An envelope header names
 * its key by kid, found in any card of its signer (a retired key still signs what was queued).
 */
import { fingerprint, verifyCard } from '../crypto/card.ts';
import { checkReceiptSignature } from '../crypto/statements.ts';
import type { Card, SignedCard } from '../protocol/card.ts';
import { type ComplianceMessage, ComplianceMessages } from '../protocol/compliance.ts';
import { equalBytes, toHex, utf8 } from '../protocol/encoding.ts';
import type { Header } from '../protocol/envelope.ts';
import { jcs } from '../protocol/jcs.ts';
import type { EnvelopeLeaf, ReceiptLeaf } from '../protocol/leaf.ts';
import { schemaError } from '../protocol/validate.ts';
import {
  BUNDLE_VERSION,
  type BundleHeader,
  type CardRecord,
  type CheckpointRecord,
  type CosignatureRecord,
  type EndRecord,
  type LeafRecord,
  RECORD_ORDER,
  RECORD_SCHEMAS,
  type RecordType,
} from './bundle.ts';
import { type Checkpoint, formatCheckpoint, parseCheckpoint } from './checkpoint.ts';
import { verifyCosignature } from './cosignature.ts';
import { checkDiscontinuity, DISCONTINUITY } from './discontinuity.ts';
import { type ExaminedLeaf, examineLeaf, type LeafContext } from './examine.ts';
import { receivedLeafHash } from './leaves.ts';
import { MemoryHashStore, RecordChecker, storedHashIndex, treeHashSync } from './merkle.ts';
import { parseNote } from './note.ts';
import { checkReceipt, openPeerCheckpoint, witnessVerifier } from './receipt.ts';

/** The failures a report lists; all are counted. */
const MAX_LISTED_FAILURES = 100;

export type FailureKind =
  | 'bundle'
  | 'card'
  | 'leaf'
  | 'envelope'
  | 'body'
  | 'receipt'
  | 'event'
  | 'checkpoint'
  | 'cosignature'
  | 'views';

/** One thing that did not verify, named as precisely as the bundle allows. */
export interface Failure {
  kind: FailureKind;
  /** Whose bundle (its party), once known. */
  party?: string;
  /** The record's line in the bundle, 1-based. */
  line?: number;
  /** The leaf index, for failures of a leaf. */
  index?: number;
  /** `in`/`out` for envelope and receipt leaves. */
  dir?: 'in' | 'out';
  /** The message id, or the receipt's first entry id. */
  id?: string;
  /** What failed, as a sentence. */
  message: string;
}

/** What was checked, passed or not (the failures are listed apart). */
export interface Counts {
  cards: number;
  leaves: number;
  envelopes: { out: number; in: number };
  /** Bodies supplied, each checked against its header's bodyHash. */
  bodies: number;
  /** Envelope leaves exported without their body. */
  withheld: number;
  receipts: { out: number; in: number };
  /** Inclusion proofs checked, in receipts of either direction. */
  proofs: number;
  events: number;
  checkpoints: number;
  cosignatures: number;
}

/** A restore from a backup this log records: its own statement (docs/ledger.md § Restore). */
export interface LogDiscontinuity {
  /** The statement's leaf index: the old origin ends at this size, the new one starts with it. */
  index: number;
  previous: { origin: string; size: number; root: string };
  origin: string;
  /** Per peer, the largest checkpoint of the old origin it had co-signed, as the statement cites. */
  cosigned: Array<{ party: string; size: number }>;
}

/** A peer's restore from a backup, as this ledger recorded accepting it. */
export interface PeerDiscontinuity {
  index: number;
  party: string;
  previous: { origin: string; size: number; root: string };
  origin: string;
  /** The peer's checkpoint this ledger had witnessed last, when it accepted the new origin. */
  witnessed: { origin: string; size: number; root: string } | null;
  /** The size of the co-signed checkpoint the statement cited, if any. */
  cosigned: number | null;
}

export interface BundleReport {
  ok: boolean;
  party?: string;
  exportedAt?: string;
  /** Each card's fingerprint by party, to compare with the ones read aloud at the ceremony. */
  fingerprints: Record<string, string>;
  counts: Counts;
  /** Restores from a backup: this log's own, and its peers' it accepted. */
  discontinuities: LogDiscontinuity[];
  peerDiscontinuities: PeerDiscontinuity[];
  /** The first failures, in bundle order. */
  failures: Failure[];
  failureCount: number;
}

/** An envelope this ledger logged as sent, to one recipient. */
export interface SentMessage {
  to: string;
  id: string;
  seq: number;
  headerHash: string;
  sealedHash: string;
  index: number;
  /** From the recipient's verified receipt, when this ledger logged one. */
  receipt?: { receivedAt: string; index: number; size: number; origin: string };
}

/** An envelope this ledger logged as received. */
export interface ReceivedMessage {
  from: string;
  id: string;
  seq: number;
  headerHash: string;
  sealedHash: string;
  index: number;
  at: string;
}

/** A checkpoint of another party's log this ledger holds (in a receipt, or co-signed). */
export interface PeerCheckpoint {
  party: string;
  origin: string;
  size: number;
  root: Uint8Array;
  /** Where it came from, for a failure message. */
  source: string;
}

/** What one bundle says, for comparing two parties' bundles. */
export interface LedgerView {
  party: string;
  tree: MemoryHashStore;
  /** Verified cards by party, own card included. */
  cards: Map<string, SignedCard>;
  /** Keyed `${to}\n${id}`. */
  sent: Map<string, SentMessage>;
  /** Keyed `${from}\n${id}`. */
  received: Map<string, ReceivedMessage>;
  peerCheckpoints: PeerCheckpoint[];
  discontinuities: LogDiscontinuity[];
  peerDiscontinuities: PeerDiscontinuity[];
  /** The messages (header and verified body) compliance is computed from. */
  messages: ComplianceMessage[];
  /** Keys of the obligations the ledger records as late (`notification-late` events). */
  lateRecorded: string[];
}

export interface BundleResult {
  report: BundleReport;
  /** Absent when the bundle has no usable header or own card. */
  view?: LedgerView;
}

/** One message logged by its sender and not (yet) by its recipient, when that is no failure. */
export interface InFlight {
  from: string;
  to: string;
  id: string;
  seq: number;
  reason: string;
}

export interface CrossReport {
  ok: boolean;
  /** Messages found on both sides with the same header, sealed hash and seq. */
  matched: number;
  /** Checkpoints of one log held by the other side, compared with the recomputed tree. */
  checkpoints: number;
  /** Messages still in flight at export time: reported, not failures. */
  notYetReceived: InFlight[];
  /** Messages the sender's record lost with a restore from a backup: reported, not failures. */
  lostWithRestore: InFlight[];
  /** Checkpoints of an old origin beyond where a restore cut it: reported, not failures. */
  checkpointsLostWithRestore: number;
  /** How each restore from a backup is explained, one sentence each. */
  discontinuities: string[];
  failures: Failure[];
  failureCount: number;
}

/** A failure as one line: where, then what. */
export function describeFailure(f: Failure): string {
  const what: string[] = [];
  if (f.dir) what.push(f.dir);
  if (f.id) what.push(`id ${f.id}`);
  if (f.line !== undefined) what.push(`line ${f.line}`);
  const where = f.index === undefined ? f.kind : `leaf ${f.index} (${f.kind})`;
  const party = f.party ? `${f.party}: ` : '';
  return `${party}${where}${what.length ? ` [${what.join(', ')}]` : ''}: ${f.message}`;
}

/**
 * Checks one bundle, record by record.
 *
 * @example
 * const verifier = new BundleVerifier();
 * for (const line of text.split('\n')) if (line) verifier.addLine(line);
 * const { report } = verifier.finish();
 */
export class BundleVerifier {
  readonly #tree = new MemoryHashStore();
  /** The newest card of each party. */
  readonly #cards = new Map<string, SignedCard>();
  /** Every card of each party, by ascending serial. */
  readonly #history = new Map<string, Card[]>();
  /** The card in effect for each party at the leaf being read. */
  readonly #effective = new Map<string, Card>();
  /** Our own card in effect from each tree size on, ascending: for our checkpoints. */
  readonly #selfFrom: Array<{ size: number; card: Card }> = [];
  readonly #fingerprints: Record<string, string> = {};
  readonly #failures: Failure[] = [];
  #failureCount = 0;
  readonly #counts: Counts = {
    cards: 0,
    leaves: 0,
    envelopes: { out: 0, in: 0 },
    bodies: 0,
    withheld: 0,
    receipts: { out: 0, in: 0 },
    proofs: 0,
    events: 0,
    checkpoints: 0,
    cosignatures: 0,
  };
  /** Records seen by type, for the end record. */
  readonly #seen = { cards: 0, leaves: 0, bodies: 0, checkpoints: 0, cosignatures: 0 };
  #line = 0;
  #stage = -1;
  #header: BundleHeader | undefined;
  #self: Card | undefined;
  #ended = false;
  #outOfSequence = false;
  /** The largest checkpoint size seen: every leaf must be under one. */
  #covered = 0;
  #lastCheckpoint = -1;
  /** Texts of our `out` leaves by `${to}\n${id}`, which the peer's receipts prove. */
  readonly #outLeaves = new Map<string, string>();
  /** Per message id: the recipients whose `out` leaves were seen, in header.to order. */
  readonly #outGroups = new Map<
    string,
    { to: readonly string[]; seen: number; index: number; header: Header }
  >();
  /** Our `in` leaves by index, which our receipts prove. */
  readonly #inLeaves = new Map<
    number,
    { from: string; id: string; headerHash: string; at: string }
  >();
  readonly #sent = new Map<string, SentMessage>();
  readonly #received = new Map<string, ReceivedMessage>();
  readonly #peerCheckpoints: PeerCheckpoint[] = [];
  readonly #discontinuities: LogDiscontinuity[] = [];
  readonly #peerDiscontinuities: PeerDiscontinuity[] = [];
  /** The messages compliance with the notification regimes is computed from (docs/regimes.md). */
  readonly #compliance = new ComplianceMessages();
  /** Keys of the `notification-late` events the ledger records. */
  readonly #lateRecorded: string[] = [];
  #context: LeafContext | undefined;

  /** Parses one line of the bundle (without its `\n`) and checks it. */
  addLine(text: string): void {
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      this.#line++;
      this.#fail({ kind: 'bundle', line: this.#line, message: 'the line is not JSON' });
      return;
    }
    this.add(record);
  }

  /** Checks one record (a parsed line). */
  add(record: unknown): void {
    const line = ++this.#line;
    const type = (record as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || !(type in RECORD_SCHEMAS)) {
      this.#fail({ kind: 'bundle', line, message: `unknown record type ${JSON.stringify(type)}` });
      return;
    }
    const kind = type as RecordType;
    if (!this.#inOrder(kind, line)) return;
    if (kind === 'hotline-export' && (record as { version?: unknown }).version !== BUNDLE_VERSION) {
      this.#fail({
        kind: 'bundle',
        line,
        message: `bundle version ${JSON.stringify((record as { version?: unknown }).version)} is not supported (this verifier reads ${BUNDLE_VERSION})`,
      });
      return;
    }
    const error = schemaError(RECORD_SCHEMAS[kind], record);
    if (error) {
      this.#fail({
        kind: kind === 'hotline-export' ? 'bundle' : kindOf(kind),
        line,
        message: `${type} record ${error}`,
      });
      if (kind === 'leaf') this.#appendUnreadable(record);
      return;
    }
    if (kind === 'hotline-export') {
      this.#header = record as BundleHeader;
      this.#context = undefined;
    } else if (kind === 'card') this.#card(record as CardRecord, line);
    else if (kind === 'leaf')
      this.#leaf(examineLeaf(record as LeafRecord, this.leafContext()), line);
    else if (kind === 'checkpoint') this.#checkpoint(record as CheckpointRecord, line);
    else if (kind === 'cosignature') this.#cosignature(record as CosignatureRecord, line);
    else this.#end(record as EndRecord, line);
  }

  /**
   * A leaf record checked elsewhere (`examineLeafLine`, with this verifier's `leafContext()`),
   * taken at its place in the bundle: the same as `addLine` of its line.
   */
  addExamined(examined: ExaminedLeaf): void {
    const line = ++this.#line;
    if (this.#inOrder('leaf', line)) this.#leaf(examined, line);
  }

  /**
   * Whether a leaf record (or a later one) has taken its place: from then on no header or card
   * is accepted, and `leafContext()` is what every later leaf is checked with.
   */
  get leavesBegun(): boolean {
    return this.#stage >= RECORD_ORDER.leaf;
  }

  /** What checking a leaf on its own needs, as of the records read so far. */
  leafContext(): LeafContext {
    this.#context ??= { party: this.#party, cards: new Map(this.#history) };
    return this.#context;
  }

  /** Records come in bundle order: header, cards, leaves, checkpoints, co-signatures, end. */
  #inOrder(kind: RecordType, line: number): boolean {
    const rank = RECORD_ORDER[kind];
    if (this.#ended) {
      this.#fail({ kind: 'bundle', line, message: `a ${kind} record after the end record` });
      return false;
    }
    if (this.#stage === -1 && kind !== 'hotline-export') {
      this.#fail({ kind: 'bundle', line, message: 'the bundle does not start with its header' });
      this.#stage = 0;
    } else if (kind === 'hotline-export' && this.#stage !== -1) {
      this.#fail({ kind: 'bundle', line, message: 'a second header' });
      return false;
    } else if (rank < this.#stage) {
      this.#fail({ kind: 'bundle', line, message: `a ${kind} record out of order` });
      return false;
    }
    this.#stage = rank;
    if (kind === 'end') this.#ended = true;
    return true;
  }

  get #party(): string | undefined {
    return this.#header?.party;
  }

  #fail(failure: Failure): void {
    this.#failureCount++;
    if (this.#failures.length < MAX_LISTED_FAILURES)
      this.#failures.push(this.#party ? { party: this.#party, ...failure } : failure);
  }

  // cards

  #card(record: CardRecord, line: number): void {
    this.#seen.cards++;
    this.#counts.cards++;
    let signed: SignedCard;
    try {
      signed = verifyCard(record.signed);
    } catch (e) {
      const party = (record.signed as { card?: { party?: unknown } } | null)?.card?.party;
      const whose =
        typeof party === 'string'
          ? `the ${record.role} card of "${party}"`
          : `a ${record.role} card`;
      this.#fail({
        kind: 'card',
        line,
        message: `${whose} does not verify: ${(e as Error).message}`,
      });
      return;
    }
    const { party } = signed.card;
    const isSelf = party === this.#party;
    if (isSelf !== (record.role === 'self')) {
      this.#fail({
        kind: 'card',
        line,
        message: `the card of "${party}" is marked ${record.role}, but the bundle is "${this.#party}"'s`,
      });
      return;
    }
    const earlier = this.#cards.get(party)?.card;
    // A compromise rotation may repeat the serial of a thief's card: serials never go down.
    if (earlier && earlier.serial > signed.card.serial) {
      this.#fail({
        kind: 'card',
        line,
        message: `a card of "${party}" with serial ${signed.card.serial}, below ${earlier.serial} before it`,
      });
      return;
    }
    if (earlier && recoveryPub(earlier) !== recoveryPub(signed.card)) {
      this.#fail({
        kind: 'card',
        line,
        message: `the card of "${party}" with serial ${signed.card.serial} has another recovery key than its earlier card: the recovery key never rotates`,
      });
      return;
    }
    this.#cards.set(party, signed);
    this.#history.set(party, [...(this.#history.get(party) ?? []), signed.card]);
    this.#context = undefined;
    if (!earlier) this.#effective.set(party, signed.card);
    this.#fingerprints[party] = fingerprint(signed.card);
    if (isSelf) {
      this.#self = signed.card;
      if (!earlier) this.#selfFrom.push({ size: 0, card: signed.card });
    }
  }

  /** A `rotation` event leaf: from here on, the party's card of that serial is in effect. */
  #rotated(detail: Record<string, unknown>, index: number): void {
    const { party, serial, identity } = detail;
    if (typeof party !== 'string' || typeof serial !== 'number') return;
    const card = this.#history
      .get(party)
      ?.find(
        (c) =>
          c.serial === serial &&
          (identity === undefined ||
            c.keys.some((k) => k.purpose === 'identity' && k.kid === identity)),
      );
    if (!card) return;
    this.#effective.set(party, card);
    if (party === this.#party) this.#selfFrom.push({ size: index + 1, card });
  }

  /** Our card whose log key signs checkpoints of tree size `size`. */
  #selfAt(size: number): Card | undefined {
    let card: Card | undefined;
    for (const from of this.#selfFrom) if (from.size <= size) card = from.card;
    return card;
  }

  // leaves

  /** A leaf record that failed its schema still takes its place in the tree, if it has text. */
  #appendUnreadable(record: unknown): void {
    const { leaf: text, body } = record as { leaf?: unknown; body?: unknown };
    this.#seen.leaves++;
    this.#counts.leaves++;
    if (body !== undefined) this.#seen.bodies++;
    this.#tree.append(utf8(typeof text === 'string' ? text : ''));
  }

  #leaf(examined: ExaminedLeaf, line: number): void {
    this.#seen.leaves++;
    if (examined.hasBody) this.#seen.bodies++;
    const index = this.#tree.size;
    if (examined.index !== index && !this.#outOfSequence) {
      this.#outOfSequence = true;
      this.#fail({
        kind: 'leaf',
        line,
        index: examined.index,
        message: `leaf records are out of sequence: index ${examined.index} where ${index} was due`,
      });
    }
    this.#tree.appendLeafHash(examined.hash);
    this.#counts.leaves++;
    const at = { line, index };
    const leaf = examined.leaf;
    if (examined.unreadable !== undefined || !leaf) {
      this.#fail({ kind: 'leaf', ...at, message: examined.unreadable ?? 'not a leaf' });
      return;
    }
    if (examined.hasBody && leaf.leaf !== 'envelope') {
      this.#fail({ kind: 'body', ...at, message: `a body on a ${leaf.leaf} leaf` });
    }
    if (leaf.leaf === 'envelope') this.#envelope(leaf, examined, at);
    else if (leaf.leaf === 'receipt') this.#receipt(leaf, examined.statement, at);
    else {
      this.#counts.events++;
      if (leaf.type === 'rotation') this.#rotated(leaf.detail, index);
      if (leaf.type === DISCONTINUITY) this.#discontinuity(leaf.detail, at);
      const key = leaf.detail.key;
      if (leaf.type === 'notification-late' && typeof key === 'string')
        this.#lateRecorded.push(key);
    }
  }

  /**
   * A discontinuity leaf: this log's own statement (it cites its `last` checkpoint), checked as
   * the peer checked it, or this node's record of a peer's (it names the `party`).
   */
  #discontinuity(detail: Record<string, unknown>, at: { line: number; index: number }): void {
    try {
      if (typeof detail.party === 'string') {
        const d = detail as unknown as Omit<PeerDiscontinuity, 'index'>;
        this.#peerDiscontinuities.push({
          index: at.index,
          party: d.party,
          previous: d.previous,
          origin: d.origin,
          witnessed: d.witnessed,
          cosigned: d.cosigned,
        });
        return;
      }
      const self = this.#self;
      if (!self) throw new Error('no verified own card to check the statement with');
      const peers = new Map(
        [...this.#cards].filter(([p]) => p !== this.#party).map(([p, c]) => [p, c.card]),
      );
      const d = checkDiscontinuity(detail, self, peers);
      if (d.last.size !== at.index)
        throw new Error(`it cites a last checkpoint of size ${d.last.size}, not ${at.index}`);
      if (d.last.origin !== this.#originAt(d.last.size))
        throw new Error(
          `it cites a checkpoint of the origin "${d.last.origin}", not the current one`,
        );
      this.#checkRoot(d.last, 'its last checkpoint');
      this.#discontinuities.push({
        index: at.index,
        previous: { origin: d.last.origin, size: d.last.size, root: toHex(d.last.root) },
        origin: d.origin,
        cosigned: [...d.cosigned].map(([party, c]) => ({ party, size: c.size })),
      });
    } catch (e) {
      this.#fail({
        kind: 'event',
        ...at,
        message: `the discontinuity statement does not verify: ${(e as Error).message}`,
      });
    }
  }

  /** The origin of this log's checkpoints of tree size `size`: a restore starts a new one. */
  #originAt(size: number): string {
    return originAt(this.#self, this.#discontinuities, size);
  }

  #envelope(leaf: EnvelopeLeaf, examined: ExaminedLeaf, at: { line: number; index: number }): void {
    const { header } = leaf;
    const where = () => ({ ...at, dir: leaf.dir, id: header.id });
    const me = this.#party;
    this.#counts.envelopes[leaf.dir]++;
    const checked = examined.envelope;
    if (!checked || 'failure' in checked) {
      this.#fail({ kind: 'envelope', ...where(), message: checked?.failure ?? 'not checked' });
      return;
    }
    if (checked.body === 'withheld') this.#counts.withheld++;
    else {
      this.#counts.bodies++;
      if (checked.body === 'differs')
        this.#fail({
          kind: 'body',
          ...where(),
          message: 'the body does not match header.bodyHash',
        });
      else if (checked.compliance !== undefined) this.#compliance.add(header, checked.compliance);
    }
    const { headerHash } = checked;
    if (leaf.dir === 'in') {
      const from = header.from;
      const key = `${from}\n${header.id}`;
      if (this.#received.has(key)) {
        this.#fail({ kind: 'envelope', ...where(), message: 'a second in leaf for this message' });
        return;
      }
      this.#inLeaves.set(at.index, { from, id: header.id, headerHash, at: leaf.at });
      this.#received.set(key, {
        from,
        id: header.id,
        seq: header.seq[me as string] as number,
        headerHash,
        sealedHash: leaf.sealedHash,
        index: at.index,
        at: leaf.at,
      });
      return;
    }
    // A message to n recipients is logged as n out leaves, in the order of header.to.
    let group = this.#outGroups.get(header.id) ?? {
      to: header.to,
      seen: 0,
      index: at.index,
      header,
    };
    // After a compromise rotation a bilateral message is re-signed: the same header under a new
    // key, logged as a new out leaf that takes the place of the first (docs/protocol.md § Rotation).
    if (
      group.seen === group.to.length &&
      header.to.length === 1 &&
      withoutKid(group.header) === withoutKid(header)
    )
      group = { ...group, seen: 0, index: at.index };
    const to = header.to[group.seen];
    if (to === undefined || !sameStrings(group.to, header.to)) {
      this.#fail({
        kind: 'envelope',
        ...where(),
        message: 'more out leaves than recipients, or a second header with this id',
      });
      return;
    }
    group.seen++;
    this.#outGroups.set(header.id, group);
    const key = `${to}\n${header.id}`;
    this.#outLeaves.set(key, examined.text as string);
    this.#sent.set(key, {
      to,
      id: header.id,
      seq: header.seq[to] as number,
      headerHash,
      sealedHash: leaf.sealedHash,
      index: at.index,
    });
  }

  #receipt(
    leaf: ReceiptLeaf,
    statement: Uint8Array | undefined,
    at: { line: number; index: number },
  ): void {
    const { receipt } = leaf.receipt;
    const where = { ...at, dir: leaf.dir, id: receipt.entries[0]?.id };
    this.#counts.receipts[leaf.dir]++;
    this.#counts.proofs += receipt.entries.length;
    try {
      if (leaf.dir === 'out') this.#ourReceipt(leaf, statement);
      else this.#theirReceipt(leaf, statement);
    } catch (e) {
      this.#fail({ kind: 'receipt', ...where, message: (e as Error).message });
    }
  }

  /** A receipt we issued: our signature and checkpoint, and each entry proven in our tree. */
  #ourReceipt(leaf: ReceiptLeaf, statement: Uint8Array | undefined): void {
    const self = this.#party === undefined ? undefined : this.#effective.get(this.#party);
    if (!self) throw new Error('no verified own card to check our receipt with');
    const { receipt } = checkReceiptSignature(
      leaf.receipt,
      self,
      leaf.receipt.receipt.to,
      statement,
    );
    const checkpoint = openPeerCheckpoint(self, receipt.checkpoint);
    this.#checkRoot(checkpoint, "the receipt's checkpoint");
    const proofs = new RecordChecker(checkpoint.size, checkpoint.root);
    for (const entry of receipt.entries) {
      const logged = this.#inLeaves.get(entry.index);
      if (
        !logged ||
        logged.from !== receipt.to ||
        logged.id !== entry.id ||
        logged.headerHash !== entry.headerHash ||
        logged.at !== entry.receivedAt
      )
        throw new Error(
          `entry ${entry.id} does not name the in envelope at leaf ${entry.index} (its sender, id, header hash and receivedAt)`,
        );
      const [leafHash] = this.#tree.readHashes([storedHashIndex(0, entry.index)]);
      if (!proofs.check(entry.proof, entry.index, leafHash as Uint8Array))
        throw new Error(`the inclusion proof for ${entry.id} does not verify`);
    }
  }

  /** A peer's receipt for what we sent, as the sender checked it before logging it. */
  #theirReceipt(leaf: ReceiptLeaf, statement: Uint8Array | undefined): void {
    const from = leaf.receipt.receipt.from;
    const card = this.#effective.get(from);
    if (!card || from === this.#party) throw new Error(`no verified peer card of "${from}"`);
    const me = this.#party as string;
    const signed = checkReceiptSignature(leaf.receipt, card, me, statement);
    const verified = checkReceipt(signed, card, (id) => {
      const text = this.#outLeaves.get(`${from}\n${id}`);
      const sent = this.#sent.get(`${from}\n${id}`);
      return text && sent
        ? { headerHash: sent.headerHash, receivedLeafHash: (at) => inLeafHash(text, at) }
        : undefined;
    });
    const { size, root, origin } = verified.checkpoint;
    this.#peerCheckpoints.push({
      party: from,
      origin,
      size,
      root,
      source: `a receipt at leaf ${this.#tree.size - 1}`,
    });
    for (const entry of verified.entries) {
      const sent = this.#sent.get(`${from}\n${entry.id}`) as SentMessage;
      // A recipient restored from a backup received it again, in its new origin: the later counts.
      if (
        sent.receipt &&
        sent.receipt.origin === origin &&
        (sent.receipt.receivedAt !== entry.receivedAt || sent.receipt.index !== entry.index)
      )
        throw new Error(`a second receipt for ${entry.id} gives another receivedAt or leaf index`);
      sent.receipt = { receivedAt: entry.receivedAt, index: entry.index, size, origin };
    }
  }

  /** A checkpoint of our log must have the root of the recomputed tree at its size. */
  #checkRoot(checkpoint: Checkpoint, what: string): void {
    if (checkpoint.size > this.#tree.size)
      throw new Error(
        `${what} has size ${checkpoint.size}, beyond the ${this.#tree.size} leaves before it`,
      );
    if (!equalBytes(checkpoint.root, treeHashSync(checkpoint.size, this.#tree)))
      throw new Error(
        `${what} of size ${checkpoint.size} does not have the recomputed tree's root`,
      );
  }

  // checkpoints and co-signatures

  #checkpoint(record: CheckpointRecord, line: number): void {
    this.#seen.checkpoints++;
    this.#counts.checkpoints++;
    try {
      const self = this.#selfAt(noteSize(record.note));
      if (!self) throw new Error('no verified own card to check the checkpoint with');
      const checkpoint = openPeerCheckpoint(self, record.note);
      this.#checkRoot(checkpoint, 'the checkpoint');
      const due = this.#originAt(checkpoint.size);
      if (checkpoint.origin !== due)
        throw new Error(
          `the checkpoint of size ${checkpoint.size} has the origin "${checkpoint.origin}", not "${due}"`,
        );
      if (checkpoint.size <= this.#lastCheckpoint)
        throw new Error(
          `checkpoints out of order: size ${checkpoint.size} after ${this.#lastCheckpoint}`,
        );
      this.#lastCheckpoint = checkpoint.size;
      this.#covered = Math.max(this.#covered, checkpoint.size);
    } catch (e) {
      this.#fail({ kind: 'checkpoint', line, message: (e as Error).message });
    }
  }

  #cosignature(record: CosignatureRecord, line: number): void {
    this.#seen.cosignatures++;
    this.#counts.cosignatures++;
    try {
      const checkpoint = this.#cosigned(record);
      const cards = this.#history.get(record.by);
      if (!cards) throw new Error(`no verified card of "${record.by}"`);
      if (record.by === record.log) throw new Error(`"${record.by}" co-signs its own log`);
      if (record.line.indexOf('\n') !== record.line.length - 1)
        throw new Error('the co-signature is not one signature line');
      const text = formatCheckpoint(checkpoint);
      const [signature, ...more] = parseNote(utf8(`${text}\n${record.line}`)).signatures;
      if (!signature || more.length) throw new Error('the co-signature is not one signature line');
      // A witness key rotated: the co-signature's note key id names the one that signed.
      if (!cards.some((card) => verifyCosignature(checkpoint, signature, witnessVerifier(card))))
        throw new Error(`the co-signature does not verify with "${record.by}"'s witness key`);
      if (record.log !== this.#party)
        this.#peerCheckpoints.push({
          party: record.log,
          origin: checkpoint.origin,
          size: checkpoint.size,
          root: checkpoint.root,
          source: `the checkpoint "${record.by}" co-signed`,
        });
    } catch (e) {
      this.#fail({
        kind: 'cosignature',
        line,
        message: `co-signature by "${record.by}" of "${record.log}"'s checkpoint of size ${record.size}: ${(e as Error).message}`,
      });
    }
  }

  /** The checkpoint a co-signature is on: ours from the recomputed tree, a peer's as carried. */
  #cosigned(record: CosignatureRecord): Checkpoint {
    if (record.log === this.#party) {
      const origin = this.#originAt(record.size);
      if (!origin) throw new Error('no verified own card with a log key');
      if (record.size > this.#tree.size)
        throw new Error(`size ${record.size} is beyond the ${this.#tree.size} leaves`);
      return {
        origin,
        size: record.size,
        root: treeHashSync(record.size, this.#tree),
        extensions: [],
      };
    }
    const cards = this.#history.get(record.log);
    if (!cards) throw new Error(`no verified card of "${record.log}"`);
    if (record.checkpoint === undefined)
      throw new Error("the peer's checkpoint is not in the record");
    const checkpoint = openWithAnyLogKey(cards, record.checkpoint);
    if (checkpoint.size !== record.size)
      throw new Error(`the checkpoint carried has size ${checkpoint.size}`);
    return checkpoint;
  }

  #end(record: EndRecord, line: number): void {
    const seen = this.#seen;
    const differs = (['cards', 'leaves', 'bodies', 'checkpoints', 'cosignatures'] as const).filter(
      (k) => record[k] !== seen[k],
    );
    if (differs.length)
      this.#fail({
        kind: 'bundle',
        line,
        message: `the end record counts ${differs.map((k) => `${record[k]} ${k}`).join(', ')}; the bundle has ${differs.map((k) => seen[k]).join(', ')}`,
      });
  }

  /** The report, once every record is in; and the view, for comparing with the peer's bundle. */
  finish(): BundleResult {
    const header = this.#header;
    if (!header) this.#fail({ kind: 'bundle', message: 'the bundle has no header' });
    else {
      if (!this.#ended)
        this.#fail({ kind: 'bundle', message: 'the bundle has no end record: it is truncated' });
      if (header.leaves !== this.#tree.size)
        this.#fail({
          kind: 'bundle',
          message: `the header announces ${header.leaves} leaves; the bundle has ${this.#tree.size}`,
        });
      if (!this.#self)
        this.#fail({ kind: 'card', message: `no verified own card of "${header.party}"` });
    }
    if (this.#covered < this.#tree.size)
      this.#fail({
        kind: 'checkpoint',
        message: `leaves ${this.#covered}–${this.#tree.size - 1} are not covered by any signed checkpoint`,
      });
    for (const [id, group] of this.#outGroups)
      if (group.seen !== group.to.length)
        this.#fail({
          kind: 'envelope',
          index: group.index,
          dir: 'out',
          id,
          message: `message to ${group.to.join(', ')} has ${group.seen} out leaves, not ${group.to.length}`,
        });
    const report: BundleReport = {
      ok: this.#failureCount === 0,
      ...(header ? { party: header.party, exportedAt: header.exportedAt } : {}),
      fingerprints: this.#fingerprints,
      counts: this.#counts,
      discontinuities: this.#discontinuities,
      peerDiscontinuities: this.#peerDiscontinuities,
      failures: this.#failures,
      failureCount: this.#failureCount,
    };
    if (!header || !this.#self) return { report };
    return {
      report,
      view: {
        party: header.party,
        tree: this.#tree,
        cards: this.#cards,
        sent: this.#sent,
        received: this.#received,
        peerCheckpoints: this.#peerCheckpoints,
        discontinuities: this.#discontinuities,
        peerDiscontinuities: this.#peerDiscontinuities,
        messages: this.#compliance.list,
        lateRecorded: this.#lateRecorded,
      },
    };
  }
}

/** Checks a whole bundle given as records or lines (without their `\n`). */
export function verifyBundle(records: Iterable<unknown>): BundleResult {
  const verifier = new BundleVerifier();
  for (const record of records) {
    if (typeof record === 'string') verifier.addLine(record);
    else verifier.add(record);
  }
  return verifier.finish();
}

/**
 * Checks that two parties' ledgers tell one story: every envelope each logged as sent to the
 * other, the other logged as received with the same header, sealed hash and seq (except what was
 * still in flight at export time), each side's pinned card of the other is that party's own card,
 * and every checkpoint of one log the other holds has the root of the recomputed tree.
 */
export function compareViews(a: LedgerView, b: LedgerView): CrossReport {
  const failures: Failure[] = [];
  let failureCount = 0;
  const fail = (failure: Failure) => {
    failureCount++;
    if (failures.length < MAX_LISTED_FAILURES) failures.push(failure);
  };
  const out: CrossReport = {
    ok: false,
    matched: 0,
    checkpoints: 0,
    notYetReceived: [],
    lostWithRestore: [],
    checkpointsLostWithRestore: 0,
    discontinuities: [],
    failures,
    failureCount,
  };
  if (a.party === b.party) fail({ kind: 'views', message: `both bundles are "${a.party}"'s` });
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    compareCards(x, y, fail);
    compareChannel(x, y, out, fail);
    compareCheckpoints(x, y, out, fail);
    compareDiscontinuities(x, y, out, fail);
  }
  out.failureCount = failureCount;
  out.ok = failureCount === 0;
  return out;
}

function compareCards(x: LedgerView, y: LedgerView, fail: (f: Failure) => void): void {
  const pinned = x.cards.get(y.party);
  const own = y.cards.get(y.party);
  if (!pinned)
    fail({
      kind: 'views',
      party: x.party,
      message: `"${x.party}" has no pinned card of "${y.party}"`,
    });
  else if (own && fingerprint(pinned.card) !== fingerprint(own.card))
    fail({
      kind: 'views',
      party: x.party,
      message: `"${x.party}" pinned a card of "${y.party}" with another fingerprint than "${y.party}"'s own card`,
    });
}

/** The channel x → y: what x logged as sent against what y logged as received. */
function compareChannel(
  x: LedgerView,
  y: LedgerView,
  out: CrossReport,
  fail: (f: Failure) => void,
): void {
  const bySeq = new Map<number, string>();
  let newest = 0;
  for (const r of y.received.values())
    if (r.from === x.party) {
      bySeq.set(r.seq, r.id);
      newest = Math.max(newest, r.seq);
    }
  let released = 0;
  for (const s of x.sent.values()) {
    if (s.to !== y.party) continue;
    released = Math.max(released, s.seq);
    const where = {
      kind: 'views' as const,
      party: x.party,
      index: s.index,
      dir: 'out' as const,
      id: s.id,
    };
    const r = y.received.get(`${x.party}\n${s.id}`);
    if (r) {
      const differs = [
        r.headerHash !== s.headerHash && 'header hash',
        r.sealedHash !== s.sealedHash && 'sealed hash',
        r.seq !== s.seq && 'seq',
        s.receipt &&
          (s.receipt.receivedAt !== r.at || s.receipt.index !== r.index) &&
          "receipt's receivedAt or leaf index",
      ].filter(Boolean);
      if (differs.length)
        fail({
          ...where,
          message: `"${y.party}" logged this message (leaf ${r.index}) with another ${differs.join(', ')}`,
        });
      else out.matched++;
      continue;
    }
    const other = bySeq.get(s.seq);
    if (other !== undefined) {
      fail({
        ...where,
        message: `"${y.party}" logged seq ${s.seq} from "${x.party}" as message ${other}`,
      });
      continue;
    }
    if (s.receipt && s.receipt.size <= y.tree.size) {
      fail({
        ...where,
        message: `"${x.party}" holds "${y.party}"'s receipt for it (leaf ${s.receipt.index}, tree size ${s.receipt.size}), but "${y.party}"'s bundle does not log it`,
      });
      continue;
    }
    const reason = s.receipt
      ? `receipted by "${y.party}" after its export (tree size ${s.receipt.size} > ${y.tree.size})`
      : s.seq > newest
        ? `not yet received: the newest on the channel ("${y.party}" logged up to seq ${newest})`
        : `not yet received: no receipt, though "${y.party}" logged seq ${newest} (a faster lane overtook it)`;
    out.notYetReceived.push({ from: x.party, to: y.party, id: s.id, seq: s.seq, reason });
  }
  const restores = x.discontinuities.map((d) => {
    let before = 0;
    let after = Number.POSITIVE_INFINITY;
    for (const s of x.sent.values())
      if (s.to === y.party)
        if (s.index < d.index) before = Math.max(before, s.seq);
        else after = Math.min(after, s.seq);
    return { index: d.index, before, after };
  });
  for (const r of y.received.values()) {
    if (r.from !== x.party || x.sent.has(`${y.party}\n${r.id}`)) continue;
    // Released after the backup x was restored from, before the restore: x's record of it went
    // with the restore, and x's seqs went on above it.
    const restore = restores.find((d) => r.seq > d.before && r.seq < d.after);
    if (restore) {
      out.lostWithRestore.push({
        from: x.party,
        to: y.party,
        id: r.id,
        seq: r.seq,
        reason: `"${x.party}" released it after the backup it was restored from (discontinuity at leaf ${restore.index})`,
      });
      continue;
    }
    // Seqs are taken in the releasing transaction, in order: one above every seq in x's bundle
    // was released after x's export read its log.
    if (r.seq > released) {
      out.notYetReceived.push({
        from: x.party,
        to: y.party,
        id: r.id,
        seq: r.seq,
        reason: `released after "${x.party}"'s export (which logged up to seq ${released})`,
      });
      continue;
    }
    fail({
      kind: 'views',
      party: y.party,
      index: r.index,
      dir: 'in',
      id: r.id,
      message: `"${y.party}" logged it as received from "${x.party}", whose bundle has no out leaf for it`,
    });
  }
}

/** Checkpoints of y's log that x holds must be roots of y's recomputed tree. */
function compareCheckpoints(
  x: LedgerView,
  y: LedgerView,
  out: CrossReport,
  fail: (f: Failure) => void,
): void {
  for (const c of x.peerCheckpoints) {
    if (c.party !== y.party) continue;
    const due = originAt(y.cards.get(y.party)?.card, y.discontinuities, c.size);
    if (c.origin !== due) {
      const cut = y.discontinuities.find((d) => d.previous.origin === c.origin && c.size > d.index);
      if (cut) out.checkpointsLostWithRestore++;
      else
        fail({
          kind: 'views',
          party: x.party,
          message: `${c.source} is a checkpoint of "${y.party}"'s log of size ${c.size} with the origin "${c.origin}", where "${y.party}"'s bundle has "${due}"`,
        });
      continue;
    }
    if (c.size > y.tree.size) continue;
    out.checkpoints++;
    if (!equalBytes(c.root, treeHashSync(c.size, y.tree)))
      fail({
        kind: 'views',
        party: x.party,
        message: `${c.source} is a checkpoint of "${y.party}"'s log of size ${c.size} whose root is not that of "${y.party}"'s bundle: the log was forked or rewritten`,
      });
  }
}

/**
 * Each restore of y's log explained: where the old origin ends and the new one starts, and what
 * x recorded when it accepted the statement — which must be the same cut.
 */
function compareDiscontinuities(
  x: LedgerView,
  y: LedgerView,
  out: CrossReport,
  fail: (f: Failure) => void,
): void {
  for (const d of y.discontinuities) {
    const cited = d.cosigned.find((c) => c.party === x.party);
    const recorded = x.peerDiscontinuities.find(
      (r) => r.party === y.party && r.origin === d.origin,
    );
    const head =
      `"${y.party}" was restored from a backup: its origin "${d.previous.origin}" ends at size ` +
      `${d.previous.size}; the origin "${d.origin}" starts with the statement at leaf ${d.index}` +
      (cited ? `, citing size ${cited.size} as the largest "${x.party}" co-signed` : '');
    if (!recorded) {
      out.discontinuities.push(`${head}; "${x.party}"'s bundle does not record accepting it`);
      continue;
    }
    if (recorded.previous.size !== d.previous.size || recorded.previous.root !== d.previous.root) {
      fail({
        kind: 'views',
        party: x.party,
        index: recorded.index,
        message: `"${x.party}" recorded "${y.party}"'s restore as cutting size ${recorded.previous.size}, where "${y.party}"'s statement cuts size ${d.previous.size}`,
      });
      continue;
    }
    const witnessed = recorded.witnessed;
    out.discontinuities.push(
      `${head}; "${x.party}" accepted it at leaf ${recorded.index}` +
        (witnessed
          ? `, having witnessed "${witnessed.origin}" up to size ${witnessed.size}` +
            (witnessed.size > d.previous.size
              ? ` (${witnessed.size - d.previous.size} leaves lost with the restore)`
              : '')
          : '') +
        (!cited
          ? `; it cites no checkpoint "${x.party}" co-signed`
          : witnessed && cited.size <= witnessed.size
            ? `: the statement matches what "${x.party}" co-signed`
            : `: the co-signed size it cites is beyond what "${x.party}" witnessed`),
    );
  }
}

/** The origin of the checkpoints of a log of tree size `size`, given its restores. */
function originAt(
  card: Card | undefined,
  discontinuities: readonly LogDiscontinuity[],
  size: number,
): string {
  let origin = card?.keys.find((k) => k.purpose === 'log')?.name ?? '';
  for (const d of discontinuities) if (size > d.index) origin = d.origin;
  return origin;
}

function kindOf(type: Exclude<RecordType, 'hotline-export'>): FailureKind {
  return type === 'end' ? 'bundle' : type;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A header's canonical JSON without its kid: what re-signing after a compromise keeps. */
function withoutKid(header: Header): string {
  const { kid: _kid, ...rest } = header;
  return jcs(rest);
}

/** The tree size a checkpoint note claims, read before its signature is checked. */
function noteSize(note: string): number {
  return parseCheckpoint(parseNote(utf8(note)).text).size;
}

/** The recovery key's public half: the one key that is the same in every card of a party. */
function recoveryPub(card: Card): string | undefined {
  return card.keys.find((k) => k.purpose === 'recovery')?.pub;
}

/** A peer's checkpoint signed by the log key of any of its cards (it may have rotated it). */
function openWithAnyLogKey(cards: readonly Card[], note: string): Checkpoint {
  let failure: unknown;
  for (const card of [...cards].reverse()) {
    try {
      return openPeerCheckpoint(card, note);
    } catch (e) {
      failure = e;
    }
  }
  throw failure;
}

/** `receivedLeafHash` of an out leaf that passed the leaf checks, so is canonical. */
function inLeafHash(text: string, receivedAt: string): Uint8Array {
  const hash = receivedLeafHash(text, receivedAt);
  if (!hash) throw new Error('an out leaf that is not canonical reached a receipt check');
  return hash;
}
