/**
 * Two parties' keys and cards, made from fixed seeds, and a receiving context over in-memory
 * state: enough to exercise the protocol core without a node.
 */
import { createHash } from 'node:crypto';
import { createCard, signCard } from '../../src/crypto/card.ts';
import { newSalt, sealMessageFor } from '../../src/crypto/envelope.ts';
import { EpochCache, SenderEpochs } from '../../src/crypto/epochs.ts';
import {
  ed25519Key,
  logKeyName,
  NodeKeys,
  type PrivateKey,
  sealingKey,
  witnessKeyName,
} from '../../src/crypto/keys.ts';
import type { PinnedPeer, ReceiveContext } from '../../src/crypto/receive.ts';
import { deriveSealingKey } from '../../src/crypto/seal.ts';
import type { Body } from '../../src/protocol/body.ts';
import type { SignedCard } from '../../src/protocol/card.ts';
import type { Envelope } from '../../src/protocol/envelope.ts';

export const ISSUED = new Date('2026-01-01T00:00:00.000Z');

function seed(label: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`hotline test seed: ${label}`).digest());
}

export interface Party {
  party: string;
  keys: PrivateKey[];
  node: NodeKeys;
  signed: SignedCard;
  recovery: PrivateKey;
}

export async function makeParty(party: string, names: Record<string, string>): Promise<Party> {
  const recovery = ed25519Key('recovery', seed(`${party}/recovery`));
  const keys = [
    ed25519Key('identity', seed(`${party}/identity`)),
    ed25519Key('signing', seed(`${party}/signing`)),
    ed25519Key('log', seed(`${party}/log`), logKeyName(party)),
    ed25519Key('witness', seed(`${party}/witness`), witnessKeyName(party)),
    await sealingKey('x-wing', await deriveSealingKey('x-wing', seed(`${party}/x-wing`))),
    await sealingKey('x25519', await deriveSealingKey('x25519', seed(`${party}/x25519`))),
  ];
  const node = new NodeKeys(keys);
  const card = createCard({
    party,
    names,
    keys: [...keys, recovery].map((k) => k.entry),
    endpoints: [
      { id: 'direct', kind: 'direct', url: `https://${party}.example:7100`, priority: 0 },
    ],
    vocabulary: { version: '0', hash: '0'.repeat(64) },
    issued: ISSUED,
  });
  return { party, keys, node, signed: signCard(card, node.signer('identity').key), recovery };
}

export function body(overrides: Partial<Body> = {}): Body {
  return {
    salt: newSalt(),
    type: 'query',
    precedence: 'flash',
    status: 'exercise',
    tlp: 'amber',
    codes: [],
    text: { lang: 'en', body: 'Is the system isolated?' },
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...overrides,
  } as Body;
}

/** What a receiver holds: pinned peers, its sealing keys, and what it has stored. */
export class Receiver {
  readonly me: Party;
  readonly peers = new Map<string, PinnedPeer>();
  readonly epochs = new EpochCache();
  readonly stored = new Map<string, string>();
  readonly seqs = new Map<string, string>();

  constructor(me: Party, ...peers: Party[]) {
    this.me = me;
    for (const p of peers) this.peers.set(p.party, { card: p.signed.card, retired: [] });
  }

  get ctx(): ReceiveContext {
    return {
      me: this.me.party,
      peer: (party) => this.peers.get(party),
      sealingSecrets: (suite) =>
        this.me.node.sealingKeys(suite as 'x-wing' | 'x25519').map((k) => k.secret),
      epochs: this.epochs,
      seenId: (from, id) => this.stored.get(`${from}\n${id}`),
      seqOwner: (from, seq) => this.seqs.get(`${from}\n${seq}`),
    };
  }

  /** Records an accepted envelope as a node's store would. */
  keep(envelope: Envelope, headerHash: string): void {
    const { header } = envelope;
    this.stored.set(`${header.from}\n${header.id}`, headerHash);
    this.seqs.set(`${header.from}\n${header.seq[this.me.party]}`, header.id);
  }
}

let counter = 0;
/** A fresh UUIDv7-shaped id, increasing. */
export function nextId(): string {
  counter++;
  const hex = counter.toString(16).padStart(12, '0');
  return `01900000-0000-7000-8000-${hex}`;
}

/** Seals `b` from `from` to each recipient with its seq; X-Wing unless told. */
export async function send(
  from: Party,
  recipients: Array<{ to: Party; seq: number }>,
  b: Body,
  options: {
    suite?: 'x-wing' | 'x25519';
    id?: string;
    kind?: 'message' | 'rotation';
    epochs?: SenderEpochs;
  } = {},
) {
  const suite = options.suite ?? 'x-wing';
  const epochs = options.epochs ?? new SenderEpochs(from.party);
  const open: Record<string, Awaited<ReturnType<SenderEpochs['next']>>> = {};
  const seq: Record<string, number> = {};
  for (const { to, seq: n } of recipients) {
    const key = to.signed.card.keys.find((k) => k.purpose === 'sealing' && k.alg === suite);
    if (!key) throw new Error(`no ${suite} key`);
    open[to.party] = await epochs.next(to.party, suite, Buffer.from(key.pub, 'base64url'));
    seq[to.party] = n;
  }
  const kind = options.kind ?? 'message';
  const signer = from.node.signer(kind === 'rotation' ? 'identity' : 'signing');
  return sealMessageFor(
    { kind, id: options.id ?? nextId(), from: from.party, seq, sent: ISSUED, kid: signer.kid },
    b,
    signer.key,
    open,
  );
}
