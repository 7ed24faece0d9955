/**
 * The work behind `hotline export` and `hotline verify`, loaded only when one of them runs: the
 * export recorded in the audit trail, and a bundle file checked with its leaves on worker threads.
 */
import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { bundleLines } from '../ledger/bundle.ts';
import type { ExaminedLeaf, LeafContext } from '../ledger/examine.ts';
import {
  type BundleReport,
  type BundleResult,
  BundleVerifier,
  type CrossReport,
  describeFailure,
  type Failure,
} from '../ledger/verify.ts';
import { defaultBundleThreads, type Examined, VerifyThreads } from '../ledger/verify-threads.ts';
import { readConfig } from '../node/core/config.ts';
import { openNodeStore } from '../node/core/data.ts';
import { dataFolderActor, openPeople } from '../node/people/people.ts';
import { CliError } from './client.ts';

/** Bundles at least this large report progress on stderr. */
const PROGRESS_BYTES = 4 << 20;
/** Bytes read at once, and sent to a thread: some 140 leaves of messages. */
const STRETCH = 256 << 10;
/** Stretches in flight per thread: one being examined, the next ones waiting for it. */
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
    await openPeople(store, readConfig(dataDir)).trail.record({
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

/** Lines read here, or a stretch of them examined on a thread, in bundle order. */
type Pending = { lines: string[]; bytes: number } | { examined: Promise<Examined>; bytes: number };

/**
 * Reads a bundle into the verifier, with progress on stderr for large ones. Once the leaves
 * begin (the header and cards are in), stretches of the file — nearly all of a bundle and of
 * its work — are examined on `threads` worker threads and taken in order; the report is the
 * same as with none.
 */
/**
 * A file whose first line is not JSON (a database, a PDF, a card) is no bundle: said once, rather
 * than one failure per line of it.
 */
async function refuseUnlessJsonLines(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    const head = new Uint8Array(STRETCH);
    const { bytesRead } = await handle.read(head, 0, STRETCH, 0);
    if (!bytesRead) return;
    const text = new TextDecoder().decode(head.subarray(0, bytesRead));
    const end = text.indexOf('\n');
    const first = end < 0 ? text : text.slice(0, end);
    let json = first.trimStart().startsWith('{');
    if (json && (end >= 0 || bytesRead < STRETCH))
      try {
        JSON.parse(first);
      } catch {
        json = false;
      }
    if (!json)
      throw new CliError(
        `${file} is not a Hotline bundle (JSON Lines): its first line is not JSON`,
      );
  } finally {
    await handle.close();
  }
}

export async function verifyBundleFile(
  file: string,
  { threads = defaultBundleThreads(), progress = true }: VerifyFileOptions = {},
): Promise<BundleResult> {
  const size = statSync(file).size;
  await refuseUnlessJsonLines(file);
  const pool = threads > 0 ? new VerifyThreads(threads) : undefined;
  try {
    const verifier = new BundleVerifier();
    const queue: Pending[] = [];
    let onThreads = 0;
    let context: LeafContext | undefined;
    const step = size / 20;
    let next = step;
    let taken = 0;
    let records = 0;
    /** Buffers read into before and given back: the same few are read into again. */
    const spare: Uint8Array[] = [];
    const buffer = (least: number): Uint8Array => {
      const given = spare.pop();
      return given && given.byteLength >= least
        ? given
        : new Uint8Array(Math.max(least, 2 * STRETCH));
    };
    /** Takes what is ready, in order, until at most `inFlight` stretches are still out. */
    const take = async (inFlight: number) => {
      for (let head = queue[0]; head; head = queue[0]) {
        let lines: Array<ExaminedLeaf | string>;
        if ('lines' in head) lines = head.lines;
        else {
          if (onThreads <= inFlight) return;
          const examined = await head.examined;
          lines = examined.lines;
          spare.push(new Uint8Array(examined.bytes.buffer));
          onThreads--;
        }
        for (const line of lines)
          if (typeof line === 'string') verifier.addLine(line);
          else verifier.addExamined(line);
        queue.shift();
        records += lines.length;
        taken += head.bytes;
        if (progress && size >= PROGRESS_BYTES && taken >= next) {
          process.stderr.write(
            `verify ${file}: ${Math.min(100, Math.round((taken / size) * 100))}% (${records} records)\n`,
          );
          while (next <= taken) next += step;
        }
      }
    };
    const read = async (whole: Uint8Array) => {
      if (!whole.length) return;
      if (pool && context) {
        // Moved to the thread, and back with its answer.
        const examined = pool.examine(whole, context);
        // Awaited in turn; a thread's failure rejects them all, and the first one awaited throws.
        examined.catch(() => undefined);
        queue.push({ examined, bytes: whole.length });
        onThreads++;
      } else {
        queue.push({ lines: bundleLines(whole), bytes: whole.length });
        spare.push(new Uint8Array(whole.buffer));
      }
      await take(IN_FLIGHT * threads);
      // The header and cards are in once a leaf has taken its place: what every later leaf is
      // checked with is fixed from here.
      if (pool && !context && verifier.leavesBegun) context = verifier.leafContext();
    };
    const handle = await open(file, 'r');
    try {
      let bytes = buffer(STRETCH);
      /** The bytes of a line not yet ended, at the start of `bytes`. */
      let held = 0;
      for (;;) {
        if (bytes.byteLength - held < STRETCH) {
          const larger = buffer(2 * held + STRETCH);
          larger.set(bytes.subarray(0, held));
          bytes = larger;
        }
        const { bytesRead } = await handle.read(bytes, held, STRETCH, null);
        const length = held + bytesRead;
        if (bytesRead === 0) {
          await read(bytes.subarray(0, length));
          break;
        }
        const end = Buffer.from(bytes.buffer, bytes.byteOffset, length).lastIndexOf(0x0a) + 1;
        held = length - end;
        if (end === 0) continue;
        const next = buffer(held + STRETCH);
        next.set(bytes.subarray(end, length));
        await read(bytes.subarray(0, end));
        bytes = next;
      }
    } finally {
      await handle.close();
    }
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
