/**
 * A Hotline node's two acts: release messages into the outbox, and receive peers' envelopes —
 * each stored, logged and receipted in one unit of work of the ledger. Delivery, heartbeats and
 * the rest are services beside it (src/node/*); src/app builds them all once.
 */

import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { onlyKey } from '../../crypto/card.ts';
import type { Ed25519SigningKey } from '../../crypto/ed25519.ts';
import type { Ed25519Pool } from '../../crypto/ed25519-pool.ts';
import { newSalt, sealMessageFor } from '../../crypto/envelope.ts';
import { EpochCache, SenderEpochs } from '../../crypto/epochs.ts';
import type { NodeKeys } from '../../crypto/keys.ts';
import {
  type Accepted,
  CheckedSignatures,
  type Rejected,
  receiveEnvelope,
  type SignatureCheck,
  signatureToCheck,
} from '../../crypto/receive.ts';
import type { SenderEpoch, SuiteName } from '../../crypto/seal.ts';
import { signReceipt } from '../../crypto/statements.ts';
import { envelopeLeaf, eventLeaf, receiptLeaf } from '../../ledger/leaves.ts';
import { parseNote } from '../../ledger/note.ts';
import { attachmentsProblem, tlpBelowMarking } from '../../protocol/attachments.ts';
import {
  type Body,
  Body as BodySchema,
  bodyRuleViolation,
  type Draft,
  emptyProblem,
  repeatedProblem,
  writtenProblem,
} from '../../protocol/body.ts';
import { citesProblem } from '../../protocol/citations.ts';
import { fromBase64url, utf8 } from '../../protocol/encoding.ts';
import type { Envelope, Header } from '../../protocol/envelope.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { BatchResult } from '../../protocol/federation.ts';
import { jcsBytes } from '../../protocol/jcs.ts';
import type { Leaf } from '../../protocol/leaf.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { notificationProblem } from '../../protocol/notification.ts';
import type { Receipt, ReceiptEntry, SignedReceipt } from '../../protocol/receipt.ts';
import type { Regimes } from '../../protocol/regimes.ts';
import { chosenCodes } from '../../protocol/render.ts';
import { schemaError } from '../../protocol/validate.ts';
import { type Precedence, RANK } from '../../protocol/values.ts';
import { FORMAT_VERSION } from '../../protocol/version.ts';
import type { Released } from '../../protocol/views.ts';
import type { Vocabulary } from '../../protocol/vocabulary.ts';
import { isStoreError, isUniqueViolation } from '../../store/damage.ts';
import type { RotationStore } from '../../store/rotations.ts';
import type { AlarmRow, Executor, NewOutboxRow, Store } from '../../store/store.ts';
import type { Integrity } from '../record/integrity.ts';
import {
  type Committer,
  type Ledger,
  type LedgerWriter,
  logNoteSigner,
  type SignedCheckpoint,
} from '../record/ledger.ts';
import type { Alarms } from './alarms.ts';
import type { Config } from './config.ts';
import type { NodeEvents } from './events.ts';
import type { Metrics } from './metrics.ts';
import type { Peer, Peers } from './peers.ts';
import { type AppliedRotation, applyRotation } from './rotation.ts';

/** A message of a commit, as the commit hook sees it. */
export interface CommittedMessage {
  party: string;
  id: string;
  body: Body;
  at: string;
}

/**
 * Runs inside the unit of work that stores released or received messages, so what it writes
 * (escalation's follow-ups) commits with them or not at all; what must wait for the commit it
 * hands to `ledger.afterCommit`.
 */
export type CommitHook = (
  tx: Executor,
  ledger: LedgerWriter,
  dir: 'in' | 'out',
  messages: readonly CommittedMessage[],
) => Promise<void>;

/**
 * The largest body a node releases: its sealed, base64url form plus the header must fit the
 * receiver's envelope limit.
 */
const MAX_RELEASE_BYTES = Math.min(
  LIMITS.bodyBytes,
  Math.floor(((LIMITS.envelopeBytes - 64 * 1024) * 3) / 4) - 16,
);

/** The most releases one transaction commits. */
export const MAX_GROUP_COMMIT = 512;
/** Flash or immediate releases a group takes ahead of older ones (`nextGroup`). */
export const URGENT_AHEAD = 64;

/** A batch whose commit met another replica's copy of it is checked again this many times. */
const RECEIVE_ATTEMPTS = 3;

