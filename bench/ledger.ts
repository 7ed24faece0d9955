/**
 * Ledger figures (issue: ledger): leaf appends per second in memory and through the node's SQLite
 * log in batches; inclusion-proof generation and verification at 1M and 10M leaves; and the
 * offline verifier's throughput on a 1M-leaf export bundle.
 *
 * `benchLedger()` prints the figures and returns them. Run alone:
 *   node --import tsx bench/ledger.ts
 * Sizes: BENCH_LEDGER_TREE (largest tree, default 10,000,000), BENCH_LEDGER_BUNDLE (bundle
 * leaves, default 1,000,000), BENCH_LEDGER_SQLITE (leaves through SQLite, default 100,000).
 *
 * The bundle is synthetic but complete: two parties' logs are simulated with real keys, so every
 * leaf, signature, receipt (with inclusion proofs from the peer's tree) and checkpoint is what a
 * node writes, in the proportions of steady two-way traffic in batches of 256.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { v7 as uuidv7 } from 'uuid';
import { createCard, signCard } from '../src/crypto/card.ts';
import { signHeader } from '../src/crypto/envelope.ts';
import { generateNodeKeys, NodeKeys } from '../src/crypto/keys.ts';
import { signReceipt } from '../src/crypto/statements.ts';
import { BUNDLE_VERSION, type BundleRecord, bundleLine } from '../src/ledger/bundle.ts';
import { signCheckpoint } from '../src/ledger/checkpoint.ts';
import { envelopeLeaf, receiptLeaf } from '../src/ledger/leaves.ts';
import {
  checkRecord,
  MemoryHashStore,
  proveRecordSync,
  storedHashIndex,
  treeHashSync,
} from '../src/ledger/merkle.ts';
import { ed25519NoteSigner, type NoteSigner } from '../src/ledger/note.ts';
import { BundleVerifier } from '../src/ledger/verify.ts';
import { Log } from '../src/node/log.ts';
import type { SignedCard } from '../src/protocol/card.ts';
import { fromUtf8, sha256, toHex, utf8 } from '../src/protocol/encoding.ts';
import type { Envelope, Header } from '../src/protocol/envelope.ts';
import { jcs, jcsBytes } from '../src/protocol/jcs.ts';
import type { Leaf } from '../src/protocol/leaf.ts';
import type { SignedReceipt } from '../src/protocol/receipt.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';

const TREE = Number(process.env.BENCH_LEDGER_TREE ?? 10_000_000);
const BUNDLE = Number(process.env.BENCH_LEDGER_BUNDLE ?? 1_000_000);
const SQLITE = Number(process.env.BENCH_LEDGER_SQLITE ?? 100_000);
/** Envelopes per batch, as the outbox sends them. */
const BATCH = 256;
const PROOFS = 10_000;

export interface LedgerFigures {
  appends: {
    memoryPerSecond: number;
    sqlite: { batch: number; leaves: number; perSecond: number }[];
  };
  proofs: {
    leaves: number;
    buildSeconds: number;
    /** Resident memory after building, MiB. */
    rssMiB: number;
    proveMicros: number;
    verifyMicros: number;
  }[];
  verify: {
    leaves: number;
    bytes: number;
    generateSeconds: number;
    seconds: number;
    leavesPerSecond: number;
    mibPerSecond: number;
    rssMiB: number;
  };
}

export async function benchLedger(): Promise<LedgerFigures> {
  console.log('\n## Ledger');
  const memoryPerSecond = memoryAppends();
  console.log('appends, MemoryHashStore, ~700-byte leaves     ', rate(memoryPerSecond, 'leaves/s'));
  const sqlite = [];
  for (const [batch, leaves] of [
    [1, Math.min(SQLITE, 500)],
    [BATCH, SQLITE],
  ] as const) {
    const perSecond = await sqliteAppends(batch, leaves);
    sqlite.push({ batch, leaves, perSecond });
    console.log(
      `appends, SQLite Log, ${String(batch).padStart(3)} per durable commit       `,
      rate(perSecond, 'leaves/s'),
      `(${leaves} leaves)`,
    );
  }
  const proofs = proofFigures();
  const verify = await verifyThroughput();
  return { appends: { memoryPerSecond, sqlite }, proofs, verify };
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
async function sqliteAppends(batch: number, leaves: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-ledger-bench-'));
  try {
    const store = await openSqliteStore(join(dir, 'bench.db'));
    const log = await Log.open(store, ed25519NoteSigner('hotline/bench/log', new Uint8Array(32)));
    const detail = { note: 'x'.repeat(600) };
    const started = performance.now();
    for (let done = 0; done < leaves; done += batch) {
      const list: Leaf[] = [];
      for (let i = done; i < Math.min(leaves, done + batch); i++)
        list.push({
          leaf: 'event',
          type: 'bench',
          at: new Date().toISOString(),
          detail: { ...detail, i },
        });
      const pending = await store.transaction((tx) => log.append(list, tx));
      log.committed(pending);
    }
    const seconds = (performance.now() - started) / 1000;
    await store.close();
    return leaves / seconds;
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

async function verifyThroughput(): Promise<LedgerFigures['verify']> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-ledger-bench-'));
  const file = join(dir, 'us.jsonl');
  try {
    let started = performance.now();
    const leaves = await writeSyntheticBundle(file, BUNDLE);
    const generateSeconds = (performance.now() - started) / 1000;
    const bytes = statSync(file).size;
    started = performance.now();
    const verifier = new BundleVerifier();
    const lines = createInterface({
      input: createReadStream(file),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const line of lines) verifier.addLine(line);
    const { report } = verifier.finish();
    const seconds = (performance.now() - started) / 1000;
    if (!report.ok)
      throw new Error(`the synthetic bundle does not verify: ${report.failures[0]?.message}`);
    const figures = {
      leaves,
      bytes,
      generateSeconds,
      seconds,
      leavesPerSecond: leaves / seconds,
      mibPerSecond: bytes / 2 ** 20 / seconds,
      rssMiB: rssMiB(),
    };
    console.log(
      `verify a ${leaves.toLocaleString('en-US')}-leaf bundle (${(bytes / 2 ** 20).toFixed(0)} MiB, ${report.counts.envelopes.out + report.counts.envelopes.in} signed envelopes, ${report.counts.proofs} proofs): ` +
        `${seconds.toFixed(1)} s, ${rate(figures.leavesPerSecond, 'leaves/s')}, ${figures.mibPerSecond.toFixed(1)} MiB/s, RSS ${figures.rssMiB} MiB ` +
        `(generated in ${generateSeconds.toFixed(1)} s)`,
    );
    return figures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
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
