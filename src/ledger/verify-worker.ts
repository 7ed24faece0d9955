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
  /**
   * Per line: a leaf record examined, without its hash, or the line, for the reading thread to
   * take itself.
   */
  lines: Array<Omit<ExaminedLeaf, 'hash'> | string>;
  /** The examined leaves' hashes, 32 bytes each in their order: one buffer, moved, not copied. */
  hashes: Uint8Array;
  /** The batch's bytes, moved back for the reading thread to read into again. */
  bytes: Uint8Array;
}

parentPort?.on('message', ({ id, bytes, context }: LinesBatch) => {
  const examined = bundleLines(bytes).map((line) =>
    line.startsWith('{"type":"leaf"') ? (examineLeafLine(line, context) ?? line) : line,
  );
  // A buffer per hash would cost more to pass than the rest of a leaf's answer.
  const hashes = new Uint8Array(32 * examined.filter((e) => typeof e !== 'string').length);
  let at = 0;
  const lines = examined.map((e) => {
    if (typeof e === 'string') return e;
    const { hash, ...rest } = e;
    hashes.set(hash, at);
    at += 32;
    return rest;
  });
  const answer: ExaminedBatch = { id, lines, hashes, bytes };
  parentPort?.postMessage(answer, [hashes.buffer, bytes.buffer as ArrayBuffer]);
});