interface ReleaseJob {
  recipients: string[];
  body: Body;
  epochs: Record<string, SenderEpoch>;
  now: Date;
  hook: ReleaseHook | undefined;
  signer: Signer | undefined;
  resolve(released: Released): void;
  reject(error: unknown): void;
}

/**
 * What a caller commits together with a release, in its transaction: event leaves after the
 * message's own, and writes of its own (e.g. marking an approved draft released). A write must
 * not fail for reasons of its own: the releases committed with it would fail too.
 */
export interface ReleaseHook {
  leaves?: (released: Released, at: string) => Leaf[];
  write?: (tx: Executor, released: Released, ledger: LedgerWriter) => Promise<void>;
}

/** The key a header is signed with, when not the node's own (a compromise rotation's). */
export interface Signer {
  kid: string;
  key: Ed25519SigningKey;
}

export interface NodeParts {
  config: Config;
  keys: NodeKeys;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  metrics: Metrics;
  logger: Logger;
  events: NodeEvents;
  alarms: Alarms;
  rotations: RotationStore;
  /** Told of store errors on the receiving path, which it raises as alarms. */
  integrity?: Pick<Integrity, 'storeFailed'>;
  /** The node's clock (tests inject one). */
  clock: () => Date;
  /** Runs in every unit of work that stores released or received messages. */
  onCommit?: CommitHook;
  /** The notification regimes a notice's fields are checked against before release. */
  regimes?: Regimes;
  /** The joint vocabulary: a release refuses a code it does not know (a typo, not a newer code). */
  vocabulary?: Pick<Vocabulary, 'entry' | 'version'>;
  /** Worker threads that check a received batch's signatures before the write lock is taken. */
  verifier?: Ed25519Pool;
}

/** Envelopes in a batch from which its signatures are checked on the worker threads. */
const THREADED_FROM = 4;
/** Received batches this small go ahead of larger ones waiting for the write lock. */
const URGENT_BATCH = 8;

/**
 * @example
 *   const node = new Node({ config, keys, store, ledger, peers, metrics, logger, events, alarms, clock });
 *   const { id, seq } = await node.release(['cn'], draft); // durable in the outbox and the ledger
 *   const answer = await node.receiveBatch(envelopes);     // stored and receipted, or rejected
 */
export class Node {
  readonly #parts: NodeParts;
  readonly #sendEpochs: SenderEpochs;
  readonly #receiveEpochs = new EpochCache();
  readonly #releases: ReleaseJob[] = [];
  #flushing = false;

  constructor(parts: NodeParts) {
    this.#parts = parts;
    this.#sendEpochs = new SenderEpochs(parts.config.party, parts.config.epoch);
  }

  get party(): string {
    return this.#parts.config.party;
  }

