/**
 * Beijing's checks on what arrives from Washington (docs/protocol.md § Receiving): every
 * rejection code from a crafted envelope, duplicates and equivocation, retired keys, rotations,
 * the epoch cache, and tampering with every field of the header, the body and the sealed part.
 */

import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { type FixedParty, fixedCard, fixedKeys, fixedParty } from '../../test/vectors/generate.ts';
import type { Body } from '../protocol/body.ts';
import type { KeyPurpose, SignedCard } from '../protocol/card.ts';
import { fromBase64url, sha256, toBase64url, toHex, utf8 } from '../protocol/encoding.ts';
import { type Envelope, type EnvelopeKind, Header, SUITES } from '../protocol/envelope.ts';
import { ERROR_CODES, type ErrorCode } from '../protocol/errors.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import { LIMITS } from '../protocol/limits.ts';
import { onlyKey } from './card.ts';
import type { Ed25519SigningKey } from './ed25519.ts';
import { Ed25519Pool } from './ed25519-pool.ts';
import { makeHeader, sealFor, signHeader } from './envelope.ts';
import { EpochCache, SenderEpochs } from './epochs.ts';
import { ed25519Key, NodeKeys } from './keys.ts';
import {
  CheckedSignatures,
  type PinnedPeer,
  type ReceiveContext,
  type ReceiveResult,
  receiveEnvelope,
  signatureToCheck,
} from './receive.ts';
import { openSenderEpoch, type SenderEpoch, type SuiteName } from './seal.ts';

const [us, cn, eu] = await Promise.all([fixedParty('us'), fixedParty('cn'), fixedParty('eu')]);
const parties: Record<string, FixedParty> = { us, cn, eu };

/** Washington's keys with one replaced, and the card serial 2 that lists them. */
async function washingtonWith(purpose: KeyPurpose, seed: number) {
  const keys = (await fixedKeys('us')).map((k) =>
    k.entry.purpose === purpose ? ed25519Key(purpose, new Uint8Array(32).fill(seed)) : k,
  );
  return { keys: new NodeKeys(keys), signed: fixedCard('us', keys, 2) };
}
const newSigning = await washingtonWith('signing', 0x0d);
const newIdentity = await washingtonWith('identity', 0x0e);
const newRecovery = await washingtonWith('recovery', 0x0f);
const stranger = ed25519Key('signing', new Uint8Array(32).fill(0x66));

/** Beijing's inbox: what it stored by (from, id) and (from, seq), and its epoch cache. */
class Inbox {
  readonly headers = new Map<string, string>();
  readonly seqs = new Map<string, string>();
  readonly epochs = new EpochCache();
  readonly pinned: Map<string, PinnedPeer>;
  /** Beijing's clock, for card expiry (unchecked when unset). */
  now: Date | undefined;
  sealing: (suite: string) => Uint8Array | undefined;
  /** Sealing secrets a rotation retired, tried after the current one. */
  retired: Uint8Array[] = [];

  constructor(
    readonly me: FixedParty = cn,
    pinned: Record<string, PinnedPeer> = { us: { card: us.card, retired: [] } },
  ) {
    this.pinned = new Map(Object.entries(pinned));
    this.sealing = (suite) => me.node.sealing(suite as SuiteName)?.secret;
  }

  get context(): ReceiveContext {
    return {
      me: this.me.id,
      peer: (party) => this.pinned.get(party),
      sealingSecrets: (suite) => {
        const secret = this.sealing(suite);
        return secret ? [secret, ...this.retired] : this.retired;
      },
      epochs: this.epochs,
      ...(this.now ? { now: this.now } : {}),
      seenId: (from, id) => this.headers.get(`${from}\n${id}`),
      seqOwner: (from, seq) => this.seqs.get(`${from}\n${seq}`),
    };
  }

  async receive(input: unknown): Promise<ReceiveResult> {
    const result = await receiveEnvelope(input, this.context);
    if (result.status === 'accepted') {
      const { from, id, seq } = result.header;
      this.headers.set(`${from}\n${id}`, result.headerHash);
      this.seqs.set(`${from}\n${seq[this.me.id]}`, id);
    }
    return result;
  }
}

interface Draft {
  from?: FixedParty;
  body?: Body;
  /** Sealed in place of JCS(body), for bodies that are not what they should be. */
  bodyBytes?: Uint8Array;
  seq?: Record<string, number>;
  id?: string;
  kind?: EnvelopeKind;
  signer?: { kid: string; key: Ed25519SigningKey };
  /** The recipient whose sealed part is made; the first in seq by default. */
  sealFor?: string;
  suite?: SuiteName;
  epoch?: SenderEpoch;
}

const senders = new Map<string, SenderEpochs>();
async function epochFor(from: string, to: string, suite: SuiteName): Promise<SenderEpoch> {
  const epochs = senders.get(from) ?? new SenderEpochs(from);
  senders.set(from, epochs);
  const pub = parties[to]?.card.keys.find((k) => k.purpose === 'sealing' && k.alg === suite)?.pub;
  return epochs.next(to, suite, fromBase64url(pub ?? ''));
}

