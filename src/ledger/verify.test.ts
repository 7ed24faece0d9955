import { cpSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPair, draft, eventually, type Pair } from '../../test/support/pair.ts';
import type { RunningNode } from '../app/start.ts';
import { createCard, signCard } from '../crypto/card.ts';
import { generateNodeKeys, NodeKeys } from '../crypto/keys.ts';
import { paths, readNodeKeys } from '../node/core/data.ts';
import { exportLedger } from '../node/record/export.ts';
import type { SignedCard } from '../protocol/card.ts';
import { fromUtf8, sha256, utf8 } from '../protocol/encoding.ts';
import type { CosignatureRecord, EndRecord } from './bundle.ts';
import { type Checkpoint, parseCheckpoint, signCheckpoint } from './checkpoint.ts';
import { cosignatureSigner, cosignCheckpoint } from './cosignature.ts';
import { MemoryHashStore, treeHashSync } from './merkle.ts';
import { ed25519NoteSigner, formatSignatureLine, type NoteSigner, parseNote } from './note.ts';
import { compareViews, verifyBundle } from './verify.ts';

type Rec = Record<string, unknown> & { type: string };

let pair: Pair;
let us: RunningNode;
let cn: RunningNode;
/** The two exports, taken while both nodes ran (and released). */
const bundles: Record<'us' | 'cn', Rec[]> = { us: [], cn: [] };

async function exportRecords(dir: string): Promise<Rec[]> {
  let text = '';
  await exportLedger(dir, (chunk) => {
    text += chunk;
  });
  expect(text.endsWith('\n')).toBe(true);
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Rec);
}

async function receipted(node: RunningNode, to: string, id: string): Promise<void> {
  await eventually(
    async () => ((await node.store.getOutbox(to, id))?.status === 'receipted' ? true : undefined),
    15_000,
    `a verified receipt for ${id}`,
  );
}

/** Sends `n` messages each way and waits for every receipt. */
async function exchange(n: number): Promise<void> {
  const sent: [RunningNode, string, string][] = [];
  for (let i = 0; i < n; i++) {
    const query = await us.node.release(['cn'], draft({ text: { lang: 'en', body: `us ${i}` } }));
    const text = { lang: 'zh', body: `北京 ${i}` };
    const reply = await cn.node.release(
      ['us'],
      draft({ type: 'reply', inReplyTo: query.id, text }),
    );
    sent.push([us, 'cn', query.id], [cn, 'us', reply.id]);
  }
  for (const [node, to, id] of sent) await receipted(node, to, id);
}

const leaves = (records: readonly Rec[]) => records.filter((r) => r.type === 'leaf');
const ofType = (records: readonly Rec[], type: string) =>
  records.flatMap((r, i) => (r.type === type ? [i] : []));

/** cn's witness co-signs us's last checkpoints: what mutual witnessing stores and exports. */
function addCosignatures(records: Rec[], witness: NoteSigner): void {
  const notes = records
    .filter((r) => r.type === 'checkpoint')
    .map((r) => r.note as string)
    .slice(-3);
  const end = records.pop() as EndRecord & Rec;
  for (const note of notes) {
    const checkpoint = parseCheckpoint(parseNote(utf8(note)).text);
    const line = formatSignatureLine(cosignCheckpoint(checkpoint, witness));
    const record: CosignatureRecord = {
      type: 'cosignature',
      log: 'us',
      by: 'cn',
      size: checkpoint.size,
      line,
    };
    records.push(record as unknown as Rec);
    end.cosignatures++;
  }
  records.push(end);
}

