/**
 * `hotline verify` with its leaves examined on worker threads: the report must be the one of
 * reading the bundle in line, whichever thread examined a leaf.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeSyntheticBundle } from '../../bench/ledger.ts';
import { describeFailure } from '../ledger/verify.ts';
import { verifyBundleFile } from './bundle-files.ts';

let dir: string;
let lines: string[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hotline-verify-threads-'));
  // Four rounds of 256 envelopes each way, 2,056 leaves in 3.7 MB: some fifteen stretches of the
  // file, spread over the threads.
  await writeSyntheticBundle(join(dir, 'us.jsonl'), 2000);
  lines = readFileSync(join(dir, 'us.jsonl'), 'utf8').split('\n');
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The bundle with leaf `index` changed; leaf records start at line 4 (header, two cards). */
function tampered(
  name: string,
  changes: Record<number, (record: Record<string, unknown>) => void>,
) {
  const copy = [...lines];
  for (const [index, change] of Object.entries(changes)) {
    const record = JSON.parse(copy[Number(index) + 3] as string);
    expect(record.index).toBe(Number(index));
    change(record);
    copy[Number(index) + 3] = JSON.stringify(record);
  }
  const file = join(dir, name);
  writeFileSync(file, copy.join('\n'));
  return file;
}

describe('hotline verify on threads', () => {
  test('an untouched bundle verifies on threads as in line', async () => {
    const file = join(dir, 'us.jsonl');
    const inline = await verifyBundleFile(file, { threads: 0, progress: false });
    const threaded = await verifyBundleFile(file, { threads: 2, progress: false });
    expect(inline.report.ok).toBe(true);
    expect(inline.report.counts.leaves).toBe(2056);
    expect(threaded.report).toEqual(inline.report);
  }, 120_000);

  test('a bundle with CRLF line ends reads as with LF, in line and on threads', async () => {
    const file = join(dir, 'crlf.jsonl');
    writeFileSync(file, lines.join('\r\n'));
    const lf = await verifyBundleFile(join(dir, 'us.jsonl'), { threads: 0, progress: false });
    for (const threads of [0, 2])
      expect((await verifyBundleFile(file, { threads, progress: false })).report).toEqual(
        lf.report,
      );
  }, 120_000);

  test('a line longer than a stretch read, and lone CR line ends, read as in line', async () => {
    // The file is read 256 KiB at a time: a body of 700 kB makes its leaf record span three reads.
    const long = tampered('long.jsonl', {
      700: (record) => {
        (record.body as { text: { body: string } }).text.body += ' —'.repeat(350_000);
      },
    });
    const cr = join(dir, 'cr.jsonl');
    writeFileSync(cr, readFileSync(long, 'utf8').split('\n').join('\r'));
    const inline = await verifyBundleFile(long, { threads: 0, progress: false });
    expect(inline.report.failures.map(describeFailure)).toEqual([
      expect.stringMatching(
        /^us: leaf 700 \(body\) \[out, id [0-9a-f-]+, line 704\]: the body does not match header.bodyHash$/,
      ),
    ]);
    for (const [file, threads] of [
      [long, 2],
      [cr, 0],
      [cr, 2],
    ] as const)
      expect((await verifyBundleFile(file, { threads, progress: false })).report).toEqual(
        inline.report,
      );
  }, 120_000);

  test('leaves tampered deep in the bundle are caught and named as in line', async () => {
    // Leaf 1300 is an `in` envelope of the third round, 1800 one of the fourth (each round: 256
    // out, their receipt, 256 in, our receipt). 1300 gets 1301's signature; 1800 another body.
    const other = JSON.parse(JSON.parse(lines[1301 + 3] as string).leaf).sig;
    const file = tampered('tampered.jsonl', {
      1300: (record) => {
        const leaf = JSON.parse(record.leaf as string);
        record.leaf = JSON.stringify({ ...leaf, sig: other });
      },
      1800: (record) => {
        (record.body as { text: { body: string } }).text.body += ' Altered.';
      },
    });
    const inline = await verifyBundleFile(file, { threads: 0, progress: false });
    const threaded = await verifyBundleFile(file, { threads: 2, progress: false });
    expect(threaded.report).toEqual(inline.report);
    const said = inline.report.failures.map(describeFailure);
    expect(said[0]).toMatch(
      /^us: leaf 1300 \(envelope\) \[in, id [0-9a-f-]+, line 1304\]: the header signature does not verify with "cn"'s key [0-9a-f]+$/,
    );
    expect(said).toContainEqual(
      expect.stringMatching(
        /^us: leaf 1800 \(body\) \[in, id [0-9a-f-]+, line 1804\]: the body does not match header.bodyHash$/,
      ),
    );
    // The altered leaf text changes the tree: the receipt and checkpoints after it fail too.
    expect(said).toContainEqual(expect.stringMatching(/^us: leaf 1541 \(receipt\)/));
  }, 120_000);
});
