/**
 * Mutual witnessing (docs/protocol.md § Heartbeat, § Witnessing): each node is the witness of
 * its peer's log, with the semantics of C2SP tlog-witness `add-checkpoint`.
 *
 * Per peer the node keeps the last checkpoint of the peer's log it accepted. A newer one is
 * accepted only with a consistency proof from that size — carried by the peer's heartbeat, or
 * fetched from the peer for a receipt's checkpoint — and then co-signed with our witness key; the
 * co-signature travels back in our heartbeats. The first checkpoint seen is trusted (as witnesses
 * do). Two trees of one size, or a proof that does not verify, raise a durable `fork` alarm and
 * nothing is accepted. The peer's co-signatures of our own checkpoints are verified and stored;
 * the largest co-signed size is where our next consistency proof starts.
 *
 * Work on one peer is serialised (heartbeats in both directions and receipts race otherwise);
 * nothing here runs under the ledger's write lock, which raising an alarm takes.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Logger } from 'pino';
import type { NodeKeys } from '../../crypto/keys.ts';
import { type Checkpoint, parseCheckpoint } from '../../ledger/checkpoint.ts';
import {
  cosignatureKeySigner,
  cosignatureTimestamp,
  cosignCheckpoint,
  verifyCosignature,
} from '../../ledger/cosignature.ts';
import { checkTree } from '../../ledger/merkle.ts';
import {
  formatSignatureLine,
  type NoteSigner,
  type NoteVerifier,
  parseNote,
} from '../../ledger/note.ts';
import { openPeerCheckpoint, witnessVerifier } from '../../ledger/receipt.ts';
import { Hex32 } from '../../protocol/common.ts';
import { equalBytes, fromBase64url, fromHex, toHex, utf8 } from '../../protocol/encoding.ts';
import type { Heartbeat } from '../../protocol/heartbeat.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { schemaError } from '../../protocol/validate.ts';
import type { WitnessStatus } from '../../protocol/views.ts';
import type { CosignatureRow, Executor, Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';
import { Lock } from '../core/lock.ts';
import type { Peers } from '../core/peers.ts';
import type { Paths } from '../delivery/paths.ts';
import { getJson, type TlsClient, TransportError } from '../delivery/transport.ts';
import type { Ledger } from './ledger.ts';

/** GET /federation/v1/proof/consistency: the query (text, as query strings arrive). */
export const ConsistencyQuery = Type.Object(
  {
    from: Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' }),
    to: Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' }),
  },
  { additionalProperties: false },
);
export type ConsistencyQuery = Static<typeof ConsistencyQuery>;

/** GET /federation/v1/proof/consistency: the answer. */
export const ConsistencyProof = Type.Object(
  { proof: Type.Array(Hex32, { maxItems: LIMITS.proofHashes }) },
  { additionalProperties: false },
);
export type ConsistencyProof = Static<typeof ConsistencyProof>;

/**
 * Commits what a verified receipt proves, running `alsoInTransaction` inside the same
 * transaction; resolves once committed.
 */
export type ReceiptRecorder = (alsoInTransaction: (tx: Executor) => Promise<void>) => Promise<void>;

/** A peer's checkpoint this node accepted, with its own co-signature line on it. */
interface Accepted {
  /** Its origin line: the log key's name, or a new origin after a restore. */
  origin: string;
  size: number;
  root: Uint8Array;
  note: string;
  line: string;
  at: string;
}

/** What offering a peer's checkpoint came to. */
type Outcome =
  /** accepted and co-signed */
  | 'accepted'
  /** the checkpoint accepted already */
  | 'known'
  /** smaller than the accepted one (reordered); ignored */
  | 'stale'
  /** larger, but no proof from the accepted size came with it; not accepted */
  | 'unproven'
  /** inconsistent with the accepted one: alarm raised, not accepted */
  | 'fork';

export interface WitnessParts {
  config: Config;
  keys: NodeKeys;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  paths: Paths;
  alarms: Alarms;
  logger: Logger;
}