const salt = () => toBase64url(crypto.getRandomValues(new Uint8Array(16)));
const query = (words = 'Is the duty principal at the console?'): Body => ({
  salt: salt(),
  type: 'query',
  precedence: 'immediate',
  status: 'exercise',
  tlp: 'amber',
  codes: [],
  text: { lang: 'en', body: words },
  translations: [],
  attachments: [],
  author: { desk: 'ops' },
  approvals: [],
});
const rotation = (reason: 'routine' | 'compromise', card: SignedCard): Body => ({
  ...query('New card.'),
  type: 'rotation',
  rotation: { reason, card },
});

let nextSeq = 1;
/** An envelope as Washington (or `from`) would release it, with any part replaced. */
async function draft(d: Draft = {}): Promise<Envelope> {
  const from = d.from ?? us;
  const body = d.body ?? query();
  const bodyBytes = d.bodyBytes ?? jcsBytes(body);
  const seq = d.seq ?? { cn: nextSeq++ };
  const signer = d.signer ?? from.node.signer('signing');
  const header = makeHeader(
    {
      kind: d.kind ?? 'message',
      id: d.id ?? uuidv7(),
      from: from.id,
      seq,
      sent: new Date(),
      kid: signer.kid,
    },
    bodyBytes,
  );
  const to = d.sealFor ?? header.to[0] ?? 'cn';
  const epoch = d.epoch ?? (await epochFor(from.id, to, d.suite ?? 'x25519'));
  return {
    header,
    sig: signHeader(header, signer.key),
    sealed: sealFor(epoch, jcsBytes(header), bodyBytes),
  };
}

/** The same envelope with its header changed and signed again by Washington's signing key. */
function resigned(
  envelope: Envelope,
  change: (h: Envelope['header']) => Envelope['header'],
): Envelope {
  const header = change(structuredClone(envelope.header));
  return { ...envelope, header, sig: signHeader(header, us.node.signer('signing').key) };
}

const clone = <T>(value: T): T => structuredClone(value);
function flip(b64: string, at: number, bit = 0x01): string {
  const bytes = fromBase64url(b64);
  bytes[at] = (bytes[at] ?? 0) ^ bit;
  return toBase64url(bytes);
}
const codeOf = (result: ReceiveResult): string =>
  result.status === 'rejected' ? result.code : result.status;

// ---------------------------------------------------------------------------------------------

type Case = [ErrorCode, string, (inbox: Inbox) => Promise<unknown>];
const tooLong = 'A'.repeat(Math.ceil(((LIMITS.bodyBytes + 16) * 4) / 3));

const CASES: Case[] = [
  [
    'E_CARD_EXPIRED',
    'a message signed under a card past its expiry',
    async (inbox) => {
      inbox.now = new Date(Date.parse(us.card.expires) + 1000);
      return draft();
    },
  ],
  ['E_MALFORMED', 'nothing like an envelope', async () => ({ envelope: true })],
  [
    'E_MALFORMED',
    'a header without its kid',
    async () => {
      const e = await draft();
      const { kid: _, ...header } = e.header;
      return { ...e, header };
    },
  ],
  [
    'E_MALFORMED',
    'a suite nobody knows',
    async () => ({ ...(await draft()), sealed: { ...(await draft()).sealed, suite: 'rsa' } }),
  ],
  [
    'E_MALFORMED',
    'seq naming a party missing from to',
    async () => resigned(await draft(), (h) => ({ ...h, seq: { ...h.seq, eu: 1 } })),
  ],
  [
    'E_MALFORMED',
    'a sender writing to itself',
    async () => draft({ seq: { cn: nextSeq++, us: 1 } }),
  ],
  [
    'E_MALFORMED',
    'an enc spelled in non-canonical base64url',
    async () => {
      const e = await draft();
      const enc = `${e.sealed.epoch.enc.slice(0, -1)}B`; // stray bits after the last byte
      return { ...e, sealed: { ...e.sealed, epoch: { ...e.sealed.epoch, enc } } };
    },
  ],
  ['E_MALFORMED', 'a body that is not JSON', async () => draft({ bodyBytes: utf8('{"salt":') })],
  [
    'E_MALFORMED',
    'a body that is not UTF-8',
    async () => draft({ bodyBytes: Uint8Array.of(0x7b, 0xff, 0x7d) }),
  ],
  [
    'E_MALFORMED',
    'a body that is not canonical JSON',
    async () => draft({ bodyBytes: utf8(JSON.stringify(query(), null, 1)) }),
  ],
  [
    'E_MALFORMED',
    'a body against the schema',
    async () => draft({ bodyBytes: jcsBytes({ ...query(), tlp: 'white' }) }),
  ],
  [
    'E_MALFORMED',
    "a body against its type's rules",
    async () => draft({ body: { ...query(), type: 'ack' } }),
  ],
  [
    'E_TOO_LARGE',
    'an envelope over 4 MiB',
    async () => {
      const e = await draft();
      return { ...e, sealed: { ...e.sealed, ct: tooLong } };
    },
  ],
  [
    'E_UNSUPPORTED_VERSION',
    'a header of version 2',
    async () => resigned(await draft(), (h) => ({ ...h, v: 2 })),
  ],
  [
    'E_UNSUPPORTED_SUITE',
    'a suite Beijing holds no key for',
    async (inbox) => {
      inbox.sealing = (suite) =>
        suite === 'x-wing' ? cn.node.sealing('x-wing')?.secret : undefined;
      return draft({ suite: 'x25519' });
    },
  ],
  ['E_UNKNOWN_PARTY', 'a sender Beijing never pinned', async () => draft({ from: eu })],
  [
    'E_UNKNOWN_KEY',
    "a key that is not in Washington's card",
    async () => draft({ signer: new NodeKeys([stranger]).signer('signing') }),
  ],
  [
    'E_UNKNOWN_KEY',
    'a message signed by the identity key',
    async () => draft({ signer: us.node.signer('identity') }),
  ],
  [
    'E_UNKNOWN_KEY',
    'a rotation signed by the signing key',
    async () => draft({ kind: 'rotation', body: rotation('routine', newSigning.signed) }),
  ],
  [
    'E_BAD_SIGNATURE',
    "a signature by another key under the signing key's kid",
    async () =>
      draft({
        signer: {
          kid: onlyKey(us.card, 'signing').kid,
          key: new NodeKeys([stranger]).signer('signing').key,
        },
      }),
  ],
  [
    'E_BAD_SIGNATURE',
    'the signature of another header',
    async () => ({ ...(await draft()), sig: (await draft()).sig }),
  ],
  ['E_NOT_FOR_ME', 'an envelope for Brussels only', async () => draft({ seq: { eu: 1 } })],
  [
    'E_EQUIVOCATION',
    'a known id with another header',
    async (inbox) => {
      const first = await draft();
      expect(codeOf(await inbox.receive(first))).toBe('accepted');
      return draft({ id: first.header.id, seq: { cn: nextSeq++ } });
    },
  ],
  [
    'E_EQUIVOCATION',
    'a known seq under another id',
    async (inbox) => {
      const first = await draft();
      expect(codeOf(await inbox.receive(first))).toBe('accepted');
      return draft({ seq: first.header.seq });
    },
  ],
  [
    'E_BAD_SEAL',
    'a ciphertext with one bit flipped',
    async () => {
      const e = await draft();
      return { ...e, sealed: { ...e.sealed, ct: flip(e.sealed.ct, 3) } };
    },
  ],
  [
    'E_BAD_SEAL',
    'a sealed part made for Brussels under the same header',
    async () => draft({ seq: { cn: nextSeq++, eu: 1 }, sealFor: 'eu' }),
  ],
  [
    'E_BAD_BODY_HASH',
    'another body sealed under the signed header',
    async () => {
      const e = await draft();
      const epoch = await epochFor('us', 'cn', 'x25519');
      return {
        ...e,
        sealed: sealFor(epoch, jcsBytes(e.header), jcsBytes(query('Something else.'))),
      };
    },
  ],
  [
    'E_BAD_ROTATION',
    'a rotation body in a message envelope',
    async () => draft({ body: rotation('routine', newSigning.signed) }),
  ],
  [
    'E_BAD_ROTATION',
    'a message body in a rotation envelope',
    async () => draft({ kind: 'rotation', signer: us.node.signer('identity') }),
  ],
];