  /** The open sealing epoch to `party` (a new one when due), as a release would take it. */
  sealingEpoch(party: string): Promise<SenderEpoch> {
    const { suite, pub } = sealingKeyOf(this.#parts.peers.pinned(party));
    return this.#sendEpochs.next(party, suite, pub);
  }

  /** A draft as a body with its salt, checked as a release checks it (schema, rules, size). */
  check(draft: Draft): Body {
    const body = { salt: newSalt(), ...draft } as Body;
    const schemaProblem = schemaError(BodySchema, body);
    if (schemaProblem) throw new ProtocolError('E_MALFORMED', `message ${schemaProblem}`);
    const ruleProblem = bodyRuleViolation(body);
    if (ruleProblem) throw new ProtocolError('E_MALFORMED', ruleProblem);
    const writtenError = writtenProblem(body, this.#parts.clock());
    if (writtenError) throw new ProtocolError('E_MALFORMED', `message ${writtenError}`);
    const repeatedError = repeatedProblem(body);
    if (repeatedError) throw new ProtocolError('E_MALFORMED', `message ${repeatedError}`);
    const emptyError = emptyProblem(body);
    if (emptyError)
      throw new ProtocolError('E_EMPTY_MESSAGE', `the message says nothing: ${emptyError}`);
    const flashError = flashTextProblem(body, this.#parts.config.incidents.flashTextMax);
    if (flashError) throw new ProtocolError('E_FLASH_TOO_LONG', flashError);
    const attachmentError = attachmentsProblem(body.attachments);
    if (attachmentError)
      throw new ProtocolError('E_BAD_ATTACHMENT', `attachment ${attachmentError}`);
    const markingError = tlpBelowMarking(body);
    if (markingError) throw new ProtocolError('E_TLP_BELOW_MARKING', `attachment ${markingError}`);
    const { vocabulary } = this.#parts;
    const unknown = vocabulary && chosenCodes(body).find((code) => !vocabulary.entry(code));
    if (unknown)
      throw new ProtocolError(
        'E_UNKNOWN_CODE',
        `"${unknown}" is not a code of this node's vocabulary (${vocabulary.version}; hotline vocabulary show lists them)`,
      );
    const notificationError =
      this.#parts.regimes && notificationProblem(this.#parts.regimes, body, this.#parts.clock());
    if (notificationError) throw new ProtocolError('E_BAD_NOTIFICATION', notificationError);
    const citeError = citesProblem(body.ext);
    if (citeError) throw new ProtocolError('E_BAD_ATTACHMENT', citeError);
    // The peer refuses larger bodies (the seal adds 16 bytes and base64 a third): refuse them here.
    const size = jcsBytes(body).length;
    if (size > MAX_RELEASE_BYTES)
      throw new ProtocolError(
        'E_TOO_LARGE',
        `the message has ${size} bytes; the limit is ${MAX_RELEASE_BYTES}`,
      );
    return body;
  }

  /**
   * Releases a message: assigns each recipient's seq, signs the header once, seals for each
   * recipient, and writes outbox rows and ledger leaves in one unit of work. Delivery follows
   * (the `released` event).
   *
   * Releases that arrive while a commit is in flight are committed together (group commit), so
   * one fsync serves many messages and throughput is not bound by the disk's sync latency.
   */
  async release(
    to: readonly string[],
    draft: Draft,
    now = this.#parts.clock(),
    hook?: ReleaseHook,
    signer?: Signer,
  ): Promise<Released> {
    const recipients = [...new Set(to)];
    if (!recipients.length)
      throw new ProtocolError('E_MALFORMED', 'a message needs at least one recipient');
    const body = this.check(draft);
    const epochs: Record<string, SenderEpoch> = {};
    for (const party of recipients) {
      const { suite, pub } = sealingKeyOf(this.#parts.peers.pinned(party));
      epochs[party] = await this.#sendEpochs.next(party, suite, pub);
    }
    const released = await new Promise<Released>((resolve, reject) => {
      this.#releases.push({ recipients, body, epochs, now, hook, signer, resolve, reject });
      this.#flushReleases();
    });
    for (const party of recipients) {
      this.#parts.metrics.sent.inc({ peer: party, precedence: body.precedence });
      this.#parts.events.emit('released', party, RANK[body.precedence]);
    }
    return released;
  }

  #flushReleases(): void {
    if (this.#flushing || !this.#releases.length) return;
    this.#flushing = true;
    // Taken once the lock is held, so what arrived while waiting for it commits in this group.
    let jobs: ReleaseJob[] = [];
    const urgent = this.#releases.some((job) => job.body.precedence === 'flash');
    void this.#parts.ledger
      .commit(
        (tx, ledger) => {
          jobs = nextGroup(this.#releases);
          return this.#commitReleases(jobs, tx, ledger);
        },
        {},
        urgent,
      )
      .then(
        (results) => {
          for (const [i, job] of jobs.entries()) {
            const result = results[i] as Released | ProtocolError;
            if (result instanceof ProtocolError) job.reject(result);
            else job.resolve(result);
          }
        },
        (e: unknown) => {
          // A commit that failed before its work ran (a closed store, a fenced replica) took no
          // group: the one it would have taken is refused, so each failure ends some releases
          // and none waits for ever.
          if (!jobs.length) jobs = nextGroup(this.#releases);
          for (const job of jobs) job.reject(e);
        },
      )
      .finally(() => {
        const next = () => {
          this.#flushing = false;
          this.#flushReleases();
        };
        // After a full group the event loop turns first, so its envelopes leave while the next
        // one is signed: without it a stream of releases holds the loop until it ends.
        if (jobs.length >= MAX_GROUP_COMMIT) setImmediate(next);
        else next();
      });
  }

  async #commitReleases(
    jobs: readonly ReleaseJob[],
    tx: Executor,
    ledger: LedgerWriter,
  ): Promise<Array<Released | ProtocolError>> {
    const { store, keys, onCommit } = this.#parts;
    const lastSeq = new Map<string, number>();
    const leaves: Leaf[] = [];
    const rows: NewOutboxRow[] = [];
    const committed: CommittedMessage[] = [];
    const out: Array<Released | ProtocolError> = [];
    const hooked: Array<[ReleaseHook, Released]> = [];
    const bound = new OutboxBound(this.#parts.config.outboxBound, store, tx);
    for (const { recipients, body, epochs, now, hook, signer: given } of jobs) {
      const full = await bound.take(recipients);
      if (full) {
        out.push(full);
        continue;
      }
      const kind = body.type === 'rotation' ? 'rotation' : 'message';
      const signer = given ?? keys.signer(kind === 'rotation' ? 'identity' : 'signing');
      const id = uuidv7();
      const at = now.toISOString();
      const seq: Record<string, number> = {};
      for (const party of recipients) {
        const last = lastSeq.get(party) ?? (await store.lastSeq(party, tx));
        seq[party] = last + 1;
        lastSeq.set(party, last + 1);
      }
      const sealed = sealMessageFor(
        { kind, id, from: this.party, seq, sent: now, kid: signer.kid },
        body,
        signer.key,
        epochs,
      );
      // Out leaves follow header.to (docs/ledger.md), which orders parties as `seq`'s keys do,
      // not as the caller listed them: integer-like ids such as "10" come first.
      for (const party of sealed.header.to) {
        const envelope = sealed.envelopes[party] as Envelope;
        rows.push({
          party,
          id,
          seq: seq[party] as number,
          rank: RANK[body.precedence],
          header_hash: sealed.headerHash,
          envelope,
          body,
          created_at: at,
          status: 'pending',
          attempts: 0,
          next_attempt_at: 0,
          last_error: null,
          receipted_at: null,
          peer_received_at: null,
          peer_index: null,
          leaf_index: ledger.size + leaves.length,
        });
        leaves.push(envelopeLeaf('out', at, envelope));
        committed.push({ party, id, body, at });
      }
      out.push({ id, seq });
      if (hook) {
        leaves.push(...(hook.leaves?.({ id, seq }, at) ?? []));
        hooked.push([hook, { id, seq }]);
      }
    }
    for (const [party, last] of lastSeq) await store.setLastSeq(party, last, tx);
    await bound.alarm(this.#parts.alarms, tx, ledger);
    await ledger.append(leaves);
    await store.addOutbox(rows, tx);
    await onCommit?.(tx, ledger, 'out', committed);
    for (const [hook, released] of hooked) await hook.write?.(tx, released, ledger);
    return out;
  }

  /**
   * Receives a batch of envelopes from the network. Each is checked on its own; those accepted
   * are stored, logged and receipted in one unit of work (fsynced) before the answer leaves.
   * The write lock is held from the first check to the last commit, so what a check found (an
   * id or seq not yet taken) still holds when the envelope is stored.
   */
  async receiveBatch(envelopes: readonly unknown[], now = this.#parts.clock): Promise<BatchResult> {
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.#receiveBatch(envelopes, now);
        } catch (e) {
          // Replicas: another one stored some of these envelopes between this one's checks and
          // its commit (a peer sending on two paths at once). The database refused the second
          // copy; checked again, they are duplicates answered with the receipt already given.
          if (!isUniqueViolation(e) || attempt >= RECEIVE_ATTEMPTS) throw e;
        }
      }
    } catch (e) {
      if (!isStoreError(e)) throw e;
      // Nothing of the batch was taken in (its transaction rolled back): the sender keeps it and
      // retries, and sees why, rather than a bare 500.
      await this.#parts.integrity?.storeFailed('receiving envelopes', e);
      throw new ProtocolError(
        'E_STORE',
        'this node cannot read or write its store; nothing of the batch was taken in; an alarm is raised here: retry later',
      );
    }
  }

  /**
   * The batch's signatures, checked on the worker threads (every core) while the write lock
   * serves other work; in line, in `receiveEnvelope`, when there are few or the threads failed.
   */
  async #checkSignatures(envelopes: readonly unknown[]): Promise<CheckedSignatures | undefined> {
    const { verifier, peers, logger } = this.#parts;
    if (!verifier || verifier.failed || envelopes.length < THREADED_FROM) return undefined;
    const checks: SignatureCheck[] = [];
    for (const input of envelopes) {
      const check = signatureToCheck(input, (party) => peers.get(party), this.party);
      if (check) checks.push(check);
    }
    try {
      const results = await verifier.verifyAll(checks);
      const checked = new CheckedSignatures();
      for (const [i, check] of checks.entries()) checked.add(check, results[i] === true);
      return checked;
    } catch (e) {
      // Nothing is lost: every signature is then checked in line, under the lock.
      logger.error({ err: e }, 'signature threads failed: checking received batches in line');
      return undefined;
    }
  }

  async #receiveBatch(envelopes: readonly unknown[], now: () => Date): Promise<BatchResult> {
    const { store, keys, peers, metrics, logger, alarms } = this.#parts;
    const checked = await this.#checkSignatures(envelopes);
    // Precedence is sealed; a sender's flash lane sends small batches, its flood large ones (down
    // to URGENT_BATCH only when this node answers slowly, and then they are all alike).
    const urgent = envelopes.length <= URGENT_BATCH;
    return this.#parts.ledger.exclusive(async (commit) => {
      const rejected: BatchResult['rejected'] = [];
      const accepted: Accepted[] = [];
      const duplicates = new Map<string, Header[]>();
      const inBatch = new Map<string, string>();
      const inBatchSeq = new Map<string, string>();
      const ctx = {
        me: this.party,
        peer: (party: string) => peers.get(party),
        sealingSecrets: (suite: string) =>
          keys.sealingKeys(suite as SuiteName).map((k) => k.secret),
        epochs: this.#receiveEpochs,
        now: now(),
        seenId: async (from: string, id: string) =>
          inBatch.get(`${from}\n${id}`) ??
          (known.ids.get(from)?.has(id)
            ? known.ids.get(from)?.get(id)
            : await store.inboxHeaderHash(from, id)),
        seqOwner: async (from: string, seq: number) =>
          inBatchSeq.get(`${from}\n${seq}`) ??
          (known.seqs.get(from)?.has(seq)
            ? known.seqs.get(from)?.get(seq)
            : await store.inboxSeqOwner(from, seq)),
        ...(checked ? { checked } : {}),
      };
      const known = await this.#prefetch(envelopes);
      for (const [index, input] of envelopes.entries()) {
        const result = await receiveEnvelope(input, ctx).catch((e: unknown): Rejected => {
          // receiveEnvelope answers every bad input itself; this is the net under a bug.
          logger.error({ err: e, index }, 'envelope check failed unexpectedly');
          return {
            status: 'rejected',
            code: 'E_MALFORMED',
            message: 'the envelope could not be checked',
          };
        });
        if (result.status === 'accepted') {
          const { header } = result;
          inBatch.set(`${header.from}\n${header.id}`, result.headerHash);
          inBatchSeq.set(`${header.from}\n${header.seq[this.party]}`, header.id);
          accepted.push(result);
        } else if (result.status === 'duplicate') {
          const list = duplicates.get(result.header.from) ?? [];
          list.push(result.header);
          duplicates.set(result.header.from, list);
        } else {
          const from = peerOf(input);
          rejected.push({
            index,
            code: result.code,
            message: result.message,
            ...(result.id ? { id: result.id } : {}),
          });
          metrics.rejections.inc({ peer: peers.label(from), code: result.code });
          logger.warn({ code: result.code, id: result.id, from }, 'envelope rejected');
          if (result.code === 'E_EQUIVOCATION')
            await commit((tx, ledger) =>
              alarms.write(tx, ledger, 'equivocation', from ?? null, result.message),
            );
        }
      }
      const receipts: SignedReceipt[] = [];
      const byParty = groupBy(accepted, (a) => a.header.from);
      for (const [party, list] of byParty)
        receipts.push(await this.#store(commit, party, list, now()));
      for (const [party, headers] of duplicates) {
        receipts.push(...(await this.#receiptsGiven(commit, party, headers, now())));
        // Stored (by another replica, maybe, whose word of it never came): received here too.
        const tracker = peers.received(party);
        for (const h of headers) tracker.add(h.seq[this.party] as number);
      }
      return { receipts, rejected };
    }, urgent);
  }

  /**
   * What the store already holds for the ids and seqs a batch names, in two queries per sender
   * rather than two per envelope. The names are untrusted and used only as lookup keys; an id
   * that is not prefetched falls back to a single lookup.
   */
  async #prefetch(envelopes: readonly unknown[]) {
    const { store, peers } = this.#parts;
    const wanted = new Map<string, { ids: string[]; seqs: number[] }>();
    for (const input of envelopes) {
      const header = (
        input as { header?: { from?: unknown; id?: unknown; seq?: Record<string, unknown> } } | null
      )?.header;
      const seq = header?.seq?.[this.party];
      if (typeof header?.from !== 'string' || !peers.has(header.from)) continue;
      const entry = wanted.get(header.from) ?? { ids: [], seqs: [] };
      if (typeof header.id === 'string') entry.ids.push(header.id);
      if (Number.isSafeInteger(seq)) entry.seqs.push(seq as number);
      wanted.set(header.from, entry);
    }
    const ids = new Map<string, Map<string, string | undefined>>();
    const seqs = new Map<string, Map<number, string | undefined>>();
    for (const [party, want] of wanted) {
      const foundIds = await store.inboxHeaderHashes(party, want.ids);
      const foundSeqs = await store.inboxSeqOwners(party, want.seqs);
      ids.set(party, new Map(want.ids.map((id) => [id, foundIds.get(id)])));
      seqs.set(party, new Map(want.seqs.map((seq) => [seq, foundSeqs.get(seq)])));
    }
    return { ids, seqs };
  }

  /** The receipt of logged `in` envelopes, signed now, each entry proven in `checkpoint`'s tree. */
  async #signReceipt(
    ledger: LedgerWriter,
    checkpoint: SignedCheckpoint,
    party: string,
    logged: ReadonlyArray<Omit<ReceiptEntry, 'proof'>>,
    issued: string,
  ): Promise<SignedReceipt> {
    const signer = this.#parts.keys.signer('signing');
    const entries: ReceiptEntry[] = [];
    for (const { headerHash, id, index, receivedAt } of logged)
      entries.push({
        headerHash,
        id,
        index,
        proof: await ledger.prove(index, checkpoint.size),
        receivedAt,
      });
    // Members in JCS order: its canonical form, signed and logged, is JSON.stringify's.
    const body: Receipt = {
      checkpoint: checkpoint.note,
      entries,
      from: this.party,
      issued,
      kid: signer.kid,
      to: party,
      v: FORMAT_VERSION,
    };
    return signReceipt(body, signer.key);
  }

  /**
   * The receipts already given for envelopes received again (the answer to the first sending was
   * lost, or another replica stored them). A receipt signed before this node rotated its signing
   * or log key no longer verifies against the card its peer now pins, and the peer would refuse it
   * at every resend: it is given again under the current keys, the same entries proven in the
   * tree as it stands, logged, and kept in the first one's place for later resends.
   */
  async #receiptsGiven(
    commit: Committer,
    party: string,
    headers: readonly Header[],
    now: Date,
  ): Promise<SignedReceipt[]> {
    const { store, keys } = this.#parts;
    const given = await store.getReceipts(
      await store.inboxReceiptIds(
        party,
        headers.map((h) => h.id),
      ),
    );
    const kid = keys.signer('signing').kid;
    const log = logNoteSigner(keys);
    const current = (receipt: SignedReceipt) =>
      receipt.receipt.kid === kid &&
      parseNote(utf8(receipt.receipt.checkpoint)).signatures.some(
        (s) => s.name === log.name && s.keyId === log.keyId,
      );
    const stale = given.filter((g) => !current(g.receipt));
    if (!stale.length) return given.map((g) => g.receipt);
    const issued = now.toISOString();
    const again = await commit(async (tx, ledger) => {
      const checkpoint = await ledger.checkpoint();
      const signed = new Map<number, SignedReceipt>();
      for (const { id, receipt } of stale) {
        const { entries } = receipt.receipt;
        const fresh = await this.#signReceipt(ledger, checkpoint, party, entries, issued);
        const freshId = await store.addReceipt('out', party, fresh, tx);
        await store.setInboxReceipt(
          party,
          entries.map((e) => e.id),
          freshId,
          tx,
        );
        signed.set(id, fresh);
      }
      await ledger.append([...signed.values()].map((r) => receiptLeaf('out', issued, r)));
      return signed;
    });
    this.#parts.logger.info(
      { peer: party, receipts: stale.map((g) => g.id) },
      'receipts given again under the current keys',
    );
    return given.map((g) => again.get(g.id) ?? g.receipt);
  }

  /** Stores accepted envelopes from one peer, logs them, and signs their receipt. */
  async #store(
    commit: Committer,
    party: string,
    list: Accepted[],
    now: Date,
  ): Promise<SignedReceipt> {
    const { store, peers, metrics, events, config, onCommit, rotations, logger } = this.#parts;
    const receivedAt = now.toISOString();
    const applied: AppliedRotation[] = [];
    const skewed = list.filter(
      (a) => Math.abs(Date.parse(a.header.sent) - now.getTime()) > config.skewAlarmMs,
    );
    const receipt = await commit(async (tx, ledger) => {
      const leaves: Leaf[] = list.map((a) => envelopeLeaf('in', receivedAt, a.envelope));
      for (const a of skewed)
        leaves.push(
          eventLeaf('skew', receivedAt, { from: party, id: a.header.id, sent: a.header.sent }),
        );
      const start = await ledger.append(leaves);
      const signed = await this.#signReceipt(
        ledger,
        await ledger.checkpoint(),
        party,
        list.map((a, i) => ({
          headerHash: a.headerHash,
          id: a.header.id,
          index: start + i,
          receivedAt,
        })),
        receivedAt,
      );
      const receiptId = await store.addReceipt('out', party, signed, tx);
      await ledger.append([receiptLeaf('out', receivedAt, signed)]);
      // A rotation is applied before the batch joins the inbox: a compromise rotation frees the
      // seqs of the messages it disputes (its own among them).
      for (const a of list)
        if (a.body.rotation)
          applied.push(
            await applyRotation(
              { rotations, alarms: this.#parts.alarms, store },
              tx,
              ledger,
              this.party,
              applied.length ? withCard(peers.pinned(party), applied.at(-1)) : peers.pinned(party),
              a,
              receivedAt,
            ),
          );
      // A forgery waits for nobody: the escalation alarms it raised end with it (the
      // `compromise` alarm names it instead). After the commit: clearing commits itself.
      const forgeries = applied.flatMap((r) => r.disputed.map((d) => `${r.party}/${d.id}`));
      if (forgeries.length)
        ledger.afterCommit(() => {
          this.#parts.alarms
            .clearAbout(forgeries, 'disputed by a compromise rotation')
            .catch((err: unknown) =>
              logger.error({ err }, 'clearing the alarms of disputed messages failed'),
            );
        });
      await store.addInbox(
        list.map((a, i) => ({
          party,
          id: a.header.id,
          seq: a.header.seq[this.party] as number,
          header_hash: a.headerHash,
          envelope: a.envelope,
          body: a.body,
          received_at: receivedAt,
          leaf_index: start + i,
          receipt_id: receiptId,
        })),
        tx,
      );
      const alarms: AlarmRow[] = [];
      for (const a of skewed)
        alarms.push(
          await store.raiseAlarm(
            'skew',
            party,
            `message ${a.header.id} claims it was sent at ${a.header.sent}`,
            tx,
            { at: receivedAt },
          ),
        );
      ledger.afterCommit(() => {
        for (const alarm of alarms) if (alarm.count === 1) events.emit('alarm', alarm);
      });
      const committed = list.map((a) => ({
        party,
        id: a.header.id,
        body: a.body as Body,
        at: receivedAt,
      }));
      await onCommit?.(tx, ledger, 'in', committed);
      return signed;
    });
    const last = applied.at(-1);
    if (last) {
      peers.repin(party, last.signed, last.retired);
      const tracker = peers.received(party);
      for (const d of applied.flatMap((r) => r.disputed)) tracker.remove(d.seq);
      events.emit('repinned', party);
    }
    const tracker = peers.received(party);
    for (const a of list) tracker.add(a.header.seq[this.party] as number);
    metrics.received.inc({ peer: party }, list.length);
    events.emit(
      'received',
      party,
      list.map((a) => a.header.id),
    );
    metrics.receipts.inc({ peer: party, dir: 'out' });
    return receipt;
  }
}

