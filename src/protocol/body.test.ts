/**
 * The body rules of docs/protocol.md § Body types and their sections, restated here as the table
 * a reader of the spec sees, and checked against the schema and bodyRuleViolation.
 */
import { describe, expect, it } from 'vitest';
import cards from '../../test/vectors/cards.json' with { type: 'json' };
import { Body, bodyRuleViolation, repeatedProblem } from './body.ts';
import type { SignedCard } from './card.ts';
import { LIMITS } from './limits.ts';
import { schemaError } from './validate.ts';
import { BODY_TYPES, type BodyType, withArticle } from './values.ts';

type Section = 'report' | 'state' | 'conference' | 'presence' | 'notice' | 'rotation';

const TABLE: Record<BodyType, { section?: Section; incident?: true; inReplyTo?: true }> = {
  'incident.report': { section: 'report', incident: true },
  'incident.update': { section: 'report', incident: true },
  'incident.close': { incident: true },
  'incident.retract': { incident: true, inReplyTo: true },
  query: {},
  reply: { inReplyTo: true },
  ack: { inReplyTo: true },
  reminder: { inReplyTo: true },
  notice: { section: 'notice' },
  presence: { section: 'presence' },
  conference: { section: 'conference' },
  state: { section: 'state', incident: true },
  test: {},
  rotation: { section: 'rotation' },
};

const SECTIONS: Record<Section, Body[Section]> = {
  report: {
    nature: 'hazard',
    category: 'category.weights-loose',
    actionsTaken: [],
    actionsRequested: ['action.confirm-receipt'],
  },
  state: { to: 'investigating', previous: null, request: false },
  conference: { action: 'request', at: '2025-03-01T13:00:00.000Z', minutes: 30 },
  presence: { desk: 'principal' },
  notice: { subject: 'notice.large-training-run' },
  rotation: { reason: 'routine', card: cards.cards.us.signed as SignedCard },
};

const INCIDENT = '01954f7a-3c00-7a00-8000-00000000a001';
const ASKED = '01954f7a-3c00-7a00-8000-000000000001';

/** The smallest body of `type` that carries everything its row of the table asks for. */
function minimal(type: BodyType): Body {
  const row = TABLE[type];
  return {
    salt: 'AAECAwQFBgcICQoLDA0ODw',
    type,
    precedence: 'routine',
    status: 'test',
    tlp: 'clear',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...(row.incident ? { incident: INCIDENT } : {}),
    ...(row.inReplyTo ? { inReplyTo: ASKED } : {}),
    ...(row.section ? { [row.section]: SECTIONS[row.section] } : {}),
  };
}

const problems = (body: unknown) => schemaError(Body, body) ?? bodyRuleViolation(body as Body);

describe('body types', () => {
  it('cover the fourteen types of the spec', () => {
    expect([...BODY_TYPES].sort()).toEqual(Object.keys(TABLE).sort());
  });

  it.each(BODY_TYPES)('accept a %s body carrying what its type needs', (type) => {
    expect(problems(minimal(type))).toBeUndefined();
  });

  it.each(BODY_TYPES)('refuse a %s body missing its section, incident or reply', (type) => {
    const row = TABLE[type];
    const needed = [row.section, row.incident && 'incident', row.inReplyTo && 'inReplyTo'].filter(
      (x): x is string => typeof x === 'string',
    );
    for (const member of needed) {
      const body: Record<string, unknown> = { ...minimal(type) };
      delete body[member];
      expect(problems(body), member).toContain(`needs "${member}"`);
    }
  });

  it.each(BODY_TYPES)("refuse a %s body carrying another type's section", (type) => {
    for (const section of Object.keys(SECTIONS) as Section[]) {
      if (section === TABLE[type].section) continue;
      const body = { ...minimal(type), [section]: SECTIONS[section] };
      expect(problems(body), section).toMatch(
        new RegExp(`^an? ${type} body cannot carry "${section}"$`),
      );
    }
  });

  it('say "an" before a type that starts with a vowel', () => {
    const { inReplyTo: _, ...ack } = minimal('ack');
    expect(problems(ack)).toBe('an ack body needs "inReplyTo"');
    const { report: __, ...update } = minimal('incident.update');
    expect(problems(update)).toBe('an incident.update body needs "report"');
    expect(problems({ ...minimal('query'), state: SECTIONS.state })).toBe(
      'a query body cannot carry "state"',
    );
  });
});

