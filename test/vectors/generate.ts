/**
 * Golden vectors for protocol version 1 (docs/protocol.md § Golden vectors), written from fixed
 * inputs by the reference code:
 *
 *   npx tsx test/vectors/generate.ts
 *
 * writes keys.json, cards.json, envelopes.json, statements.json and leaves.json beside this file.
 * Nothing here is random: Ed25519 keys come from fixed seeds, sealing keys from
 * deriveSealingKey(suite, ikm) (RFC 9180 DeriveKeyPair), and each epoch from a fixed epoch id and
 * a fixed `ekm` (the encapsulation's randomness). src/crypto/vectors.test.ts checks that the code
 * still produces every byte, and checks the bytes again with independent implementations.
 *
 * The fixed parties are exported for the tests, which need real keys and cards but no files.
 */
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCard, fingerprint, signCard } from '../../src/crypto/card.ts';
import { LABELS, SIGNATURE_CONTEXTS } from '../../src/crypto/context.ts';
import { type HeaderInput, sealMessageFor } from '../../src/crypto/envelope.ts';
import {
  ed25519Key,
  logKeyName,
  NodeKeys,
  type PrivateKey,
  sealingKey,
  witnessKeyName,
} from '../../src/crypto/keys.ts';
import {
  deriveSealingKey,
  epochInfo,
  messageKey,
  openSenderEpoch,
  type SenderEpoch,
  type SuiteName,
} from '../../src/crypto/seal.ts';
import { signHeartbeat, signReceipt } from '../../src/crypto/statements.ts';
import type { Body } from '../../src/protocol/body.ts';
import type { Card, SignedCard } from '../../src/protocol/card.ts';
import {
  fromBase64url,
  sha256,
  toBase64url,
  toHex,
  utf8,
} from '../../src/protocol/encoding.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';
import type { Heartbeat } from '../../src/protocol/heartbeat.ts';
import { jcs, jcsBytes } from '../../src/protocol/jcs.ts';
import type { EnvelopeLeaf, EventLeaf, Leaf, ReceiptLeaf } from '../../src/protocol/leaf.ts';
import type { Receipt, SignedReceipt } from '../../src/protocol/receipt.ts';

// ---------------------------------------------------------------------------------------------
// The fixed parties

/** Each party's seeds are 32 copies of one byte: its base plus the key's slot. */
export const PARTY_BASES = { us: 0x00, cn: 0x10, eu: 0x20 } as const;
export type PartyName = keyof typeof PARTY_BASES;

/** The slot of each key; Washington's identity seed is 32 × 0x01 and recovery 32 × 0x02. */
export const KEY_SLOTS = {
  identity: 1,
  recovery: 2,
  signing: 3,
  log: 4,
  witness: 5,
  'sealing/x-wing': 6,
  'sealing/x25519': 7,
} as const;
export type KeySlot = keyof typeof KEY_SLOTS;

export function fixedSeed(byte: number): Uint8Array {
  return new Uint8Array(32).fill(byte);
}

const NAMES: Record<PartyName, Record<string, string>> = {
  us: { en: 'Washington', zh: '华盛顿' },
  cn: { en: 'Beijing', zh: '北京' },
  eu: { en: 'Brussels', fr: 'Bruxelles' },
};

export const ISSUED = new Date('2025-01-01T00:00:00.000Z');
export const VOCABULARY = {
  version: '2025.1',
  hash: toHex(sha256(utf8('hotline vocabulary 2025.1'))),
};

/** The seed (Ed25519) or ikm (sealing) byte of one key of one party. */
export function seedByte(party: PartyName, slot: KeySlot): number {
  return PARTY_BASES[party] + KEY_SLOTS[slot];
}

/** Every key of a fixed party, in card order; the recovery key last, as a node generates them. */
export async function fixedKeys(party: PartyName): Promise<PrivateKey[]> {
  const seed = (slot: KeySlot) => fixedSeed(seedByte(party, slot));
  return [
    ed25519Key('identity', seed('identity')),
    ed25519Key('signing', seed('signing')),
    ed25519Key('log', seed('log'), logKeyName(party)),
    ed25519Key('witness', seed('witness'), witnessKeyName(party)),
    await sealingKey('x-wing', await deriveSealingKey('x-wing', seed('sealing/x-wing'))),
    await sealingKey('x25519', await deriveSealingKey('x25519', seed('sealing/x25519'))),
    ed25519Key('recovery', seed('recovery')),
  ];
}