/**
 * The bound on undelivered messages per peer (`outboxBound`), over one group commit: a release
 * that would take a recipient's pending messages past it is refused whole with `E_OUTBOX_FULL`,
 * and crossing `warnAt` of it or refusing raises an `outbox-full` alarm. What is released is never
 * dropped: the bound only refuses new releases.
 */
class OutboxBound {
  readonly #max: number;
  readonly #warn: number;
  readonly #store: Store;
  readonly #tx: Executor;
  /** Per party: pending before this group, and with this group's releases. */
  readonly #pending = new Map<string, { before: number; now: number }>();
  readonly #refused = new Map<string, string>();

  constructor(bound: Config['outboxBound'], store: Store, tx: Executor) {
    this.#max = bound.maxPendingPerPeer;
    this.#warn = Math.ceil(bound.maxPendingPerPeer * bound.warnAt);
    this.#store = store;
    this.#tx = tx;
  }

  /** Counts a release to `recipients` in, or answers why it is refused (counting nothing). */
  async take(recipients: readonly string[]): Promise<ProtocolError | undefined> {
    const counts = [];
    for (const party of recipients) {
      let count = this.#pending.get(party);
      if (!count) {
        const before = await this.#store.pendingCount(party, this.#tx);
        count = { before, now: before };
        this.#pending.set(party, count);
      }
      counts.push(count);
      if (count.now + 1 > this.#max) {
        const message =
          `the outbox to "${party}" holds ${count.now} undelivered messages, its bound ` +
          `(outboxBound.maxPendingPerPeer): nothing is released until the peer receipts some`;
        this.#refused.set(party, message);
        return new ProtocolError('E_OUTBOX_FULL', message);
      }
    }
    for (const count of counts) count.now++;
    return undefined;
  }