/** The node's witness of its peers' logs (one per node, shared by heartbeats, delivery and the listeners). */
export class Witness {
  readonly #parts: WitnessParts;
  readonly #locks = new Map<string, Lock>();
  /** Caches of the store's `witnessed` and latest `cosignatures` rows (null: none yet). */
  readonly #accepted = new Map<string, Accepted | null>();
  readonly #cosigned = new Map<string, CosignatureRow | null>();
  /** The last consistency proof sent to each peer, reused while neither size changes. */
  readonly #sentProof = new Map<string, { from: number; to: number; proof: string[] }>();
  readonly #verifiers = new Map<string, { pub: string; verifier: NoteVerifier }>();
  /** Per peer, how many receipts are being checked. */
  readonly #checking = new Map<string, number>();
  /** Per peer, the consistency proof fetched ahead for the receipt being verified. */
  readonly #prefetched = new Map<
    string,
    { from: number; to: number; proof: Promise<Uint8Array[]> }
  >();
  /** Consistency proofs a peer sent along with receipts (in a batch answer, through a relay), by "from-to". */
  readonly #offeredProofs = new Map<string, Map<string, Uint8Array[]>>();
  /** Per peer, heartbeats in a row whose larger checkpoint no proof could be had for. */
  readonly #unproven = new Map<string, number>();
  /** Per peer, the last smaller checkpoint a heartbeat carried that was judged (stale or fork). */
  readonly #smaller = new Map<string, string>();
  #cosigner: NoteSigner | undefined;

  constructor(parts: WitnessParts) {
    this.#parts = parts;
  }

