/**
 * A thread of `VerifyThreads`: examines the leaf lines of a bundle it is sent, each on its own
 * (`examineLeafLine`), and answers their examinations in the order given.
 */
import { parentPort } from 'node:worker_threads';
import { type ExaminedLeaf, examineLeafLine, type LeafContext } from './verify.ts';

export interface LeafBatch {
  id: number;
  lines: string[];
  context: LeafContext;
}

export interface ExaminedBatch {
  id: number;
  examined: Array<ExaminedLeaf | undefined>;
}

parentPort?.on('message', ({ id, lines, context }: LeafBatch) => {
  const answer: ExaminedBatch = { id, examined: lines.map((l) => examineLeafLine(l, context)) };
  parentPort?.postMessage(answer);
});
