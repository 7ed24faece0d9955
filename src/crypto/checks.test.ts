/**
 * The receiver's ordered checks, told as stories between Washington (us), Beijing (cn) and a
 * third party (eu): every rejection code from a crafted input, tampering of every field, and
 * round trips of every body type in both suites.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, test } from 'vitest';
import { body, makeParty, nextId, type Party, Receiver, send } from '../../test/support/world.ts';
import { BODY_TYPES, type Body } from '../protocol/body.ts';
import { fromBase64url, toBase64url } from '../protocol/encoding.ts';
import type { Envelope } from '../protocol/envelope.ts';
import { jcs } from '../protocol/jcs.ts';
import { createCard, signCard } from './card.ts';
import { SenderEpochs } from './epochs.ts';
import { ed25519Key } from './keys.ts';
import { type ReceiveResult, receiveEnvelope } from './receive.ts';

let us: Party;
let cn: Party;
let eu: Party;
beforeAll(async () => {
  us = await makeParty('us', { en: 'Washington', zh: '华盛顿' });
  cn = await makeParty('cn', { en: 'Beijing', zh: '北京' });
  eu = await makeParty('eu', { en: 'Brussels' });
});

const code = (r: ReceiveResult) => (r.status === 'rejected' ? r.code : r.status);
const clone = <T>(v: T): T => structuredClone(v);

/** Bodies of every type, with the sections each type requires. */
function everyType(): Body[] {
  const incident = '01900000-0000-7000-8000-00000000abcd';
  const replyTo = '01900000-0000-7000-8000-00000000beef';
  const sections: Partial<Record<Body['type'], Partial<Body>>> = {
    'incident.report': {
      incident,
      report: {
        nature: 'incident',
        category: 'category.autonomous-unpredictable',
        actionsTaken: ['action.isolate'],
        actionsRequested: ['action.confirm-receipt'],
        attribution: { actor: 'unknown', confidence: 'low' },
        harm: { types: ['harm.cyber'], severity: 'severity.high', reversibility: 'unknown' },
        evidencePreserved: true,
      },
    },
    'incident.update': {
      incident,
      report: {
        nature: 'hazard',
        category: 'category.other',
        actionsTaken: [],
        actionsRequested: [],
      },
    },
    'incident.close': { incident },
    'incident.retract': { incident, inReplyTo: replyTo },
    reply: { inReplyTo: replyTo },
    ack: { inReplyTo: replyTo },
    reminder: { inReplyTo: replyTo },
    notice: { notice: { subject: 'notice.training-run', from: '2026-02-01T00:00:00.000Z' } },
    presence: { presence: { desk: 'principal' } },
    conference: { conference: { action: 'request', at: '2026-02-01T10:00:00.000Z', minutes: 30 } },
    state: { incident, state: { to: 'investigating', previous: null, request: false } },
  };
  return BODY_TYPES.filter((t) => t !== 'rotation').map((type) =>
    body({ type, ...sections[type] }),
  );
}