  /**
   * What a heartbeat to `party` carries besides our checkpoint of tree size `size`: a consistency
   * proof from the size the peer last co-signed, and our co-signature of its checkpoint.
   */
  async outgoing(
    party: string,
    size: number,
  ): Promise<Pick<Heartbeat, 'consistency' | 'cosignature'>> {
    const out: Pick<Heartbeat, 'consistency' | 'cosignature'> = {};
    const accepted = await this.#acceptedOf(party);
    // A co-signature leaves only once the checkpoint it signs is durably accepted: the receipt
    // commit that accepted it may be group-committed (C2SP tlog-witness: persist, then sign).
    if (accepted) {
      await this.#parts.store.sync();
      out.cosignature = { size: accepted.size, line: accepted.line };
    }
    const cosigned = await this.#cosignedOf(party);
    if (cosigned && cosigned.size <= size) {
      try {
        out.consistency = {
          from: cosigned.size,
          proof: await this.#proof(party, cosigned.size, size),
        };
      } catch (e) {
        this.#parts.logger.error(
          { err: e, peer: party, from: cosigned.size, to: size },
          'cannot prove our log consistent',
        );
      }
    }
    return out;
  }

  /** Takes in what a verified heartbeat carries: the peer's checkpoint and its co-signature. */
  async takeIn(heartbeat: Heartbeat): Promise<void> {
    const party = heartbeat.from;
    try {
      await this.#lock(party).run(async () => {
        await this.#takeCheckpoint(heartbeat);
        if (heartbeat.cosignature) await this.#takeCosignature(party, heartbeat.cosignature);
      });
    } catch (e) {
      this.#parts.logger.error({ err: e, peer: party }, 'witnessing a heartbeat failed');
    }
  }

  /**
   * Whether a receipt's checkpoint (already verified against the peer's log key) is consistent
   * with the last one accepted from that peer. When the sizes differ, the proof is fetched from
   * the peer; a larger checkpoint that proves consistent is accepted and co-signed. False when it
   * is inconsistent (a `fork` alarm is raised) or the proof could not be had (try again later).
   *
   * When it is consistent, `record` commits what the receipt proves, and a newly accepted
   * checkpoint is stored in that same transaction (one fsync, not two); true once it committed.
   */
  async checkReceipt(
    party: string,
    checkpoint: Checkpoint,
    note: string,
    record: ReceiptRecorder,
  ): Promise<boolean> {
    // Receipts of pipelined batches are checked one after the other, so each fetches one proof
    // from the checkpoint the previous one accepted; heartbeats are not held up meanwhile.
    this.#checking.set(party, (this.#checking.get(party) ?? 0) + 1);
    try {
      return await this.#lock(`receipts\n${party}`).run(() =>
        this.#checkReceipt(party, checkpoint, note, record),
      );
    } finally {
      this.#checking.set(party, (this.#checking.get(party) ?? 1) - 1);
    }
  }

  /**
   * Starts fetching the consistency proof a receipt's checkpoint will need, from its note as it
   * arrived (not yet verified: the size is only a question to the peer, and the proof is checked
   * against the verified checkpoint), so the fetch overlaps the receipt's verification.
   */
  prefetchReceiptProof(party: string, note: string): void {
    // While another receipt is being checked, the size it starts from is about to change.
    if (this.#checking.get(party)) return;
    const old = this.#accepted.get(party);
    let size: number;
    try {
      size = parseCheckpoint(parseNote(utf8(note)).text).size;
    } catch {
      return;
    }
    if (!old || old.size === size) return;
    const [from, to] = old.size < size ? [old.size, size] : [size, old.size];
    const proof = this.#fetchProof(party, from, to);
    proof.catch(() => {}); // the error reaches whoever takes the proof
    this.#prefetched.set(party, { from, to, proof });
  }

  /** The proof prefetched for exactly (from, to), or a fresh fetch. */
  #receiptProof(party: string, from: number, to: number): Promise<Uint8Array[]> {
    const prefetched = this.#prefetched.get(party);
    this.#prefetched.delete(party);
    if (prefetched?.from === from && prefetched.to === to) return prefetched.proof;
    return this.#fetchProof(party, from, to);
  }

  async #checkReceipt(
    party: string,
    checkpoint: Checkpoint,
    note: string,
    record: ReceiptRecorder,
  ): Promise<boolean> {
    for (let round = 0; round < 3; round++) {
      const old = await this.#acceptedOf(party);
      let proof: Uint8Array[] = [];
      if (old && old.size !== checkpoint.size) {
        const [from, to] =
          old.size < checkpoint.size ? [old.size, checkpoint.size] : [checkpoint.size, old.size];
        try {
          proof = await this.#receiptProof(party, from, to);
          // The proof is unsigned and came over the network: one that does not verify is fetched
          // again, directly, before it may count as evidence of a fork.
          if (
            !(old.size < checkpoint.size
              ? checkTree(proof, checkpoint.size, checkpoint.root, old.size, old.root)
              : checkTree(proof, old.size, old.root, checkpoint.size, checkpoint.root))
          )
            proof = await this.#fetchProof(party, from, to, false);
        } catch (e) {
          if (checkpoint.size < old.size && (await this.#noLongerHolds(party, e, from, to))) {
            await this.#lock(party).run(() =>
              this.#fork(party, old, checkpoint, 'is smaller than, and its log no longer holds,'),
            );
            return false;
          }
          this.#parts.logger.warn(
            { peer: party, from, to, reason: (e as Error).message },
            'no consistency proof for a receipt',
          );
          return false;
        }
      }
      const outcome = await this.#lock(party).run(async () => {
        // Fetched outside the lock: if a heartbeat moved the accepted checkpoint, start over.
        if ((await this.#acceptedOf(party)) !== old) return 'retry';
        if (old && checkpoint.size < old.size) {
          if (checkTree(proof, old.size, old.root, checkpoint.size, checkpoint.root)) {
            await record(async () => {});
            return 'stale';
          }
          await this.#fork(party, old, checkpoint, 'is not contained in');
          return 'fork';
        }
        return this.#offer(party, note, checkpoint, old, proof, record);
      });
      if (outcome !== 'retry') return outcome !== 'fork' && outcome !== 'unproven';
    }
    return false;
  }

  async status(party: string): Promise<WitnessStatus> {
    const accepted = await this.#acceptedOf(party);
    const cosigned = await this.#cosignedOf(party);
    return {
      witnessed: accepted ? { size: accepted.size, at: accepted.at } : null,
      cosigned: cosigned
        ? {
            size: cosigned.size,
            time: new Date(cosigned.time * 1000).toISOString(),
            at: cosigned.at,
          }
        : null,
    };
  }

  async #takeCheckpoint(heartbeat: Heartbeat): Promise<void> {
    const party = heartbeat.from;
    const old = await this.#acceptedOf(party);
    if (old?.note === heartbeat.checkpoint) return;
    let checkpoint: Checkpoint;
    try {
      checkpoint = openPeerCheckpoint(this.#parts.peers.pinned(party).card, heartbeat.checkpoint);
    } catch (e) {
      await this.#parts.alarms.raise(
        'bad-proof',
        party,
        `"${party}" sent a checkpoint that does not verify: ${(e as Error).message}`,
        { cause: 'E_BAD_SIGNATURE' },
      );
      return;
    }
    // The proof must start at the size we accepted. A heartbeat without one (none, or from
    // another size) is no reason to stop looking: a peer that rewrote its log would simply leave
    // it out. So the witness asks the peer for it, as it does for a receipt's checkpoint.
    if (old && checkpoint.size < old.size) {
      // A peer stuck on a smaller checkpoint sends it in every heartbeat: it is judged once.
      if (this.#smaller.get(party) === heartbeat.checkpoint) return;
      if (await this.#checkSmaller(party, old, checkpoint))
        this.#smaller.set(party, heartbeat.checkpoint);
      return;
    }
    const c = heartbeat.consistency;
    let proof = old && c?.from === old.size ? c.proof.map(fromHex) : undefined;
    if (old && !proof && checkpoint.size > old.size) {
      proof = await this.#askProof(party, old, checkpoint);
      if (!proof) return;
    }
    if (
      old &&
      proof &&
      checkpoint.size > old.size &&
      !checkTree(proof, checkpoint.size, checkpoint.root, old.size, old.root)
    )
      proof = await this.#recheck(party, old, checkpoint, proof);
    this.#unproven.delete(party);
    await this.#offer(party, heartbeat.checkpoint, checkpoint, old, proof ?? []);
  }

  /**
   * The consistency proof from the accepted checkpoint to a larger one the peer's heartbeat
   * carried without it, fetched from the peer. A peer that answers without a proof (an error, a
   * malformed answer) raises `bad-proof` at once: it signed a checkpoint it cannot show extends
   * the one we witnessed. An unreachable one is asked again at its next heartbeats, and raises
   * `bad-proof` after UNPROVEN_HEARTBEATS in a row. Either clears itself once a later proof verifies.
   */
  async #askProof(
    party: string,
    old: Accepted,
    checkpoint: Checkpoint,
  ): Promise<Uint8Array[] | undefined> {
    try {
      // The fetched proof is unsigned and came over the network: one that does not verify is
      // fetched again, directly, before it may count as evidence of a fork (a corrupted answer is
      // not a fork; a forked log fails every time).
      let proof: Uint8Array[] = [];
      for (let attempt = 0; attempt < PROOF_ATTEMPTS; attempt++) {
        proof = await this.#fetchProof(party, old.size, checkpoint.size, attempt === 0);
        if (checkTree(proof, checkpoint.size, checkpoint.root, old.size, old.root)) break;
      }
      return proof;
    } catch (e) {
      const reason = (e as Error).message;
      const times = (this.#unproven.get(party) ?? 0) + 1;
      this.#unproven.set(party, times);
      if (e instanceof PeerAnswer || times >= UNPROVEN_HEARTBEATS) {
        await this.#parts.alarms.raise(
          'bad-proof',
          party,
          `"${party}" signed a checkpoint of size ${checkpoint.size} (root ${short(checkpoint.root)}) ` +
            `and does not prove it extends its checkpoint of size ${old.size} (root ${short(old.root)}) ` +
            `witnessed at ${old.at}${e instanceof PeerAnswer ? '' : ` (${times} heartbeats in a row)`}: ${reason}`,
          { cause: UNFETCHED },
        );
      } else
        this.#parts.logger.warn(
          { peer: party, from: old.size, to: checkpoint.size, reason },
          'no consistency proof for a heartbeat',
        );
      return undefined;
    }
  }

  /**
   * A heartbeat's own proof that does not verify: a forked log, or a sender that paired a proof
   * with another checkpoint than the one it carries. The peer's log decides, asked directly (a
   * forked log fails every time); unreachable, the signed heartbeat's proof stands as evidence.
   */
  async #recheck(
    party: string,
    old: Accepted,
    checkpoint: Checkpoint,
    offered: Uint8Array[],
  ): Promise<Uint8Array[]> {
    try {
      const proof = await this.#fetchProof(party, old.size, checkpoint.size, false);
      if (checkTree(proof, checkpoint.size, checkpoint.root, old.size, old.root))
        this.#parts.logger.warn(
          { peer: party, from: old.size, to: checkpoint.size },
          'a heartbeat carried a consistency proof that does not verify; the one fetched does',
        );
      return proof;
    } catch {
      return offered;
    }
  }

  /**
   * A heartbeat's signed checkpoint smaller than the accepted one: stale (heartbeats reordered on
   * different paths) only if the accepted tree contains it. The proof is fetched from the peer; one
   * that fails (fetched again directly), or a peer whose log no longer reaches the size it signed
   * before (restored from an old backup), is a fork. An unreachable peer is asked at its next one.
   */
  async #checkSmaller(party: string, old: Accepted, checkpoint: Checkpoint): Promise<boolean> {
    let proof: Uint8Array[] = [];
    try {
      for (let attempt = 0; attempt < PROOF_ATTEMPTS; attempt++) {
        proof = await this.#fetchProof(party, checkpoint.size, old.size, attempt === 0);
        if (checkTree(proof, old.size, old.root, checkpoint.size, checkpoint.root)) return true;
      }
    } catch (e) {
      if (!(await this.#noLongerHolds(party, e, checkpoint.size, old.size))) {
        this.#parts.logger.warn(
          { peer: party, from: checkpoint.size, to: old.size, reason: (e as Error).message },
          'no consistency proof for a smaller checkpoint',
        );
        return false;
      }
      await this.#fork(party, old, checkpoint, 'is smaller than, and its log no longer holds,');
      return true;
    }
    await this.#fork(party, old, checkpoint, 'is not contained in');
    return true;
  }

  /**
   * Whether a `fork` alarm about `party` is open — its log is not what this node witnessed, so no
   * receipt of it can be verified until a person has dealt with it — or a `rolled-back` one: our
   * own log is behind what `party` witnessed, and what we send it would reuse seqs it holds.
   */
  async forked(party: string): Promise<boolean> {
    const { store } = this.#parts;
    return (await store.hasOpenAlarm('fork', party)) || store.hasOpenAlarm(ROLLED_BACK, party);
  }

  /**
   * add-checkpoint, under the peer's lock: `old` is the accepted checkpoint, if any. With
   * `record` (a receipt's), the receipt is recorded unless the outcome is a fork or unproven.
   */
  async #offer(
    party: string,
    note: string,
    checkpoint: Checkpoint,
    old: Accepted | null,
    proof: Uint8Array[] | undefined,
    record?: ReceiptRecorder,
  ): Promise<Outcome> {
    if (!old) {
      await this.#accept(party, note, checkpoint, record);
      return 'accepted';
    }
    if (checkpoint.size <= old.size) {
      if (checkpoint.size === old.size && !equalBytes(checkpoint.root, old.root)) {
        await this.#fork(party, old, checkpoint, 'differs from');
        return 'fork';
      }
      await record?.(async () => {});
      return checkpoint.size < old.size ? 'stale' : 'known';
    }
    if (!proof) return 'unproven';
    // A log grows under one origin; a new one is taken only with a discontinuity statement
    // (`restart`). A smaller checkpoint of an earlier origin is a prefix like any other.
    if (checkpoint.origin !== old.origin) {
      await this.#fork(
        party,
        old,
        checkpoint,
        `is of another origin ("${checkpoint.origin}") than`,
      );
      return 'fork';
    }
    if (!checkTree(proof, checkpoint.size, checkpoint.root, old.size, old.root)) {
      await this.#fork(party, old, checkpoint, 'does not extend');
      return 'fork';
    }
    await this.#accept(party, note, checkpoint, record);
    return 'accepted';
  }

  /**
   * Co-signs the checkpoint with our witness key and stores both in one statement — inside the
   * receipt's transaction when `record` is given, so the commit that records the receipt also
   * makes the witness state durable. It takes effect here only once committed.
   */
  async #accept(
    party: string,
    note: string,
    checkpoint: Checkpoint,
    record?: ReceiptRecorder,
  ): Promise<void> {
    const line = formatSignatureLine(cosignCheckpoint(checkpoint, this.#signer()));
    const at = new Date().toISOString();
    const { size, root } = checkpoint;
    const row = { party, size, root: toHex(root), note, cosignature: line, at };
    if (record) await record((tx) => this.#parts.store.putWitnessed(row, tx));
    else await this.#parts.store.putWitnessed(row);
    this.#accepted.set(party, { origin: checkpoint.origin, size, root, note, line, at });
    // A proof that could not be fetched was a fault of the link, not evidence: it is over.
    await this.#parts.alarms.resolve(
      'bad-proof',
      party,
      UNFETCHED,
      `checkpoint of size ${size} proven and witnessed`,
    );
  }

  async #fork(party: string, old: Accepted, checkpoint: Checkpoint, relation: string) {
    await this.#parts.alarms.raise(
      'fork',
      party,
      `"${party}" signed a checkpoint of size ${checkpoint.size} (root ${short(checkpoint.root)}) ` +
        `that ${relation} its checkpoint of size ${old.size} (root ${short(old.root)}) ` +
        `witnessed at ${old.at}: its log was forked or rewritten`,
    );
  }

  /** Verifies the peer's co-signature of our checkpoint of `size` and keeps it. */
  async #takeCosignature(party: string, { size, line }: { size: number; line: string }) {
    const latest = await this.#cosignedOf(party);
    if (latest?.line === line) return;
    const note = await this.#parts.store.checkpointOfSize(size);
    if (!note && size > this.#parts.ledger.size) {
      // The peer witnessed more of our log than we hold: our records were rolled back.
      await this.#parts.alarms.raise(
        ROLLED_BACK,
        party,
        `"${party}" co-signed our checkpoint of size ${size}, but this node's log has ` +
          `${this.#parts.ledger.size} leaves: its records were rolled back (a backup put in ` +
          'place by hand?). Stop the node and run `hotline restore`, so it starts a new log ' +
          'origin and recovers from its peers (docs/operators.md § Restore from a backup)',
        { cause: ROLLED_BACK },
      );
      return;
    }
    if (!note) {
      await this.#parts.alarms.raise(
        'bad-cosignature',
        party,
        `"${party}" sent a co-signature of a checkpoint of size ${size}, which this node never signed`,
      );
      return;
    }
    const time = this.#verifyCosignature(party, note, line);
    if (time === undefined) {
      await this.#parts.alarms.raise(
        'bad-cosignature',
        party,
        `"${party}" sent a co-signature of our checkpoint of size ${size} that does not verify with its witness key`,
      );
      return;
    }
    const row = { party, size, line, time, at: new Date().toISOString() };
    await this.#parts.store.addCosignature(row);
    if (!latest || size > latest.size) this.#cosigned.set(party, row);
  }

  /** The time a co-signature line claims, if it is the peer's valid co-signature of `note`. */
  #verifyCosignature(party: string, note: string, line: string): number | undefined {
    try {
      // Exactly one signature line, as the note format writes it.
      if (line.indexOf('\n') !== line.length - 1) return undefined;
      const { text } = parseNote(utf8(note));
      const [signature, ...more] = parseNote(utf8(`${text}\n${line}`)).signatures;
      if (!signature || more.length) return undefined;
      const checkpoint = parseCheckpoint(text);
      if (!verifyCosignature(checkpoint, signature, this.#witnessKey(party))) return undefined;
      return cosignatureTimestamp(signature);
    } catch {
      return undefined;
    }
  }

  /** Raises a durable alarm, once while an alarm of that type about the peer is open. */
  async #proof(party: string, from: number, to: number): Promise<string[]> {
    const last = this.#sentProof.get(party);
    if (last?.from === from && last.to === to) return last.proof;
    const proof = await this.#parts.ledger.proveConsistency(from, to);
    this.#sentProof.set(party, { from, to, proof });
    return proof;
  }

  /** The checkpoint of `party`'s log this node accepted last, if any. */
  async accepted(
    party: string,
  ): Promise<{ origin: string; size: number; root: Uint8Array; at: string } | undefined> {
    return (await this.#acceptedOf(party)) ?? undefined;
  }

  /**
   * Takes the first checkpoint of a new origin of `party`'s log, whose discontinuity statement the
   * caller verified against what this node witnessed (node/record/recovery.ts): co-signs it, and
   * stores it through `record` with what the caller records beside it. Answers the co-signature.
   */
  restart(
    party: string,
    note: string,
    checkpoint: Checkpoint,
    record: ReceiptRecorder,
  ): Promise<string> {
    return this.#lock(party).run(async () => {
      await this.#accept(party, note, checkpoint, record);
      this.#offeredProofs.delete(party);
      this.#unproven.delete(party);
      this.#smaller.delete(party);
      return (this.#accepted.get(party) as Accepted).line;
    });
  }

  /** Verifies and keeps the peer's co-signature of our checkpoint of `size` (as a heartbeat's). */
  takeCosignature(party: string, size: number, line: string): Promise<void> {
    return this.#lock(party).run(() => this.#takeCosignature(party, { size, line }));
  }

  /** The size of `party`'s log whose checkpoint this node accepted, if any: what it has witnessed. */
  async witnessedSize(party: string): Promise<number | undefined> {
    return (await this.#acceptedOf(party))?.size;
  }

  /**
   * Keeps consistency proofs a peer sent beside its receipts — in its answer to a batch we named
   * our witnessed size in (outbox.ts), or through a relay (relays.ts) — so a receipt is checked
   * without asking the peer again, or while no direct path answers. They are as untrusted as any
   * proof: each is checked against the two signed checkpoints, and one that fails is fetched
   * again directly.
   */
  offerProofs(party: string, proofs: ReadonlyArray<{ from: number; to: number; proof: string[] }>) {
    const cache = this.#offeredProofs.get(party) ?? new Map<string, Uint8Array[]>();
    for (const p of proofs) cache.set(`${p.from}-${p.to}`, p.proof.map(fromHex));
    for (const key of [...cache.keys()].slice(0, Math.max(0, cache.size - 64))) cache.delete(key);
    this.#offeredProofs.set(party, cache);
  }

  /** GET /federation/v1/proof/consistency on the peer's direct paths, best first. */
  async #fetchProof(
    party: string,
    from: number,
    to: number,
    relayed = true,
  ): Promise<Uint8Array[]> {
    const cached = this.#offeredProofs.get(party)?.get(`${from}-${to}`);
    if (cached && relayed) return cached;
    const direct = this.#parts.paths.order(party).filter((p) => p.kind === 'direct');
    if (!direct.length) throw new Error('no direct path to the peer');
    const errors: string[] = [];
    const codes: string[] = [];
    const stated: number[] = [];
    let answered = false;
    const { failoverMs, sendTimeoutMs } = this.#parts.config.outbox;
    for (const [i, path] of direct.entries()) {
      try {
        // Every path but the last gets the failover time, as delivery does.
        const timeout = i < direct.length - 1 ? failoverMs : sendTimeoutMs;
        return await this.#fetchProofAt(
          this.#parts.paths.connection(party, path),
          from,
          to,
          timeout,
        );
      } catch (e) {
        errors.push((e as Error).message);
        if (e instanceof TransportError && e.answered && e.code) {
          codes.push(e.code);
          const size = e.error?.size;
          if (e.code === 'E_NOT_FOUND' && Number.isSafeInteger(size) && (size as number) >= 0)
            stated.push(size as number);
        }
        answered ||= e instanceof PeerAnswer || (e instanceof TransportError && e.answered);
      }
    }
    throw answered
      ? new PeerAnswer(errors.join('; '), codes, stated)
      : new Error(errors.join('; '));
  }

  /**
   * Whether `e`, a failed fetch of the proof from `from` to `to` (a size the peer signed), shows
   * the peer's log no longer reaches `to`, asked twice (`shrunk`). The second ask goes to the peer
   * again: a fork is alarmed on what it says of its own log, never on one answer garbled on the
   * way.
   */
  async #noLongerHolds(party: string, e: unknown, from: number, to: number): Promise<boolean> {
    if (!shrunk(e, to)) return false;
    try {
      await this.#fetchProof(party, from, to, false);
      return false;
    } catch (again) {
      return shrunk(again, to);
    }
  }

  async #fetchProofAt(
    base: { url: string; tls: TlsClient | undefined },
    from: number,
    to: number,
    timeoutMs: number,
  ): Promise<Uint8Array[]> {
    const url = `${base.url}/federation/v1/proof/consistency?from=${from}&to=${to}`;
    const answer = await getJson(url, timeoutMs, {}, base.tls);
    const error = schemaError(ConsistencyProof, answer);
    if (error) throw new PeerAnswer(`${url}: the answer ${error}`);
    return (answer as ConsistencyProof).proof.map(fromHex);
  }

  #lock(party: string): Lock {
    let lock = this.#locks.get(party);
    if (!lock) {
      lock = new Lock();
      this.#locks.set(party, lock);
    }
    return lock;
  }

  #signer(): NoteSigner {
    if (!this.#cosigner) {
      const { entry, key } = this.#parts.keys.signer('witness');
      this.#cosigner = cosignatureKeySigner(entry.name ?? '', fromBase64url(entry.pub), key, () =>
        Math.floor(Date.now() / 1000),
      );
    }
    return this.#cosigner;
  }

  #witnessKey(party: string): NoteVerifier {
    const card = this.#parts.peers.pinned(party).card;
    const pub = card.keys.find((k) => k.purpose === 'witness')?.pub ?? '';
    let cached = this.#verifiers.get(party);
    if (cached?.pub !== pub) {
      cached = { pub, verifier: witnessVerifier(card) };
      this.#verifiers.set(party, cached);
    }
    return cached.verifier;
  }

  async #acceptedOf(party: string): Promise<Accepted | null> {
    let accepted = this.#accepted.get(party);
    if (accepted === undefined) {
      const row = await this.#parts.store.witnessed(party);
      accepted = row
        ? {
            origin: parseCheckpoint(parseNote(utf8(row.note)).text).origin,
            size: row.size,
            root: fromHex(row.root),
            note: row.note,
            line: row.cosignature,
            at: row.at,
          }
        : null;
      // A concurrent load may have filled it; keep the first so identity comparisons hold.
      accepted = this.#accepted.get(party) ?? accepted;
      this.#accepted.set(party, accepted);
    }
    return accepted;
  }

  async #cosignedOf(party: string): Promise<CosignatureRow | null> {
    let cosigned = this.#cosigned.get(party);
    if (cosigned === undefined) {
      cosigned = (await this.#parts.store.latestCosignature(party)) ?? null;
      cosigned = this.#cosigned.get(party) ?? cosigned;
      this.#cosigned.set(party, cosigned);
    }
    return cosigned;
  }
}

