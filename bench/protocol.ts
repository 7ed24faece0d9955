/**
 * Protocol figures: what each step of the crypto core costs on this machine, and the bound those
 * costs put on messages per second per core (docs/benchmarks.md § Crypto and protocol).
 *
 * Every figure is the median of ROUNDS timed rounds, each of enough iterations to last about
 * ROUND_MS, after WARM_MS of warm-up. Everything runs on this one thread, one operation at a
 * time: a figure is the cost of one operation, not of a pipeline kept full. (HPKE goes through
 * WebCrypto, whose X25519 and HKDF calls Node may run on its thread pool; the epoch figures are
 * therefore latencies, and at most what one core pays.)
 */
import type { KeyObject } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { createCard } from '../src/crypto/card.ts';
import { signedBytes } from '../src/crypto/context.ts';
import { ed25519Verify, privateKeyObject } from '../src/crypto/ed25519.ts';
import {
  type HeaderInput,
  makeHeader,
  newSalt,
  sealFor,
  sealMessageFor,
  signHeader,
} from '../src/crypto/envelope.ts';
import { DEFAULT_EPOCH_POLICY, EpochCache } from '../src/crypto/epochs.ts';
import { generateNodeKeys, type PrivateKey } from '../src/crypto/keys.ts';
import { type ReceiveContext, receiveEnvelope } from '../src/crypto/receive.ts';
import {
  EPOCH_ID_BYTES,
  messageKey,
  openMessage,
  openRecipientEpoch,
  openSenderEpoch,
  type SenderEpoch,
  type SuiteName,
} from '../src/crypto/seal.ts';
import { type Body, Body as BodySchema, bodyRuleViolation } from '../src/protocol/body.ts';
import type { Card, KeyPurpose } from '../src/protocol/card.ts';
import { fromBase64url, fromUtf8, sha256 } from '../src/protocol/encoding.ts';
import { type Envelope, Envelope as EnvelopeSchema } from '../src/protocol/envelope.ts';
import { jcs, jcsBytes } from '../src/protocol/jcs.ts';
import { LIMITS } from '../src/protocol/limits.ts';
import { schemaError } from '../src/protocol/validate.ts';