/** A card of `party` listing `keys`, signed by the identity key among them. */
export function fixedCard(party: string, keys: readonly PrivateKey[], serial = 1): SignedCard {
  const card = createCard({
    party,
    names: NAMES[party as PartyName] ?? { en: party },
    keys: keys.map((k) => k.entry),
    endpoints: [
      { id: 'direct', kind: 'direct', url: `https://hotline.${party}.example:8443`, priority: 0 },
      {
        id: 'relay-geneva',
        kind: 'relay',
        url: `https://relay.geneva.example/${party}`,
        priority: 50,
      },
    ],
    vocabulary: VOCABULARY,
    serial,
    issued: ISSUED,
  });
  return signCard(card, new NodeKeys(keys).signer('identity').key);
}

export interface FixedParty {
  id: PartyName;
  keys: PrivateKey[];
  node: NodeKeys;
  signed: SignedCard;
  card: Card;
}

export async function fixedParty(id: PartyName): Promise<FixedParty> {
  const keys = await fixedKeys(id);
  const signed = fixedCard(id, keys);
  return { id, keys, node: new NodeKeys(keys), signed, card: signed.card };
}

// ---------------------------------------------------------------------------------------------
// The vectors

const HERE = dirname(fileURLToPath(import.meta.url));

function write(name: string, value: unknown): void {
  writeFileSync(join(HERE, name), `${JSON.stringify(value, null, 2)}\n`);
}

const bytesFrom = (first: number, length: number) =>
  Uint8Array.from({ length }, (_, i) => (first + i) & 0xff);

const INCIDENT = '01954f7a-3c00-7a00-8000-00000000a001';
const MESSAGE_IDS = {
  report: '01954f7a-3c00-7a00-8000-000000000001',
  test: '01954f7a-3c00-7a00-8000-000000000002',
  notice: '01954f7a-3c00-7a00-8000-000000000003',
};
const RECEIVED_AT = '2025-03-01T12:00:01.250Z';

const STIX = utf8('{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000"}');

const BODIES: Record<keyof typeof MESSAGE_IDS, Body> = {
  report: {
    salt: toBase64url(bytesFrom(0x00, 16)),
    type: 'incident.report',
    incident: INCIDENT,
    precedence: 'flash',
    status: 'exercise',
    tlp: 'amber',
    codes: ['phrase.request-call'],
    text: {
      lang: 'en',
      body: 'EXERCISE. An autonomous agent is probing grid control systems. Please confirm receipt.',
    },
    translations: [
      { lang: 'zh', body: '演习。一个自主智能体正在探测电网控制系统。请确认收到。' },
    ],
    attachments: [
      {
        name: 'indicators.json',
        mediaType: 'application/stix+json',
        sha256: toHex(sha256(STIX)),
        data: toBase64url(STIX),
      },
    ],
    author: { desk: 'ops' },
    approvals: [{ desk: 'duty-officer', at: '2025-03-01T11:59:30.000Z' }],
    report: {
      nature: 'incident',
      category: 'category.autonomous-unpredictable',
      harm: {
        types: ['harm.critical-infrastructure'],
        severity: 'severity.high',
        reversibility: 'unknown',
      },
      attribution: { actor: 'unknown', confidence: 'low' },
      actionsTaken: ['action.isolate-systems'],
      actionsRequested: ['action.confirm-receipt'],
      evidencePreserved: true,
      respondBy: '2025-03-01T12:10:00.000Z',
    },
  },
  test: {
    salt: toBase64url(bytesFrom(0x10, 16)),
    type: 'test',
    precedence: 'routine',
    status: 'test',
    tlp: 'clear',
    codes: [],
    text: { lang: 'en', body: 'Routine link test. Please answer.' },
    translations: [{ lang: 'zh', body: '例行线路测试。请回答。' }],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
  },
  notice: {
    salt: toBase64url(bytesFrom(0x20, 16)),
    type: 'notice',
    precedence: 'routine',
    status: 'actual',
    tlp: 'green',
    codes: [],
    text: { lang: 'en', body: 'A large training run starts on 10 March and lasts 30 days.' },
    translations: [],
    attachments: [],
    author: { desk: 'ops', person: 'J. Doe' },
    approvals: [],
    notice: {
      subject: 'notice.large-training-run',
      from: '2025-03-10T00:00:00.000Z',
      until: '2025-04-09T00:00:00.000Z',
    },
  },
};

interface EpochPlan {
  to: PartyName;
  suite: SuiteName;
  id: Uint8Array;
  ekm: Uint8Array;
}

