/**
 * A Hotline node: its keys, card, store, log and peers, and the two things it does with them —
 * release messages into the outbox, and receive peers' envelopes. Delivery (outbox.ts) and
 * heartbeats (heartbeat.ts) run beside it; the HTTP listeners live in src/api.
 */

import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { onlyKey } from '../../crypto/card.ts';
import { newSalt, sealMessageFor } from '../../crypto/envelope.ts';
import { EpochCache, SenderEpochs } from '../../crypto/epochs.ts';
import type { NodeKeys } from '../../crypto/keys.ts';
import { type Accepted, type Rejected, receiveEnvelope } from '../../crypto/receive.ts';
import type { SenderEpoch, SuiteName } from '../../crypto/seal.ts';
import { signReceipt } from '../../crypto/statements.ts';
import { envelopeLeaf, eventLeaf, receiptLeaf } from '../../ledger/leaves.ts';
import { ed25519NoteSigner } from '../../ledger/note.ts';
import { attachmentsProblem } from '../../protocol/attachments.ts';
import {
  type Body,
  Body as BodySchema,
  bodyRuleViolation,
  type Precedence,
} from '../../protocol/body.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { fromBase64url } from '../../protocol/encoding.ts';
import type { Envelope } from '../../protocol/envelope.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { BatchResult } from '../../protocol/federation.ts';
import { jcsBytes } from '../../protocol/jcs.ts';
import type { Leaf } from '../../protocol/leaf.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { Receipt, SignedReceipt } from '../../protocol/receipt.ts';
import { schemaError } from '../../protocol/validate.ts';
import { PROTOCOL_VERSION } from '../../protocol/version.ts';
import type { AlarmRow, Executor, NewOutboxRow, Store } from '../../store/store.ts';
import { Log, type PendingAppend } from '../record/ledger.ts';
import type { Config } from './config.ts';
import { Lock } from './lock.ts';
import { Metrics } from './metrics.ts';
import { loadPeers, type Peer } from './peers.ts';
import { SeqTracker } from './seqs.ts';

export interface NodeEvents {
  received: [party: string, ids: string[]];
  receipted: [party: string, ids: string[]];
  /** An alarm was raised (the stored row), after its commit. */
  alarm: [alarm: AlarmRow];
  /** Something changed in an incident: a message of it sent or received, its state, an ack. */
  incident: [incident: string];
  /** Escalation fired a notification (src/node/incidents/escalation.ts). */
  escalation: [step: EscalationStep];
  /**
   * A message was acknowledged by a person: `dir` out, the peer acknowledged ours; in, one of our
   * people acknowledged the peer's. `party` is the peer, `id` the message.
   */
  acknowledged: [party: string, id: string, ack: AckInfo];
  /** A durable alarm was cleared. */
  'alarm-cleared': [id: number];
  /** A path to a peer changed state (up, degraded, down). */
  link: [party: string, path: string, state: string];
}

/** One notification of an escalation ladder, as the live feed shows it. */
export interface EscalationStep {
  dir: 'in' | 'out';
  party: string;
  id: string;
  incident: string | null;
  precedence: Precedence;
  /** The ladder index (0 = first desk); for `out`, the sending desk alarmed. */
  step: number;
  desk: string;
  /** The person on duty there, or null when nobody is. */
  user: string | null;
  /** Notifications of this message so far, this one included. */
  fired: number;
  channels: Array<{ kind: string; ok: boolean; detail?: string }>;
  /** True when this is the end of the ladder: a standing alarm. */
  final: boolean;
  at: string;
}

export interface AckInfo {
  dir: 'in' | 'out';
  desk: string;
  person: string | null;
  at: string;
  ackId: string | null;
}

/** A message of a commit, as the hooks see it. */
export interface CommittedMessage {
  party: string;
  id: string;
  body: Body;
  at: string;
}

/**
 * Runs inside the transaction that stores released or received messages, so what it writes
 * (escalation timers) commits with them or not at all; what it returns runs after the commit.
 */
export type CommitHook = (
  tx: Executor,
  dir: 'in' | 'out',
  messages: readonly CommittedMessage[],
) => Promise<(() => void) | undefined>;

/**
 * The largest body a node releases: its sealed, base64url form plus the header must fit the
 * receiver's envelope limit.
 */
const MAX_RELEASE_BYTES = Math.min(
  LIMITS.bodyBytes,
  Math.floor(((LIMITS.envelopeBytes - 64 * 1024) * 3) / 4) - 16,
);

