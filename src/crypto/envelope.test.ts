/**
 * Sealing and opening envelopes end to end: Washington seals, Beijing (and Brussels) open, in both
 * suites, for every body type, and for any body fast-check can think of.
 */
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { type FixedParty, fixedCard, fixedKeys, fixedParty } from '../../test/vectors/generate.ts';
import { type Body, Body as BodySchema, bodyRuleViolation } from '../protocol/body.ts';
import type { KeyPurpose } from '../protocol/card.ts';
import { fromBase64url, sha256, toBase64url, toHex } from '../protocol/encoding.ts';
import { type EnvelopeKind, SUITES } from '../protocol/envelope.ts';
import { jcs, jcsBytes } from '../protocol/jcs.ts';
import { LIMITS } from '../protocol/limits.ts';
import { schemaError } from '../protocol/validate.ts';
import {
  BODY_TYPES,
  type BodyType,
  INCIDENT_STATES,
  PRECEDENCES,
  STATUSES,
  TLPS,
} from '../protocol/values.ts';
import { onlyKey } from './card.ts';
import { signedBytes } from './context.ts';
import { ed25519Verify } from './ed25519.ts';
import { sealMessageFor } from './envelope.ts';
import { EpochCache, SenderEpochs } from './epochs.ts';
import { ed25519Key } from './keys.ts';
import { type ReceiveContext, type ReceiveResult, receiveEnvelope } from './receive.ts';
import type { SenderEpoch, SuiteName } from './seal.ts';

const [us, cn, eu] = await Promise.all([fixedParty('us'), fixedParty('cn'), fixedParty('eu')]);
const parties: Record<string, FixedParty> = { us, cn, eu };

/** Washington's next card: a routine rotation of its signing key, serial 2. */
const rotated = fixedCard(
  'us',
  (await fixedKeys('us')).map((k) =>
    k.entry.purpose === 'signing' ? ed25519Key('signing', new Uint8Array(32).fill(0x0d)) : k,
  ),
  2,
);

/** A receiver that has pinned Washington's card and remembers nothing between envelopes. */
function receiverOf(me: FixedParty, epochs = new EpochCache()): ReceiveContext {
  return {
    me: me.id,
    peer: (party) => (party === 'us' ? { card: us.card, retired: [] } : undefined),
    sealingSecrets: (suite) => me.node.sealingKeys(suite as SuiteName).map((k) => k.secret),
    epochs,
    seenId: () => undefined,
    seqOwner: () => undefined,
  };
}

interface Sending {
  seq: Record<string, number>;
  suites: Record<string, SuiteName>;
  kind?: EnvelopeKind;
  signer?: KeyPurpose;
  epochs?: SenderEpochs;
}

/** Washington releases `body`: one header, one sealed part per recipient. */
async function send(body: Body, how: Sending) {
  const epochs: Record<string, SenderEpoch> = {};
  const senderEpochs = how.epochs ?? new SenderEpochs('us');
  for (const [to, suite] of Object.entries(how.suites)) {
    const party = parties[to];
    if (!party) throw new Error(`no party ${to}`);
    const pub = party.card.keys.find((k) => k.purpose === 'sealing' && k.alg === suite)?.pub ?? '';
    epochs[to] = await senderEpochs.next(to, suite, fromBase64url(pub));
  }
  const signer = us.node.signer(how.signer ?? 'signing');
  return sealMessageFor(
    {
      kind: how.kind ?? 'message',
      id: uuidv7(),
      from: 'us',
      seq: how.seq,
      sent: new Date(),
      kid: signer.kid,
    },
    body,
    signer.key,
    epochs,
  );
}

const INCIDENT = '01954f7a-3c00-7a00-8000-00000000a001';
const EARLIER = '01954f7a-3c00-7a00-8000-000000000001';
const salt = () => toBase64url(crypto.getRandomValues(new Uint8Array(16)));