interface MessagePlan {
  name: string;
  body: Body;
  header: HeaderInput;
  epochs: EpochPlan[];
}

function sealingPub(party: FixedParty, suite: SuiteName): Uint8Array {
  const key = party.keys.find((k) => k.entry.purpose === 'sealing' && k.entry.alg === suite);
  if (!key) throw new Error(`${party.id} has no ${suite} key`);
  return fromBase64url(key.entry.pub);
}

const hexOf = (bytes: Uint8Array) => toHex(bytes);

async function messageVector(plan: MessagePlan, parties: Record<PartyName, FixedParty>) {
  const from = parties[plan.header.from as PartyName];
  const epochs: Record<string, SenderEpoch> = {};
  for (const e of plan.epochs)
    epochs[e.to] = await openSenderEpoch(
      e.suite,
      sealingPub(parties[e.to], e.suite),
      from.id,
      e.to,
      e.id,
      e.ekm,
    );
  const sealed = sealMessageFor(plan.header, plan.body, from.node.signer('signing').key, epochs);
  const headerBytes = jcsBytes(sealed.header);
  return {
    name: plan.name,
    body: plan.body,
    bodyJcs: jcs(plan.body),
    bodyHash: sealed.header.bodyHash,
    header: sealed.header,
    headerJcs: jcs(sealed.header),
    headerHash: sealed.headerHash,
    signer: { party: from.id, purpose: 'signing', seed: hexOf(fixedSeed(seedByte(from.id, 'signing'))) },
    sig: sealed.sig,
    recipients: plan.epochs.map((e) => {
      const epoch = epochs[e.to] as SenderEpoch;
      const envelope = sealed.envelopes[e.to] as Envelope;
      return {
        to: e.to,
        suite: e.suite,
        recipientSealingKid: parties[e.to].keys.find(
          (k) => k.entry.purpose === 'sealing' && k.entry.alg === e.suite,
        )?.entry.kid,
        epoch: {
          id: hexOf(e.id),
          ekm: hexOf(e.ekm),
          info: hexOf(epochInfo(from.id, e.to, e.id)),
          enc: hexOf(epoch.enc),
          secret: hexOf(epoch.secret),
        },
        messageKey: hexOf(messageKey(epoch.secret, sha256(headerBytes))),
        sealed: envelope.sealed,
        sealedJcs: jcs(envelope.sealed),
        sealedHash: hexOf(sha256(jcsBytes(envelope.sealed))),
        envelope,
      };
    }),
  };
}

type MessageVector = Awaited<ReturnType<typeof messageVector>>;

function envelopeOf(message: MessageVector, to: string): Envelope {
  const recipient = message.recipients.find((r) => r.to === to);
  if (!recipient) throw new Error(`${message.name} was not sent to ${to}`);
  return recipient.envelope;
}

function envelopeLeafOf(dir: 'in' | 'out', at: string, envelope: Envelope): EnvelopeLeaf {
  return {
    leaf: 'envelope',
    dir,
    at,
    header: envelope.header,
    sig: envelope.sig,
    sealedHash: toHex(sha256(jcsBytes(envelope.sealed))),
  };
}

/** RFC 9162 §2.1.1: leaf = SHA-256(0x00 ‖ data), node = SHA-256(0x01 ‖ left ‖ right). */
const leafHash = (leaf: Leaf) => sha256(Uint8Array.of(0), jcsBytes(leaf));
const nodeHash = (left: Uint8Array, right: Uint8Array) => sha256(Uint8Array.of(1), left, right);

function leafVector(name: string, leaf: Leaf) {
  return { name, leaf, jcs: jcs(leaf), hash: toHex(leafHash(leaf)) };
}

