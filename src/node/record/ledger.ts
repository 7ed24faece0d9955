/**
 * The node's own Merkle log on top of the store. The Merkle arithmetic is ledger/merkle.ts; this
 * file supplies it with hashes, signs checkpoints with the log key, proves inclusion, and owns the
 * one way anything is written beside the log: `commit`, a unit of work that holds the write lock,
 * runs one store transaction, and advances the tree only once that transaction is durable (compare
 * tessera's appender, whose future resolves only after the durable commit).
 */

import type { NodeKeys } from '../../crypto/keys.ts';
import { type Checkpoint, signCheckpoint } from '../../ledger/checkpoint.ts';
import {
  type HashReader,
  proveRecord,
  proveTree,
  storedHashIndex,
  TreeEdge,
} from '../../ledger/merkle.ts';
import { ed25519KeyNoteSigner, type NoteSigner } from '../../ledger/note.ts';
import { fromBase64url, fromUtf8, toHex, utf8 } from '../../protocol/encoding.ts';
import { jcs } from '../../protocol/jcs.ts';
import type { Leaf } from '../../protocol/leaf.ts';
import type { Executor, Store, TransactionOptions } from '../../store/store.ts';
import { Lock } from '../core/lock.ts';

/** The note signer of the node's checkpoints: its log key, in a file or on a token. */
export function logNoteSigner(keys: NodeKeys): NoteSigner {
  const { entry, key } = keys.signer('log');
  return ed25519KeyNoteSigner(entry.name ?? '', fromBase64url(entry.pub), key);
}

/** The meta key of the log's origin, once a restore has started a new one. */
export const LOG_ORIGIN = 'log_origin';
/** The meta key of the index of the discontinuity statement that started the current origin. */
const ORIGIN_START = 'log_origin_start';

/** Hashes of the last appends, which the next appends read (the tree's right edge). */
const CACHE_LIMIT = 8192;

/** A signed checkpoint of the log, as stored. */
export interface SignedCheckpoint {
  size: number;
  note: string;
  checkpoint: Checkpoint;
}

/**
 * The log inside one unit of work: what is appended here is readable (proofs, checkpoints) in the
 * same transaction, and part of the committed tree once the transaction is durable.
 */
export interface LedgerWriter {
  /** The tree size with this unit's appends so far. */
  readonly size: number;
  /** Appends leaves; answers the index of the first. */
  append(leaves: readonly Leaf[]): Promise<number>;
  /** A signed checkpoint of the tree as it stands in this unit, stored with it. */
  checkpoint(): Promise<SignedCheckpoint>;
  /** RFC 9162 inclusion proof of leaf `index` in the tree of `size`, as hex. */
  prove(index: number, size: number): Promise<string[]>;
  /** Runs `then` once the unit has committed (never if it rolls back). */
  afterCommit(then: () => void): void;
}

/** A unit of work: one transaction on the store and the log, under the write lock. */
export type Work<T> = (tx: Executor, ledger: LedgerWriter) => Promise<T>;

/**
 * Runs first in every unit of work's transaction, before the log is read (replicas: the turn
 * among them and the fencing check, src/node/core/leadership.ts); throwing refuses the unit.
 */
export type Guard = (tx: Executor) => Promise<void>;

/** Runs units of work while the write lock is already held (see `Ledger.exclusive`). */
export type Committer = <T>(work: Work<T>) => Promise<T>;

interface Pending {
  start: number;
  count: number;
  /** The stored hashes these appends wrote, by index: proofs in the same transaction read them. */
  hashes: Map<number, Uint8Array>;
  /** The tree's right edge after these appends. */
  edge: TreeEdge;
}

/**
 * @example
 *   const ledger = await Ledger.open(store, signer);
 *   const index = await ledger.commit(async (tx, log) => {
 *     await store.raiseAlarm('fork', 'cn', 'two roots for one size', tx);
 *     return log.append([eventLeaf('fork', at, { party: 'cn' })]);
 *   }); // resolves once the alarm and its leaf are durable, together
 */
export class Ledger {
  readonly #store: Store;
  readonly #signer: NoteSigner;
  readonly #guard: Guard | undefined;
  readonly #cache = new Map<number, Uint8Array>();
  /** Every unit of work holds this lock, so appends never interleave. */
  readonly #lock = new Lock();
  /** The committed tree's right edge: appends and checkpoints need nothing else. */
  #edge: TreeEdge;
  #origin: string;
  #originStart: number | undefined;
  /** The new origin while `discontinue` signs its first checkpoint, before it is committed. */
  #starting: string | undefined;
  #commits = 0;