describe('Beijing refuses, with a stable code,', () => {
  it('covers every code receiveEnvelope can answer', () => {
    const notOfReceiving = [
      'E_BAD_CARD',
      'E_BAD_RECEIPT',
      'E_BAD_PROOF',
      'E_RELAY_FULL',
      'E_UNAUTHORIZED',
      'E_FORBIDDEN',
      'E_CSRF',
      'E_LOCKED',
      'E_THROTTLED',
      'E_CONFLICT',
      'E_NOT_FOUND',
      'E_INTERNAL',
      'E_BAD_ATTACHMENT',
      'E_BAD_NOTIFICATION',
      'E_NO_TRANSLATOR',
      'E_TRANSLATOR_FAILED',
      'E_TLP_RED',
      'E_TLP_BELOW_MARKING',
      'E_SELF_APPROVAL',
      'E_FLASH_TOO_LONG',
      'E_UNKNOWN_CODE',
      'E_EMPTY_MESSAGE',
      'E_BAD_HOST',
      'E_REPLAY',
      'E_STORE',
      'E_OUTBOX_FULL',
      'E_SECOND_FACTOR',
      'E_ENROL_SECOND_FACTOR',
      'E_TLS_PEER',
      'E_TLS_REQUIRED',
      'E_TLS_PIN',
      'E_BAD_DISCONTINUITY',
    ];
    const expected = ERROR_CODES.filter((c) => !notOfReceiving.includes(c));
    expect([...new Set(CASES.map(([code]) => code))].sort()).toEqual([...expected].sort());
  });

  it.each(CASES)('%s: %s', async (code, _story, make) => {
    const inbox = new Inbox();
    const input = await make(inbox);
    const stored = inbox.headers.size;
    const result = await inbox.receive(input);
    expect(result).toMatchObject({ status: 'rejected', code });
    if (result.status !== 'rejected') return;
    expect(result.message.length).toBeGreaterThan(10);
    const header = (input as { header?: { id?: unknown } }).header;
    if (code !== 'E_MALFORMED' && code !== 'E_TOO_LARGE' && code !== 'E_UNSUPPORTED_VERSION')
      expect(result.id).toBe(header?.id);
    expect(inbox.headers.size).toBe(stored);
    expect(inbox.epochs.size).toBe(stored);
  });

  it('never throws, whatever arrives', async () => {
    const inbox = new Inbox();
    const good = await draft();
    const junk: unknown[] = [
      undefined,
      null,
      0,
      'envelope',
      [],
      { header: null },
      { header: { v: '1' } },
    ];
    const circular: Record<string, unknown> = { header: { v: 1 } };
    circular.self = circular;
    junk.push(circular, { ...good, header: { ...good.header, v: 1n } }, { ...good, sig: 7 });
    for (const input of junk) expect((await inbox.receive(input)).status).toBe('rejected');
  });
});