/** The most releases one transaction commits. */
const MAX_GROUP_COMMIT = 512;

interface ReleaseJob {
  recipients: string[];
  body: Body;
  epochs: Record<string, SenderEpoch>;
  now: Date;
  hook: ReleaseHook | undefined;
  resolve(released: Released): void;
  reject(error: unknown): void;
}

export const RANK: Record<Precedence, number> = { flash: 0, immediate: 1, priority: 2, routine: 3 };

/** What an operator asks to send: a body without its salt. */
export type Draft = Omit<Body, 'salt'>;

export interface Released {
  id: string;
  seq: Record<string, number>;
}

/**
 * What a caller commits together with a release, in its transaction: event leaves after the
 * message's own, and writes of its own (e.g. marking an approved draft released). A write must
 * not fail for reasons of its own: the releases committed with it would fail too.
 */
export interface ReleaseHook {
  leaves?: (released: Released, at: string) => Leaf[];
  write?: (tx: Executor, released: Released) => Promise<void>;
}

export interface NodeParts {
  config: Config;
  keys: NodeKeys;
  card: SignedCard;
  store: Store;
  log: Logger;
  metrics?: Metrics;
  /** The node's clock (tests inject one); the wall clock by default. */
  clock?: () => Date;
}

export class Node {
  readonly config: Config;
  readonly keys: NodeKeys;
  readonly card: SignedCard;
  readonly store: Store;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly ledger: Log;
  readonly peers: Map<string, Peer>;
  /** Seqs received per peer, for heartbeats. */
  readonly received = new Map<string, SeqTracker>();
  readonly #sendEpochs: SenderEpochs;
  readonly #receiveEpochs = new EpochCache();
  /** Every write that touches the log goes through this lock, so appends never interleave. */
  readonly #write = new Lock();
  /**
   * `received` (party, ids) after a batch is stored; `receipted` (party, ids) once verified;
   * `alarm` and `alarm-cleared` once committed; `link` when a path changes state. The console's
   * live feed pushes these.
   */
  readonly events = new EventEmitter<NodeEvents>();
  readonly #releases: ReleaseJob[] = [];
  #flushing = false;
  /** Called after a release, so delivery starts at once. */
  onRelease: (party: string, rank: number) => void = () => {};
  /** Hooks run inside the transactions that store released and received messages. */
  readonly commitHooks: CommitHook[] = [];
  readonly clock: () => Date;

  private constructor(parts: NodeParts, ledger: Log, peers: Map<string, Peer>) {
    this.config = parts.config;
    this.keys = parts.keys;
    this.card = parts.card;
    this.store = parts.store;
    this.logger = parts.log;
    this.metrics = parts.metrics ?? new Metrics(parts.config.party);
    this.ledger = ledger;
    this.peers = peers;
    this.#sendEpochs = new SenderEpochs(parts.config.party, parts.config.epoch);
    this.clock = parts.clock ?? (() => new Date());
  }

  static async open(parts: NodeParts): Promise<Node> {
    const logKey = parts.keys.get('log');
    const signer = ed25519NoteSigner(logKey.entry.name ?? '', logKey.secret);
    const ledger = await Log.open(parts.store, signer);
    const node = new Node(parts, ledger, await loadPeers(parts.store));
    for (const party of node.peers.keys())
      node.received.set(party, new SeqTracker(await parts.store.inboxSeqs(party)));
    return node;
  }

  get party(): string {
    return this.config.party;
  }

  peer(party: string): Peer {
    const peer = this.peers.get(party);
    if (!peer) throw new ProtocolError('E_UNKNOWN_PARTY', `"${party}" is not a pinned peer`);
    return peer;
  }

  /** Re-reads pinned peers (after `hotline peer add` on a running node's store). */
  async reloadPeers(): Promise<void> {
    const fresh = await loadPeers(this.store);
    for (const party of fresh.keys())
      if (!this.received.has(party))
        this.received.set(party, new SeqTracker(await this.store.inboxSeqs(party)));
    // Updated in place with no await between: a release never sees the map half refilled, and a
    // loop over the peers that awaits meanwhile never visits a peer twice (a cleared and re-added
    // key would be visited again).
    for (const party of [...this.peers.keys()]) if (!fresh.has(party)) this.peers.delete(party);
    for (const [party, peer] of fresh) this.peers.set(party, peer);
  }

