/**
 * The work behind `hotline export` and `hotline verify`, loaded only when one of them runs: the
 * export recorded in the audit trail, and a bundle file checked with its leaves on worker threads.
 */
import { createReadStream, statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import {
  type BundleReport,
  type BundleResult,
  BundleVerifier,
  type CrossReport,
  describeFailure,
  type ExaminedLeaf,
  type Failure,
  type LeafContext,
} from '../ledger/verify.ts';
import { defaultBundleThreads, VerifyThreads } from '../ledger/verify-threads.ts';
import { readConfig } from '../node/core/config.ts';
import { openNodeStore } from '../node/core/data.ts';
import { dataFolderActor, openPeople } from '../node/people/people.ts';

/** Bundles at least this large report progress on stderr. */
const PROGRESS_BYTES = 4 << 20;
/** Leaf lines a thread examines per batch: enough to make passing them cost nothing per leaf. */
const BATCH = 256;
/** Batches in flight per thread: one being examined, the next one waiting for it. */
const IN_FLIGHT = 3;
/** Failures printed per section; --json lists up to the verifier's own limit. */
const PRINTED_FAILURES = 20;

/** An export goes to the audit trail (the running node anchors it within seconds). */
export async function recordExport(
  dataDir: string,
  detail: Record<string, unknown>,
): Promise<void> {
  const store = await openNodeStore(dataDir);
  try {
    await openPeople(store, readConfig(dataDir).access).trail.record({
      ...dataFolderActor(),
      action: 'export',
      detail,
    });
  } finally {
    await store.close();
  }
}

export interface VerifyFileOptions {
  /** Threads examining the leaves beside the reading one; 0 checks everything in line. */
  threads?: number;
  /** Progress on stderr for large bundles. */
  progress?: boolean;
}

/** A bundle line read, or a batch of leaf lines on a thread, in bundle order. */
type Pending =
  | { line: string }
  | { lines: string[]; examined: Promise<Array<ExaminedLeaf | undefined>> };

/**
 * Reads a bundle line by line into the verifier, with progress on stderr for large ones. Leaf
 * records, nearly all of a bundle and of its work, are examined on `threads` worker threads and
 * taken in order; the report is the same as with none.
 */
export async function verifyBundleFile(
  file: string,
  { threads = defaultBundleThreads(), progress = true }: VerifyFileOptions = {},
): Promise<BundleResult> {
  const size = statSync(file).size;
  const pool = threads > 0 ? new VerifyThreads(threads) : undefined;
  try {
    const verifier = new BundleVerifier();
    const queue: Pending[] = [];
    let batches = 0;
    let batch: string[] = [];
    let context: LeafContext | undefined;
    const dispatch = () => {
      if (!pool || !batch.length) return;
      // Fixed from the first leaf on (cards come before leaves): taken once every earlier line is in.
      context ??= verifier.leafContext();
      const examined = pool.examine(batch, context);
      // Awaited in turn; a thread's failure rejects them all, and the first one awaited throws.
      examined.catch(() => undefined);
      queue.push({ lines: batch, examined });
      batches++;
      batch = [];
    };
    /** Takes what is ready, in order, until at most `inFlight` batches are still out. */
    const take = async (inFlight: number) => {
      for (let head = queue[0]; head; head = queue[0]) {
        if ('line' in head) verifier.addLine(head.line);
        else {
          if (batches <= inFlight) return;
          const examined = await head.examined;
          batches--;
          for (const [i, leaf] of examined.entries())
            if (leaf) verifier.addExamined(leaf);
            else verifier.addLine(head.lines[i] as string);
        }
        queue.shift();
      }
    };
    const lines = createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    const step = size / 20;
    let read = 0;
    let next = step;
    let count = 0;
    for await (const line of lines) {
      if (!pool) verifier.addLine(line);
      else if (line.startsWith('{"type":"leaf"')) {
        batch.push(line);
        if (batch.length >= BATCH) {
          dispatch();
          await take(IN_FLIGHT * threads);
        }
      } else {
        dispatch();
        queue.push({ line });
        await take(IN_FLIGHT * threads);
      }
      count++;
      if (!progress || size < PROGRESS_BYTES) continue;
      read += Buffer.byteLength(line) + 1;
      if (read >= next) {
        process.stderr.write(
          `verify ${file}: ${Math.min(100, Math.round((read / size) * 100))}% (${count} records)\n`,
        );
        next += step;
      }
    }
    dispatch();
    await take(0);
    return verifier.finish();
  } finally {
    await pool?.close();
  }
}

export function formatReport(
  files: readonly string[],
  results: readonly BundleResult[],
  cross: CrossReport | undefined,
  ok: boolean,
): string {
  const failures = [...results.flatMap((r) => r.report.failures), ...(cross?.failures ?? [])];
  const count = results.reduce((n, r) => n + r.report.failureCount, 0) + (cross?.failureCount ?? 0);
  const first = failures[0];
  const what = files.length === 1 ? files[0] : `${files.join(' and ')}`;
  const lines = [
    ok
      ? `OK: ${what} verif${files.length === 1 ? 'ies' : 'y'}${cross ? ', and both views of the conversation match' : ''}`
      : `FAILED (${count} failure${count === 1 ? '' : 's'}): ${first ? describeFailure(first) : 'no comparison was possible'}`,
  ];
  for (const [i, r] of results.entries())
    lines.push('', ...bundleSection(files[i] as string, r.report));
  if (cross) lines.push('', ...crossSection(cross));
  return lines.join('\n');
}

function bundleSection(file: string, r: BundleReport): string[] {
  const c = r.counts;
  const lines = [
    `${file}: the ledger of "${r.party ?? '?'}", exported ${r.exportedAt ?? '?'}`,
    ...Object.entries(r.fingerprints).map(([party, f]) => `  fingerprint of "${party}": ${f}`),
    `  leaves        ${c.leaves}`,
    `  envelopes     ${c.envelopes.out} out, ${c.envelopes.in} in (header signatures)`,
    `  bodies        ${c.bodies} against their bodyHash, ${c.withheld} withheld`,
    `  receipts      ${c.receipts.out} out, ${c.receipts.in} in (signatures, checkpoints), ${c.proofs} inclusion proofs`,
    `  events        ${c.events}`,
    `  checkpoints   ${c.checkpoints} (log signature, root of the recomputed tree)`,
    `  co-signatures ${c.cosignatures}`,
    `  cards         ${c.cards}`,
  ];
  for (const d of r.discontinuities)
    lines.push(
      `  discontinuity at leaf ${d.index} (restored from a backup): origin "${d.previous.origin}" up to size ${d.previous.size}, then origin "${d.origin}"` +
        d.cosigned.map((c) => `; "${c.party}" had co-signed up to size ${c.size}`).join(''),
    );
  for (const d of r.peerDiscontinuities)
    lines.push(
      `  discontinuity of "${d.party}" accepted at leaf ${d.index}: origin "${d.previous.origin}" cut at size ${d.previous.size}` +
        (d.witnessed ? ` (witnessed up to ${d.witnessed.size})` : '') +
        `, new origin "${d.origin}"`,
    );
  return [...lines, ...failureLines(r.failures, r.failureCount)];
}

function crossSection(cross: CrossReport): string[] {
  const lines = [
    'Both views:',
    `  messages      ${cross.matched} logged alike by sender and recipient`,
    `  checkpoints   ${cross.checkpoints} of one log held by the other, roots compared`,
  ];
  for (const d of cross.discontinuities) lines.push(`  discontinuity: ${d}`);
  if (cross.lostWithRestore.length)
    lines.push(
      `  lost with a restore (${cross.lostWithRestore.length}, not failures): released after the backup, held by the recipient only`,
    );
  if (cross.checkpointsLostWithRestore)
    lines.push(
      `  checkpoints   ${cross.checkpointsLostWithRestore} of an old origin beyond a restore's cut, not compared`,
    );
  if (cross.notYetReceived.length) {
    lines.push(`  not yet received (${cross.notYetReceived.length}, not failures):`);
    for (const m of cross.notYetReceived.slice(0, PRINTED_FAILURES))
      lines.push(`    ${m.from} → ${m.to} seq ${m.seq} ${m.id}: ${m.reason}`);
  }
  return [...lines, ...failureLines(cross.failures, cross.failureCount)];
}

function failureLines(failures: readonly Failure[], count: number): string[] {
  if (!count) return ['  failures      none'];
  const lines = [`  failures      ${count}:`];
  for (const f of failures.slice(0, PRINTED_FAILURES)) lines.push(`    ${describeFailure(f)}`);
  if (count > PRINTED_FAILURES)
    lines.push(`    … and ${count - PRINTED_FAILURES} more (--json lists up to 100)`);
  return lines;
}
