/**
 * Ledger figures (issue: ledger): leaf appends per second in memory and through the node's SQLite
 * log in batches; inclusion-proof generation and verification; the checkpoint and co-signature
 * work one heartbeat costs; and the offline verifier's throughput on an export bundle.
 *
 * `benchLedger()` prints the figures and returns them. `npm run bench -- ledger`, or alone:
 *   node --import tsx bench/ledger.ts
 * The default sizes take a few minutes: a 1M-leaf tree, a 100k-leaf bundle, 100k leaves through
 * SQLite. BENCH_LEDGER=full runs the issue's sizes (a 10M-leaf tree, a 1M-leaf bundle; ~15 min).
 * BENCH_LEDGER_TREE, BENCH_LEDGER_BUNDLE and BENCH_LEDGER_SQLITE set each size apart.
 *
 * The bundle is synthetic but complete: two parties' logs are simulated with real keys, so every
 * leaf, signature, receipt (with inclusion proofs from the peer's tree) and checkpoint is what a
 * node writes, in the proportions of steady two-way traffic in batches of 256.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { createCard, signCard } from '../src/crypto/card.ts';
import {
  ed25519FromSeed,
  ed25519Sign,
  ed25519Verify,
  privateKeyObject,
} from '../src/crypto/ed25519.ts';
import { Ed25519Pool } from '../src/crypto/ed25519-pool.ts';
import { signHeader } from '../src/crypto/envelope.ts';
import { generateNodeKeys, NodeKeys } from '../src/crypto/keys.ts';
import { signReceipt } from '../src/crypto/statements.ts';
import { BUNDLE_VERSION, type BundleRecord, bundleLine } from '../src/ledger/bundle.ts';
import { openCheckpoint, signCheckpoint } from '../src/ledger/checkpoint.ts';
import {
  cosignatureSigner,
  cosignatureTimestamp,
  cosignatureVerifier,
  cosignCheckpoint,
  verifyCosignature,
} from '../src/ledger/cosignature.ts';
import { envelopeLeaf, receiptLeaf } from '../src/ledger/leaves.ts';
import {
  checkRecord,
  checkTree,
  MemoryHashStore,
  proveRecordSync,
  storedHashIndex,
  treeHashSync,
} from '../src/ledger/merkle.ts';
import {
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatSignatureLine,
  type NoteSigner,
  parseNote,
} from '../src/ledger/note.ts';
import type { BundleReport } from '../src/ledger/verify.ts';
import { defaultBundleThreads } from '../src/ledger/verify-threads.ts';
import { Ledger } from '../src/node/record/ledger.ts';
import type { SignedCard } from '../src/protocol/card.ts';
import { fromHex, fromUtf8, sha256, toHex, utf8 } from '../src/protocol/encoding.ts';
import type { Envelope, Header } from '../src/protocol/envelope.ts';
import { jcs, jcsBytes } from '../src/protocol/jcs.ts';
import type { Leaf } from '../src/protocol/leaf.ts';
import type { SignedReceipt } from '../src/protocol/receipt.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import { rssMiB as statusMiB } from './cli.ts';

const FULL = process.env.BENCH_LEDGER === 'full';
const TREE = Number(process.env.BENCH_LEDGER_TREE ?? (FULL ? 10_000_000 : 1_000_000));
const BUNDLE = Number(process.env.BENCH_LEDGER_BUNDLE ?? (FULL ? 1_000_000 : 100_000));
const SQLITE = Number(process.env.BENCH_LEDGER_SQLITE ?? 100_000);
/** Heartbeats timed for the witnessing figure. */
const HEARTBEATS = 200;
/** Envelopes per batch, as the outbox sends them. */
const BATCH = 256;
const PROOFS = 10_000;

