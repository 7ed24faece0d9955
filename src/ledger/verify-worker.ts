/**
 * A thread of `VerifyThreads`: reads the lines of the bundle bytes it is sent and examines each
 * leaf record on its own (`examineLeafLine`); answers, in order, each line's examination or, for
 * any other line, the line itself.
 */
import { parentPort } from 'node:worker_threads';
import { bundleLines } from './bundle.ts';
import { type ExaminedLeaf, examineLeafLine, type LeafContext } from './examine.ts';

export interface LinesBatch {
  id: number;
  /** Whole lines of the bundle, UTF-8, each ending in a line end (the last may end the file). */
  bytes: Uint8Array;
  context: LeafContext;
}

export interface ExaminedBatch {
  id: number;
  /** Per line: a leaf record examined, or the line, for the reading thread to take itself. */
  lines: Array<ExaminedLeaf | string>;
}

parentPort?.on('message', ({ id, bytes, context }: LinesBatch) => {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  const lines = bundleLines(text).map((line) =>
    line.startsWith('{"type":"leaf"') ? (examineLeafLine(line, context) ?? line) : line,
  );
  const answer: ExaminedBatch = { id, lines };
  parentPort?.postMessage(answer);
});
