/**
 * Which seq numbers of a channel have arrived: the highest contiguous one and the ranges above
 * it, as a heartbeat reports them (docs/protocol.md § Heartbeat).
 */
export class SeqTracker {
  #contiguous = 0;
  readonly #above = new Set<number>();

  constructor(seqs: Iterable<number> = []) {
    for (const s of seqs) this.add(s);
  }

  add(seq: number): void {
    if (seq <= this.#contiguous) return;
    this.#above.add(seq);
    while (this.#above.delete(this.#contiguous + 1)) this.#contiguous++;
  }

  /** Forgets a seq (its message was disputed): the channel has a gap there again. */
  remove(seq: number): void {
    if (seq > this.#contiguous) {
      this.#above.delete(seq);
      return;
    }
    for (let s = seq + 1; s <= this.#contiguous; s++) this.#above.add(s);
    this.#contiguous = seq - 1;
  }

  has(seq: number): boolean {
    return seq <= this.#contiguous || this.#above.has(seq);
  }

  get contiguous(): number {
    return this.#contiguous;
  }

  /** Inclusive ranges above `contiguous`, ascending, at most `max` of them (lowest first). */
  ranges(max: number): [number, number][] {
    const sorted = [...this.#above].sort((a, b) => a - b);
    const out: [number, number][] = [];
    for (const s of sorted) {
      const last = out[out.length - 1];
      if (last && s === last[1] + 1) last[1] = s;
      else if (out.length < max) out.push([s, s]);
      else break;
    }
    return out;
  }

  /** Rebuilds from a peer's report, to ask "has the peer got seq n?". */
  static fromReport(
    contiguous: number,
    ranges: ReadonlyArray<readonly [number, number]>,
  ): SeqTracker {
    const tracker = new SeqTracker();
    tracker.#contiguous = contiguous;
    for (const [a, b] of ranges)
      for (let s = a; s <= b && s - a < 100_000; s++) tracker.#above.add(s);
    return tracker;
  }
}
