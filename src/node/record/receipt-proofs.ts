/**
 * Consistency proofs of our log sent beside the receipts of a batch answer — in the answer to
 * POST /federation/v1/envelopes when the sender names the size it has witnessed, and beside an
 * answer left at a relay (docs/protocol.md § Federation API, § Relay API) — so the sender can
 * accept each receipt's checkpoint without asking again (GET /federation/v1/proof/consistency).
 *
 * The sender needs a proof between the checkpoint it holds of our log and each receipt's. We do
 * not know which that is when it settles (its pipelined batches and heartbeats move it), so the
 * proofs start from the sizes it may hold: those the caller names (the size it says it witnessed,
 * the size it last co-signed) and the sizes of the receipts we answered it lately.
 */
import type { ConsistencyProofs } from '../../protocol/federation.ts';
import type { SignedReceipt } from '../../protocol/receipt.ts';
import type { Ledger } from './ledger.ts';

/** Sizes of our log remembered per peer, as starting points of the proofs we send. */
const RECENT_SIZES = 8;
/** The most proofs beside one answer (the schema's limit). */
const MAX_PROOFS = 32;

/** The tree size of a signed checkpoint note of ours (its second line). */
function sizeOf(note: string): number {
  return Number(note.split('\n')[1]);
}

export class ReceiptProofs {
  readonly #ledger: Ledger;
  readonly #recent = new Map<string, number[]>();

  constructor(ledger: Ledger) {
    this.#ledger = ledger;
  }

  /**
   * The proofs for the receipts of an answer to `peer`, at most `max`: from `starts` first, then
   * from the sizes most recently answered to it. Remembers the receipts' sizes for the next answer.
   */
  async for(
    peer: string,
    receipts: readonly SignedReceipt[],
    starts: readonly number[],
    max = MAX_PROOFS,
  ): Promise<ConsistencyProofs> {
    const targets = [...new Set(receipts.map((r) => sizeOf(r.receipt.checkpoint)))].filter((s) =>
      Number.isSafeInteger(s),
    );
    const known = this.#recent.get(peer) ?? [];
    const from = new Set([...starts, ...[...known].reverse(), ...targets]);
    const proofs: ConsistencyProofs = [];
    const limit = Math.min(max, MAX_PROOFS);
    for (const to of targets)
      for (const start of from) {
        if (start === 0 || start === to || proofs.length >= limit) continue;
        const [a, b] = start < to ? [start, to] : [to, start];
        if (b > this.#ledger.size || proofs.some((p) => p.from === a && p.to === b)) continue;
        proofs.push({ from: a, to: b, proof: await this.#ledger.proveConsistency(a, b) });
      }
    const kept = known.filter((s) => !targets.includes(s));
    this.#recent.set(peer, [...kept, ...targets].slice(-RECENT_SIZES));
    return proofs;
  }
}