describe('a message travels and opens', () => {
  for (const suite of ['x-wing', 'x25519'] as const) {
    test(`every body type round-trips from Beijing to Washington (${suite})`, async () => {
      const washington = new Receiver(us, cn);
      const epochs = new SenderEpochs('cn');
      let seq = 1;
      for (const b of everyType()) {
        const sealed = await send(cn, [{ to: us, seq: seq++ }], b, { suite, epochs });
        const result = await receiveEnvelope(sealed.envelopes.us, washington.ctx);
        expect(result.status, b.type).toBe('accepted');
        if (result.status === 'accepted') {
          expect(result.body).toEqual(b);
          expect(result.headerHash).toBe(sealed.headerHash);
          washington.keep(result.envelope, result.headerHash);
        }
      }
      // One epoch served every message; the receiver opened it once and cached it.
      expect(washington.epochs.size).toBe(1);
    });
  }

  test('one signed header serves several recipients; each opens only its own seal', async () => {
    const sealed = await send(
      cn,
      [
        { to: us, seq: 7 },
        { to: eu, seq: 3 },
      ],
      body(),
    );
    const toUs = sealed.envelopes.us as Envelope;
    const toEu = sealed.envelopes.eu as Envelope;
    expect(toUs.header).toEqual(toEu.header);
    expect(toUs.sig).toBe(toEu.sig);
    expect(toUs.header.seq).toEqual({ us: 7, eu: 3 });
    expect(code(await receiveEnvelope(toUs, new Receiver(us, cn).ctx))).toBe('accepted');
    expect(code(await receiveEnvelope(toEu, new Receiver(eu, cn).ctx))).toBe('accepted');
    // Brussels' seal handed to Washington: addressed to both, but sealed for the other.
    expect(code(await receiveEnvelope(toEu, new Receiver(us, cn).ctx))).toBe('E_BAD_SEAL');
  });

  test('random bodies survive sealing and opening unchanged', async () => {
    const washington = new Receiver(us, cn);
    const epochs = new SenderEpochs('cn');
    let seq = 1;
    const text = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 300 });
    const bodies = fc.record({
      precedence: fc.constantFrom('flash', 'immediate', 'priority', 'routine'),
      status: fc.constantFrom('actual', 'exercise', 'test'),
      tlp: fc.constantFrom('red', 'amber+strict', 'amber', 'green', 'clear'),
      codes: fc.array(fc.stringMatching(/^[a-z0-9]{1,8}(\.[a-z0-9]{1,8}){0,3}$/), { maxLength: 5 }),
      text: fc.record({ lang: fc.constantFrom('en', 'zh', 'fr', 'zh-Hans'), body: text }),
      translations: fc.array(fc.record({ lang: fc.constantFrom('en', 'zh'), body: text }), {
        maxLength: 2,
      }),
      author: fc.record({ desk: fc.stringMatching(/^[a-z]{1,10}$/) }, { requiredKeys: ['desk'] }),
    });
    await fc.assert(
      fc.asyncProperty(bodies, async (fields) => {
        const b = body(fields as Partial<Body>);
        const sealed = await send(cn, [{ to: us, seq: seq++ }], b, { epochs });
        const result = await receiveEnvelope(sealed.envelopes.us, washington.ctx);
        return result.status === 'accepted' && jcs(result.body) === jcs(b);
      }),
      { numRuns: 150, seed: 20261126 },
    );
  });
});

