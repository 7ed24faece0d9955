/**
 * The node's own Merkle log on top of the store: appends leaves inside the caller's transaction,
 * signs checkpoints with the log key, and proves inclusion. The Merkle arithmetic is
 * ledger/merkle.ts; this file only supplies it with hashes.
 *
 * Appends must not interleave: callers hold the node's write lock (see Node.write).
 */

import { type Checkpoint, signCheckpoint } from '../../ledger/checkpoint.ts';
import {
  type HashReader,
  proveRecord,
  proveTree,
  storedHashIndex,
  TreeEdge,
} from '../../ledger/merkle.ts';
import type { NoteSigner } from '../../ledger/note.ts';
import { fromUtf8, toHex, utf8 } from '../../protocol/encoding.ts';
import { jcs } from '../../protocol/jcs.ts';
import type { Leaf } from '../../protocol/leaf.ts';
import type { Executor, Store } from '../../store/store.ts';

/** Hashes of the last appends, which the next appends read (the tree's right edge). */
const CACHE_LIMIT = 8192;

export interface PendingAppend {
  start: number;
  count: number;
  /** The stored hashes these appends wrote, by index: proofs in the same transaction read them. */
  hashes: Map<number, Uint8Array>;
  /** The tree's right edge after these appends. */
  edge: TreeEdge;
}

export class Log {
  readonly #store: Store;
  readonly #signer: NoteSigner;
  readonly #cache = new Map<number, Uint8Array>();
  /** The committed tree's right edge: appends and checkpoints need nothing else. */
  #edge: TreeEdge;

  private constructor(store: Store, signer: NoteSigner, edge: TreeEdge) {
    this.#store = store;
    this.#signer = signer;
    this.#edge = edge;
  }

  /** Opens the stored log: one read of its right edge, never a rebuild. */
  static async open(store: Store, signer: NoteSigner): Promise<Log> {
    return store.transaction(
      async (tx) =>
        new Log(
          store,
          signer,
          await TreeEdge.load(await store.ledgerSize(tx), {
            readHashes: (i) => store.readHashes(i, tx),
          }),
        ),
    );
  }

  get #size(): number {
    return this.#edge.size;
  }

  get size(): number {
    return this.#size;
  }

  get origin(): string {
    return this.#signer.name;
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

  /**
   * Appends leaves in transaction `q`; returns their first index. Call `committed` once the
   * transaction has committed (or `abandoned` if it rolled back).
   */
  async append(
    leaves: readonly Leaf[],
    q: Executor,
    pending?: PendingAppend,
  ): Promise<PendingAppend> {
    const state = pending ?? {
      start: this.#size,
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

  /** The tree size after the pending appends, and a signed checkpoint of it, stored in `q`. */
  async checkpoint(
    q: Executor,
    pending?: PendingAppend,
  ): Promise<{ size: number; note: string; checkpoint: Checkpoint }> {
    const edge = pending?.edge ?? this.#edge;
    const size = edge.size;
    const checkpoint: Checkpoint = { origin: this.origin, size, root: edge.root(), extensions: [] };
    const note = fromUtf8(signCheckpoint(checkpoint, this.#signer));
    await this.#store.addCheckpoint(size, note, q);
    return { size, note, checkpoint };
  }

  /** RFC 9162 inclusion proof of leaf `index` in the tree of `size`, as hex. */
  async prove(
    index: number,
    size: number,
    q: Executor,
    pending?: PendingAppend,
  ): Promise<string[]> {
    const proof = await proveRecord(size, index, this.#reader(q, pending?.hashes));
    return proof.map(toHex);
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
    if (to > this.#size) throw new RangeError(`the log has ${this.#size} leaves, not ${to}`);
    const proof = await proveTree(to, from, this.#reader(q));
    return proof.map(toHex);
  }

  committed(pending: PendingAppend): void {
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