  /** Raises `outbox-full`: `near` when a party's pending crossed `warnAt`, `full` when refused. */
  async alarm(alarms: Alarms, tx: Executor, ledger: LedgerWriter): Promise<void> {
    for (const [party, { before, now }] of this.#pending)
      if (before < this.#warn && now >= this.#warn)
        await alarms.write(
          tx,
          ledger,
          'outbox-full',
          party,
          `the outbox to "${party}" holds ${now} undelivered messages, ${Math.round((100 * now) / this.#max)} % ` +
            `of its bound (${this.#max}); at the bound new releases to "${party}" are refused`,
          { cause: 'near' },
        );
    for (const [party, message] of this.#refused)
      await alarms.write(tx, ledger, 'outbox-full', party, message, { cause: 'full' });
  }
}

/** A flash message's free text over the limit, as a sentence; undefined when within it. */
export function flashTextProblem(body: Body, max: number): string | undefined {
  if (body.precedence !== 'flash') return undefined;
  for (const text of [body.text, ...body.translations]) {
    const chars = text ? [...text.body].length : 0;
    if (chars > max)
      return `flash traffic is kept short: the ${text === body.text ? 'text' : `${text?.lang} translation`} has ${chars} characters; the limit is ${max}`;
  }
  return undefined;
}

/**
 * The next group of releases to commit, taken from the queue: the oldest, in release order, but
 * for up to URGENT_AHEAD flash or immediate ones from beyond the group's reach, which go first,
 * so a flash released behind a burst goes in the next group rather than after the burst. The
 * jump is bounded: each group still takes the oldest releases, so every release commits within
 * a few groups of its turn whatever keeps arriving (its seq follows its release but for that).
 */
export function nextGroup<T extends { body: { precedence: Precedence } }>(queue: T[]): T[] {
  const ahead = new Set<T>();
  for (let i = MAX_GROUP_COMMIT; i < queue.length && ahead.size < URGENT_AHEAD; i++) {
    const job = queue[i] as T;
    if (RANK[job.body.precedence] <= RANK.immediate) ahead.add(job);
  }
  if (!ahead.size) return queue.splice(0, MAX_GROUP_COMMIT);
  const group = [...ahead, ...queue.slice(0, MAX_GROUP_COMMIT - ahead.size)];
  const rest = queue.slice(MAX_GROUP_COMMIT - ahead.size).filter((job) => !ahead.has(job));
  queue.length = 0;
  for (const job of rest) queue.push(job);
  return group;
}

function sealingKeyOf(peer: Peer): { suite: SuiteName; pub: Uint8Array } {
  const keys = peer.card.keys.filter((k) => k.purpose === 'sealing');
  const key = keys.find((k) => k.alg === 'x-wing') ?? keys[0] ?? onlyKey(peer.card, 'sealing');
  return { suite: key.alg as SuiteName, pub: fromBase64url(key.pub) };
}

/** The peer as a rotation earlier in the same batch left it. */
function withCard(peer: Peer, rotation: AppliedRotation | undefined): Peer {
  if (!rotation) return peer;
  return {
    ...peer,
    signed: rotation.signed,
    card: rotation.signed.card,
    retired: rotation.retired,
  };
}

function peerOf(input: unknown): string | undefined {
  const from = (input as { header?: { from?: unknown } } | null)?.header?.from;
  return typeof from === 'string' && /^[a-z0-9-]{2,32}$/.test(from) ? from : undefined;
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k) ?? [];
    list.push(item);
    out.set(k, list);
  }
  return out;
}