const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 200);
const WARM_MS = Number(process.env.BENCH_WARM_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
/** Distinct envelopes the receiver cycles through. */
const POOL = 256;
/** Unrelated (from, id) and (from, seq) entries already "stored", as after a while in service. */
const STORED = 10_000;
const SUITES: readonly SuiteName[] = ['x-wing', 'x25519'];
/** The suite a node seals with when the peer's card offers it (node.ts, sealingKeyOf). */
const DEFAULT_SUITE: SuiteName = 'x-wing';
const EPOCH_MESSAGES = DEFAULT_EPOCH_POLICY.maxMessages;

// ---- measuring ------------------------------------------------------------------------------

export interface Figure {
  name: string;
  /** Median over the rounds. */
  usPerOp: number;
  opsPerSecond: number;
  /** The fastest round: what a quiet machine gives. */
  bestUsPerOp: number;
  /** (slowest − fastest round) / median, over the rounds. */
  spread: number;
  iterations: number;
  rounds: number;
}

let _sink: unknown;

/** An operation warmed up and calibrated, whose rounds are timed later, interleaved. */
export interface Timed {
  name: string;
  op: () => unknown;
  isAsync: boolean;
  iterations: number;
  perOp: number[];
}

/** Warms `op` (sync or async) up, and sizes its rounds to last about ROUND_MS. */
export async function prepare(name: string, op: () => unknown): Promise<Timed> {
  let warm = 0;
  let isAsync = false;
  const start = performance.now();
  while (performance.now() - start < WARM_MS || warm < 3) {
    const r = op();
    if (r instanceof Promise) {
      isAsync = true;
      _sink = await r;
    } else _sink = r;
    warm++;
  }
  const estimateMs = (performance.now() - start) / warm;
  return {
    name,
    op,
    isAsync,
    iterations: Math.max(5, Math.ceil(ROUND_MS / estimateMs)),
    perOp: [],
  };
}

async function timeRound(t: Timed): Promise<void> {
  const { op, iterations } = t;
  const start = performance.now();
  if (t.isAsync) for (let i = 0; i < iterations; i++) _sink = await op();
  else for (let i = 0; i < iterations; i++) _sink = op();
  t.perOp.push(((performance.now() - start) * 1000) / iterations);
}

/**
 * Times every operation's rounds in turn, round 1 of each, then round 2 of each…: the speed of a
 * shared virtual machine drifts over seconds, and interleaving spreads the drift over every
 * figure instead of handing it to whichever ran at the time.
 */
export async function timeAll(
  ops: readonly Timed[],
  progress?: (note: string) => void,
): Promise<Figure[]> {
  for (let round = 0; round < ROUNDS; round++) {
    progress?.(`round ${round + 1} of ${ROUNDS}`);
    for (const t of ops) await timeRound(t);
  }
  return ops.map((t) => {
    const perOp = [...t.perOp].sort((a, b) => a - b);
    const median = perOp[Math.floor(perOp.length / 2)] as number;
    return {
      name: t.name,
      usPerOp: median,
      opsPerSecond: 1e6 / median,
      bestUsPerOp: perOp[0] as number,
      spread: ((perOp[perOp.length - 1] as number) - (perOp[0] as number)) / median,
      iterations: t.iterations,
      rounds: perOp.length,
    };
  });
}

// ---- fixtures -------------------------------------------------------------------------------

interface Party {
  id: string;
  keys: PrivateKey[];
  card: Card;
}

async function party(id: string): Promise<Party> {
  const keys = await generateNodeKeys(id);
  const card = createCard({
    party: id,
    names: { en: id.toUpperCase() },
    keys: keys.map((k) => k.entry),
    endpoints: [{ id: 'direct', kind: 'direct', url: `https://${id}.example/`, priority: 0 }],
    vocabulary: { version: '1', hash: '0'.repeat(64) },
    issued: new Date(),
  });
  return { id, keys, card };
}

function keyOf(p: Party, purpose: KeyPurpose, alg?: string): PrivateKey {
  const key = p.keys.find((k) => k.entry.purpose === purpose && (!alg || k.entry.alg === alg));
  if (!key) throw new Error(`${p.id} has no ${purpose} key`);
  return key;
}

const TEXT =
  'At 09:14 UTC an autonomous agent run by a domestic operator began unsanctioned outbound ' +
  'connections to infrastructure in your jurisdiction. The deployment is suspended, the weights ' +
  'isolated and the logs preserved. We ask you to confirm receipt and name a point of contact.';

/** A realistic incident report, about 1 KB as canonical JSON. */
function reportBody(): Body {
  return {
    salt: newSalt(),
    type: 'incident.report',
    incident: uuidv7(),
    precedence: 'flash',
    status: 'exercise',
    tlp: 'amber',
    codes: ['category.autonomous-unpredictable', 'action.confirm-receipt'],
    text: { lang: 'en', body: TEXT },
    translations: [],
    attachments: [],
    author: { desk: 'ops', person: 'Duty officer' },
    approvals: [{ desk: 'principal', at: new Date().toISOString() }],
    report: {
      nature: 'incident',
      category: 'category.autonomous-unpredictable',
      system: { developer: 'Example Labs', model: 'agent-x', deployment: 'cloud' },
      harm: {
        types: ['harm.infrastructure'],
        severity: 'severity.high',
        reversibility: 'unknown',
      },
      actionsTaken: ['action.suspend', 'action.isolate'],
      actionsRequested: ['action.confirm-receipt', 'action.share-observations'],
      evidencePreserved: true,
    },
  };
}

interface Fixture {
  us: Party;
  cn: Party;
  signer: { kid: string; key: KeyObject };
  signingPub: Uint8Array;
  /** One open sender epoch per suite, us → cn. */
  epochs: Record<SuiteName, SenderEpoch>;
  /** What cn receives with: in-memory stores, a warm epoch cache. */
  ctx: ReceiveContext;
  seq: number;
  headerInput(): HeaderInput;
}

async function fixture(): Promise<Fixture> {
  const us = await party('us');
  const cn = await party('cn');
  const signing = keyOf(us, 'signing');
  const epochs = {} as Record<SuiteName, SenderEpoch>;
  for (const suite of SUITES)
    epochs[suite] = await openSenderEpoch(
      suite,
      fromBase64url(keyOf(cn, 'sealing', suite).entry.pub),
      'us',
      'cn',
      new Uint8Array(randomBytes(EPOCH_ID_BYTES)),
    );
  const seen = new Map<string, string>();
  const seqs = new Map<string, string>();
  for (let i = 0; i < STORED; i++) {
    seen.set(`us\n${uuidv7()}`, '0'.repeat(64));
    seqs.set(`us\n${1_000_000 + i}`, uuidv7());
  }
  const ctx: ReceiveContext = {
    me: 'cn',
    peer: (p) => (p === 'us' ? { card: us.card, retired: [] } : undefined),
    sealingSecrets: (suite) => cn.keys.filter((k) => k.entry.alg === suite).map((k) => k.secret),
    epochs: new EpochCache(),
    seenId: (from, id) => seen.get(`${from}\n${id}`),
    seqOwner: (from, seq) => seqs.get(`${from}\n${seq}`),
  };
  const f: Fixture = {
    us,
    cn,
    signer: { kid: signing.entry.kid, key: privateKeyObject(signing.secret) },
    signingPub: fromBase64url(signing.entry.pub),
    epochs,
    ctx,
    seq: 0,
    headerInput: () => ({
      kind: 'message',
      id: uuidv7(),
      from: 'us',
      seq: { cn: ++f.seq },
      sent: new Date(),
      kid: f.signer.kid,
    }),
  };
  return f;
}

/** Envelopes to cn as they arrive off the wire (parsed JSON), each accepted once checked. */
async function envelopePool(f: Fixture, suite: SuiteName): Promise<unknown[]> {
  const pool: unknown[] = [];
  for (let i = 0; i < POOL; i++) {
    const sealed = sealMessageFor(f.headerInput(), reportBody(), f.signer.key, {
      cn: f.epochs[suite],
    });
    pool.push(JSON.parse(JSON.stringify(sealed.envelopes.cn as Envelope)));
  }
  // Warms the epoch cache, and makes sure the figures are of the path that accepts.
  for (const input of pool) {
    const result = await receiveEnvelope(input, f.ctx);
    if (result.status !== 'accepted')
      throw new Error(`bench envelope not accepted: ${JSON.stringify(result)}`);
  }
  return pool;
}

// ---- the figures ----------------------------------------------------------------------------

export interface Bound {
  suite: SuiteName;
  epochMessages: number;
  /** Sender per message: JCS body + hash + JCS header + sign + seal, plus epoch share. */
  senderUs: number;
  /** Receiver per message: the receiveEnvelope pipeline (warm), plus epoch share. */
  receiverUs: number;
  /** The epoch opening's share of each side's figure. */
  senderEpochShareUs: number;
  receiverEpochShareUs: number;
  senderPerSecond: number;
  receiverPerSecond: number;
  /** One core doing both sides of each message: 1 / (sender + receiver). */
  perSecond: number;
}

export interface ProtocolFigures {
  bodyBytes: number;
  envelopeBytes: Record<SuiteName, number>;
  operations: Figure[];
  bounds: Bound[];
}

/** What the node benchmark prints beside its throughput, as a floor. */
export interface CryptoBound {
  suite: SuiteName;
  epochMessages: number;
  /** Messages per second per core, sender and receiver work on one core. */
  perSecond: number;
  senderPerSecond: number;
  receiverPerSecond: number;
  /** One header signature and one verification, in ms. */
  signVerifyMs: number;
}

const NAMES = {
  sign: 'Ed25519 sign envelope header (signHeader)',
  verify: 'Ed25519 verify envelope header',
  jcs: 'JCS canonicalize ~1 KB body (jcsBytes)',
  seal: 'seal ~1 KB body in open epoch (sealFor)',
  open: 'open ~1 KB body (messageKey + openMessage)',
  epochSend: (s: SuiteName) => `epoch open, sender, ${s} (openSenderEpoch)`,
  epochReceive: (s: SuiteName) => `epoch open, receiver, ${s} (openRecipientEpoch)`,
  sender: (s: SuiteName) => `sender per message, ${s} (sealMessageFor)`,
  receiver: (s: SuiteName) => `receiver per message, ${s} (receiveEnvelope, warm)`,
  envelopeSchema: 'receiver: envelope size + schema check',
  bodyCheck: 'receiver: body parse + schema + JCS check',
};

/**
 * Measures the operations; `boundOnly` measures just what the default suite's bound needs.
 */
export async function measureProtocol(
  options: { boundOnly?: boolean; progress?: (name: string) => void } = {},
): Promise<ProtocolFigures> {
  const f = await fixture();
  const suites = options.boundOnly ? [DEFAULT_SUITE] : SUITES;
  const prepared: Timed[] = [];
  const run = async (name: string, op: () => unknown) => {
    options.progress?.(`warming up ${name}`);
    prepared.push(await prepare(name, op));
  };

  const body = reportBody();
  const bodyBytes = jcsBytes(body);
  const header = makeHeader(f.headerInput(), bodyBytes);
  const headerBytes = jcsBytes(header);
  const sig = fromBase64url(signHeader(header, f.signer.key));
  const envelopeSigned = signedBytes('envelope', headerBytes);
  await run(NAMES.sign, () => signHeader(header, f.signer.key));
  await run(NAMES.verify, () => {
    if (!ed25519Verify(f.signingPub, envelopeSigned, sig)) throw new Error('verify failed');
  });

  if (!options.boundOnly) {
    await run(NAMES.jcs, () => jcsBytes(body));
    const epoch = f.epochs[DEFAULT_SUITE];
    await run(NAMES.seal, () => sealFor(epoch, headerBytes, bodyBytes));
    const ct = fromBase64url(sealFor(epoch, headerBytes, bodyBytes).ct);
    await run(NAMES.open, () => {
      const plain = openMessage(messageKey(epoch.secret, sha256(headerBytes)), headerBytes, ct);
      if (!plain) throw new Error('open failed');
      return plain;
    });

    // Two parts of receiveEnvelope beside verify and open, to see where the rest goes.
    const sealed = sealMessageFor(f.headerInput(), body, f.signer.key, {
      cn: f.epochs[DEFAULT_SUITE],
    });
    const wire = JSON.parse(JSON.stringify(sealed.envelopes.cn));
    await run(NAMES.envelopeSchema, () => {
      if (Buffer.byteLength(JSON.stringify(wire)) > LIMITS.envelopeBytes) throw new Error('size');
      if (schemaError(EnvelopeSchema, wire)) throw new Error('schema');
    });
    await run(NAMES.bodyCheck, () => {
      const text = fromUtf8(bodyBytes);
      const value = JSON.parse(text);
      if (schemaError(BodySchema, value) || jcs(value) !== text || bodyRuleViolation(value))
        throw new Error('body check failed');
    });
  }

  const envelopeBytes = {} as Record<SuiteName, number>;
  for (const suite of suites) {
    const pub = fromBase64url(keyOf(f.cn, 'sealing', suite).entry.pub);
    const secret = keyOf(f.cn, 'sealing', suite).secret;
    await run(NAMES.epochSend(suite), () =>
      openSenderEpoch(suite, pub, 'us', 'cn', new Uint8Array(randomBytes(EPOCH_ID_BYTES))),
    );
    const opened: SenderEpoch[] = [];
    for (let i = 0; i < 32; i++)
      opened.push(
        await openSenderEpoch(suite, pub, 'us', 'cn', new Uint8Array(randomBytes(EPOCH_ID_BYTES))),
      );
    let e = 0;
    await run(NAMES.epochReceive(suite), () => {
      const epoch = opened[e++ % opened.length] as SenderEpoch;
      return openRecipientEpoch(suite, secret, 'us', 'cn', epoch.id, epoch.enc);
    });

    // Sender: one signed, sealed message to one recipient, from its draft body.
    await run(NAMES.sender(suite), () =>
      sealMessageFor(f.headerInput(), body, f.signer.key, { cn: f.epochs[suite] }),
    );

    // Receiver: the whole receiveEnvelope pipeline, epoch cached, nothing stored.
    const pool = await envelopePool(f, suite);
    envelopeBytes[suite] = Buffer.byteLength(JSON.stringify(pool[0]));
    let i = 0;
    await run(NAMES.receiver(suite), async () => {
      const result = await receiveEnvelope(pool[i++ % pool.length], f.ctx);
      if (result.status !== 'accepted') throw new Error(`not accepted: ${result.status}`);
      return result;
    });
  }

  const operations = await timeAll(prepared, options.progress);
  const us = (name: string) => {
    const figure = operations.find((o) => o.name === name);
    if (!figure) throw new Error(`no figure for ${name}`);
    return figure.usPerOp;
  };
  const bounds = suites.map((suite): Bound => {
    const senderEpochShareUs = us(NAMES.epochSend(suite)) / EPOCH_MESSAGES;
    const receiverEpochShareUs = us(NAMES.epochReceive(suite)) / EPOCH_MESSAGES;
    const senderUs = us(NAMES.sender(suite)) + senderEpochShareUs;
    const receiverUs = us(NAMES.receiver(suite)) + receiverEpochShareUs;
    return {
      suite,
      epochMessages: EPOCH_MESSAGES,
      senderUs,
      receiverUs,
      senderEpochShareUs,
      receiverEpochShareUs,
      senderPerSecond: 1e6 / senderUs,
      receiverPerSecond: 1e6 / receiverUs,
      perSecond: 1e6 / (senderUs + receiverUs),
    };
  });
  lastFigures = { bodyBytes: bodyBytes.length, envelopeBytes, operations, bounds };
  return lastFigures;
}

let lastFigures: ProtocolFigures | undefined;
let pendingBound: Promise<CryptoBound> | undefined;

/**
 * The crypto bound on messages per second per core for the default suite: from this process's
 * protocol run if there was one, else measured now (only the figures it needs, ~15 s).
 */
export function cryptoBound(): Promise<CryptoBound> {
  pendingBound ??= lastFigures ? Promise.resolve(boundOf(lastFigures)) : measureCryptoBound();
  return pendingBound;
}

/** The crypto bound measured now (~15 s): a floor taken beside the figure it is the floor of. */
export async function measureCryptoBound(): Promise<CryptoBound> {
  return boundOf(await measureProtocol({ boundOnly: true }));
}

function boundOf(figures: ProtocolFigures): CryptoBound {
  const bound = figures.bounds.find((b) => b.suite === DEFAULT_SUITE) ?? figures.bounds[0];
  if (!bound) throw new Error('no bound measured');
  const ms = (name: string) =>
    (figures.operations.find((o) => o.name === name)?.usPerOp ?? Number.NaN) / 1000;
  return {
    suite: bound.suite,
    epochMessages: bound.epochMessages,
    perSecond: bound.perSecond,
    senderPerSecond: bound.senderPerSecond,
    receiverPerSecond: bound.receiverPerSecond,
    signVerifyMs: ms(NAMES.sign) + ms(NAMES.verify),
  };
}

// ---- printing -------------------------------------------------------------------------------

const num = (x: number, digits = 0) =>
  x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const us = (x: number) => (x < 10 ? num(x, 2) : x < 100 ? num(x, 1) : num(x));

export function printProtocol(p: ProtocolFigures): void {
  const width = Math.max(...p.operations.map((o) => o.name.length));
  console.log('\n## Protocol');
  console.log(
    `body ${p.bodyBytes} B as JCS; envelope ${Object.entries(p.envelopeBytes)
      .map(([s, n]) => `${n} B (${s})`)
      .join(', ')}; median of ${ROUNDS} rounds of ~${ROUND_MS} ms\n`,
  );
  console.log(
    `${'operation'.padEnd(width)}  ${'µs/op'.padStart(9)}  ${'ops/s'.padStart(9)}  ${'best µs'.padStart(9)}  spread`,
  );
  for (const o of p.operations)
    console.log(
      `${o.name.padEnd(width)}  ${us(o.usPerOp).padStart(9)}  ${num(o.opsPerSecond).padStart(9)}  ${us(o.bestUsPerOp).padStart(9)}  ${num(o.spread * 100)}%`,
    );
  for (const b of p.bounds) {
    console.log(
      `\nBound per core, ${b.suite}, one epoch opening per ${num(b.epochMessages)} messages:`,
    );
    const line = (label: string, usPer: number, share: number) =>
      console.log(
        `  ${label.padEnd(44)} ${us(usPer).padStart(7)} µs  ${num(1e6 / usPer).padStart(7)} msg/s  (epoch share ${us(share)} µs)`,
      );
    line('sender (JCS body + hash + sign + seal)', b.senderUs, b.senderEpochShareUs);
    line('receiver (verify + open + hash + schema)', b.receiverUs, b.receiverEpochShareUs);
    line(
      'both sides on one core',
      b.senderUs + b.receiverUs,
      b.senderEpochShareUs + b.receiverEpochShareUs,
    );
  }
}

/** The entry point for bench/run.ts: measures, prints unless `json`, returns the figures. */
export async function run(options: { json?: boolean } = {}): Promise<ProtocolFigures> {
  const tty = !options.json && process.stderr.isTTY;
  const progress = (name: string) => process.stderr.write(`\r\x1b[K  ${name}…`);
  const figures = await measureProtocol(tty ? { progress } : {});
  if (tty) process.stderr.write('\r\x1b[K');
  if (!options.json) printProtocol(figures);
  return figures;
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
