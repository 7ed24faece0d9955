/**
 * Epoch bookkeeping on both sides of a channel (docs/protocol.md § Sealing).
 *
 * The sender keeps one open epoch per (recipient, suite) and rotates it by count and age. The
 * receiver caches epoch secrets by (from, suite, epoch id, SHA-256(enc)), and only after a message
 * opened with the secret: a forged `enc` never occupies the cache, and a cached secret opens only
 * the epoch it was derived for, not a sealed part whose suite or id was rewritten on the way.
 */
import { randomBytes } from 'node:crypto';
import { sha256, toHex } from '../protocol/encoding.ts';
import { EPOCH_ID_BYTES, openSenderEpoch, type SenderEpoch, type SuiteName } from './seal.ts';

export interface EpochPolicy {
  /** Messages sealed under one epoch before a new one opens. */
  maxMessages: number;
  /** Age after which a new epoch opens. */
  maxAgeMs: number;
}

export const DEFAULT_EPOCH_POLICY: EpochPolicy = { maxMessages: 10_000, maxAgeMs: 3_600_000 };

interface OpenEpoch {
  epoch: SenderEpoch;
  recipientKey: string;
  openedAt: number;
  used: number;
}

export class SenderEpochs {
  readonly #open = new Map<string, OpenEpoch>();
  readonly #pending = new Map<string, Promise<OpenEpoch>>();
  readonly #from: string;
  readonly #policy: EpochPolicy;
  readonly #now: () => number;

  constructor(from: string, policy: EpochPolicy = DEFAULT_EPOCH_POLICY, now = Date.now) {
    this.#from = from;
    this.#policy = policy;
    this.#now = now;
  }

  /** The epoch to seal the next message to `to` with; opens a new one when due. */
  async next(to: string, suite: SuiteName, recipientPublicKey: Uint8Array): Promise<SenderEpoch> {
    const slot = `${to}\n${suite}`;
    const keyHex = toHex(recipientPublicKey);
    let open = this.#open.get(slot);
    if (!open || !this.#usable(open, keyHex)) {
      let pending = this.#pending.get(slot);
      if (!pending) {
        pending = openSenderEpoch(
          suite,
          recipientPublicKey,
          this.#from,
          to,
          new Uint8Array(randomBytes(EPOCH_ID_BYTES)),
        ).then((epoch) => ({ epoch, recipientKey: keyHex, openedAt: this.#now(), used: 0 }));
        this.#pending.set(slot, pending);
        pending.finally(() => this.#pending.delete(slot)).catch(() => {});
      }
      open = await pending;
      this.#open.set(slot, open);
    }
    open.used++;
    return open.epoch;
  }

  #usable(open: OpenEpoch, keyHex: string): boolean {
    return (
      open.recipientKey === keyHex &&
      open.used < this.#policy.maxMessages &&
      this.#now() - open.openedAt < this.#policy.maxAgeMs
    );
  }
}

/** What names an epoch in a sealed part: its suite, id and encapsulation. */
export interface EpochRef {
  readonly suite: SuiteName;
  readonly id: Uint8Array;
  readonly enc: Uint8Array;
}

/** Receiver's cache of epoch secrets, least recently used first out. */
export class EpochCache {
  readonly #secrets = new Map<string, Uint8Array>();
  readonly #capacity: number;

  constructor(capacity = 4096) {
    this.#capacity = capacity;
  }

  static key(from: string, epoch: EpochRef): string {
    return `${from}\n${epoch.suite}\n${toHex(epoch.id)}\n${toHex(sha256(epoch.enc))}`;
  }

  get(from: string, epoch: EpochRef): Uint8Array | undefined {
    const key = EpochCache.key(from, epoch);
    const secret = this.#secrets.get(key);
    if (secret) {
      this.#secrets.delete(key);
      this.#secrets.set(key, secret);
    }
    return secret;
  }

  /** Call only once a message has opened under `secret`. */
  remember(from: string, epoch: EpochRef, secret: Uint8Array): void {
    const key = EpochCache.key(from, epoch);
    this.#secrets.delete(key);
    this.#secrets.set(key, secret);
    if (this.#secrets.size > this.#capacity) {
      const oldest = this.#secrets.keys().next().value;
      if (oldest !== undefined) this.#secrets.delete(oldest);
    }
  }

  get size(): number {
    return this.#secrets.size;
  }
}