function sampleBody(type: BodyType): Body {
  const base: Body = {
    salt: salt(),
    type,
    precedence: 'immediate',
    status: 'exercise',
    tlp: 'amber',
    codes: [],
    text: { lang: 'en', body: `Exercise ${type}.` },
    translations: [{ lang: 'zh', body: `演习 ${type}。` }],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
  };
  switch (type) {
    case 'incident.report':
    case 'incident.update':
      return {
        ...base,
        incident: INCIDENT,
        precedence: 'flash',
        report: {
          nature: 'incident',
          category: 'category.autonomous-unpredictable',
          system: { developer: 'Example Labs', model: 'Agent-7', version: '7.1' },
          harm: { types: ['harm.cyber'], severity: 'severity.high', reversibility: 'partial' },
          attribution: { actor: 'autonomous-ai-system', confidence: 'moderate' },
          actionsTaken: ['action.isolate-systems'],
          actionsRequested: ['action.confirm-receipt'],
          evidencePreserved: true,
          respondBy: '2025-03-01T12:10:00.000Z',
        },
      };
    case 'incident.close':
      return { ...base, incident: INCIDENT };
    case 'incident.retract':
      return { ...base, incident: INCIDENT, inReplyTo: EARLIER };
    case 'reply':
    case 'ack':
    case 'reminder':
      return { ...base, inReplyTo: EARLIER };
    case 'notice':
      return {
        ...base,
        notice: { subject: 'notice.large-training-run', from: '2025-03-10T00:00:00.000Z' },
      };
    case 'presence':
      return { ...base, presence: { desk: 'principal' } };
    case 'conference':
      return {
        ...base,
        conference: {
          action: 'propose',
          at: '2025-03-01T13:00:00.000Z',
          minutes: 30,
          medium: 'video',
        },
      };
    case 'state':
      return {
        ...base,
        incident: INCIDENT,
        state: { to: 'investigating', previous: null, request: false },
      };
    case 'rotation':
      return { ...base, rotation: { reason: 'routine', card: rotated } };
    default:
      return base;
  }
}

const isRotation = (body: Body) => body.type === 'rotation';
const signerFor = (body: Body): KeyPurpose =>
  body.rotation ? (body.rotation.reason === 'routine' ? 'identity' : 'recovery') : 'signing';

function expectAccepted(result: ReceiveResult, body: Body) {
  if (result.status !== 'accepted')
    throw new Error(
      `${result.status}: ${'code' in result ? `${result.code} ${result.message}` : ''}`,
    );
  expect(result.body).toEqual(body);
  expect(jcs(result.body)).toBe(jcs(body));
}

describe.each(SUITES)('sealed with %s', (suite) => {
  it.each(BODY_TYPES)('a %s body reaches Beijing exactly as Washington wrote it', async (type) => {
    const body = sampleBody(type);
    expect(bodyRuleViolation(body)).toBeUndefined();
    const message = await send(body, {
      seq: { cn: 1 },
      suites: { cn: suite },
      kind: isRotation(body) ? 'rotation' : 'message',
      signer: signerFor(body),
    });
    const envelope = message.envelopes.cn;
    expect(envelope?.sealed.suite).toBe(suite);
    expectAccepted(await receiveEnvelope(envelope, receiverOf(cn)), body);
    expectAccepted(
      await receiveEnvelope(JSON.parse(JSON.stringify(envelope)), receiverOf(cn)),
      body,
    );
  });

  it('carries a header that commits to the body and verifies with the signing key', async () => {
    const body = sampleBody('query');
    const message = await send(body, { seq: { cn: 4 }, suites: { cn: suite } });
    const { header, sig } = message;
    expect(header).toMatchObject({ v: 1, kind: 'message', from: 'us', to: ['cn'], seq: { cn: 4 } });
    expect(header.kid).toBe(onlyKey(us.card, 'signing').kid);
    expect(header.bodyHash).toBe(toHex(sha256(jcsBytes(body))));
    expect(message.headerHash).toBe(toHex(sha256(jcsBytes(header))));
    const pub = fromBase64url(onlyKey(us.card, 'signing').pub);
    expect(ed25519Verify(pub, signedBytes('envelope', jcsBytes(header)), fromBase64url(sig))).toBe(
      true,
    );
    const sealed = message.envelopes.cn?.sealed;
    expect(fromBase64url(sealed?.ct ?? '')).toHaveLength(jcsBytes(body).length + 16);
  });
});