  /** A draft as a body with its salt, checked as a release checks it (schema, rules, size). */
  check(draft: Draft): Body {
    const body = { salt: newSalt(), ...draft } as Body;
    const error = schemaError(BodySchema, body) ?? bodyRuleViolation(body);
    if (error) throw new ProtocolError('E_MALFORMED', `message ${error}`);
    const flashError = flashTextProblem(body, this.config.incidents.flashTextMax);
    if (flashError) throw new ProtocolError('E_FLASH_TOO_LONG', flashError);
    const attachmentError = attachmentsProblem(body.attachments);
    if (attachmentError)
      throw new ProtocolError('E_BAD_ATTACHMENT', `attachment ${attachmentError}`);
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
   * recipient, and writes outbox rows and ledger leaves in one transaction. Delivery follows.
   *
   * Releases that arrive while a commit is in flight are committed together (group commit), so
   * one fsync serves many messages and throughput is not bound by the disk's sync latency.
   */
  async release(
    to: readonly string[],
    draft: Draft,
    now = this.clock(),
    hook?: ReleaseHook,
  ): Promise<Released> {
    const recipients = [...new Set(to)];
    if (!recipients.length)
      throw new ProtocolError('E_MALFORMED', 'a message needs at least one recipient');
    const body = this.check(draft);
    const epochs: Record<string, SenderEpoch> = {};
    for (const party of recipients) {
      const { suite, pub } = sealingKeyOf(this.peer(party));
      epochs[party] = await this.#sendEpochs.next(party, suite, pub);
    }
    const released = await new Promise<Released>((resolve, reject) => {
      this.#releases.push({ recipients, body, epochs, now, hook, resolve, reject });
      this.#flushReleases();
    });
    for (const party of recipients) {
      this.metrics.sent.inc({ peer: party, precedence: body.precedence });
      this.onRelease(party, RANK[body.precedence]);
    }
    return released;
  }

  #flushReleases(): void {
    if (this.#flushing || !this.#releases.length) return;
    this.#flushing = true;
    void this.#write
      .run(async () => {
        const jobs = this.#releases.splice(0, MAX_GROUP_COMMIT);
        try {
          const results = await this.#commitReleases(jobs);
          for (const [i, job] of jobs.entries()) job.resolve(results[i] as Released);
        } catch (e) {
          for (const job of jobs) job.reject(e);
        }
      })
      .finally(() => {
        this.#flushing = false;
        this.#flushReleases();
      });
  }

  async #commitReleases(jobs: readonly ReleaseJob[]): Promise<Released[]> {
    let pending: PendingAppend | undefined;
    const after: Array<() => void> = [];
    const results = await this.store.transaction(async (tx) => {
      const lastSeq = new Map<string, number>();
      const leaves: Leaf[] = [];
      const rows: NewOutboxRow[] = [];
      const committed: CommittedMessage[] = [];
      const out: Released[] = [];
      const hooked: Array<[ReleaseHook, Released]> = [];
      for (const { recipients, body, epochs, now, hook } of jobs) {
        const kind = body.type === 'rotation' ? 'rotation' : 'message';
        const signer = this.keys.signer(kind === 'rotation' ? 'identity' : 'signing');
        const id = uuidv7();
        const at = now.toISOString();
        const seq: Record<string, number> = {};
        for (const party of recipients) {
          const last = lastSeq.get(party) ?? (await this.store.lastSeq(party, tx));
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
            leaf_index: this.ledger.size + leaves.length,
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
      for (const [party, last] of lastSeq) await this.store.setLastSeq(party, last, tx);
      pending = await this.ledger.append(leaves, tx);
      await this.store.addOutbox(rows, tx);
      for (const hook of this.commitHooks) {
        const then = await hook(tx, 'out', committed);
        if (then) after.push(then);
      }
      for (const [hook, released] of hooked) await hook.write?.(tx, released);
      return out;
    });
    if (pending) this.ledger.committed(pending);
    for (const then of after) then();
    return results;
  }

  /**
   * Receives a batch of envelopes from the network. Each is checked on its own; those accepted
   * are stored, logged and receipted in one transaction (fsynced) before the answer leaves.
   */
  async receiveBatch(envelopes: readonly unknown[], now = this.clock): Promise<BatchResult> {
    return this.#write.run(async () => {
      const rejected: BatchResult['rejected'] = [];
      const accepted: Accepted[] = [];
      const duplicates = new Map<string, string[]>();
      const inBatch = new Map<string, string>();
      const inBatchSeq = new Map<string, string>();
      const ctx = {
        me: this.party,
        peer: (party: string) => this.peers.get(party),
        sealingSecret: (suite: string) => this.keys.sealing(suite as SuiteName)?.secret,
        epochs: this.#receiveEpochs,
        seenId: async (from: string, id: string) =>
          inBatch.get(`${from}\n${id}`) ??
          (known.ids.get(from)?.has(id)
            ? known.ids.get(from)?.get(id)
            : await this.store.inboxHeaderHash(from, id)),
        seqOwner: async (from: string, seq: number) =>
          inBatchSeq.get(`${from}\n${seq}`) ??
          (known.seqs.get(from)?.has(seq)
            ? known.seqs.get(from)?.get(seq)
            : await this.store.inboxSeqOwner(from, seq)),
      };
      const known = await this.#prefetch(envelopes);
      for (const [index, input] of envelopes.entries()) {
        const result = await receiveEnvelope(input, ctx).catch((e: unknown): Rejected => {
          // receiveEnvelope answers every bad input itself; this is the net under a bug.
          this.logger.error({ err: e, index }, 'envelope check failed unexpectedly');
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
          list.push(result.header.id);
          duplicates.set(result.header.from, list);
        } else {
          const from = peerOf(input);
          rejected.push({
            index,
            code: result.code,
            message: result.message,
            ...(result.id ? { id: result.id } : {}),
          });
          this.metrics.rejections.inc({ peer: from ?? 'unknown', code: result.code });
          this.logger.warn({ code: result.code, id: result.id, from }, 'envelope rejected');
          if (result.code === 'E_EQUIVOCATION')
            await this.#alarm('equivocation', from ?? null, result.message);
        }
      }
      const receipts: SignedReceipt[] = [];
      const byParty = groupBy(accepted, (a) => a.header.from);
      for (const [party, list] of byParty) receipts.push(await this.#store(party, list, now()));
      for (const [party, ids] of duplicates) {
        const receiptIds = await this.store.inboxReceiptIds(party, ids);
        receipts.push(...(await this.store.getReceipts(receiptIds)));
      }
      return { receipts, rejected };
    });
  }

  /**
   * What the store already holds for the ids and seqs a batch names, in two queries per sender
   * rather than two per envelope. The names are untrusted and used only as lookup keys; an id
   * that is not prefetched falls back to a single lookup.
   */
  async #prefetch(envelopes: readonly unknown[]) {
    const wanted = new Map<string, { ids: string[]; seqs: number[] }>();
    for (const input of envelopes) {
      const header = (
        input as { header?: { from?: unknown; id?: unknown; seq?: Record<string, unknown> } } | null
      )?.header;
      const seq = header?.seq?.[this.party];
      if (typeof header?.from !== 'string' || !this.peers.has(header.from)) continue;
      const entry = wanted.get(header.from) ?? { ids: [], seqs: [] };
      if (typeof header.id === 'string') entry.ids.push(header.id);
      if (Number.isSafeInteger(seq)) entry.seqs.push(seq as number);
      wanted.set(header.from, entry);
    }
    const ids = new Map<string, Map<string, string | undefined>>();
    const seqs = new Map<string, Map<number, string | undefined>>();
    for (const [party, want] of wanted) {
      const foundIds = await this.store.inboxHeaderHashes(party, want.ids);
      const foundSeqs = await this.store.inboxSeqOwners(party, want.seqs);
      ids.set(party, new Map(want.ids.map((id) => [id, foundIds.get(id)])));
      seqs.set(party, new Map(want.seqs.map((seq) => [seq, foundSeqs.get(seq)])));
    }
    return { ids, seqs };
  }

  /** Stores accepted envelopes from one peer, logs them, and signs their receipt. */
  async #store(party: string, list: Accepted[], now: Date): Promise<SignedReceipt> {
    const receivedAt = now.toISOString();
    let pending: PendingAppend | undefined;
    const after: Array<() => void> = [];
    const alarms: AlarmRow[] = [];
    const skewed = list.filter(
      (a) => Math.abs(Date.parse(a.header.sent) - now.getTime()) > this.config.skewAlarmMs,
    );
    const receipt = await this.store.transaction(async (tx) => {
      const leaves: Leaf[] = list.map((a) => envelopeLeaf('in', receivedAt, a.envelope));
      for (const a of skewed)
        leaves.push(
          eventLeaf('skew', receivedAt, { from: party, id: a.header.id, sent: a.header.sent }),
        );
      pending = await this.ledger.append(leaves, tx);
      const start = pending.start;
      const checkpoint = await this.ledger.checkpoint(tx, pending);
      const signer = this.keys.signer('signing');
      const body: Receipt = {
        v: PROTOCOL_VERSION,
        from: this.party,
        to: party,
        kid: signer.kid,
        issued: receivedAt,
        entries: await Promise.all(
          list.map(async (a, i) => ({
            id: a.header.id,
            headerHash: a.headerHash,
            receivedAt,
            index: start + i,
            proof: await this.ledger.prove(start + i, checkpoint.size, tx, pending),
          })),
        ),
        checkpoint: checkpoint.note,
      };
      const signed = signReceipt(body, signer.key);
      const receiptId = await this.store.addReceipt('out', party, signed, tx);
      await this.ledger.append([receiptLeaf('out', receivedAt, signed)], tx, pending);
      await this.store.addInbox(
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
      for (const a of skewed)
        alarms.push(
          await this.store.raiseAlarm(
            'skew',
            party,
            `message ${a.header.id} claims it was sent at ${a.header.sent}`,
            tx,
            { at: receivedAt },
          ),
        );
      const committed = list.map((a) => ({
        party,
        id: a.header.id,
        body: a.body as Body,
        at: receivedAt,
      }));
      for (const hook of this.commitHooks) {
        const then = await hook(tx, 'in', committed);
        if (then) after.push(then);
      }
      return signed;
    });
    if (pending) this.ledger.committed(pending);
    for (const alarm of alarms) this.events.emit('alarm', alarm);
    for (const then of after) then();
    const tracker = this.received.get(party) ?? new SeqTracker();
    this.received.set(party, tracker);
    for (const a of list) tracker.add(a.header.seq[this.party] as number);
    this.metrics.received.inc({ peer: party }, list.length);
    this.events.emit(
      'received',
      party,
      list.map((a) => a.header.id),
    );
    this.metrics.receipts.inc({ peer: party, dir: 'out' });
    return receipt;
  }

  /** Raises a durable alarm and records it in the log. */
  async #alarm(type: string, party: string | null, message: string): Promise<void> {
    let pending: PendingAppend | undefined;
    const at = this.clock().toISOString();
    const row = await this.store.transaction(async (tx) => {
      const row = await this.store.raiseAlarm(type, party, message, tx, { at });
      pending = await this.ledger.append([eventLeaf(type, at, { party, message })], tx);
      return row;
    });
    if (pending) this.ledger.committed(pending);
    this.logger.error({ alarm: type, party }, message);
    this.events.emit('alarm', row);
  }

