/**
 * Delivery: the outbox sends pending envelopes to a peer in batches, verifies the receipts that
 * come back, and retries with capped exponential backoff and jitter. Two lanes per peer — flash
 * and immediate, then priority and routine — so a flood of routine traffic never holds a flash
 * message behind it. State lives in the store, so delivery survives restarts.
 */

import type { Logger } from 'pino';
import type { PinnedPeer } from '../../crypto/receive.ts';
import { envelopeLeaf, hashLeaf, receiptLeaf, receivedLeafHash } from '../../ledger/leaves.ts';
import { type SentEnvelope, type SentLeafHash, verifyReceipt } from '../../ledger/receipt.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { BatchResult } from '../../protocol/federation.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { OutboxRow, Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';
import type { NodeEvents } from '../core/events.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Peers } from '../core/peers.ts';
import type { Ledger } from '../record/ledger.ts';
import type { ReceiptRecorder, Witness } from '../record/witness.ts';
import type { Paths, Sent } from './paths.ts';

/** A batch stays under the peer's request limit, with room for the JSON around it. */
const MAX_BATCH_BYTES = LIMITS.requestBytes / 2;

function fitRequest(rows: OutboxRow[]): OutboxRow[] {
  let bytes = 0;
  for (const [i, row] of rows.entries()) {
    bytes += row.text.length + 1;
    if (bytes > MAX_BATCH_BYTES && i > 0) return rows.slice(0, i);
  }
  return rows;
}

/** Batches in flight per lane: the peer stores one while this node settles another's receipt. */
const PIPELINE = 4;
/** The smallest batch the size adapts down to. */
const MIN_BATCH = 8;

/**
 * The batch size of a lane, adapted to the answers (additive increase, multiplicative decrease):
 * a batch answered within the peer's wait grows the next by an eighth of the configured size; one
 * answered later than the failover time (the peer said it was still processing, or an older peer
 * took as long) halves it; in between it stays.
 * With four batches in flight, each waits behind the others at the peer, so smaller batches keep
 * that wait — and a flash message's wait behind them at the peer's write lock — short when the
 * peer is loaded, while an idle peer gets full batches.
 */
export class BatchSize {
  readonly #max: number;
  #size: number;

  constructor(max: number) {
    this.#max = max;
    this.#size = max;
  }

  get size(): number {
    return this.#size;
  }

  /** A batch was answered in `ms`: within `fastMs` the next grows, past `slowMs` it halves. */
  answered(ms: number, fastMs: number, slowMs: number): void {
    if (ms <= fastMs) this.#size = Math.min(this.#max, this.#size + Math.ceil(this.#max / 8));
    else if (ms > slowMs) this.#size = Math.max(Math.min(MIN_BATCH, this.#max), this.#size >> 1);
  }
}

const LANES = [
  { name: 'urgent', ranks: [0, 1] },
  { name: 'normal', ranks: [2, 3] },
] as const;

/** Capped exponential backoff with full jitter in [½, 1] of the step. */
export function backoffMs(
  attempts: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(attempts - 1, 30));
  return Math.round(step * (0.5 + random() / 2));
}

export interface OutboxParts {
  config: Config;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  paths: Paths;
  witness: Witness;
  alarms: Alarms;
  metrics: Metrics;
  events: NodeEvents;
  logger: Logger;
}

/** How often a held delivery looks whether the fork alarm behind it was cleared. */
const HOLD_LOOK_MS = 5000;

/**
 * Delivery to one peer held after a fork: once the witness refuses a peer's receipts as a fork,
 * no receipt of that peer can verify until a person deals with it, and resending would only
 * repeat the refusal (a node restored from an old backup was resent to at ~28 % CPU for good). So
 * while a `fork` alarm about the peer is open, a message is sent at most `integrity.forkResends`
 * times, and one `delivery-held` alarm says so; clearing the fork alarm resumes delivery.
 */
class ForkHold {
  readonly #parts: OutboxParts;
  readonly #party: string;
  #held = false;
  #lookedAt = Number.NEGATIVE_INFINITY;

  constructor(parts: OutboxParts, party: string) {
    this.#parts = parts;
    this.#party = party;
  }