describe('one message to two recipients', () => {
  it('has one header and signature, and a sealed part that only its own recipient opens', async () => {
    const body = sampleBody('notice');
    const message = await send(body, {
      seq: { cn: 7, eu: 1 },
      suites: { cn: 'x-wing', eu: 'x25519' },
    });
    const forBeijing = message.envelopes.cn;
    const forBrussels = message.envelopes.eu;
    if (!forBeijing || !forBrussels) throw new Error('an envelope is missing');
    expect(message.header.to).toEqual(['cn', 'eu']);
    expect(forBeijing.header).toBe(forBrussels.header);
    expect(forBeijing.sig).toBe(forBrussels.sig);
    expect(forBeijing.sealed).not.toEqual(forBrussels.sealed);

    const atBeijing = await receiveEnvelope(forBeijing, receiverOf(cn));
    const atBrussels = await receiveEnvelope(forBrussels, receiverOf(eu));
    expectAccepted(atBeijing, body);
    expectAccepted(atBrussels, body);
    if (atBeijing.status !== 'accepted' || atBrussels.status !== 'accepted') return;
    expect(atBeijing.headerHash).toBe(atBrussels.headerHash);

    expect(await receiveEnvelope(forBrussels, receiverOf(cn))).toMatchObject({
      code: 'E_BAD_SEAL',
    });
    expect(await receiveEnvelope(forBeijing, receiverOf(eu))).toMatchObject({ code: 'E_BAD_SEAL' });
  });

  it('cannot be opened by a party it was not sent to', async () => {
    const message = await send(sampleBody('query'), { seq: { eu: 2 }, suites: { eu: 'x25519' } });
    expect(await receiveEnvelope(message.envelopes.eu, receiverOf(cn))).toMatchObject({
      status: 'rejected',
      code: 'E_NOT_FOR_ME',
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Any body: arbitraries built from the schema's fields.

const SECTION_OF: Partial<
  Record<BodyType, 'report' | 'state' | 'conference' | 'presence' | 'notice' | 'rotation'>
> = {
  'incident.report': 'report',
  'incident.update': 'report',
  notice: 'notice',
  presence: 'presence',
  conference: 'conference',
  state: 'state',
  rotation: 'rotation',
};
const NEEDS_INCIDENT = new Set<BodyType>([
  'incident.report',
  'incident.update',
  'incident.close',
  'incident.retract',
  'state',
]);
const NEEDS_REPLY = new Set<BodyType>(['incident.retract', 'reply', 'ack', 'reminder']);

const code = fc.stringMatching(/^[a-z0-9]+([.-][a-z0-9]+)*$/).filter((s) => s.length <= 64);
const codes = fc.array(code, { maxLength: 4 });
const label = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
  )
  .filter((s) => s.length <= LIMITS.labelChars);
const text = fc.oneof(
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 200 }),
  fc.constantFrom('\ud800', 'a\udfffb', '\u2028\u2029', '"\\/\u0000\u001f\u007f'),
);
const lang = fc.constantFrom('en', 'zh', 'zh-Hans', 'fr', 'ru', 'ar');
const time = fc
  .date({
    min: new Date('2000-01-01T00:00:00.000Z'),
    max: new Date('2100-01-01T00:00:00.000Z'),
    noInvalidDate: true,
  })
  .map((d) => d.toISOString());
const uuid7 = fc.uuid({ version: 7 });
const langText = fc.record({ lang, body: text });
const attachment = fc.uint8Array({ maxLength: 200 }).chain((data) =>
  fc.record({
    name: label,
    mediaType: fc.constantFrom('application/stix+json', 'text/plain', 'image/png'),
    sha256: fc.constant(toHex(sha256(data))),
    data: fc.constant(toBase64url(data)),
  }),
);
const extValue = fc.oneof(
  text,
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
);
const ext = fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z0-9]{0,31}$/), extValue, { maxKeys: 3 });