describe('section rules', () => {
  it('ask a conference request or proposal for a time, not an accept or decline', () => {
    for (const action of ['request', 'propose'] as const)
      expect(problems({ ...minimal('conference'), conference: { action } })).toBe(
        `a conference ${action} needs "at"`,
      );
    for (const action of ['accept', 'decline'] as const)
      expect(problems({ ...minimal('conference'), conference: { action } })).toBeUndefined();
  });

  it('ask a state decision to name the request it answers', () => {
    const decided = { to: 'mitigating', previous: ASKED, request: false, decision: 'accepted' };
    expect(problems({ ...minimal('state'), state: decided })).toBe(
      'a state decision needs "inReplyTo" naming the request',
    );
    expect(problems({ ...minimal('state'), state: decided, inReplyTo: ASKED })).toBeUndefined();
  });

  it('bound ext by its canonical size', () => {
    const fits = { note: 'x'.repeat(LIMITS.extBytes - 20) };
    const over = { note: 'x'.repeat(LIMITS.extBytes) };
    expect(problems({ ...minimal('query'), ext: fits })).toBeUndefined();
    expect(problems({ ...minimal('query'), ext: over })).toBe(
      `"ext" is larger than ${LIMITS.extBytes} bytes`,
    );
  });
});

describe('body schema', () => {
  const body = minimal('query');

  it.each([
    ['a 15-byte salt', { ...body, salt: 'AAECAwQFBgcICQoLDA0O' }],
    ['an unknown type', { ...body, type: 'chat' }],
    ['an unknown precedence', { ...body, precedence: 'urgent' }],
    ['an empty text', { ...body, text: { lang: 'en', body: '' } }],
    [
      'a text over the limit',
      { ...body, text: { lang: 'en', body: 'x'.repeat(LIMITS.textChars + 1) } },
    ],
    ['too many codes', { ...body, codes: Array(LIMITS.codes + 1).fill('a') }],
    ['null for an absent reference', { ...body, inReplyTo: null }],
    ['a missing empty list', { ...body, approvals: undefined }],
    ['an unknown member', { ...body, priority: 1 }],
    [
      'an uppercase attachment digest',
      {
        ...body,
        attachments: [{ name: 'a', mediaType: 'text/plain', sha256: 'A'.repeat(64), data: '' }],
      },
    ],
  ])('refuses %s', (_what, value) => {
    expect(schemaError(Body, JSON.parse(JSON.stringify(value)))).toBeDefined();
  });
});

describe('what a sender would say twice, or translate into nothing', () => {
  const draft = (over: Partial<Body>) =>
    ({
      salt: 'AAAAAAAAAAAAAAAAAAAAAA',
      type: 'query',
      precedence: 'routine',
      status: 'exercise',
      tlp: 'green',
      codes: [],
      text: { lang: 'zh', body: '你好' },
      translations: [],
      attachments: [],
      author: { desk: 'ops' },
      approvals: [],
      ...over,
    }) as Body;

  it('passes a translation into another language', () => {
    expect(repeatedProblem(draft({ translations: [{ lang: 'en', body: 'Hello' }] }))).toBe(
      undefined,
    );
  });

  it('refuses a translation into the text’s own language, in any case', () => {
    expect(repeatedProblem(draft({ translations: [{ lang: 'ZH', body: '您好' }] }))).toBe(
      'translations/0: the text is in "zh" already: a translation goes into another language',
    );
  });

  it('refuses two translations into one language, and a code twice', () => {
    const twice = [
      { lang: 'en', body: 'Hello' },
      { lang: 'en', body: 'Hi' },
    ];
    expect(repeatedProblem(draft({ translations: twice }))).toBe(
      'translations/0 and 1 are both in "en": give one per language',
    );
    expect(
      repeatedProblem(draft({ codes: ['phrase.investigating', 'phrase.investigating'] })),
    ).toBe('codes has "phrase.investigating" twice: give each code once');
  });
});

it('a message type reads with its article in sentences: an ack, an incident.report, a query', () => {
  expect(['ack', 'incident.report', 'query', 'notice'].map(withArticle)).toEqual([
    'an ack',
    'an incident.report',
    'a query',
    'a notice',
  ]);
});
