/**
 * Batches being answered, by the SHA-256 of their request body (docs/protocol.md § POST
 * /federation/v1/envelopes). A batch that arrives again while its first copy is still being
 * checked and stored — on the sender's failover path, or resent after a timeout — joins that work
 * instead of queueing behind the write lock a second time, and one answered lately gets the same
 * answer at once. Without this an overloaded receiver was sent every slow batch two or three
 * times, each copy checked in full, and throughput collapsed to a tenth of its peak (issue 19).
 *
 * Answered batches are kept `KEEP_MS` and at most `KEEP_ANSWERED` of them (an answer holds up to
 * 256 receipt entries with their proofs, a few hundred KiB); a batch whose work failed (a store
 * error) is forgotten at once, so a resend runs it again. A resent batch whose answer refused an
 * envelope is checked again rather than answered from memory: a refusal may not hold any more (a
 * key unknown until the sender's rotation arrived, a seq freed by a compromise rotation) — its
 * answer is kept only for the sender that asks for it by key (`get`).
 */
import type { BatchResult } from '../protocol/federation.ts';

/** How long an answered batch is remembered. */
export const KEEP_MS = 30_000;
/** Answered batches remembered at most. */
export const KEEP_ANSWERED = 32;

interface Entry {
  answer: Promise<BatchResult>;
  /** When it was answered (undefined: still in work). */
  answeredAt?: number;
  /** The answer refused some envelope: a copy sent again is checked again. */
  refused?: boolean;
}

export class BatchAnswers {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The answer of batch `key`: the work already under way or done lately, else `work()`. */
  answer(key: string, work: () => Promise<BatchResult>): Promise<BatchResult> {
    this.#forget();
    const known = this.#entries.get(key);
    if (known && !known.refused) return known.answer;
    const entry: Entry = {
      answer: work().then(
        (answer) => {
          entry.answeredAt = this.#now();
          entry.refused = answer.rejected.length > 0;
          return answer;
        },
        (e: unknown) => {
          this.#entries.delete(key);
          throw e;
        },
      ),
    };
    this.#entries.set(key, entry);
    return entry.answer;
  }

  /** The answer of a batch in work or answered lately; undefined when not known here. */
  get(key: string): Promise<BatchResult> | undefined {
    this.#forget();
    return this.#entries.get(key)?.answer;
  }

  /** Batches in work (not yet answered). */
  get inWork(): number {
    let n = 0;
    for (const e of this.#entries.values()) if (e.answeredAt === undefined) n++;
    return n;
  }

  #forget(): void {
    const answered = [...this.#entries].filter(([, e]) => e.answeredAt !== undefined);
    const cutoff = this.#now() - KEEP_MS;
    for (const [i, [key, e]] of answered.entries())
      if ((e.answeredAt as number) < cutoff || answered.length - i > KEEP_ANSWERED)
        this.#entries.delete(key);
  }
}

/**
 * The answer if it comes within `ms`, else undefined (the work goes on). Rejects as the work
 * does.
 */
export function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise<T | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}