  /** Raises an alarm from outside a locked section (delivery, heartbeats). */
  alarm(type: string, party: string | null, message: string): Promise<void> {
    return this.#write.run(() => this.#alarm(type, party, message));
  }

  /**
   * Clears an open alarm (a person has dealt with it), recorded as an `alarm-cleared` event leaf
   * naming the alarm but not the person (who is in the local audit trail).
   */
  clearAlarm(id: number, by: string, note: string | null, now = new Date()): Promise<AlarmRow> {
    return this.#write.run(async () => {
      let pending: PendingAppend | undefined;
      const at = now.toISOString();
      const alarm = await this.store.transaction(async (tx) => {
        const row = await this.store.getAlarm(id, tx);
        if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no alarm ${id}`);
        if (!(await this.store.clearAlarm(id, by, note, at, tx)))
          throw new ProtocolError('E_CONFLICT', `alarm ${id} was cleared at ${row.cleared_at}`);
        pending = await this.ledger.append(
          [eventLeaf('alarm-cleared', at, { alarm: id, type: row.type, party: row.party })],
          tx,
        );
        return { ...row, cleared_at: at, cleared_by: by, cleared_note: note };
      });
      if (pending) this.ledger.committed(pending);
      this.logger.info({ alarm: alarm.type, id, party: alarm.party }, 'alarm cleared');
      this.events.emit('alarm-cleared', id);
      return alarm;
    });
  }

  /** Runs `fn` under the write lock, for other parts that append to the log. */
  write<T>(fn: () => Promise<T>): Promise<T> {
    return this.#write.run(fn);
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

function sealingKeyOf(peer: Peer): { suite: SuiteName; pub: Uint8Array } {
  const keys = peer.card.keys.filter((k) => k.purpose === 'sealing');
  const key = keys.find((k) => k.alg === 'x-wing') ?? keys[0] ?? onlyKey(peer.card, 'sealing');
  return { suite: key.alg as SuiteName, pub: fromBase64url(key.pub) };
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
