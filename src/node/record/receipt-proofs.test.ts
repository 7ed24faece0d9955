/**
 * The proofs an answer carries: from the size the sender names, and from the size of the receipt
 * we answered it last — what a sender with two batches in flight holds when it settles the
 * second — each verifying against the two checkpoints it relates.
 */
import { afterEach, describe, expect, test } from 'vitest';
import { openNode } from '../../../test/support/node.ts';
import type { Checkpoint } from '../../ledger/checkpoint.ts';
import { eventLeaf } from '../../ledger/leaves.ts';
import { checkTree } from '../../ledger/merkle.ts';
import { fromHex } from '../../protocol/encoding.ts';
import type { SignedReceipt } from '../../protocol/receipt.ts';

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

describe('consistency proofs beside an answer', () => {
  test('start at the size named and at the last size answered, and verify', async () => {
    const node = await openNode();
    close = node.close;
    /** Grows the log by `n` leaves; answers a checkpoint of it and a receipt naming it. */
    const grow = async (n: number) => {
      const leaves = Array.from({ length: n }, (_, i) =>
        eventLeaf('test', new Date().toISOString(), { i }),
      );
      const { checkpoint, note } = await node.ledger.commit(async (_tx, log) => {
        await log.append(leaves);
        return log.checkpoint();
      });
      const receipt = { receipt: { checkpoint: note } } as unknown as SignedReceipt;
      return { checkpoint, receipt };
    };
    const verifies = (
      proofs: Array<{ from: number; to: number; proof: string[] }>,
      old: Checkpoint,
      next: Checkpoint,
    ) => {
      const p = proofs.find((x) => x.from === old.size && x.to === next.size);
      return !!p && checkTree(p.proof.map(fromHex), next.size, next.root, old.size, old.root);
    };

    const witnessed = await grow(3);
    const first = await grow(4);
    // The sender names the size it witnessed: the proof from there to the receipt's checkpoint.
    const one = await node.receiptProofs.for('cn', [first.receipt], [witnessed.checkpoint.size], 4);
    expect(verifies(one, witnessed.checkpoint, first.checkpoint)).toBe(true);
    // A second batch sent before the first was settled names the same size; by the time it is
    // settled the sender holds the first receipt's checkpoint, and a proof from there came too.
    const second = await grow(5);
    const two = await node.receiptProofs.for(
      'cn',
      [second.receipt],
      [witnessed.checkpoint.size],
      4,
    );
    expect(verifies(two, witnessed.checkpoint, second.checkpoint)).toBe(true);
    expect(verifies(two, first.checkpoint, second.checkpoint)).toBe(true);
    // Never more than asked, and never beyond the log.
    const three = await grow(1);
    const capped = await node.receiptProofs.for('cn', [three.receipt], [10_000], 1);
    expect(capped).toHaveLength(1);
    expect(capped[0]?.to).toBeLessThanOrEqual(node.ledger.size);
  });
});
