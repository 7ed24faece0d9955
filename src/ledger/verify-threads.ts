/**
 * The offline verifier's leaves checked on worker threads (docs/ledger.md § Audit): each thread
 * takes a stretch of the bundle's bytes, reads its lines and examines every leaf on its own —
 * leaf hash, parse, schema, canonical form, envelope signature and body (`examineLeafLine`) —
 * while the reading thread keeps the tree and the tables, taking the examinations in bundle
 * order (`BundleVerifier.addExamined`), so the report is the one of reading the bundle in line.
 *
 * The threads run `verify-worker`: the compiled `.js` beside this module, or from the TypeScript
 * source (tests, bench) with tsx registered in the thread first.
 *
 * @example
 * const threads = new VerifyThreads(2);
 * const { lines } = await threads.examine(bytes, verifier.leafContext());
 * await threads.close();
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ExaminedLeaf, LeafContext } from './examine.ts';
import type { ExaminedBatch, LinesBatch } from './verify-worker.ts';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

// Evaluated as CommonJS: loads the worker module, registering tsx first when it is TypeScript.
const BOOT = `
const { workerData } = require('node:worker_threads');
(workerData.tsx ? import(workerData.tsx).then((tsx) => tsx.register()) : Promise.resolve())
  .then(() => import(workerData.module))
  .catch((e) => { setImmediate(() => { throw e; }); });
`;

/** Threads by default: one per core (the reading thread's own work is small beside theirs). */
export function defaultBundleThreads(): number {
  return availableParallelism();
}

/** A stretch's lines examined, and its bytes given back. */
export interface Examined {
  lines: Array<ExaminedLeaf | string>;
  bytes: Uint8Array;
}

export class VerifyThreads {
  readonly #workers: Worker[] = [];
  /** Batches sent to each worker and not answered. */
  readonly #load = new Map<Worker, number>();
  readonly #waiting = new Map<
    number,
    { resolve: (examined: Examined) => void; reject: (e: Error) => void }
  >();
  #nextId = 0;
  #failure: Error | undefined;

  constructor(threads = defaultBundleThreads()) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be ≥ 1');
    const module = new URL(`./verify-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url).href;
    const tsx = FROM_SOURCE ? import.meta.resolve('tsx/esm/api') : undefined;
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(BOOT, { eval: true, workerData: { module, tsx } });
      worker.on('message', ({ id, lines, hashes, bytes }: ExaminedBatch) => {
        this.#load.set(worker, (this.#load.get(worker) ?? 1) - 1);
        const waiting = this.#waiting.get(id);
        this.#waiting.delete(id);
        let at = 0;
        waiting?.resolve({
          lines: lines.map((line) => {
            if (typeof line === 'string') return line;
            at += 32;
            return { ...line, hash: hashes.subarray(at - 32, at) };
          }),
          bytes,
        });
      });
      worker.on('error', (e) => this.#fail(e));
      worker.on('exit', (code) => this.#fail(new Error(`a verify thread exited (${code})`)));
      this.#workers.push(worker);
      this.#load.set(worker, 0);
    }
  }

  /**
   * Reads the whole lines in `bytes` on the least busy thread (the buffer is moved there, not
   * copied) and answers, in order, each leaf record's examination or any other line as it is,
   * with the buffer moved back to be read into again.
   */
  examine(bytes: Uint8Array, context: LeafContext): Promise<Examined> {
    if (this.#failure) return Promise.reject(this.#failure);
    let worker = this.#workers[0] as Worker;
    for (const w of this.#workers)
      if ((this.#load.get(w) ?? 0) < (this.#load.get(worker) ?? 0)) worker = w;
    const id = this.#nextId++;
    const batch: LinesBatch = { id, bytes, context };
    this.#load.set(worker, (this.#load.get(worker) ?? 0) + 1);
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      worker.postMessage(batch, [bytes.buffer as ArrayBuffer]);
    });
  }

  /** Ends the threads; a batch still waiting is refused. */
  async close(): Promise<void> {
    this.#fail(new Error('the verify threads are closed'));
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #fail(e: Error): void {
    this.#failure ??= e;
    for (const { reject } of this.#waiting.values()) reject(this.#failure);
    this.#waiting.clear();
  }
}