  /** The attempts below which a pending envelope may still be sent (undefined: not held). */
  async attemptsBelow(): Promise<number | undefined> {
    if (Date.now() - this.#lookedAt >= HOLD_LOOK_MS) {
      this.#lookedAt = Date.now();
      const forked = await this.#parts.witness.forked(this.#party);
      if (this.#held && !forked)
        this.#parts.logger.info({ peer: this.#party }, 'fork alarm cleared: delivery resumes');
      this.#held = forked;
    }
    return this.#held ? this.#parts.config.integrity.forkResends : undefined;
  }

  /** A receipt or an envelope was refused while `witness.forked`: hold, and alarm once. */
  async engage(): Promise<void> {
    this.#lookedAt = Date.now();
    if (this.#held) return;
    this.#held = true;
    const { store, alarms, config } = this.#parts;
    const pending = await store.pendingCount(this.#party);
    await alarms.raise(
      'delivery-held',
      this.#party,
      `what is sent to "${this.#party}" is refused as a fork (see its fork alarm) or because ` +
        "this node's log is behind what it witnessed (see the rolled-back alarm): " +
        `${pending} message(s) wait in the outbox, each sent at most ` +
        `${config.integrity.forkResends} times until that alarm is cleared`,
      { cause: 'fork' },
    );
  }
}

/** How long receipts signed by a key the pinned card lacks are set aside before they alarm. */
const CARD_WAIT_MS = 120_000;
/** Unknown keys a peer's wait keeps; past it, another unknown key alarms at once. */
const CARD_WAIT_KEYS = 16;

/**
 * Receipts from one peer signed by a key its pinned card lacks. The likely cause is a rotation on
 * its way: the peer restarted with new keys and answered a batch before its own outbox sent us
 * the rotation (or before our node applied it). Such a receipt proves nothing, and an alarm would
 * blame a party for a legitimate rotation. So it is set aside without an alarm, and its envelopes
 * keep their backoff until the card is re-pinned (`Outbox.retryNow` makes them due at once).
 * A key still unknown `CARD_WAIT_MS` (or three heartbeats) after its first receipt raises
 * `bad-receipt`, and so does at once a key a rotation already retired: no rotation is coming for
 * it, and a thief holding the old key files is what signs with it.
 */
export class CardWait {
  readonly #graceMs: number;
  /** Per unknown kid: when its first receipt came. */
  readonly #since = new Map<string, number>();

  constructor(heartbeatMs: number) {
    this.#graceMs = Math.max(CARD_WAIT_MS, 3 * heartbeatMs);
  }

  /** A receipt signed by `kid`, not on `peer`'s card, came: true while it may wait. */
  waiting(kid: string, peer: PinnedPeer, now = Date.now()): boolean {
    if (peer.retired.some((r) => r.key.kid === kid)) return false;
    // Keys waited for that the pinned card now holds came with their rotation: forgotten.
    for (const waited of this.#since.keys())
      if (peer.card.keys.some((k) => k.kid === waited)) this.#since.delete(waited);
    let since = this.#since.get(kid);
    if (since === undefined) {
      if (this.#since.size >= CARD_WAIT_KEYS) return false;
      since = now;
      this.#since.set(kid, since);
    }
    return now - since < this.#graceMs;
  }
}

/** What the lanes to one peer share. */
interface PartyState {
  hold: ForkHold;
  card: CardWait;
}

class Lane {
  readonly #parts: OutboxParts;
  readonly #party: string;
  readonly #ranks: readonly number[];
  readonly #hold: ForkHold;
  readonly #card: CardWait;
  readonly #batch: BatchSize;
  #wake: (() => void) | undefined;
  #kicked = false;
  #running = false;
  #loop: Promise<void> | undefined;

  constructor(parts: OutboxParts, party: string, ranks: readonly number[], state: PartyState) {
    this.#parts = parts;
    this.#party = party;
    this.#ranks = ranks;
    this.#hold = state.hold;
    this.#card = state.card;
    this.#batch = new BatchSize(parts.config.outbox.batch);
  }

  start(): void {
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.kick();
    await this.#loop;
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  /**
   * Keeps up to PIPELINE batches in flight, so the peer stores one batch while this node
   * settles the receipt of the previous one. Envelopes in flight are not picked again.
   */
  async #run(): Promise<void> {
    const { store, logger } = this.#parts;
    const inFlight = new Set<string>();
    const batches = new Set<Promise<void>>();
    while (this.#running) {
      this.#kicked = false;
      // More may be due at once: look again rather than wait for a kick.
      let more = false;
      let below: number | undefined;
      if (batches.size < PIPELINE) {
        try {
          below = await this.#hold.attemptsBelow();
          const size = this.#batch.size;
          const limit = size + inFlight.size;
          let found: number;
          let fresh: OutboxRow[];
          if (!inFlight.size) {
            fresh = await store.dueOutbox(
              this.#party,
              this.#ranks,
              Date.now(),
              size,
              undefined,
              below,
            );
            found = fresh.length;
          } else {
            // Batches in flight: their rows are skipped by id, not read again whole.
            const ids = await store.dueIds(this.#party, this.#ranks, Date.now(), limit, below);
            found = ids.length;
            const wanted = ids.filter((id) => !inFlight.has(id)).slice(0, size);
            fresh = await store.pendingRows(this.#party, wanted);
          }
          const rows = fitRequest(fresh);
          if (rows.length) {
            // When this batch takes all that is due, the next look waits for a release, a
            // settled batch or a heartbeat to kick it: one query per batch, not two.
            more = found === limit || rows.length < fresh.length;
            for (const r of rows) inFlight.add(r.id);
            const batch: Promise<void> = this.#deliver(rows)
              .catch((e) => logger.error({ err: e, peer: this.#party }, 'delivery error'))
              .then(() => {
                for (const r of rows) inFlight.delete(r.id);
                batches.delete(batch);
                this.kick();
              });
            batches.add(batch);
          }
        } catch (e) {
          logger.error({ err: e, peer: this.#party }, 'delivery loop error');
        }
      }
      if (more || this.#kicked) continue;
      const next = batches.size
        ? undefined
        : await store.nextDue(this.#party, this.#ranks, undefined, below).catch((e) => {
            // Unreadable, the lane looks again within a second (where a failure is logged too).
            logger.error({ err: e, peer: this.#party }, 'reading the next due envelope failed');
            return undefined;
          });
      const waitMs = next === undefined ? 1000 : Math.max(0, Math.min(1000, next - Date.now()));
      if (waitMs > 0 && this.#running) await this.#sleep(waitMs);
    }
    await Promise.all(batches);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      // A kick that came while the loop was still looking (nextDue) must not wait out the timer.
      if (this.#kicked) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }

  /** Sends one batch; answers how many envelopes it cleared. */
  async #deliver(rows: OutboxRow[]): Promise<number> {
    const { paths, metrics, logger, store, witness, config } = this.#parts;
    const ids = rows.map((r) => r.id);
    let sent: Sent;
    const started = performance.now();
    try {
      sent = await paths.send(
        this.#party,
        `{"envelopes":[${rows.map((r) => r.text).join(',')}]}`,
        rows.some((r) => r.rank === 0),
        await witness.witnessedSize(this.#party),
      );
    } catch (e) {
      metrics.deliveryFailures.inc({ peer: this.#party });
      logger.warn(
        { peer: this.#party, n: rows.length, reason: (e as Error).message },
        'batch not delivered',
      );
      await store.markAttempt(
        this.#party,
        ids,
        (e as Error).message.slice(0, 500),
        this.#retryAt(rows),
      );
      return 0;
    }
    if (sent.kind === 'deposited') {
      // The receipts come back through the relay (relays.ts); until then the rows stay pending.
      await store.markAttempt(this.#party, ids, `held by relay ${sent.path}`, this.#retryAt(rows));
      return 0;
    }
    this.#batch.answered(performance.now() - started, paths.answerWaitMs, config.outbox.failoverMs);
    // The proofs the receipts need, when the peer sent them with the answer: no second request.
    if (sent.answer.proofs) witness.offerProofs(this.#party, sent.answer.proofs);
    return this.settle(rows, sent.answer);
  }

  /** Verifies every receipt and clears what it proves; the rest waits for a retry. */
  async settle(rows: OutboxRow[], answer: BatchResult): Promise<number> {
    const { store, ledger, peers, witness, alarms, metrics, events, config } = this.#parts;
    const peer = peers.pinned(this.#party);
    const byId = new Map(rows.map((r) => [r.id, r]));
    const cleared = new Set<string>();
    let refused = false;
    let awaitingCard = false;
    // Our `out` leaves, as our log keeps them: the leaf the peer logged is the same one with its
    // head changed, so it is hashed from the text rather than rebuilt from the envelope.
    const leaves = new Map<number, string>();
    for (const receipt of answer.receipts) {
      witness.prefetchReceiptProof(this.#party, receipt.receipt.checkpoint);
      const named = receipt.receipt.entries.map((e) => e.id).filter((id) => !byId.has(id));
      for (const id of named) {
        const row = await store.getOutbox(this.#party, id);
        if (row) byId.set(id, row);
      }
      const unread = receipt.receipt.entries.flatMap((e) => {
        const index = byId.get(e.id)?.leaf_index;
        return index === undefined || index === null || leaves.has(index) ? [] : [index];
      });
      if (unread.length) for (const [i, text] of await store.leafTexts(unread)) leaves.set(i, text);
      const sent = (id: string): SentEnvelope | SentLeafHash | undefined => {
        const row = byId.get(id);
        if (!row) return undefined;
        const text = row.leaf_index === null ? undefined : leaves.get(row.leaf_index);
        if (!text) return { headerHash: row.header_hash, envelope: row.envelope };
        return {
          headerHash: row.header_hash,
          receivedLeafHash: (at) =>
            receivedLeafHash(text, at) ?? hashLeaf(envelopeLeaf('in', at, row.envelope)),
        };
      };
      let verified: ReturnType<typeof verifyReceipt>;
      try {
        verified = verifyReceipt(receipt, peer.card, config.party, sent);
      } catch (e) {
        const code = e instanceof ProtocolError ? e.code : 'E_BAD_RECEIPT';
        metrics.rejections.inc({ peer: this.#party, code });
        if (code === 'E_UNKNOWN_KEY' && this.#card.waiting(receipt.receipt.kid, peer)) {
          awaitingCard = true;
          continue;
        }
        await alarms.raise(
          'bad-receipt',
          this.#party,
          `a receipt from "${this.#party}" failed: ${(e as Error).message}`,
          { cause: code },
        );
        continue;
      }
      const fresh = verified.entries.filter(
        (e) => byId.get(e.id)?.status === 'pending' && !cleared.has(e.id),
      );
      if (!fresh.length) continue;
      // Its checkpoint must extend (or be within) the peer's log as this node witnessed it; if
      // so, the receipt is recorded in one commit with the witness's new state. That commit is
      // group-committed (no fsync of its own): a crash that loses it leaves the rows pending,
      // and resending them gets the same receipt (docs/architecture.md § Durability).
      const record: ReceiptRecorder = (alsoInTransaction) =>
        ledger.commit(
          async (tx, log) => {
            await alsoInTransaction(tx);
            await store.markReceipted(this.#party, fresh, tx);
            await store.addReceipt('in', this.#party, receipt, tx);
            await log.append([receiptLeaf('in', new Date().toISOString(), receipt)]);
          },
          { durable: false },
        );
      const { checkpoint } = verified;
      if (
        !(await witness.checkReceipt(this.#party, checkpoint, receipt.receipt.checkpoint, record))
      ) {
        refused = true;
        continue;
      }
      for (const e of fresh) cleared.add(e.id);
      await this.#clearRejections(fresh.map((e) => e.id));
      metrics.receipts.inc({ peer: this.#party, dir: 'in' });
      events.emit(
        'receipted',
        this.#party,
        fresh.map((e) => e.id),
      );
    }
    for (const r of answer.rejected) {
      const row = rows[r.index];
      metrics.rejections.inc({ peer: this.#party, code: r.code });
      // The first refusal alarms; the retries that follow (with backoff) do not repeat it.
      if (row && row.attempts === 0)
        await alarms.raise(
          'rejected-by-peer',
          this.#party,
          `"${this.#party}" rejected ${row.id}: ${r.code} ${r.message}`,
          { cause: r.code, ref: `${this.#party}/${row.id}` },
        );
    }
    if ((refused || answer.rejected.length) && (await witness.forked(this.#party)))
      await this.#hold.engage();
    const unsettled = rows.filter((r) => !cleared.has(r.id));
    if (unsettled.length)
      await store.markAttempt(
        this.#party,
        unsettled.map((r) => r.id),
        awaitingCard ? 'receipt signed by a key not on the pinned card' : 'no verified receipt',
        // Re-pinned while this batch was settled: `retryNow` has run, so they are due now.
        awaitingCard && peers.pinned(this.#party).card !== peer.card
          ? Date.now()
          : this.#retryAt(unsettled),
      );
    return cleared.size;
  }

  /**
   * Clears the peer's refusal of any of `ids` now that it receipted them (an envelope refused
   * before what it needed arrived, then taken on resend): one look-up per receipt.
   */
  async #clearRejections(ids: readonly string[]): Promise<void> {
    const { store, alarms } = this.#parts;
    const open = await store.openAlarmsOf('rejected-by-peer', this.#party);
    if (!open.length) return;
    const receipted = new Set(ids.map((id) => `${this.#party}/${id}`));
    const refs = open.flatMap((a) => (a.ref && receipted.has(a.ref) ? [a.ref] : []));
    if (refs.length) await alarms.clearAbout(refs, 'the peer receipted it on a later attempt');
  }

  /**
   * One retry time for a whole batch, from its most-tried envelope: jitter drawn per envelope
   * would scatter a batch into single-envelope retries while the peer is down.
   */
  #retryAt(rows: readonly OutboxRow[]): number {
    const { backoffBaseMs, backoffMaxMs } = this.#parts.config.outbox;
    const attempts = Math.max(0, ...rows.map((r) => r.attempts)) + 1;
    return Date.now() + backoffMs(attempts, backoffBaseMs, backoffMaxMs);
  }
}

/** The outbox of a node: two lanes per pinned peer. */
export class Outbox {
  readonly #parts: OutboxParts;
  readonly #lanes = new Map<string, Lane[]>();
  /** Between start and stop; a replica that does not lead runs no lanes, and a kick is dropped. */
  #started = false;

  constructor(parts: OutboxParts) {
    this.#parts = parts;
  }

  start(): void {
    this.#started = true;
    for (const party of this.#parts.peers.keys()) this.#ensure(party);
  }

  #ensure(party: string): Lane[] {
    let lanes = this.#lanes.get(party);
    if (!lanes) {
      const state = {
        hold: new ForkHold(this.#parts, party),
        card: new CardWait(this.#parts.config.heartbeatMs),
      };
      lanes = LANES.map((l) => new Lane(this.#parts, party, l.ranks, state));
      for (const lane of lanes) lane.start();
      this.#lanes.set(party, lanes);
    }
    return lanes;
  }

  /**
   * Takes in a batch answer that came back another way (through a relay): verifies its receipts
   * and clears the envelopes they prove.
   */
  async settle(party: string, answer: BatchResult): Promise<number> {
    const lane = this.#ensure(party)[0] as Lane;
    return lane.settle([], answer);
  }

  /**
   * A peer's card was re-pinned (its rotation applied): receipts signed by its new keys, set
   * aside while the rotation was on its way (`CardWait`), now verify, so what waits for one is due
   * now rather than after its backoff.
   */
  async retryNow(party: string): Promise<void> {
    if (!this.#started) return;
    if (await this.#parts.store.resendNow(party, undefined, Date.now())) this.kick(party);
  }

  kick(party: string, rank?: number): void {
    if (!this.#started) return;
    const lanes = this.#ensure(party);
    if (rank === undefined) for (const lane of lanes) lane.kick();
    else lanes[rank <= 1 ? 0 : 1]?.kick();
  }

  async stop(): Promise<void> {
    this.#started = false;
    await Promise.all([...this.#lanes.values()].flat().map((l) => l.stop()));
    this.#lanes.clear();
  }
}