/**
 * The alarm (type and cause) raised when a peer co-signed more of our log than we hold: this
 * node's records were rolled back without `hotline restore`. Recovery resolves it.
 */
export const ROLLED_BACK = 'rolled-back';

/** Heartbeats in a row with an unproven larger checkpoint, the peer unreachable, before `bad-proof`. */
const UNPROVEN_HEARTBEATS = 3;

/** The peer answered a proof request, but not with a proof: an answer, not a network failure. */
/** Fetches of a consistency proof that fails to verify, before it counts as a fork. */
const PROOF_ATTEMPTS = 3;

class PeerAnswer extends Error {
  /** The error codes the peer answered with (`E_NOT_FOUND`: its log is smaller than asked). */
  readonly codes: readonly string[];
  /** The sizes of its log the peer stated in its `E_NOT_FOUND` answers (`error.size`). */
  readonly stated: readonly number[];
  constructor(message: string, codes: readonly string[] = [], stated: readonly number[] = []) {
    super(message);
    this.codes = codes;
    this.stated = stated;
  }
}

/**
 * Whether a failed proof fetch shows the peer's log is now smaller than `size`, a checkpoint of
 * which it signed: every path that answered said the size is past its log (`E_NOT_FOUND`) and
 * stated a smaller one. A log only grows, so the log was rewound (restored from an old backup) or
 * rewritten — a fork. A 404 that states no size (another route's, a request garbled on the way,
 * a peer from before `error.size`) shows nothing, nor does a stated size that reaches `size`.
 */
function shrunk(e: unknown, size: number): boolean {
  return (
    e instanceof PeerAnswer &&
    e.codes.length > 0 &&
    e.stated.length === e.codes.length &&
    e.stated.every((n) => n < size)
  );
}

/**
 * The cause of a `bad-proof` alarm raised because no proof could be had (the peer unreachable, or
 * answering an error): a link fault, cleared by the node once a later proof verifies. A proof that
 * fails verification is a `fork`, which stays until a person clears it.
 */
const UNFETCHED = 'unfetched';

function short(root: Uint8Array): string {
  return toHex(root).slice(0, 16);
}