  private constructor(
    store: Store,
    signer: NoteSigner,
    edge: TreeEdge,
    origin: { line: string; start: number | undefined },
    guard?: Guard,
  ) {
    this.#store = store;
    this.#signer = signer;
    this.#edge = edge;
    this.#origin = origin.line;
    this.#originStart = origin.start;
    this.#guard = guard;
  }

  /**
   * Opens the stored log: one read of its right edge, never a rebuild. With a `guard` (replicas
   * sharing one store), other processes append too: each unit of work, once the guard has given
   * it its turn, reads the stored size and reloads the edge when another appended meanwhile.
   */
  static async open(store: Store, signer: NoteSigner, guard?: Guard): Promise<Ledger> {
    return store.transaction(async (tx) => {
      const start = await store.getMeta(ORIGIN_START, tx);
      return new Ledger(
        store,
        signer,
        await TreeEdge.load(await store.ledgerSize(tx), {
          readHashes: (i) => store.readHashes(i, tx),
        }),
        {
          line: (await store.getMeta(LOG_ORIGIN, tx)) ?? signer.name,
          start: start === undefined ? undefined : Number(start),
        },
        guard,
      );
    });
  }

  /** The committed tree size. */
  get size(): number {
    return this.#edge.size;
  }

  /**
   * The origin line of the checkpoints signed now: the log key's name, until a restore from a
   * backup starts a new origin (`discontinue`).
   */
  get origin(): string {
    return this.#origin;
  }

  /** The index of the discontinuity statement the current origin starts with, if it is a new one. */
  get originStart(): number | undefined {
    return this.#originStart;
  }

  /**
   * Starts a new log origin after a restore from a backup (docs/ledger.md § Restore): in one unit
   * of work, the leaf `statement` makes of the restored tree's last checkpoint is appended, the
   * origin is stored, and the first checkpoint of the new origin is signed. The restored leaves
   * stay the new log's prefix, so every proof given from them still verifies.
   */
  discontinue(
    origin: string,
    statement: (last: SignedCheckpoint) => Leaf,
  ): Promise<{ last: SignedCheckpoint; first: SignedCheckpoint; index: number }> {
    if (origin === this.#origin || !origin || origin.includes('\n'))
      throw new Error(`"${origin}" cannot be the new origin of "${this.#origin}"`);
    return this.commit(async (tx, log) => {
      const last = await log.checkpoint();
      const index = await log.append([statement(last)]);
      await this.#store.setMeta(LOG_ORIGIN, origin, tx);
      await this.#store.setMeta(ORIGIN_START, String(index), tx);
      this.#starting = origin;
      try {
        const first = await log.checkpoint();
        log.afterCommit(() => {
          this.#origin = origin;
          this.#originStart = index;
        });
        return { last, first, index };
      } finally {
        this.#starting = undefined;
      }
    });
  }

  /**
   * Durable units of work committed since the ledger was opened, each one fsynced store
   * transaction (group-committed units ride a later one's fsync and are not counted).
   */
  get commits(): number {
    return this.#commits;
  }

  /**
   * Runs `work` in one store transaction under the write lock. What it appends joins the
   * committed tree, and its `afterCommit` callbacks run, only once the transaction is durable;
   * if it throws, nothing of it is kept.
   *
   * With `durable: false` the unit is group-committed: it returns once written, and is made
   * durable by the next durable commit (or `Store.sync`). Only for what a crash may lose because
   * it can be had again (the sender's record of a receipt: resending gets the same receipt). Such
   * a unit cannot sign a checkpoint: a checkpoint leaves the node, so it covers only durable
   * leaves (signing one is a durable commit, whose fsync covers the leaves before it).
   * `urgent` work (a flash) waits for the lock ahead of other work (`Lock`).
   */
  commit<T>(work: Work<T>, options: TransactionOptions = {}, urgent = false): Promise<T> {
    return this.#lock.run(() => this.#commit(work, options), urgent);
  }

  /**
   * Holds the write lock across several units of work and the reads between them — the
   * receiver's checks, whose answers must not change before what they allow is stored.
   * `urgent`: as for `commit`.
   */
  exclusive<T>(fn: (commit: Committer) => Promise<T>, urgent = false): Promise<T> {
    return this.#lock.run(() => fn((work) => this.#commit(work)), urgent);
  }

  async #commit<T>(work: Work<T>, options: TransactionOptions = {}): Promise<T> {
    let pending: Pending | undefined;
    const after: Array<() => void> = [];
    const lazy = options.durable === false;
    const result = await this.#store.transaction(async (tx) => {
      if (this.#guard) {
        await this.#guard(tx);
        await this.#catchUp(tx);
      }
      const size = () => (pending ? pending.start + pending.count : this.size);
      return work(tx, {
        get size() {
          return size();
        },
        append: async (leaves) => {
          const first = size();
          if (leaves.length) pending = await this.#append(leaves, tx, pending);
          return first;
        },
        checkpoint: () => {
          if (lazy) throw new Error('a checkpoint is signed only in a durable commit');
          return this.#checkpoint(tx, pending);
        },
        prove: async (index, size) =>
          (await proveRecord(size, index, this.#reader(tx, pending?.hashes))).map(toHex),
        afterCommit: (then) => {
          after.push(then);
        },
      });
    }, options);
    if (!lazy) this.#commits++;
    if (pending) this.#committed(pending);
    for (const then of after) then();
    return result;
  }