describe('a message arriving twice', () => {
  it('is accepted once, then recognised as the duplicate it is, by its header hash', async () => {
    const inbox = new Inbox();
    const envelope = await draft();
    const first = await inbox.receive(envelope);
    const again = await inbox.receive(JSON.parse(JSON.stringify(envelope)));
    expect(first.status).toBe('accepted');
    expect(again).toMatchObject({ status: 'duplicate', header: envelope.header });
    if (first.status === 'accepted' && again.status === 'duplicate')
      expect(again.headerHash).toBe(first.headerHash);
  });

  it('is a duplicate whatever happened to its sealed part or member order on the way', async () => {
    const inbox = new Inbox();
    const envelope = await draft();
    await inbox.receive(envelope);
    const reordered = Object.fromEntries(Object.entries(envelope.header).reverse());
    const resent = {
      sealed: { ...envelope.sealed, ct: flip(envelope.sealed.ct, 0) },
      sig: envelope.sig,
      header: reordered,
    };
    expect(codeOf(await inbox.receive(resent))).toBe('duplicate');
  });

  it('with another header is equivocation, whichever of id or seq it reuses', async () => {
    const inbox = new Inbox();
    const envelope = await draft();
    await inbox.receive(envelope);
    const sameId = await draft({ id: envelope.header.id, seq: { cn: nextSeq++ } });
    const sameSeq = await draft({ seq: envelope.header.seq });
    const sameBoth = await draft({ id: envelope.header.id, seq: envelope.header.seq });
    for (const e of [sameId, sameSeq, sameBoth])
      expect(codeOf(await inbox.receive(e))).toBe('E_EQUIVOCATION');
  });
});

describe('after Washington rotates its signing key', () => {
  const retiredSigning = onlyKey(us.card, 'signing');
  const inbox = () =>
    new Inbox(cn, {
      us: { card: newSigning.signed.card, retired: [{ key: retiredSigning, untilSeq: 5 }] },
    });
  const oldSigner = us.node.signer('signing');

  it('envelopes signed by the old key are valid up to its last seq, and not after', async () => {
    const beijing = inbox();
    expect(codeOf(await beijing.receive(await draft({ seq: { cn: 4 }, signer: oldSigner })))).toBe(
      'accepted',
    );
    expect(codeOf(await beijing.receive(await draft({ seq: { cn: 5 }, signer: oldSigner })))).toBe(
      'accepted',
    );
    expect(codeOf(await beijing.receive(await draft({ seq: { cn: 6 }, signer: oldSigner })))).toBe(
      'E_UNKNOWN_KEY',
    );
    const fresh = newSigning.keys.signer('signing');
    expect(codeOf(await beijing.receive(await draft({ seq: { cn: 6 }, signer: fresh })))).toBe(
      'accepted',
    );
  });

  it('an old-key envelope not addressed to Beijing matches no retired key', async () => {
    const e = await draft({ seq: { eu: 1 }, signer: oldSigner });
    expect(codeOf(await inbox().receive(e))).toBe('E_UNKNOWN_KEY');
  });

  it('a retired identity key passes for its old seqs but never signs a rotation', async () => {
    const beijing = new Inbox(cn, {
      us: {
        card: newIdentity.signed.card,
        retired: [{ key: onlyKey(us.card, 'identity'), untilSeq: 9 }],
      },
    });
    const e = await draft({
      kind: 'rotation',
      seq: { cn: 3 },
      signer: us.node.signer('identity'),
      body: rotation('routine', (await washingtonWith('identity', 0x0e)).signed),
    });
    const result = await beijing.receive(e);
    expect(result).toMatchObject({ code: 'E_BAD_ROTATION' });
  });
});

describe('a rotation', () => {
  it('is accepted when routine and signed by the pinned identity key', async () => {
    const body = rotation('routine', newSigning.signed);
    const result = await new Inbox().receive(
      await draft({ kind: 'rotation', body, signer: us.node.signer('identity') }),
    );
    expect(result).toMatchObject({
      status: 'accepted',
      body: { rotation: { card: newSigning.signed } },
    });
  });

  it('is accepted after a compromise when signed by the offline recovery key', async () => {
    const body = rotation('compromise', newIdentity.signed);
    const result = await new Inbox().receive(
      await draft({ kind: 'rotation', body, signer: us.node.signer('recovery') }),
    );
    expect(codeOf(result)).toBe('accepted');
  });

  const stale = fixedCard('us', [...us.keys], 1);
  const tampered: SignedCard = {
    ...newSigning.signed,
    card: { ...newSigning.signed.card, serial: 3 },
  };
  it.each([
    [
      'routine, signed by the recovery key',
      'routine',
      newSigning.signed,
      'recovery',
      /signed by the identity key/,
    ],
    [
      'compromise, signed by the identity key a thief may hold',
      'compromise',
      newIdentity.signed,
      'identity',
      /signed by the recovery key/,
    ],
    [
      'carrying a card whose signature fails',
      'routine',
      tampered,
      'identity',
      /new card is invalid/,
    ],
    ["carrying another party's card", 'routine', eu.signed, 'identity', /another party/],
    ['carrying a card whose serial is not higher', 'routine', stale, 'identity', /higher serial/],
    ['changing the recovery key', 'routine', newRecovery.signed, 'identity', /recovery key/],
  ] as const)('is refused when %s', async (_what, reason, card, signer, message) => {
    const body = rotation(reason, card);
    const result = await new Inbox().receive(
      await draft({ kind: 'rotation', body, signer: us.node.signer(signer) }),
    );
    expect(result).toMatchObject({ status: 'rejected', code: 'E_BAD_ROTATION' });
    if (result.status === 'rejected') expect(result.message).toMatch(message);
  });
});

