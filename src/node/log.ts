/**
 * The node's own Merkle log on top of the store: appends leaves inside the caller's transaction,
 * signs checkpoints with the log key, and proves inclusion. The Merkle arithmetic is
 * ledger/merkle.ts; this file only supplies it with hashes.
 *
 * Appends must not interleave: callers hold the node's write lock (see Node.write).
 */

import { type Checkpoint, signCheckpoint } from '../ledger/checkpoint.ts';
import {
  type HashReader,
  proveRecord,
  proveTree,
  storedHashes,
  storedHashIndex,
  treeHash,
} from '../ledger/merkle.ts';
import type { NoteSigner } from '../ledger/note.ts';
import { fromUtf8, toHex, utf8 } from '../protocol/encoding.ts';
import { jcs } from '../protocol/jcs.ts';
import type { Leaf } from '../protocol/leaf.ts';
import type { Executor, Store } from '../store/store.ts';

/** Hashes of the last appends, which the next appends read (the tree's right edge). */
const CACHE_LIMIT = 8192;

export interface PendingAppend {
  start: number;
  count: number;
  hashes: Map<number, Uint8Array>;
}

export class Log {
  readonly #store: Store;
  readonly #signer: NoteSigner;
  readonly #cache = new Map<number, Uint8Array>();
  #size: number;

  private constructor(store: Store, signer: NoteSigner, size: number) {
    this.#store = store;
    this.#signer = signer;
    this.#size = size;
  }

  static async open(store: Store, signer: NoteSigner): Promise<Log> {
    return new Log(store, signer, await store.ledgerSize());
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
    const state = pending ?? { start: this.#size, count: 0, hashes: new Map<number, Uint8Array>() };
    const reader = this.#reader(q, state.hashes);
    const texts: string[] = [];
    const rows: { idx: number; hash: Uint8Array }[] = [];
    for (const leaf of leaves) {
      const text = jcs(leaf);
      const n = state.start + state.count;
      const hashes = await storedHashes(n, utf8(text), reader);
      const first = storedHashIndex(0, n);
      hashes.forEach((hash, k) => {
        state.hashes.set(first + k, hash);
        rows.push({ idx: first + k, hash });
      });
      texts.push(text);
      state.count++;
    }
    await this.#store.appendLedger(state.start + state.count - leaves.length, texts, rows, q);
    return state;
  }

  /** The tree size after the pending appends, and a signed checkpoint of it, stored in `q`. */
  async checkpoint(
    q: Executor,
    pending?: PendingAppend,
  ): Promise<{ size: number; note: string; checkpoint: Checkpoint }> {
    const size = pending ? pending.start + pending.count : this.#size;
    const root = await treeHash(size, this.#reader(q, pending?.hashes));
    const checkpoint: Checkpoint = { origin: this.origin, size, root, extensions: [] };
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
    this.#size = pending.start + pending.count;
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