const sections = {
  report: fc.record(
    {
      nature: fc.constantFrom('incident', 'hazard'),
      category: code,
      system: fc.record(
        { developer: label, model: label, version: label, deployment: label },
        { requiredKeys: [] },
      ),
      harm: fc.record(
        {
          types: codes,
          severity: code,
          scale: label,
          geography: fc.array(label, { maxLength: 3 }),
          reversibility: fc.constantFrom('reversible', 'partial', 'irreversible', 'unknown'),
        },
        { requiredKeys: ['types', 'severity', 'reversibility'] },
      ),
      attribution: fc.record({
        actor: fc.constantFrom('state', 'non-state', 'autonomous-ai-system', 'unknown'),
        confidence: fc.constantFrom('low', 'moderate', 'high'),
      }),
      actionsTaken: codes,
      actionsRequested: codes,
      evidencePreserved: fc.boolean(),
      respondBy: time,
    },
    { requiredKeys: ['nature', 'category', 'actionsTaken', 'actionsRequested'] },
  ),
  state: fc.record(
    {
      to: fc.constantFrom(...INCIDENT_STATES),
      previous: fc.option(uuid7, { nil: null }),
      request: fc.boolean(),
      decision: fc.constantFrom('accepted', 'declined'),
    },
    { requiredKeys: ['to', 'previous', 'request'] },
  ),
  conference: fc
    .record(
      {
        action: fc.constantFrom('request', 'accept', 'decline', 'propose'),
        at: time,
        minutes: fc.integer({ min: 1, max: 1440 }),
        medium: label,
      },
      { requiredKeys: ['action'] },
    )
    .filter((c) => c.action === 'accept' || c.action === 'decline' || c.at !== undefined),
  presence: fc.record(
    { desk: code, answer: fc.constantFrom('present', 'unavailable') },
    { requiredKeys: ['desk'] },
  ),
  notice: fc.record({ subject: code, from: time, until: time }, { requiredKeys: ['subject'] }),
  rotation: fc.record({
    reason: fc.constantFrom('routine', 'compromise'),
    card: fc.constant(rotated),
  }),
};

const anyBody: fc.Arbitrary<Body> = fc.constantFrom(...BODY_TYPES).chain((type) => {
  const section = SECTION_OF[type];
  return fc
    .record(
      {
        salt: fc.uint8Array({ minLength: 16, maxLength: 16 }).map(toBase64url),
        type: fc.constant(type),
        incident: uuid7,
        precedence: fc.constantFrom(...PRECEDENCES),
        status: fc.constantFrom(...STATUSES),
        tlp: fc.constantFrom(...TLPS),
        codes,
        text: langText,
        translations: fc.array(langText, { maxLength: 3 }),
        attachments: fc.array(attachment, { maxLength: 2 }),
        author: fc.record({ desk: code, person: label }, { requiredKeys: ['desk'] }),
        approvals: fc.array(
          fc.record(
            { desk: code, person: label, at: time, breakGlass: fc.boolean() },
            { requiredKeys: ['desk', 'at'] },
          ),
          { maxLength: 2 },
        ),
        inReplyTo: uuid7,
        ext,
        ...(section ? { [section]: sections[section] } : {}),
      },
      {
        requiredKeys: [
          'salt',
          'type',
          'precedence',
          'status',
          'tlp',
          'codes',
          'translations',
          'attachments',
          'author',
          'approvals',
          ...(section ? [section] : []),
          ...(NEEDS_INCIDENT.has(type) ? ['incident'] : []),
          ...(NEEDS_REPLY.has(type) ? ['inReplyTo'] : []),
        ] as never[],
      },
    )
    .map((body) => {
      const b = body as Body;
      return b.state?.decision !== undefined && b.inReplyTo === undefined
        ? { ...b, inReplyTo: EARLIER }
        : b;
    });
});

describe.each(SUITES)('any body sealed with %s', (suite) => {
  const epochs = new SenderEpochs('us');
  const cache = new EpochCache();

  it('opens at Beijing as the identical body', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        expect(schemaError(BodySchema, body)).toBeUndefined();
        expect(bodyRuleViolation(body)).toBeUndefined();
        const message = await send(body, {
          seq: { cn: 1 },
          suites: { cn: suite },
          kind: isRotation(body) ? 'rotation' : 'message',
          signer: signerFor(body),
          epochs,
        });
        expectAccepted(await receiveEnvelope(message.envelopes.cn, receiverOf(cn, cache)), body);
      }),
      { numRuns: 150 },
    );
    expect(cache.size).toBe(1);
  });
});