describe('Washington refuses what it must, with the code of the first failing check', () => {
  test('each rejection code from a crafted envelope', async () => {
    const washington = new Receiver(us, cn);
    const good = (await send(cn, [{ to: us, seq: 1 }], body())).envelopes.us as Envelope;
    const cases: Array<[string, unknown, Receiver?]> = [];
    cases.push(['E_MALFORMED', { header: {}, sig: '', sealed: {} }]);
    cases.push(['E_MALFORMED', { ...clone(good), extra: true }]);
    cases.push(['E_UNSUPPORTED_VERSION', { ...clone(good), header: { ...good.header, v: 9 } }]);
    cases.push([
      'E_TOO_LARGE',
      { ...clone(good), sealed: { ...good.sealed, ct: 'A'.repeat(4_300_000) } },
    ]);
    cases.push(['E_UNKNOWN_PARTY', good, new Receiver(us)]);
    cases.push([
      'E_UNKNOWN_KEY',
      { ...clone(good), header: { ...good.header, kid: cn.signed.card.keys[0]?.kid } },
    ]);
    cases.push([
      'E_BAD_SIGNATURE',
      { ...clone(good), header: { ...good.header, sent: '2026-01-01T00:00:01.000Z' } },
    ]);
    cases.push(['E_NOT_FOR_ME', good, new Receiver(eu, cn)]);
    cases.push(['E_UNSUPPORTED_SUITE', good, withoutSealingKey(new Receiver(us, cn), 'x-wing')]);
    const wrongBody = await send(cn, [{ to: us, seq: 2 }], body());
    const swapped = clone(wrongBody.envelopes.us as Envelope);
    swapped.sealed = clone(good.sealed);
    cases.push(['E_BAD_SEAL', swapped]);
    for (const [expected, input, receiver] of cases)
      expect(code(await receiveEnvelope(input, (receiver ?? washington).ctx)), expected).toBe(
        expected,
      );
  });

  test('a body that does not match its signed hash', async () => {
    const { makeHeader, sealFor, signHeader } = await import('./envelope.ts');
    const { jcsBytes } = await import('../protocol/jcs.ts');
    const epoch = await new SenderEpochs('cn').next('us', 'x25519', xKey(us));
    const signer = cn.node.signer('signing');
    const header = makeHeader(
      {
        kind: 'message',
        id: nextId(),
        from: 'cn',
        seq: { us: 1 },
        sent: new Date(),
        kid: signer.kid,
      },
      jcsBytes(body()),
    );
    const envelope = {
      header,
      sig: signHeader(header, signer.key),
      sealed: sealFor(epoch, jcsBytes(header), jcsBytes(body())),
    };
    expect(code(await receiveEnvelope(envelope, new Receiver(us, cn).ctx))).toBe('E_BAD_BODY_HASH');
  });

  test('the same id or the same seq under another header is equivocation; the same envelope is a duplicate', async () => {
    const washington = new Receiver(us, cn);
    const first = await send(cn, [{ to: us, seq: 1 }], body());
    const accepted = await receiveEnvelope(first.envelopes.us, washington.ctx);
    if (accepted.status !== 'accepted') throw new Error('first message refused');
    washington.keep(accepted.envelope, accepted.headerHash);
    expect(code(await receiveEnvelope(first.envelopes.us, washington.ctx))).toBe('duplicate');
    const sameId = await send(cn, [{ to: us, seq: 2 }], body(), { id: first.header.id });
    expect(code(await receiveEnvelope(sameId.envelopes.us, washington.ctx))).toBe('E_EQUIVOCATION');
    const sameSeq = await send(cn, [{ to: us, seq: 1 }], body());
    expect(code(await receiveEnvelope(sameSeq.envelopes.us, washington.ctx))).toBe(
      'E_EQUIVOCATION',
    );
  });

  test('a retired key is valid up to its last seq and not after', async () => {
    const washington = new Receiver(us, cn);
    const old = cn.signed.card.keys.find((k) => k.purpose === 'signing');
    if (!old) throw new Error('no signing key');
    const replacement = ed25519Key('signing');
    const pinned = washington.peers.get('cn');
    if (!pinned) throw new Error('cn not pinned');
    washington.peers.set('cn', {
      card: {
        ...pinned.card,
        keys: pinned.card.keys.map((k) => (k.kid === old.kid ? replacement.entry : k)),
      },
      retired: [{ key: old, untilSeq: 5 }],
    });
    expect(
      code(
        await receiveEnvelope(
          (await send(cn, [{ to: us, seq: 5 }], body())).envelopes.us,
          washington.ctx,
        ),
      ),
    ).toBe('accepted');
    expect(
      code(
        await receiveEnvelope(
          (await send(cn, [{ to: us, seq: 6 }], body())).envelopes.us,
          washington.ctx,
        ),
      ),
    ).toBe('E_UNKNOWN_KEY');
  });

  test('rotations: signed by the identity key and carrying a newer card of the same party', async () => {
    const washington = new Receiver(us, cn);
    const next = signCard(
      createCard({
        party: 'cn',
        names: cn.signed.card.names,
        keys: cn.signed.card.keys,
        endpoints: [
          { id: 'direct', kind: 'direct', url: 'https://cn-new.example:7100', priority: 0 },
        ],
        vocabulary: cn.signed.card.vocabulary,
        serial: 2,
        issued: new Date('2026-06-01T00:00:00.000Z'),
      }),
      cn.node.signer('identity').key,
    );
    const rotation = body({ type: 'rotation', rotation: { reason: 'routine', card: next } });
    expect(
      code(
        await receiveEnvelope(
          (await send(cn, [{ to: us, seq: 1 }], rotation, { kind: 'rotation' })).envelopes.us,
          washington.ctx,
        ),
      ),
    ).toBe('accepted');
    // The same statement claiming a compromise must come from the recovery key.
    const claim = body({ type: 'rotation', rotation: { reason: 'compromise', card: next } });
    expect(
      code(
        await receiveEnvelope(
          (await send(cn, [{ to: us, seq: 2 }], claim, { kind: 'rotation' })).envelopes.us,
          washington.ctx,
        ),
      ),
    ).toBe('E_BAD_ROTATION');
    // A rotation body in an ordinary message envelope.
    expect(
      code(
        await receiveEnvelope(
          (await send(cn, [{ to: us, seq: 3 }], rotation)).envelopes.us,
          washington.ctx,
        ),
      ),
    ).toBe('E_BAD_ROTATION');
    // An older serial.
    const stale = body({ type: 'rotation', rotation: { reason: 'routine', card: cn.signed } });
    expect(
      code(
        await receiveEnvelope(
          (await send(cn, [{ to: us, seq: 4 }], stale, { kind: 'rotation' })).envelopes.us,
          washington.ctx,
        ),
      ),
    ).toBe('E_BAD_ROTATION');
  });

  test('the epoch cache keeps a secret only after a message opened with it', async () => {
    const washington = new Receiver(us, cn);
    const good = (await send(cn, [{ to: us, seq: 1 }], body(), { suite: 'x25519' })).envelopes
      .us as Envelope;
    const forged = clone(good);
    const ct = fromBase64url(forged.sealed.ct);
    ct[ct.length - 1] = (ct[ct.length - 1] ?? 0) ^ 0x80;
    forged.sealed.ct = toBase64url(ct);
    expect(code(await receiveEnvelope(forged, washington.ctx))).toBe('E_BAD_SEAL');
    expect(washington.epochs.size).toBe(0);
    expect(code(await receiveEnvelope(good, washington.ctx))).toBe('accepted');
    expect(washington.epochs.size).toBe(1);
  });
});