describe('a compromise rotation naming untrusted seqs', () => {
  const since = '2026-12-05T21:00:00.000Z';
  const compromise = (untrusted: unknown): Body => ({
    ...rotation('compromise', newIdentity.signed),
    ext: { untrusted },
  });
  const byRecovery = { kind: 'rotation' as const, signer: us.node.signer('recovery') };

  it('takes a seq a forgery holds, when it names that seq as untrusted', async () => {
    const inbox = new Inbox();
    const forged = await draft({ seq: { cn: 7 } });
    expect(codeOf(await inbox.receive(forged))).toBe('accepted');
    const body = compromise({ since, seq: { cn: 7 } });
    expect(codeOf(await inbox.receive(await draft({ ...byRecovery, body, seq: { cn: 7 } })))).toBe(
      'accepted',
    );
  });

  it('is an equivocation on a held seq when it names none for me', async () => {
    const inbox = new Inbox();
    expect(codeOf(await inbox.receive(await draft({ seq: { cn: 7 } })))).toBe('accepted');
    const body = rotation('compromise', newIdentity.signed);
    const result = await inbox.receive(await draft({ ...byRecovery, body, seq: { cn: 7 } }));
    expect(codeOf(result)).toBe('E_EQUIVOCATION');
  });

  it('never lets the signing or identity key take a held seq', async () => {
    const inbox = new Inbox();
    expect(codeOf(await inbox.receive(await draft({ seq: { cn: 7 } })))).toBe('accepted');
    const routine = rotation('routine', newSigning.signed);
    const result = await inbox.receive(
      await draft({
        kind: 'rotation',
        body: routine,
        signer: us.node.signer('identity'),
        seq: { cn: 7 },
      }),
    );
    expect(codeOf(result)).toBe('E_EQUIVOCATION');
  });

  it.each([
    ['names a seq later than its own', { since, seq: { cn: 9 } }, /later than the rotation/],
    ['has no time', { seq: { cn: 1 } }, /ext.untrusted/],
    ['has a seq of 0', { since, seq: { cn: 0 } }, /ext.untrusted/],
  ])('is refused when it %s', async (_what, untrusted, message) => {
    const result = await new Inbox().receive(
      await draft({ ...byRecovery, body: compromise(untrusted), seq: { cn: 8 } }),
    );
    expect(result).toMatchObject({ status: 'rejected', code: 'E_BAD_ROTATION' });
    if (result.status === 'rejected') expect(result.message).toMatch(message);
  });

  it('is refused on a routine rotation', async () => {
    const body = {
      ...rotation('routine', newSigning.signed),
      ext: { untrusted: { since, seq: { cn: 1 } } },
    };
    const result = await new Inbox().receive(
      await draft({ kind: 'rotation', body, signer: us.node.signer('identity') }),
    );
    expect(result).toMatchObject({ status: 'rejected', code: 'E_BAD_ROTATION' });
  });

  it('need not raise the serial a thief may have raised', async () => {
    const thiefCard = fixedCard('us', [...us.keys], 1000);
    const inbox = new Inbox(cn, { us: { card: thiefCard.card, retired: [] } });
    const body = compromise({ since, seq: { cn: 3 } });
    expect(codeOf(await inbox.receive(await draft({ ...byRecovery, body, seq: { cn: 3 } })))).toBe(
      'accepted',
    );
  });
});

describe('an expired card', () => {
  const after = new Date(Date.parse(us.card.expires) + 1000);
  const expiredInbox = () => {
    const inbox = new Inbox();
    inbox.now = after;
    return inbox;
  };

  it('signs no more messages', async () => {
    const result = await expiredInbox().receive(await draft());
    expect(result).toMatchObject({ status: 'rejected', code: 'E_CARD_EXPIRED' });
  });

  it('still signs the rotation that renews it', async () => {
    const body = rotation('routine', newSigning.signed);
    const result = await expiredInbox().receive(
      await draft({ kind: 'rotation', body, signer: us.node.signer('identity') }),
    );
    expect(codeOf(result)).toBe('accepted');
  });
});

