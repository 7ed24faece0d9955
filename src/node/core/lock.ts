/**
 * A mutual-exclusion lock for async work: one holder at a time, in arrival order — except that a
 * waiter marked `urgent` goes ahead of the others (a flash must not wait behind a flood of
 * routine batches at a receiver's write lock). So that the others are never starved by a stream
 * of urgent work, at most URGENT_RUN urgent holders in a row pass a waiting one.
 */
const URGENT_RUN = 4;

export class Lock {
  #held = false;
  #urgentRun = 0;
  readonly #urgent: Array<() => void> = [];
  readonly #waiting: Array<() => void> = [];

  async run<T>(fn: () => Promise<T>, urgent = false): Promise<T> {
    if (this.#held)
      await new Promise<void>((resolve) => (urgent ? this.#urgent : this.#waiting).push(resolve));
    else this.#held = true;
    try {
      return await fn();
    } finally {
      this.#handOver();
    }
  }

  /** Gives the lock to the next waiter, or frees it. */
  #handOver(): void {
    const urgentFirst =
      this.#urgent.length > 0 && (this.#urgentRun < URGENT_RUN || !this.#waiting.length);
    const next = urgentFirst
      ? this.#urgent.shift()
      : (this.#waiting.shift() ?? this.#urgent.shift());
    this.#urgentRun = urgentFirst ? this.#urgentRun + 1 : 0;
    if (next) next();
    else this.#held = false;
  }
}