beforeAll(async () => {
  pair = await createPair();
  us = await pair.start(pair.us);
  cn = await pair.start(pair.cn);
  await exchange(1);
  // Export while the nodes run and write: releases race the export's read snapshot.
  const racing = [us.node.release(['cn'], draft()), cn.node.release(['us'], draft())];
  [bundles.us, bundles.cn] = await Promise.all([
    exportRecords(pair.us.dir),
    exportRecords(pair.cn.dir),
  ]);
  await Promise.all(racing);
  const keys = readNodeKeys(pair.cn.dir).get('witness');
  addCosignatures(
    bundles.us,
    cosignatureSigner(keys.entry.name ?? '', keys.secret, () => 1_800_000_000),
  );
}, 60_000);

afterAll(async () => {
  await pair.close();
});

describe('hotline export and verify', () => {
  test('both exports verify alone, and together their views of the conversation match', () => {
    const a = verifyBundle(bundles.us);
    const b = verifyBundle(bundles.cn);
    expect(a.report.failures).toEqual([]);
    expect(b.report.failures).toEqual([]);
    // The releases racing the export are in it or not, whole.
    const { envelopes, bodies, cards } = a.report.counts;
    expect(cards).toBe(2);
    expect(envelopes.out).toBeGreaterThanOrEqual(1);
    expect(envelopes.in).toBeGreaterThanOrEqual(1);
    expect(bodies).toBe(envelopes.out + envelopes.in);
    expect(a.report.counts.receipts.in).toBeGreaterThan(0);
    expect(a.report.counts.receipts.out).toBeGreaterThan(0);
    expect(a.report.counts.proofs).toBeGreaterThanOrEqual(2);
    expect(a.report.counts.cosignatures).toBeGreaterThanOrEqual(
      Math.min(3, a.report.counts.checkpoints),
    );
    const views = compareViews(a.view as never, b.view as never);
    expect(views.failures).toEqual([]);
    expect(views.ok).toBe(true);
    expect(views.matched).toBeGreaterThanOrEqual(2);
    expect(views.checkpoints).toBeGreaterThan(0);
  });

  test('a withheld body breaks no proof', () => {
    const withheld = bundles.us.map((r) => {
      if (r.type !== 'leaf' || r.body === undefined) return r;
      const { body: _body, ...rest } = r;
      return rest as Rec;
    });
    const end = withheld.at(-1) as Rec & EndRecord;
    withheld[withheld.length - 1] = { ...end, bodies: 0 };
    const { report } = verifyBundle(withheld);
    expect(report.failures).toEqual([]);
    expect(report.counts.bodies).toBe(0);
    expect(report.counts.withheld).toBe(report.counts.envelopes.out + report.counts.envelopes.in);
  });

  test('a message still in flight, or released after the other export, is reported, not failed', async () => {
    const before = verifyBundle(await exportRecords(pair.us.dir));
    await pair.stop(pair.cn);
    const { id } = await us.node.release(['cn'], draft({ precedence: 'flash' }));
    const [a, b] = [
      verifyBundle(await exportRecords(pair.us.dir)),
      verifyBundle(await exportRecords(pair.cn.dir)),
    ];
    expect([a.report.ok, b.report.ok]).toEqual([true, true]);
    const inFlight = compareViews(a.view as never, b.view as never);
    expect(inFlight.ok).toBe(true);
    expect(inFlight.notYetReceived).toContainEqual(
      expect.objectContaining({
        from: 'us',
        to: 'cn',
        id,
        reason: expect.stringMatching(/newest on the channel/),
      }),
    );
    cn = await pair.start(pair.cn);
    await receipted(us, 'cn', id);
    const after = verifyBundle(await exportRecords(pair.cn.dir));
    const late = compareViews(before.view as never, after.view as never);
    expect(late.ok).toBe(true);
    expect(late.notYetReceived).toContainEqual(
      expect.objectContaining({
        id,
        reason: expect.stringMatching(/released after "us"'s export/),
      }),
    );
  });

  test('a leaf altered in the database after the fact is caught: the export signs no altered root', async () => {
    await pair.stop(pair.us);
    const copy = join(pair.root, 'us-altered');
    cpSync(pair.us.dir, copy, { recursive: true });
    us = await pair.start(pair.us);
    const db = new Database(paths(copy).db);
    db.prepare(
      `update ledger_leaves set leaf = replace(leaf, '"at":"2', '"at":"1')
       where idx = (select max(idx) from ledger_leaves)`,
    ).run();
    db.close();
    const { report } = verifyBundle(await exportRecords(copy));
    expect(report.ok).toBe(false);
    expect(report.failures.map((f) => f.message)).toContainEqual(
      expect.stringMatching(/checkpoint of size \d+ does not have the recomputed tree's root/),
    );
  });

  test('the views of two ledgers that disagree do not match', () => {
    // cn's bundle with one received envelope fewer at the end of the log is still a valid
    // bundle of another log — but us holds cn's receipt for it.
    const a = verifyBundle(bundles.us).view;
    const b = verifyBundle(bundles.cn).view;
    if (!a || !b) throw new Error('no views');
    const received = [...b.received.values()][0];
    if (!received) throw new Error('cn received nothing');
    b.received.delete(`us\n${received.id}`);
    const views = compareViews(a, b);
    expect(views.ok).toBe(false);
    expect(views.failures[0]?.message).toMatch(/receipt for it/);
  });
});

// The tamperings: each names what it changes; every one must be caught.
const KINDS = [
  'leaf-byte',
  'drop-leaf',
  'swap-leaves',
  'checkpoint-other-tree',
  'checkpoint-edited',
  'forge-cosignature',
  'change-body',
  'change-card',
] as const;
type Kind = (typeof KINDS)[number];

interface Tamper {
  kind: Kind;
  /** Which record of that kind, modulo their count. */
  pick: number;
  /** A second pick (the other leaf of a swap, a byte position). */
  other: number;
  variant: number;
  byte: number;
}

describe('tampering', () => {
  test('every one of 1,000 random tamperings of an export is caught, of every kind', async () => {
    const base = bundles.us;
    expect(verifyBundle(base).report.ok).toBe(true);
    const logKey = readNodeKeys(pair.us.dir).get('log');
    const log = ed25519NoteSigner(logKey.entry.name ?? '', logKey.secret);
    const witnessKey = readNodeKeys(pair.cn.dir).get('witness');
    const witness = cosignatureSigner(
      witnessKey.entry.name ?? '',
      witnessKey.secret,
      () => 1_800_000_001,
    );
    const strangers = { us: await strangerCard('us'), cn: await strangerCard('cn') };
    const ctx: Context = { base, log, witness, strangers };
    const original = JSON.stringify(base);
    const made = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
    fc.assert(
      fc.property(
        fc.record({
          kind: fc.constantFrom(...KINDS),
          pick: fc.nat(),
          other: fc.nat(),
          variant: fc.nat(),
          byte: fc.integer({ min: 1, max: 255 }),
        }),
        (t) => {
          const tampered = tamper(ctx, t);
          fc.pre(tampered !== undefined && JSON.stringify(tampered) !== original);
          made[t.kind]++;
          const { report } = verifyBundle(tampered as Rec[]);
          return !report.ok && report.failures.length > 0;
        },
      ),
      { seed: 20_251_126, numRuns: 1000 },
    );
    const total = Object.values(made).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThanOrEqual(1000);
    for (const kind of KINDS) expect(made[kind], kind).toBeGreaterThan(50);
  }, 60_000);
});

interface Context {
  base: Rec[];
  log: NoteSigner;
  witness: NoteSigner;
  strangers: Record<'us' | 'cn', SignedCard>;
}

/** A valid card of the same party with other keys: a replacement no signature will match. */
async function strangerCard(party: string): Promise<SignedCard> {
  const keys = await generateNodeKeys(party);
  const card = createCard({
    party,
    names: { en: 'Impostor' },
    keys: keys.map((k) => k.entry),
    endpoints: [{ id: 'direct', kind: 'direct', url: 'http://127.0.0.1:1', priority: 0 }],
    vocabulary: { version: '0', hash: '0'.repeat(64) },
    issued: new Date(),
  });
  return signCard(card, new NodeKeys(keys).signer('identity').key);
}

function tamper(ctx: Context, t: Tamper): Rec[] | undefined {
  const records = ctx.base.slice();
  const at = (indexes: number[], n: number) => indexes[n % indexes.length];
  const leafAt = ofType(records, 'leaf');
  switch (t.kind) {
    case 'leaf-byte': {
      const i = at(leafAt, t.pick) as number;
      const bytes = Buffer.from((records[i] as Rec).leaf as string, 'utf8');
      const k = t.other % bytes.length;
      bytes[k] = (bytes[k] as number) ^ t.byte;
      records[i] = { ...(records[i] as Rec), leaf: new TextDecoder().decode(bytes) };
      return records;
    }
    case 'drop-leaf': {
      const i = at(leafAt, t.pick) as number;
      records.splice(i, 1);
      if (t.variant % 2) renumber(records);
      return records;
    }
    case 'swap-leaves': {
      const i = at(leafAt, t.pick) as number;
      const j = at(leafAt, t.other) as number;
      if ((records[i] as Rec).leaf === (records[j] as Rec).leaf) return undefined;
      [records[i], records[j]] = [records[j] as Rec, records[i] as Rec];
      if (t.variant % 2) renumber(records);
      return records;
    }
    case 'checkpoint-other-tree': {
      const i = at(ofType(records, 'checkpoint'), t.pick) as number;
      const old = checkpointOf(records[i] as Rec);
      const size = t.variant % 3 === 2 ? leaves(records).length + 1 + (t.other % 5) : old.size;
      const root =
        t.variant % 3 === 1 && size > 0
          ? otherTreeRoot(records, size, t.other, t.byte)
          : randomBytesOf(t.other);
      const note = fromUtf8(signCheckpoint({ ...old, size, root }, ctx.log));
      records[i] = { ...(records[i] as Rec), note };
      return records;
    }
    case 'checkpoint-edited': {
      const i = at(ofType(records, 'checkpoint'), t.pick) as number;
      const note = (records[i] as Rec).note as string;
      const k = t.other % note.length;
      const replaced = String.fromCharCode(note.charCodeAt(k) ^ (t.byte & 0x3f || 1));
      records[i] = {
        ...(records[i] as Rec),
        note: note.slice(0, k) + replaced + note.slice(k + 1),
      };
      return records;
    }
    case 'forge-cosignature': {
      const i = at(ofType(records, 'cosignature'), t.pick) as number;
      const record = records[i] as Rec & CosignatureRecord;
      records[i] = forgeCosignature(ctx, record, t) as unknown as Rec;
      return records;
    }
    case 'change-body': {
      const withBody = leafAt.filter((i) => (records[i] as Rec).body !== undefined);
      const i = at(withBody, t.pick) as number;
      const body = structuredClone((records[i] as Rec).body) as Record<string, unknown>;
      const changes = [
        () => {
          body.text = { lang: 'en', body: `forged ${t.other}` };
        },
        () => {
          body.precedence = body.precedence === 'flash' ? 'routine' : 'flash';
        },
        () => {
          body.salt = Buffer.from(randomBytesOf(t.other).subarray(0, 16)).toString('base64url');
        },
        () => {
          body.extra = t.other;
        },
        () => {
          delete body.author;
        },
      ];
      (changes[t.variant % changes.length] as () => void)();
      records[i] = { ...(records[i] as Rec), body };
      return records;
    }
    case 'change-card': {
      const i = at(ofType(records, 'card'), t.pick) as number;
      const record = structuredClone(records[i] as Rec) as Rec & {
        signed: SignedCard;
        role: string;
      };
      const { card } = record.signed;
      const changes = [
        () => {
          card.names.en = `${card.names.en} ${t.other}`;
        },
        () => {
          const key = card.keys[t.other % card.keys.length];
          if (key) key.pub = flipChar(key.pub, t.byte);
        },
        () => {
          card.serial++;
        },
        () => {
          record.signed = ctx.strangers[card.party as 'us' | 'cn'];
        },
        () => {
          record.role = record.role === 'self' ? 'peer' : 'self';
        },
      ];
      (changes[t.variant % changes.length] as () => void)();
      records[i] = record;
      return records;
    }
  }
}

/** Leaf records numbered 0… again, in their current order. */
function renumber(records: Rec[]): void {
  let n = 0;
  for (const [i, r] of records.entries()) if (r.type === 'leaf') records[i] = { ...r, index: n++ };
}

function checkpointOf(record: Rec): Checkpoint {
  return parseCheckpoint(parseNote(utf8(record.note as string)).text);
}

/** The root at `size` of the tree with one leaf changed: another tree, same size. */
function otherTreeRoot(records: Rec[], size: number, pick: number, byte: number): Uint8Array {
  const store = new MemoryHashStore();
  const texts = leaves(records).map((r) => r.leaf as string);
  const changed = pick % Math.min(size, texts.length);
  for (const [i, text] of texts.entries()) {
    const bytes = utf8(text);
    if (i === changed) bytes[0] = (bytes[0] as number) ^ byte;
    store.append(bytes);
  }
  return treeHashSync(Math.min(size, store.size), store);
}

function forgeCosignature(ctx: Context, record: CosignatureRecord, t: Tamper): CosignatureRecord {
  const variants = [
    // a flipped byte in the signature line (key id, timestamp or signature)
    () => {
      const [prefix, name, b64] = record.line.trimEnd().split(' ') as [string, string, string];
      const raw = Buffer.from(b64, 'base64');
      const k = t.other % raw.length;
      raw[k] = (raw[k] as number) ^ t.byte;
      return { ...record, line: `${prefix} ${name} ${raw.toString('base64')}\n` };
    },
    // the same line claimed for another size
    () => ({ ...record, size: (record.size + 1 + (t.other % 3)) % (leaves(ctx.base).length + 1) }),
    // the witness's real key on another tree of that size
    () => {
      const checkpoint: Checkpoint = {
        origin: ctx.log.name,
        size: record.size,
        root: randomBytesOf(t.other),
        extensions: [],
      };
      return { ...record, line: formatSignatureLine(cosignCheckpoint(checkpoint, ctx.witness)) };
    },
    // another key under the witness's name
    () => {
      const impostor = cosignatureSigner(
        ctx.witness.name,
        randomBytesOf(t.other),
        () => 1_800_000_002,
      );
      const size = record.size;
      const root = treeHashSync(size, treeOf(ctx.base));
      const checkpoint: Checkpoint = { origin: ctx.log.name, size, root, extensions: [] };
      return { ...record, line: formatSignatureLine(cosignCheckpoint(checkpoint, impostor)) };
    },
    // claimed by the log itself
    () => ({ ...record, by: 'us' }),
  ];
  return (variants[t.variant % variants.length] as () => CosignatureRecord)();
}

const trees = new WeakMap<Rec[], MemoryHashStore>();
function treeOf(records: Rec[]): MemoryHashStore {
  let store = trees.get(records);
  if (!store) {
    store = new MemoryHashStore();
    for (const r of leaves(records)) store.append(utf8(r.leaf as string));
    trees.set(records, store);
  }
  return store;
}

/** 32 bytes derived from a number, so the run depends on the seed alone. */
function randomBytesOf(n: number): Uint8Array {
  return sha256(utf8(`tamper ${n}`));
}

function flipChar(text: string, byte: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const k = byte % text.length;
  const c = text[k] as string;
  const next = alphabet[(alphabet.indexOf(c) + 1 + (byte % 60)) % alphabet.length] as string;
  return text.slice(0, k) + next + text.slice(k + 1);
}