export interface LedgerFigures {
  appends: {
    memoryPerSecond: number;
    /** cpuMicros: this process's CPU time per leaf (the rest of the wall time is waiting: fsync, other work). */
    sqlite: { batch: number; leaves: number; perSecond: number; cpuMicros: number }[];
  };
  proofs: {
    leaves: number;
    buildSeconds: number;
    /** Resident memory after building, MiB. */
    rssMiB: number;
    proveMicros: number;
    verifyMicros: number;
  }[];
  witnessing: HeartbeatFigures;
  verify: {
    leaves: number;
    bytes: number;
    generateSeconds: number;
    /** One run per thread count: 0 checks signatures in line, as the library does by default. */
    runs: {
      threads: number;
      seconds: number;
      leavesPerSecond: number;
      mibPerSecond: number;
      /** The `hotline verify` process's peak resident memory. */
      rssMiB: number;
      /** Signatures checked per second against the floor: cores × one core's verify rate. */
      ofFloor: number;
      /** The time a 1M-leaf bundle would take at this rate (verify is linear in leaves). */
      millionLeavesSeconds: number;
    }[];
    /** One core's Ed25519 verify rate, measured in the same run on the reading thread. */
    verifiesPerCoreSecond: number;
    /** Ed25519 alone on a thread per core, before and after the runs: what the machine gave. */
    parallelVerifiesPerSecond: number[];
    cores: number;
  };
}

export interface HeartbeatFigures {
  heartbeats: number;
  /** The whole checkpoint and co-signature work of one heartbeat, both sides, median µs. */
  micros: number;
  /** Of which Ed25519: the checkpoint's and the co-signature's signing and verification. */
  cryptoMicros: number;
  /** The floor: 2 Ed25519 signatures, 2 verifications, 3 durable SQLite commits, median µs. */
  floorMicros: number;
  commitMicros: number;
}

export async function benchLedger(): Promise<LedgerFigures> {
  console.log('\n## Ledger');
  console.log(
    `sizes: ${FULL ? 'full (BENCH_LEDGER=full)' : 'default (BENCH_LEDGER=full for the 10M-leaf tree and 1M-leaf bundle)'}`,
  );
  const memoryPerSecond = memoryAppends();
  console.log('appends, MemoryHashStore, ~700-byte leaves     ', rate(memoryPerSecond, 'leaves/s'));
  const sqlite = [];
  for (const [batch, leaves] of [
    [1, Math.min(SQLITE, 500)],
    [BATCH, SQLITE],
    [4 * BATCH, SQLITE],
  ] as const) {
    const { perSecond, cpuMicros } = await sqliteAppends(batch, leaves);
    sqlite.push({ batch, leaves, perSecond, cpuMicros });
    console.log(
      `appends, SQLite Log, ${String(batch).padStart(4)} per durable commit      `,
      rate(perSecond, 'leaves/s'),
      `(${leaves} leaves; CPU ${cpuMicros.toFixed(1)} µs a leaf)`,
    );
  }
  const proofs = proofFigures();
  const witnessing = await heartbeatWitnessing();
  const verify = await verifyThroughput();
  return { appends: { memoryPerSecond, sqlite }, proofs, witnessing, verify };
}

function rate(n: number, unit: string): string {
  return `${Math.round(n).toLocaleString('en-US')} ${unit}`;
}

const rssMiB = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** A leaf-sized text that differs per index. */
function leafText(i: number): Uint8Array {
  return utf8(`${i}:${'x'.repeat(690)}`);
}

function memoryAppends(): number {
  const store = new MemoryHashStore();
  const n = 200_000;
  const started = performance.now();
  for (let i = 0; i < n; i++) store.append(leafText(i));
  return n / ((performance.now() - started) / 1000);
}