describe.each(SUITES)('the epoch cache, %s', (suite) => {
  it('never takes in a forged enc', async () => {
    const inbox = new Inbox();
    const e = await draft({ suite });
    const forged = crypto.getRandomValues(new Uint8Array(fromBase64url(e.sealed.epoch.enc).length));
    const result = await inbox.receive({
      ...e,
      sealed: { ...e.sealed, epoch: { ...e.sealed.epoch, enc: toBase64url(forged) } },
    });
    expect(codeOf(result)).toBe('E_BAD_SEAL');
    expect(inbox.epochs.size).toBe(0);
  });

  it('remembers a secret only once an envelope passed every check', async () => {
    const inbox = new Inbox();
    const epoch = await openSenderEpoch(
      suite,
      fromBase64url(cn.card.keys.find((k) => k.alg === suite)?.pub ?? ''),
      'us',
      'cn',
      crypto.getRandomValues(new Uint8Array(16)),
    );
    const badHash = await draft({ epoch });
    const swapped = {
      ...badHash,
      sealed: sealFor(epoch, jcsBytes(badHash.header), jcsBytes(query('Other.'))),
    };
    for (const e of [
      swapped,
      await draft({ epoch, bodyBytes: utf8('[]') }),
      await draft({ epoch, seq: { eu: 1 } }),
    ])
      expect((await inbox.receive(e)).status).toBe('rejected');
    expect(inbox.epochs.size).toBe(0);
    expect(codeOf(await inbox.receive(await draft({ epoch })))).toBe('accepted');
    expect(inbox.epochs.size).toBe(1);
    expect(inbox.epochs.get('us', epoch)).toEqual(epoch.secret);
  });

  it('opens the later messages of an epoch without the sealing key', async () => {
    const inbox = new Inbox();
    const epoch = await openSenderEpoch(
      suite,
      fromBase64url(cn.card.keys.find((k) => k.alg === suite)?.pub ?? ''),
      'us',
      'cn',
      crypto.getRandomValues(new Uint8Array(16)),
    );
    expect(codeOf(await inbox.receive(await draft({ epoch })))).toBe('accepted');
    inbox.sealing = (s) => eu.node.sealing(s as SuiteName)?.secret;
    expect(codeOf(await inbox.receive(await draft({ epoch })))).toBe('accepted');
    expect(
      codeOf(
        await inbox.receive(
          await draft({
            suite,
            epoch: await openSenderEpoch(
              suite,
              fromBase64url(cn.card.keys.find((k) => k.alg === suite)?.pub ?? ''),
              'us',
              'cn',
              new Uint8Array(16),
            ),
          }),
        ),
      ),
    ).toBe('E_BAD_SEAL');
  });

  it('opens what was sealed to a retired sealing key, and nothing once it is destroyed', async () => {
    // Beijing rotated its sealing key to eu's: Washington's queued envelope was sealed to the old.
    const sealedToOld = await draft({
      epoch: await openSenderEpoch(
        suite,
        fromBase64url(cn.card.keys.find((k) => k.alg === suite)?.pub ?? ''),
        'us',
        'cn',
        crypto.getRandomValues(new Uint8Array(16)),
      ),
    });
    const rotated = new Inbox();
    rotated.sealing = (s) => eu.node.sealing(s as SuiteName)?.secret;
    rotated.retired = [cn.node.sealing(suite)?.secret ?? new Uint8Array()];
    expect(codeOf(await rotated.receive(sealedToOld))).toBe('accepted');
    const destroyed = new Inbox();
    destroyed.sealing = rotated.sealing;
    expect(codeOf(await destroyed.receive(sealedToOld))).toBe('E_BAD_SEAL');
  });
});

// ---------------------------------------------------------------------------------------------
// Tampering, field by field.

const rich = (): Body => ({
  salt: salt(),
  type: 'incident.report',
  incident: '01954f7a-3c00-7a00-8000-00000000a001',
  precedence: 'flash',
  status: 'actual',
  tlp: 'amber+strict',
  codes: ['phrase.request-call', 'phrase.urgent'],
  text: { lang: 'en', body: 'Model weights are loose.' },
  translations: [{ lang: 'zh', body: '模型权重已泄露。' }],
  attachments: [
    {
      name: 'hashes.txt',
      mediaType: 'text/plain',
      sha256: toHex(sha256(utf8('x'))),
      data: toBase64url(utf8('x')),
    },
  ],
  author: { desk: 'ops', person: 'A. Officer' },
  approvals: [
    {
      desk: 'duty-officer',
      person: 'B. Officer',
      at: '2025-03-01T11:59:00.000Z',
      breakGlass: false,
    },
  ],
  inReplyTo: '01954f7a-3c00-7a00-8000-000000000001',
  report: {
    nature: 'hazard',
    category: 'category.weights-loose',
    system: { developer: 'Lab', model: 'M', version: '1', deployment: 'cloud' },
    harm: {
      types: ['harm.proliferation'],
      severity: 'severity.high',
      scale: 'global',
      geography: ['worldwide'],
      reversibility: 'irreversible',
    },
    attribution: { actor: 'non-state', confidence: 'high' },
    actionsTaken: ['action.revoke-access'],
    actionsRequested: ['action.share-indicators'],
    evidencePreserved: true,
    respondBy: '2025-03-01T12:30:00.000Z',
  },
  ext: { exercise: 'GRID-25', round: 2, sealed: null },
});

type Path = (string | number)[];
/** Every place in a JSON value: its leaves, and each member or element that could be removed. */
function places(value: unknown, at: Path = []): { leaves: Path[]; removable: Path[] } {
  const out = { leaves: [] as Path[], removable: [] as Path[] };
  if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      const path = [...at, Array.isArray(value) ? Number(key) : key];
      out.removable.push(path);
      const inner = places(child, path);
      out.leaves.push(...inner.leaves);
      out.removable.push(...inner.removable);
    }
  } else out.leaves.push(at);
  return out;
}
function edit(
  value: unknown,
  path: Path,
  change: (parent: Record<string | number, unknown>, key: string | number) => void,
): unknown {
  const copy = clone(value);
  let parent = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  change(parent, path.at(-1) as string | number);
  return copy;
}
const changed = (v: unknown): unknown =>
  typeof v === 'string'
    ? `${v}x`
    : typeof v === 'number'
      ? v + 1
      : typeof v === 'boolean'
        ? !v
        : 'null';