  /** Reloads the right edge when the stored log has grown under another process. */
  async #catchUp(q: Executor): Promise<void> {
    const stored = await this.#store.ledgerSize(q);
    if (stored <= this.#edge.size) return;
    const edge = await TreeEdge.load(stored, this.#reader(q));
    // A commit of this process may have moved the edge further while this one was read.
    if (edge.size > this.#edge.size) this.#edge = edge;
  }

  /**
   * Outside a unit of work: the committed size as stored now, the edge reloaded when another
   * process has appended (replicas); without a guard, this process is the only writer.
   */
  async refresh(q: Executor = this.#store.db): Promise<number> {
    if (this.#guard) await this.#catchUp(q);
    return this.size;
  }

  async #append(leaves: readonly Leaf[], q: Executor, pending?: Pending): Promise<Pending> {
    const state = pending ?? {
      start: this.size,
      count: 0,
      hashes: new Map<number, Uint8Array>(),
      edge: this.#edge.clone(),
    };
    const start = state.start + state.count;
    const firstHash = storedHashIndex(0, start);
    const texts: string[] = [];
    const hashes: Uint8Array[] = [];
    for (const leaf of leaves) {
      const text = jcs(leaf);
      for (const hash of state.edge.append(utf8(text))) {
        state.hashes.set(firstHash + hashes.length, hash);
        hashes.push(hash);
      }
      texts.push(text);
      state.count++;
    }
    await this.#store.appendLedger(start, texts, firstHash, hashes, q);
    return state;
  }

  async #checkpoint(q: Executor, pending?: Pending): Promise<SignedCheckpoint> {
    const edge = pending?.edge ?? this.#edge;
    const size = edge.size;
    const origin = this.#starting ?? this.#origin;
    const checkpoint: Checkpoint = { origin, size, root: edge.root(), extensions: [] };
    const note = fromUtf8(signCheckpoint(checkpoint, this.#signer));
    await this.#store.addCheckpoint(size, note, q);
    return { size, note, checkpoint };
  }

  /**
   * RFC 9162 consistency proof, as hex, that the tree of size `to` extends the tree of size
   * `from` (`from` ≤ `to` ≤ the committed size), read from committed hashes.
   */
  async proveConsistency(
    from: number,
    to: number,
    q: Executor = this.#store.db,
  ): Promise<string[]> {
    if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || from > to)
      throw new RangeError(`no consistency proof from size ${from} to ${to}`);
    if (to > this.size) await this.refresh(q);
    if (to > this.size) throw new RangeError(`the log has ${this.size} leaves, not ${to}`);
    const proof = await proveTree(to, from, this.#reader(q));
    return proof.map(toHex);
  }

  #reader(q: Executor, pending?: Map<number, Uint8Array>): HashReader {
    return {
      readHashes: async (indexes) => {
        const missing = indexes.filter((i) => !pending?.has(i) && !this.#cache.has(i));
        const fetched = missing.length ? await this.#store.readHashes(missing, q) : [];
        // What is in the table and not among this transaction's appends is committed: keep it.
        for (const [k, i] of missing.entries()) this.#cache.set(i, fetched[k] as Uint8Array);
        return indexes.map((i) => pending?.get(i) ?? (this.#cache.get(i) as Uint8Array));
      },
    };
  }

  #committed(pending: Pending): void {
    this.#edge = pending.edge;
    for (const [i, h] of pending.hashes) this.#cache.set(i, h);
    if (this.#cache.size > CACHE_LIMIT) {
      const drop = this.#cache.size - CACHE_LIMIT / 2;
      let k = 0;
      for (const i of this.#cache.keys()) {
        if (k++ >= drop) break;
        this.#cache.delete(i);
      }
    }
  }
}
