/**
 * Ed25519 verification (RFC 8032 §5.1.7) on worker threads, for checking many signatures whose
 * answers can wait: a node checks the envelopes of each batch it receives before it takes its
 * write lock, and OpenSSL's verify (~170 µs on a slow core) is much of that time (the offline
 * verifier spreads whole leaves instead: ledger/verify-threads.ts). Checks are queued, sent to the threads in
 * batches packed into one transferred buffer, and each answer is handed to its callback (batches
 * may come back out of order when there are several threads).
 *
 * The worker is a short CommonJS script evaluated as is, so it runs the same under tsx, plain
 * Node and `bin/hotline.js` (which registers tsx in-process, where workers would not inherit it).
 *
 * @example
 * const pool = new Ed25519Pool(3);
 * pool.verify(publicKey, message, signature, (ok) => { if (!ok) report(); });
 * await pool.settle();
 * await pool.close();
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { PUBLIC_KEY_LENGTH, SIGNATURE_LENGTH } from './ed25519.ts';

/** Checks per message to a thread: enough to make the transfer cost nothing per check. */
const BATCH = 256;

// Record layout in a batch: u32 message length (little-endian), key, signature, message.
const WORKER = `
const { parentPort } = require('node:worker_threads');
const { createPublicKey, verify } = require('node:crypto');
const SPKI = Buffer.from('302a300506032b6570032100', 'hex');
const keys = new Map();
function keyOf(raw) {
  const id = raw.toString('hex');
  let key = keys.get(id);
  if (!key) {
    key = createPublicKey({ key: Buffer.concat([SPKI, raw]), format: 'der', type: 'spki' });
    if (keys.size >= 1024) keys.clear();
    keys.set(id, key);
  }
  return key;
}
parentPort.on('message', ({ id, buffer, count }) => {
  const bytes = Buffer.from(buffer);
  const view = new DataView(buffer);
  const results = new Uint8Array(count);
  for (let i = 0, at = 0; i < count; i++) {
    const length = view.getUint32(at, true);
    const key = bytes.subarray(at + 4, at + 36);
    const sig = bytes.subarray(at + 36, at + 100);
    const message = bytes.subarray(at + 100, at + 100 + length);
    at += 100 + length;
    try {
      results[i] = verify(null, message, keyOf(key), sig) ? 1 : 0;
    } catch {
      results[i] = 0;
    }
  }
  parentPort.postMessage({ id, results }, [results.buffer]);
});
`;

interface Check {
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
  done: (ok: boolean) => void;
}

/** Threads to use by default: every core but the one that reads and parses. */
export function defaultVerifyThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

export interface PoolOptions {
  /**
   * Threads that do not hold the process open (a node's pool: a check pending is always part of
   * a request that does); threads start on the first check, not before.
   */
  background?: boolean;
}

export class Ed25519Pool {
  readonly #threads: number;
  readonly #background: boolean;
  readonly #workers: Worker[] = [];
  readonly #idle: Worker[] = [];
  readonly #rejecters = new Set<(e: Error) => void>();
  /** Batches made, not yet sent (every thread busy). */
  readonly #queued: { id: number; checks: Check[] }[] = [];
  readonly #sent = new Map<number, Check[]>();
  #batch: Check[] = [];
  #nextId = 0;
  #pending = 0;
  #failure: Error | undefined;
  #waiters: { below: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(threads = defaultVerifyThreads(), options: PoolOptions = {}) {
    if (!Number.isInteger(threads) || threads < 1) throw new RangeError('threads must be ≥ 1');
    this.#threads = threads;
    this.#background = options.background ?? false;
    if (!this.#background) this.#start();
  }

  #start(): void {
    for (let i = 0; i < this.#threads; i++) {
      const worker = new Worker(WORKER, { eval: true });
      worker.on('message', ({ id, results }: { id: number; results: Uint8Array }) =>
        this.#answered(worker, id, results),
      );
      worker.on('error', (e) => this.#fail(e));
      if (this.#background) worker.unref();
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
  }

  /** Whether a thread failed: the pool answers nothing more (callers check in line instead). */
  get failed(): boolean {
    return this.#failure !== undefined;
  }

  /** Checks many at once; answers each one's result, in order, once all are checked. */
  verifyAll(
    checks: ReadonlyArray<{ publicKey: Uint8Array; message: Uint8Array; signature: Uint8Array }>,
  ): Promise<boolean[]> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      const results = new Array<boolean>(checks.length).fill(false);
      let left = checks.length;
      if (!left) return resolve(results);
      this.#rejecters.add(reject);
      for (const [i, c] of checks.entries())
        this.verify(c.publicKey, c.message, c.signature, (ok) => {
          results[i] = ok;
          if (--left) return;
          this.#rejecters.delete(reject);
          resolve(results);
        });
      this.#flush();
    });
  }

  /** Checks not yet answered. */
  get pending(): number {
    return this.#pending;
  }

  /**
   * Queues one check; `done` gets its answer later. A key or signature of the wrong length is
   * answered false at once.
   */
  verify(
    publicKey: Uint8Array,
    message: Uint8Array,
    signature: Uint8Array,
    done: (ok: boolean) => void,
  ): void {
    if (publicKey.length !== PUBLIC_KEY_LENGTH || signature.length !== SIGNATURE_LENGTH) {
      done(false);
      return;
    }
    this.#pending++;
    this.#batch.push({ publicKey, message, signature, done });
    if (this.#batch.length >= BATCH) this.#flush();
  }

  /** Resolves once fewer than `below` checks are unanswered (0: all answered). */
  settle(below = 1): Promise<void> {
    this.#flush();
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#pending < below) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ below, resolve, reject }));
  }

  /** Ends the threads; checks asked after this are refused (`failed`). */
  async close(): Promise<void> {
    this.#failure ??= new Error('the signature threads are closed');
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }

  #flush(): void {
    if (!this.#workers.length) this.#start();
    if (this.#batch.length) {
      this.#queued.push({ id: this.#nextId++, checks: this.#batch });
      this.#batch = [];
    }
    for (let worker = this.#idle.pop(); worker; worker = this.#idle.pop()) {
      const next = this.#queued.shift();
      if (!next) {
        this.#idle.push(worker);
        break;
      }
      this.#send(worker, next.id, next.checks);
    }
  }

  #send(worker: Worker, id: number, checks: Check[]): void {
    let size = 0;
    for (const c of checks) size += 100 + c.message.length;
    const buffer = new ArrayBuffer(size);
    const bytes = new Uint8Array(buffer);
    const view = new DataView(buffer);
    let at = 0;
    for (const c of checks) {
      view.setUint32(at, c.message.length, true);
      bytes.set(c.publicKey, at + 4);
      bytes.set(c.signature, at + 36);
      bytes.set(c.message, at + 100);
      at += 100 + c.message.length;
    }
    this.#sent.set(id, checks);
    worker.postMessage({ id, buffer, count: checks.length }, [buffer]);
  }

  #answered(worker: Worker, id: number, results: Uint8Array): void {
    const checks = this.#sent.get(id) ?? [];
    this.#sent.delete(id);
    this.#idle.push(worker);
    this.#flush();
    for (const [i, check] of checks.entries()) check.done(results[i] === 1);
    this.#pending -= checks.length;
    this.#waiters = this.#waiters.filter((w) => {
      if (this.#pending >= w.below) return true;
      w.resolve();
      return false;
    });
  }

  #fail(e: Error): void {
    this.#failure = e;
    for (const w of this.#waiters) w.reject(e);
    this.#waiters = [];
    for (const reject of this.#rejecters) reject(e);
    this.#rejecters.clear();
  }
}