/** Event leaves appended through the node's Log, `batch` per transaction (each one fsynced). */
async function sqliteAppends(
  batch: number,
  leaves: number,
): Promise<{ perSecond: number; cpuMicros: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-ledger-bench-'));
  try {
    const store = await openSqliteStore(join(dir, 'bench.db'));
    const log = await Ledger.open(
      store,
      ed25519NoteSigner('hotline/bench/log', new Uint8Array(32)),
    );
    const detail = { note: 'x'.repeat(600) };
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (let done = 0; done < leaves; done += batch) {
      const list: Leaf[] = [];
      for (let i = done; i < Math.min(leaves, done + batch); i++)
        list.push({
          leaf: 'event',
          type: 'bench',
          at: new Date().toISOString(),
          detail: { ...detail, i },
        });
      await log.commit((_tx, ledger) => ledger.append(list));
    }
    const seconds = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    await store.close();
    return { perSecond: leaves / seconds, cpuMicros: (used.user + used.system) / leaves };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Builds one tree up to TREE leaves, timing proofs at 1M and at TREE. */
function proofFigures(): LedgerFigures['proofs'] {
  const out: LedgerFigures['proofs'] = [];
  const store = new MemoryHashStore();
  const started = performance.now();
  for (const size of [...new Set([Math.min(1_000_000, TREE), TREE])]) {
    while (store.size < size) store.append(leafText(store.size));
    const buildSeconds = (performance.now() - started) / 1000;
    const root = treeHashSync(size, store);
    const indexes = Array.from({ length: PROOFS }, (_, k) =>
      Math.floor((((k * 2654435761) % 2 ** 32) / 2 ** 32) * size),
    );
    let t = performance.now();
    const proofs = indexes.map((i) => proveRecordSync(size, i, store));
    const proveMicros = ((performance.now() - t) * 1000) / PROOFS;
    const leaves = indexes.map((i) => store.readHashes([storedHashIndex(0, i)])[0] as Uint8Array);
    t = performance.now();
    for (const [k, i] of indexes.entries())
      if (!checkRecord(proofs[k] as Uint8Array[], size, root, i, leaves[k] as Uint8Array))
        throw new Error(`proof of ${i} does not verify`);
    const verifyMicros = ((performance.now() - t) * 1000) / PROOFS;
    const figures = { leaves: size, buildSeconds, rssMiB: rssMiB(), proveMicros, verifyMicros };
    out.push(figures);
    console.log(
      `tree of ${size.toLocaleString('en-US')} leaves: built in ${buildSeconds.toFixed(1)} s (from empty), RSS ${figures.rssMiB} MiB; ` +
        `inclusion proof ${proveMicros.toFixed(1)} µs to make, ${verifyMicros.toFixed(1)} µs to check (${proofs[0]?.length} hashes)`,
    );
  }
  return out;
}

/** Generates a bundle of BUNDLE leaves, then runs `hotline verify` on it. */
export async function verifyThroughput(): Promise<LedgerFigures['verify']> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-ledger-bench-'));
  const file = join(dir, 'us.jsonl');
  try {
    const started = performance.now();
    const leaves = await writeSyntheticBundle(file, BUNDLE);
    const generateSeconds = (performance.now() - started) / 1000;
    const bytes = statSync(file).size;
    console.log(
      `bundle of ${leaves.toLocaleString('en-US')} leaves (${(bytes / 2 ** 20).toFixed(0)} MiB) generated in ${generateSeconds.toFixed(1)} s`,
    );
    // The floor: one core's Ed25519 verify rate (an envelope's signed bytes), times the cores.
    const seed = randomBytes(32);
    const publicKey = ed25519FromSeed(seed).publicKey;
    const message = randomBytes(300);
    const signature = ed25519Sign(privateKeyObject(seed), message);
    const VERIFIES = 3000;
    const tv = performance.now();
    for (let i = 0; i < VERIFIES; i++) ed25519Verify(publicKey, message, signature);
    const verifiesPerCoreSecond = VERIFIES / ((performance.now() - tv) / 1000);
    const cores = availableParallelism();
    console.log(
      `floor: ${rate(verifiesPerCoreSecond, 'Ed25519 verifies/s')} on one core × ${cores} cores`,
    );
    // What the machine gives now: Ed25519 alone on a thread per core. Below the floor when other
    // work shares the cores (or they share a physical core); then so is any verify run.
    const ceiling = async () => {
      const pool = new Ed25519Pool(cores);
      try {
        const checks = Array.from({ length: cores * VERIFIES }, () => ({
          publicKey,
          message,
          signature,
        }));
        await pool.verifyAll(checks.slice(0, cores * 100));
        const t = performance.now();
        await pool.verifyAll(checks);
        const perSecond = checks.length / ((performance.now() - t) / 1000);
        console.log(
          `Ed25519 alone on ${cores} threads: ${rate(perSecond, 'verifies/s')}, ${((100 * perSecond) / (cores * verifiesPerCoreSecond)).toFixed(0)} % of the floor`,
        );
        return perSecond;
      } finally {
        await pool.close();
      }
    };
    const parallelVerifiesPerSecond = [await ceiling()];
    const runs = [];
    for (const threads of [...new Set([0, defaultBundleThreads(), cores])]) {
      const { seconds, report, peakMiB } = await hotlineVerify(file, threads);
      if (!report.ok)
        throw new Error(`the synthetic bundle does not verify: ${report.failures[0]?.message}`);
      const signed = report.counts.envelopes.out + report.counts.envelopes.in;
      const run = {
        threads,
        seconds,
        leavesPerSecond: leaves / seconds,
        mibPerSecond: bytes / 2 ** 20 / seconds,
        rssMiB: peakMiB,
        ofFloor: signed / seconds / (cores * verifiesPerCoreSecond),
        millionLeavesSeconds: (seconds * 1_000_000) / leaves,
      };
      runs.push(run);
      console.log(
        `hotline verify (${signed} signed envelopes, ${report.counts.proofs} proofs), ` +
          `${threads ? `${threads} thread${threads > 1 ? 's' : ''} examining leaves` : 'in line'}: ` +
          `${seconds.toFixed(1)} s, ${rate(run.leavesPerSecond, 'leaves/s')}, ${run.mibPerSecond.toFixed(1)} MiB/s, peak RSS ${run.rssMiB} MiB; ` +
          `${(run.ofFloor * 100).toFixed(0)} % of the floor (target ≥ 80 %), 1M leaves ≈ ${run.millionLeavesSeconds.toFixed(0)} s`,
      );
    }
    parallelVerifiesPerSecond.push(await ceiling());
    return {
      leaves,
      bytes,
      generateSeconds,
      runs,
      verifiesPerCoreSecond,
      parallelVerifiesPerSecond,
      cores,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `hotline verify --json` of `file` as its user runs it: the compiled CLI in a process of its
 * own (`npm run build:node` first), timed from spawn to exit, its peak RSS read while it runs.
 */
async function hotlineVerify(
  file: string,
  threads: number,
): Promise<{ seconds: number; report: BundleReport; peakMiB: number }> {
  const t = performance.now();
  const args = ['bin/hotline.js', 'verify', '--json', '--threads', String(threads), file];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-2000);
  });
  let peakMiB = 0;
  const peak = setInterval(() => {
    try {
      // NaN (no line) once it is a zombie: the comparison keeps the peak read before.
      const hwm = Math.round(statusMiB(child.pid as number, 'VmHWM'));
      if (hwm > peakMiB) peakMiB = hwm;
    } catch {
      // It has exited.
    }
  }, 100);
  const [code] = await once(child, 'exit');
  clearInterval(peak);
  const seconds = (performance.now() - t) / 1000;
  if (code !== 0 && code !== 1) throw new Error(`hotline verify exited ${code}: ${err}`);
  const result = JSON.parse(out) as { bundles: BundleReport[] };
  return { seconds, report: result.bundles[0] as BundleReport, peakMiB };
}

/**
 * What witnessing adds to one heartbeat once the log has grown, both sides, as witness.ts and
 * heartbeat.ts do it on SQLite: the log signs and stores a checkpoint and proves it consistent
 * with the last co-signed one; the witness opens it, checks the proof, co-signs and stores it;
 * the log verifies and stores the co-signature. Network and the heartbeat's own signature aside.
 */
async function heartbeatWitnessing(): Promise<HeartbeatFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-ledger-bench-'));
  try {
    const logSeed = randomBytes(32);
    const witnessSeed = randomBytes(32);
    const logSigner = ed25519NoteSigner('hotline/us/log', logSeed);
    const logVerifier = ed25519NoteVerifier('hotline/us/log', ed25519FromSeed(logSeed).publicKey);
    const cosigner = cosignatureSigner('hotline/cn/witness', witnessSeed, () =>
      Math.floor(Date.now() / 1000),
    );
    const cosignatureCheck = cosignatureVerifier(
      'hotline/cn/witness',
      ed25519FromSeed(witnessSeed).publicKey,
    );
    const owner = await openSqliteStore(join(dir, 'us.db'));
    const witness = await openSqliteStore(join(dir, 'cn.db'));
    const log = await Ledger.open(owner, logSigner);
    const grow = async (n: number) => {
      const leaves: Leaf[] = Array.from({ length: n }, (_, i) => ({
        leaf: 'event',
        type: 'bench',
        at: new Date().toISOString(),
        detail: { i },
      }));
      await log.commit((_tx, ledger) => ledger.append(leaves));
    };
    await grow(100_000);
    let accepted: { size: number; root: Uint8Array } = { size: 0, root: new Uint8Array() };
    const totals: number[] = [];
    const cryptos: number[] = [];
    for (let beat = 0; beat <= HEARTBEATS; beat++) {
      await grow(20);
      let crypto = 0;
      const timed = <T>(f: () => T): T => {
        const t = performance.now();
        const out = f();
        crypto += performance.now() - t;
        return out;
      };
      const started = performance.now();
      // The log: a new checkpoint (signed, stored durably), and the proof from the co-signed size.
      const { note, size } = await log.commit((_tx, ledger) => ledger.checkpoint());
      const proof = accepted.size ? await log.proveConsistency(accepted.size, size) : [];
      // The witness: open it, check the proof, co-sign, store both in one write.
      const { checkpoint } = timed(() => openCheckpoint(utf8(note), logVerifier.name, logVerifier));
      if (
        accepted.size &&
        !checkTree(proof.map(fromHex), size, checkpoint.root, accepted.size, accepted.root)
      )
        throw new Error('the consistency proof does not verify');
      const line = formatSignatureLine(timed(() => cosignCheckpoint(checkpoint, cosigner)));
      await witness.putWitnessed({
        party: 'us',
        size,
        root: toHex(checkpoint.root),
        note,
        cosignature: line,
        at: new Date().toISOString(),
      });
      accepted = { size, root: checkpoint.root };
      // The log: verify the co-signature line on its checkpoint, and keep it.
      const text = note.slice(0, note.indexOf('\n\n') + 1);
      const [signature] = parseNote(utf8(`${text}\n${line}`)).signatures;
      if (!signature || !timed(() => verifyCosignature(checkpoint, signature, cosignatureCheck)))
        throw new Error('the co-signature does not verify');
      await owner.addCosignature({
        party: 'cn',
        size,
        line,
        time: cosignatureTimestamp(signature),
        at: new Date().toISOString(),
      });
      if (beat > 0) {
        totals.push((performance.now() - started) * 1000);
        cryptos.push(crypto * 1000);
      }
    }
    // The floor: the same four Ed25519 operations alone, and three one-row durable commits.
    const message = randomBytes(120);
    const key = privateKeyObject(logSeed);
    const publicKey = ed25519FromSeed(logSeed).publicKey;
    const signature = ed25519Sign(key, message);
    const ed25519: number[] = [];
    const commits: number[] = [];
    for (let i = 0; i < HEARTBEATS; i++) {
      let t = performance.now();
      ed25519Sign(key, message);
      ed25519Sign(key, message);
      ed25519Verify(publicKey, message, signature);
      ed25519Verify(publicKey, message, signature);
      ed25519.push((performance.now() - t) * 1000);
      t = performance.now();
      await owner.setMeta('bench', String(i));
      commits.push((performance.now() - t) * 1000);
    }
    await owner.close();
    await witness.close();
    const commitMicros = median(commits);
    const figures = {
      heartbeats: HEARTBEATS,
      micros: median(totals),
      cryptoMicros: median(cryptos),
      floorMicros: median(ed25519) + 3 * commitMicros,
      commitMicros,
    };
    console.log(
      `checkpoint + co-signature per heartbeat (both sides, SQLite): ${Math.round(figures.micros)} µs median, ` +
        `of which Ed25519 ${Math.round(figures.cryptoMicros)} µs; floor ${Math.round(figures.floorMicros)} µs ` +
        `(2 signatures + 2 verifications ${Math.round(median(ed25519))} µs, 3 durable commits of ${Math.round(commitMicros)} µs)`,
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

interface Party {
  name: string;
  keys: NodeKeys;
  signed: SignedCard;
  log: NoteSigner;
  tree: MemoryHashStore;
  seq: number;
}

async function party(name: string): Promise<Party> {
  const list = await generateNodeKeys(name);
  const keys = new NodeKeys(list);
  const card = createCard({
    party: name,
    names: { en: name },
    keys: list.map((k) => k.entry),
    endpoints: [{ id: 'direct', kind: 'direct', url: 'http://127.0.0.1:1', priority: 0 }],
    vocabulary: { version: '0', hash: '0'.repeat(64) },
    issued: new Date(),
  });
  const log = keys.get('log');
  return {
    name,
    keys,
    signed: signCard(card, keys.signer('identity').key),
    log: ed25519NoteSigner(log.entry.name ?? '', log.secret),
    tree: new MemoryHashStore(),
    seq: 0,
  };
}

/**
 * Writes "us"'s bundle of about `target` leaves: rounds of 256 envelopes each way, each batch
 * logged by its receiver with a checkpoint and a receipt carrying inclusion proofs, which its
 * sender verifies and logs. Answers the number of leaves.
 */
export async function writeSyntheticBundle(file: string, target: number): Promise<number> {
  const us = await party('us');
  const cn = await party('cn');
  const perRound = 2 * BATCH + 2;
  const rounds = Math.max(1, Math.ceil(target / perRound));
  const total = rounds * perRound;
  const stream = createWriteStream(file);
  const lines: string[] = [];
  const write = async (record: BundleRecord) => {
    lines.push(bundleLine(record));
    if (lines.length >= 2000) {
      if (!stream.write(lines.splice(0).join(''))) await once(stream, 'drain');
    }
  };
  await write({
    type: 'hotline-export',
    version: BUNDLE_VERSION,
    party: 'us',
    exportedAt: new Date().toISOString(),
    leaves: total,
  });
  await write({ type: 'card', role: 'self', signed: us.signed });
  await write({ type: 'card', role: 'peer', signed: cn.signed });
  const notes: string[] = [];
  let bodies = 0;
  const append = async (leaf: Leaf, body?: unknown) => {
    const text = jcs(leaf);
    await write({ type: 'leaf', index: us.tree.size, leaf: text, ...(body ? { body } : {}) });
    us.tree.append(utf8(text));
    if (body) bodies++;
  };
  for (let r = 0; r < rounds; r++) {
    // us → cn: us logs out leaves; cn logs in leaves and receipts them; us logs the receipt.
    const outbound = batch(us, cn);
    for (const m of outbound)
      await append(envelopeLeaf('out', m.envelope.header.sent, m.envelope), m.body);
    const theirs = receive(cn, us, outbound);
    await append(receiptLeaf('in', new Date().toISOString(), theirs));
    // cn → us: us logs in leaves, signs a checkpoint and its receipt, and logs the receipt.
    const inbound = batch(cn, us);
    const receivedAt = new Date().toISOString();
    const start = us.tree.size;
    for (const m of inbound) await append(envelopeLeaf('in', receivedAt, m.envelope), m.body);
    const { receipt, note } = receiptFor(us, cn, inbound, start, receivedAt);
    notes.push(note);
    await append(receiptLeaf('out', receivedAt, receipt));
  }
  notes.push(checkpointNote(us));
  for (const note of notes) await write({ type: 'checkpoint', note });
  await write({
    type: 'end',
    cards: 2,
    leaves: total,
    bodies,
    checkpoints: notes.length,
    cosignatures: 0,
  });
  stream.end(lines.join(''));
  await once(stream, 'close');
  return total;
}

interface Message {
  envelope: Envelope;
  body: Record<string, unknown>;
  headerHash: string;
}

/** 256 signed envelopes from → to, with their bodies (the sealed part is a placeholder). */
function batch(from: Party, to: Party): Message[] {
  const signer = from.keys.signer('signing');
  return Array.from({ length: BATCH }, () => {
    const id = uuidv7();
    const body = {
      salt: toHex(sha256(utf8(id))).slice(0, 22),
      type: 'report',
      precedence: 'routine',
      status: 'exercise',
      tlp: 'amber',
      text: {
        lang: 'en',
        body: `Situation report ${id}: systems nominal, no anomalous behaviour observed.`,
      },
      author: { desk: 'ops' },
    };
    const header: Header = {
      v: 1,
      kind: 'message',
      id,
      from: from.name,
      to: [to.name],
      seq: { [to.name]: ++from.seq },
      sent: new Date().toISOString(),
      kid: signer.kid,
      bodyHash: toHex(sha256(jcsBytes(body))),
    };
    const envelope: Envelope = {
      header,
      sig: signHeader(header, signer.key),
      sealed: {
        suite: 'x25519',
        epoch: { id: 'A'.repeat(22), enc: 'B'.repeat(43) },
        ct: toHex(sha256(utf8(`ct ${id}`))),
      },
    };
    return { envelope, body, headerHash: toHex(sha256(jcsBytes(header))) };
  });
}

/** The receiver logs a batch and answers its receipt (it logs the receipt too). */
function receive(receiver: Party, sender: Party, messages: Message[]): SignedReceipt {
  const receivedAt = new Date().toISOString();
  const start = receiver.tree.size;
  for (const m of messages)
    receiver.tree.append(jcsBytes(envelopeLeaf('in', receivedAt, m.envelope)));
  const { receipt } = receiptFor(receiver, sender, messages, start, receivedAt);
  receiver.tree.append(jcsBytes(receiptLeaf('out', receivedAt, receipt)));
  return receipt;
}

function receiptFor(
  receiver: Party,
  sender: Party,
  messages: Message[],
  start: number,
  receivedAt: string,
): { receipt: SignedReceipt; note: string } {
  const note = checkpointNote(receiver);
  const size = receiver.tree.size;
  const signer = receiver.keys.signer('signing');
  const receipt = signReceipt(
    {
      v: 1,
      from: receiver.name,
      to: sender.name,
      kid: signer.kid,
      issued: receivedAt,
      entries: messages.map((m, i) => ({
        id: m.envelope.header.id,
        headerHash: m.headerHash,
        receivedAt,
        index: start + i,
        proof: proveRecordSync(size, start + i, receiver.tree).map(toHex),
      })),
      checkpoint: note,
    },
    signer.key,
  );
  return { receipt, note };
}

function checkpointNote(p: Party): string {
  const size = p.tree.size;
  return fromUtf8(
    signCheckpoint(
      { origin: p.log.name, size, root: treeHashSync(size, p.tree), extensions: [] },
      p.log,
    ),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchLedger();