async function main(): Promise<void> {
  const parties: Record<PartyName, FixedParty> = {
    us: await fixedParty('us'),
    cn: await fixedParty('cn'),
    eu: await fixedParty('eu'),
  };
  const names = Object.keys(parties) as PartyName[];

  write('keys.json', {
    description:
      'The fixed keys of three parties. Ed25519 keys come from 32-byte seeds (RFC 8032 §5.1.5); ' +
      'sealing keys from deriveSealingKey(suite, ikm) = RFC 9180 DeriveKeyPair (X-Wing: the ' +
      'private key is SHAKE256(ikm, 32)). pub is base64url of the raw public key; kid = ' +
      'hex(SHA-256("hotline/v1/kid\\n" ‖ alg ‖ "\\n" ‖ pub)[0..16]).',
    labels: { ...SIGNATURE_CONTEXTS, ...LABELS },
    parties: Object.fromEntries(
      names.map((id) => [
        id,
        parties[id].keys.map((key) => {
          const slot = (
            key.entry.purpose === 'sealing' ? `sealing/${key.entry.alg}` : key.entry.purpose
          ) as KeySlot;
          const input = hexOf(fixedSeed(seedByte(id, slot)));
          return key.entry.purpose === 'sealing'
            ? { ...key.entry, ikm: input, secret: hexOf(key.secret) }
            : { ...key.entry, seed: input };
        }),
      ]),
    ),
  });

  write('cards.json', {
    description:
      'Each party\'s card, JCS(card), the SignedCard (sig = Ed25519(identity, "hotline/v1/card\\n" ' +
      '‖ JCS(card))), and the fingerprint: SHA-256("hotline/v1/fingerprint\\n" ‖ party ‖ "\\n" ‖ ' +
      'identityPub ‖ recoveryPub) as a big-endian integer mod 10^40, in 8 groups of 5 digits.',
    cards: Object.fromEntries(
      names.map((id) => {
        const { card, signed } = parties[id];
        const identity = card.keys.find((k) => k.purpose === 'identity');
        const recovery = card.keys.find((k) => k.purpose === 'recovery');
        if (!identity || !recovery) throw new Error('fixed card without identity or recovery');
        const digest = sha256(
          utf8(`${LABELS.fingerprint}${id}\n`),
          fromBase64url(identity.pub),
          fromBase64url(recovery.pub),
        );
        return [
          id,
          { card, jcs: jcs(card), signed, fingerprintDigest: hexOf(digest), fingerprint: fingerprint(card) },
        ];
      }),
    ),
  });

  const plans: MessagePlan[] = [
    {
      name: 'flash report, x-wing',
      body: BODIES.report,
      header: {
        kind: 'message',
        id: MESSAGE_IDS.report,
        from: 'us',
        seq: { cn: 1 },
        sent: new Date('2025-03-01T12:00:00.000Z'),
        kid: parties.us.node.get('signing').entry.kid,
      },
      epochs: [{ to: 'cn', suite: 'x-wing', id: new Uint8Array(16).fill(0xab), ekm: bytesFrom(0x40, 64) }],
    },
    {
      name: 'link test, x25519',
      body: BODIES.test,
      header: {
        kind: 'message',
        id: MESSAGE_IDS.test,
        from: 'us',
        seq: { cn: 2 },
        sent: new Date('2025-03-01T12:00:00.500Z'),
        kid: parties.us.node.get('signing').entry.kid,
      },
      epochs: [{ to: 'cn', suite: 'x25519', id: new Uint8Array(16).fill(0xcd), ekm: bytesFrom(0x80, 32) }],
    },
    {
      name: 'notice to two recipients, one header',
      body: BODIES.notice,
      header: {
        kind: 'message',
        id: MESSAGE_IDS.notice,
        from: 'us',
        seq: { cn: 3, eu: 1 },
        sent: new Date('2025-03-01T12:00:01.000Z'),
        kid: parties.us.node.get('signing').entry.kid,
      },
      epochs: [
        { to: 'cn', suite: 'x-wing', id: new Uint8Array(16).fill(0xa1), ekm: bytesFrom(0xc0, 64) },
        { to: 'eu', suite: 'x25519', id: new Uint8Array(16).fill(0xa2), ekm: bytesFrom(0xe0, 32) },
      ],
    },
  ];
  const messages: MessageVector[] = [];
  for (const plan of plans) messages.push(await messageVector(plan, parties));
  const [report, test] = messages as [MessageVector, MessageVector, MessageVector];

  write('envelopes.json', {
    description:
      'Envelopes from us. bodyHash = hex(SHA-256(JCS(body))); sig = Ed25519(signing, ' +
      '"hotline/v1/envelope\\n" ‖ JCS(header)). Per recipient, the epoch opens with HPKE base mode ' +
      '(RFC 9180) to its sealing key, info = "hotline/v1/epoch\\n" ‖ from ‖ "\\n" ‖ to ‖ "\\n" ‖ ' +
      'epoch id, with the encapsulation randomness ekm; secret = Export("hotline/v1/epoch-secret\\n", ' +
      '32); messageKey = HKDF-Expand-SHA256(secret, "hotline/v1/msg\\n" ‖ SHA-256(JCS(header)), 32); ' +
      'ct = AES-256-GCM(messageKey, nonce = 12 zero bytes, aad = JCS(header), JCS(body)) ‖ tag. ' +
      'sealedHash = hex(SHA-256(JCS(sealed))). Hex fields are raw bytes; envelopes are as on the wire.',
    messages,
  });

  // Beijing's log after receiving the first two envelopes: one leaf each, in order.
  const inLeaves = [
    envelopeLeafOf('in', RECEIVED_AT, envelopeOf(report, 'cn')),
    envelopeLeafOf('in', RECEIVED_AT, envelopeOf(test, 'cn')),
  ] as const;
  const inHashes = inLeaves.map(leafHash) as [Uint8Array, Uint8Array];
  const root = nodeHash(...inHashes);
  // The ledger is loaded only to write vectors, so the tests sharing the fixed parties need not.
  const { signCheckpoint } = await import('../../src/ledger/checkpoint.ts');
  const { ed25519NoteSigner } = await import('../../src/ledger/note.ts');
  const checkpoint = new TextDecoder().decode(
    signCheckpoint(
      { origin: logKeyName('cn'), size: 2, root, extensions: [] },
      ed25519NoteSigner(logKeyName('cn'), fixedSeed(seedByte('cn', 'log'))),
    ),
  );

  const receipt: Receipt = {
    v: 1,
    from: 'cn',
    to: 'us',
    kid: parties.cn.node.get('signing').entry.kid,
    issued: RECEIVED_AT,
    entries: [report, test].map((m, index) => ({
      id: m.header.id,
      headerHash: m.headerHash,
      receivedAt: RECEIVED_AT,
      index,
      proof: [toHex(inHashes[1 - index] as Uint8Array)],
    })),
    checkpoint,
  };
  const signedReceipt: SignedReceipt = signReceipt(receipt, parties.cn.node.signer('signing').key);

  const heartbeat: Heartbeat = {
    v: 1,
    from: 'cn',
    to: 'us',
    path: 'direct',
    kid: parties.cn.node.get('signing').entry.kid,
    sent: '2025-03-01T12:00:02.000Z',
    nonce: toBase64url(bytesFrom(0x30, 16)),
    echo: toBase64url(bytesFrom(0x50, 16)),
    received: { contiguous: 3, ranges: [[5, 6]] },
    checkpoint,
    card: 1,
  };
  const signedHeartbeat = signHeartbeat(heartbeat, parties.cn.node.signer('signing').key);

  write('statements.json', {
    description:
      'Beijing\'s receipt for the first two envelopes and a heartbeat. sig = Ed25519(signing, ' +
      '"hotline/v1/receipt\\n" ‖ JCS(receipt)) and Ed25519(signing, "hotline/v1/heartbeat\\n" ‖ ' +
      'JCS(heartbeat)). The checkpoint is a C2SP signed note by Beijing\'s log key over its tree of ' +
      'the two envelope leaves in leaves.json; each entry\'s proof is the other leaf\'s hash.',
    signer: { party: 'cn', purpose: 'signing', seed: hexOf(fixedSeed(seedByte('cn', 'signing'))) },
    receipt: { jcs: jcs(receipt), signed: signedReceipt },
    heartbeat: { jcs: jcs(heartbeat), signed: signedHeartbeat },
  });

  const receiptLeaf: ReceiptLeaf = { leaf: 'receipt', dir: 'out', at: RECEIVED_AT, receipt: signedReceipt };
  const skew: EventLeaf = {
    leaf: 'event',
    type: 'skew',
    at: RECEIVED_AT,
    detail: { from: 'us', id: MESSAGE_IDS.report, sent: report.header.sent },
  };
  write('leaves.json', {
    description:
      'Ledger leaves and leaf hashes: hash = SHA-256(0x00 ‖ JCS(leaf)) (RFC 9162 §2.1.1). The first ' +
      'two are Beijing\'s log (tree size 2, root = SHA-256(0x01 ‖ hash0 ‖ hash1)), then the leaf ' +
      'Washington wrote when it released the first envelope, the receipt Beijing issued, and an event.',
    leaves: [
      leafVector('envelope in: flash report', inLeaves[0]),
      leafVector('envelope in: link test', inLeaves[1]),
      leafVector('envelope out: flash report', envelopeLeafOf('out', report.header.sent, envelopeOf(report, 'cn'))),
      leafVector('receipt out', receiptLeaf),
      leafVector('event: skew', skew),
    ],
    tree: { leaves: [0, 1], size: 2, root: toHex(root) },
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) await main();