describe('tampering with any single field is caught', () => {
  test('every header field, every sealed field, and the signature', async () => {
    const original = (await send(cn, [{ to: us, seq: 1 }], body(), { suite: 'x25519' })).envelopes
      .us as Envelope;
    const tampered: Array<[string, (e: Envelope) => void]> = [
      [
        'header.v',
        (e) => {
          e.header.v = 2;
        },
      ],
      [
        'header.kind',
        (e) => {
          e.header.kind = 'rotation';
        },
      ],
      [
        'header.id',
        (e) => {
          e.header.id = nextId();
        },
      ],
      [
        'header.from',
        (e) => {
          e.header.from = 'eu';
        },
      ],
      [
        'header.to',
        (e) => {
          e.header.to = ['us', 'eu'];
        },
      ],
      [
        'header.seq',
        (e) => {
          e.header.seq = { us: 2 };
        },
      ],
      [
        'header.sent',
        (e) => {
          e.header.sent = '2030-01-01T00:00:00.000Z';
        },
      ],
      [
        'header.kid',
        (e) => {
          e.header.kid = 'f'.repeat(32);
        },
      ],
      [
        'header.bodyHash',
        (e) => {
          e.header.bodyHash = '0'.repeat(64);
        },
      ],
      [
        'sig',
        (e) => {
          e.sig = flipBase64url(e.sig);
        },
      ],
      [
        'sealed.suite',
        (e) => {
          e.sealed.suite = 'x-wing';
        },
      ],
      [
        'sealed.epoch.id',
        (e) => {
          e.sealed.epoch.id = flipBase64url(e.sealed.epoch.id);
        },
      ],
      [
        'sealed.epoch.enc',
        (e) => {
          e.sealed.epoch.enc = flipBase64url(e.sealed.epoch.enc);
        },
      ],
      [
        'sealed.ct',
        (e) => {
          e.sealed.ct = flipBase64url(e.sealed.ct);
        },
      ],
    ];
    for (const [field, change] of tampered) {
      const e = clone(original);
      change(e);
      const result = await receiveEnvelope(e, new Receiver(us, cn).ctx);
      expect(result.status, field).toBe('rejected');
    }
    expect(code(await receiveEnvelope(original, new Receiver(us, cn).ctx))).toBe('accepted');
  });

  test('every body field changed after signing fails the body hash', async () => {
    const { sealFor } = await import('./envelope.ts');
    const { jcsBytes } = await import('../protocol/jcs.ts');
    const epoch = await new SenderEpochs('cn').next('us', 'x25519', xKey(us));
    const b = body({ inReplyTo: nextId(), incident: nextId() });
    const sealed = await send(cn, [{ to: us, seq: 1 }], b, { suite: 'x25519' });
    const header = sealed.header;
    const changes: Partial<Body>[] = [
      { salt: toBase64url(new Uint8Array(16)) },
      { type: 'reply' },
      { incident: nextId() },
      { precedence: 'routine' },
      { status: 'actual' },
      { tlp: 'clear' },
      { codes: ['action.stand-down'] },
      { text: { lang: 'en', body: 'All clear.' } },
      { translations: [{ lang: 'zh', body: '解除警报' }] },
      { author: { desk: 'principal' } },
      { approvals: [{ desk: 'officer', at: '2026-01-01T00:00:00.000Z' }] },
      { inReplyTo: nextId() },
    ];
    for (const change of changes) {
      const envelope = {
        header,
        sig: sealed.sig,
        sealed: sealFor(epoch, jcsBytes(header), jcsBytes({ ...b, ...change })),
      };
      expect(
        code(await receiveEnvelope(envelope, new Receiver(us, cn).ctx)),
        Object.keys(change)[0],
      ).toBe('E_BAD_BODY_HASH');
    }
  });
});

function flipBase64url(text: string): string {
  const bytes = fromBase64url(text);
  bytes[0] = (bytes[0] ?? 0) ^ 1;
  return toBase64url(bytes);
}

function xKey(p: Party): Uint8Array {
  const key = p.signed.card.keys.find((k) => k.purpose === 'sealing' && k.alg === 'x25519');
  if (!key) throw new Error('no x25519 key');
  return fromBase64url(key.pub);
}

function withoutSealingKey(receiver: Receiver, suite: string): Receiver {
  const ctx = receiver.ctx;
  Object.defineProperty(receiver, 'ctx', {
    get: () => ({
      ...ctx,
      sealingSecret: (s: string) => (s === suite ? undefined : ctx.sealingSecret(s)),
    }),
  });
  return receiver;
}