describe.each(SUITES)('tampering with an envelope sealed with %s', (suite) => {
  let inbox: Inbox;
  let target: Envelope;
  let body: Body;
  let epoch: SenderEpoch;

  beforeEach(async () => {
    // Beijing has already opened one message of this epoch, so its secret is in the cache.
    inbox = new Inbox();
    const pub = fromBase64url(cn.card.keys.find((k) => k.alg === suite)?.pub ?? '');
    epoch = await openSenderEpoch(
      suite,
      pub,
      'us',
      'cn',
      crypto.getRandomValues(new Uint8Array(16)),
    );
    expect(codeOf(await inbox.receive(await draft({ epoch })))).toBe('accepted');
    body = rich();
    target = await draft({ epoch, body });
  });

  it('leaves the untouched envelope acceptable', async () => {
    expect(codeOf(await inbox.receive(clone(target)))).toBe('accepted');
  });

  it('fails on any header field, each with the code of the check it breaks', async () => {
    const other = uuidv7();
    const changes: Record<keyof Header, [ErrorCode, (h: Header) => Header][]> = {
      v: [
        ['E_UNSUPPORTED_VERSION', (h) => ({ ...h, v: 2 })],
        ['E_UNSUPPORTED_VERSION', (h) => ({ ...h, v: 0 })],
      ],
      kind: [['E_UNKNOWN_KEY', (h) => ({ ...h, kind: 'rotation' })]],
      id: [['E_BAD_SIGNATURE', (h) => ({ ...h, id: other })]],
      from: [
        ['E_UNKNOWN_PARTY', (h) => ({ ...h, from: 'eu' })],
        ['E_MALFORMED', (h) => ({ ...h, from: 'cn' })],
      ],
      to: [
        ['E_MALFORMED', (h) => ({ ...h, to: ['cn', 'eu'] })],
        ['E_MALFORMED', (h) => ({ ...h, to: ['eu'] })],
      ],
      seq: [
        ['E_BAD_SIGNATURE', (h) => ({ ...h, seq: { cn: (h.seq.cn ?? 0) + 1 } })],
        ['E_MALFORMED', (h) => ({ ...h, seq: { eu: 1 } })],
      ],
      sent: [
        [
          'E_BAD_SIGNATURE',
          (h) => ({ ...h, sent: new Date(Date.parse(h.sent) + 1).toISOString() }),
        ],
      ],
      kid: [
        ['E_UNKNOWN_KEY', (h) => ({ ...h, kid: onlyKey(us.card, 'identity').kid })],
        ['E_UNKNOWN_KEY', (h) => ({ ...h, kid: '0'.repeat(32) })],
      ],
      bodyHash: [
        ['E_BAD_SIGNATURE', (h) => ({ ...h, bodyHash: toHex(sha256(jcsBytes(query()))) })],
      ],
    };
    expect(Object.keys(changes).sort()).toEqual(Object.keys(Header.properties).sort());
    const both: [ErrorCode, (h: Header) => Header] = [
      'E_BAD_SIGNATURE',
      (h) => ({ ...h, to: ['cn', 'eu'], seq: { ...h.seq, eu: 1 } }),
    ];
    for (const [field, list] of Object.entries(changes))
      for (const [code, change] of [...list, ...(field === 'to' ? [both] : [])]) {
        const result = await inbox.receive({
          ...clone(target),
          header: change(clone(target.header)),
        });
        expect(
          codeOf(result),
          `${field}: ${JSON.stringify(change(target.header)[field as keyof Header])}`,
        ).toBe(code);
      }
    for (let at = 0; at < 64; at += 7) {
      const result = await inbox.receive({ ...clone(target), sig: flip(target.sig, at) });
      expect(codeOf(result), `sig byte ${at}`).toBe('E_BAD_SIGNATURE');
    }
  });

  it('fails on any change to the body, sealed again under the signed header', async () => {
    const { leaves, removable } = places(body);
    const variants: [string, unknown][] = [
      ...leaves.map((p): [string, unknown] => [
        `change ${p.join('.')}`,
        edit(body, p, (o, k) => {
          o[k] = changed(o[k]);
        }),
      ]),
      ...removable.map((p): [string, unknown] => [
        `remove ${p.join('.')}`,
        edit(body, p, (o, k) => {
          if (Array.isArray(o)) o.splice(Number(k), 1);
          else delete o[k];
        }),
      ]),
      ['reorder codes', { ...body, codes: [...body.codes].reverse() }],
      ['add a member', { ...body, later: true }],
    ];
    expect(leaves.length).toBeGreaterThan(40);
    for (const [what, variant] of variants) {
      const sealed = sealFor(epoch, jcsBytes(target.header), jcsBytes(variant));
      expect(codeOf(await inbox.receive({ ...clone(target), sealed })), what).toBe(
        'E_BAD_BODY_HASH',
      );
    }
  });

  /** Each ct byte costs a decapsulation where the epoch is not cached, so then only some. */
  function sealedVariants(ctStride: number): [string, Envelope['sealed']][] {
    const other = suite === 'x-wing' ? 'x25519' : 'x-wing';
    const { sealed } = target;
    const ct = fromBase64url(sealed.ct);
    const enc = fromBase64url(sealed.epoch.enc);
    // Every byte of a 32-byte enc; for X-Wing's 1120 bytes, every 41st and all of its X25519 part.
    const encBytes = [...enc.keys()].filter(
      (i) => enc.length === 32 || i % 41 === 0 || i >= enc.length - 32,
    );
    const withEpoch = (epoch: Partial<Envelope['sealed']['epoch']>) => ({
      ...sealed,
      epoch: { ...sealed.epoch, ...epoch },
    });
    return [
      ['suite', { ...sealed, suite: other }],
      ...[...Array(16).keys()].map((i): [string, Envelope['sealed']] => [
        `epoch id byte ${i}`,
        withEpoch({ id: flip(sealed.epoch.id, i) }),
      ]),
      ...encBytes.map((i): [string, Envelope['sealed']] => [
        `enc byte ${i}`,
        withEpoch({ enc: flip(sealed.epoch.enc, i) }),
      ]),
      ['enc high bit', withEpoch({ enc: flip(sealed.epoch.enc, enc.length - 1, 0x80) })],
      ['enc one byte short', withEpoch({ enc: toBase64url(enc.subarray(1)) })],
      ...[...ct.keys()]
        .filter((i) => i % ctStride === 0 || i >= ct.length - 16)
        .map((i): [string, Envelope['sealed']] => [
          `ct byte ${i}`,
          { ...sealed, ct: flip(sealed.ct, i) },
        ]),
      ['ct one byte short', { ...sealed, ct: toBase64url(ct.subarray(0, -1)) }],
      ['ct one byte long', { ...sealed, ct: toBase64url(Uint8Array.of(...ct, 0)) }],
      ['ct empty', { ...sealed, ct: '' }],
    ];
  }

  it('fails on any change to the sealed part, at a receiver new to the epoch', async () => {
    const fresh = new Inbox();
    for (const [what, sealed] of sealedVariants(67))
      expect(codeOf(await fresh.receive({ ...clone(target), sealed })), what).toBe('E_BAD_SEAL');
    expect(fresh.epochs.size).toBe(0);
    expect(codeOf(await fresh.receive(clone(target)))).toBe('accepted');
  });

  it('fails on any change to the sealed part, at a receiver that has cached the epoch', async () => {
    // A relay rewriting the suite or epoch id must not pass: the secret in the cache belongs to
    // the epoch as sealed, and Beijing would otherwise log a sealed part Washington never made.
    for (const [what, sealed] of sealedVariants(1))
      expect(codeOf(await inbox.receive({ ...clone(target), sealed })), what).toBe('E_BAD_SEAL');
    expect(inbox.epochs.size).toBe(1);
    expect(codeOf(await inbox.receive(clone(target)))).toBe('accepted');
  });
});

describe('signatures checked on worker threads before the lock', () => {
  const pool = new Ed25519Pool(2);
  afterAll(() => pool.close());

  async function threaded(inbox: Inbox, inputs: unknown[]): Promise<string[]> {
    const checks = inputs.flatMap((i) => signatureToCheck(i, inbox.context.peer, 'cn') ?? []);
    const results = await pool.verifyAll(checks);
    const checked = new CheckedSignatures();
    for (const [i, check] of checks.entries()) checked.add(check, results[i] === true);
    const out: string[] = [];
    for (const input of inputs) {
      const result = await receiveEnvelope(input, { ...inbox.context, checked });
      if (result.status === 'accepted') {
        inbox.headers.set(`us\n${result.header.id}`, result.headerHash);
        inbox.seqs.set(`us\n${result.header.seq.cn}`, result.header.id);
      }
      out.push(codeOf(result));
    }
    return out;
  }

  it('a batch gets the same answer for each envelope as checked in line', async () => {
    const valid = await draft();
    const forged = await draft();
    const inputs = [
      valid,
      await draft(),
      { ...forged, sig: flip(forged.sig, 5) },
      { ...forged, sig: signHeader(forged.header, new NodeKeys([stranger]).signer('signing').key) },
      { envelope: true },
      valid,
    ];
    const inLine = new Inbox();
    const expected: string[] = [];
    for (const input of inputs) expected.push(codeOf(await inLine.receive(input)));
    expect(expected).toEqual([
      'accepted',
      'accepted',
      'E_BAD_SIGNATURE',
      'E_BAD_SIGNATURE',
      'E_MALFORMED',
      'duplicate',
    ]);
    expect(await threaded(new Inbox(), inputs)).toEqual(expected);
  });

  it('a threaded answer counts only for the very key, bytes and signature checked', async () => {
    const envelope = await draft();
    const check = signatureToCheck(envelope, new Inbox().context.peer, 'cn');
    if (!check) throw new Error('no check');
    // Answered false for other bytes under the same signature: ignored, checked in line.
    const elsewhere = new CheckedSignatures();
    elsewhere.add({ ...check, message: utf8('other bytes') }, false);
    expect(
      codeOf(await receiveEnvelope(envelope, { ...new Inbox().context, checked: elsewhere })),
    ).toBe('accepted');
    // Answered false for exactly these: the answer is the threads'.
    const same = new CheckedSignatures();
    same.add(check, false);
    expect(codeOf(await receiveEnvelope(envelope, { ...new Inbox().context, checked: same }))).toBe(
      'E_BAD_SIGNATURE',
    );
  });
});
