import { describe, expect, it } from 'vitest';
import type { Body } from './body.ts';
import {
  acceptable,
  awaitsPerson,
  type ConferenceView,
  conferences,
  type FlowMessage,
  presenceChecks,
} from './flows.ts';

const base: Body = {
  salt: 'AAAAAAAAAAAAAAAAAAAAAA',
  type: 'query',
  precedence: 'immediate',
  status: 'exercise',
  tlp: 'amber',
  codes: [],
  translations: [],
  attachments: [],
  author: { desk: 'ops' },
  approvals: [],
};

/** Ids that sort as written: `id(3)` < `id(10)`. */
const id = (n: number) => `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`;

/** One message as `side` holds it: its author `from`, the other party the one that is not `side`. */
function held(side: 'us' | 'cn', from: 'us' | 'cn', n: number, body: Partial<Body>): FlowMessage {
  return {
    dir: from === side ? 'out' : 'in',
    party: side === 'us' ? 'cn' : 'us',
    from,
    id: id(n),
    sent: `2026-12-06T02:00:${String(n).padStart(2, '0')}.000Z`,
    received: `2026-12-06T02:00:${String(n + 1).padStart(2, '0')}.000Z`,
    body: { ...base, ...body },
  };
}

type Written = [from: 'us' | 'cn', n: number, body: Partial<Body>];
const on = (side: 'us' | 'cn', written: Written[]) =>
  written.map(([from, n, body]) => held(side, from, n, body));

const conf = (
  action: 'request' | 'accept' | 'decline' | 'propose',
  extra: { at?: string; cites?: number; minutes?: number; medium?: string; desk?: string } = {},
): Partial<Body> => ({
  type: 'conference',
  conference: {
    action,
    ...(extra.at ? { at: extra.at } : {}),
    ...(extra.minutes ? { minutes: extra.minutes } : {}),
    ...(extra.medium ? { medium: extra.medium } : {}),
  },
  ...(extra.cites ? { inReplyTo: id(extra.cites) } : {}),
  author: { desk: extra.desk ?? 'ops', person: extra.desk === 'principal' ? 'wang' : 'walker' },
});

/** What both sides show of one conference: the same, whichever side computes it. */
function both(written: Written[]): ConferenceView {
  const [us] = conferences(on('us', written));
  const [cn] = conferences(on('cn', written));
  if (!us || !cn) throw new Error('no conference');
  const shared = (v: ConferenceView) => ({ ...v, dir: undefined, party: undefined });
  expect(shared(us)).toEqual(shared(cn));
  return us;
}

const T1 = '2026-12-06T14:00:00.000Z';
const T2 = '2026-12-06T15:00:00.000Z';
const T3 = '2026-12-06T16:30:00.000Z';

describe('a presence check', () => {
  it('awaits a person; its answer does not', () => {
    expect(awaitsPerson({ type: 'presence', presence: { desk: 'principal' } })).toBe(true);
    expect(
      awaitsPerson({ type: 'presence', presence: { desk: 'principal', answer: 'present' } }),
    ).toBe(false);
    expect(awaitsPerson({ type: 'ack' })).toBe(false);
    expect(awaitsPerson({ type: 'incident.report' })).toBe(true);
  });

  it('shows the first answer from the other side: desk, person, both clocks', () => {
    const written: Written[] = [
      ['us', 1, { type: 'presence', presence: { desk: 'principal' } }],
      // Washington cannot answer its own check.
      [
        'us',
        2,
        { type: 'presence', presence: { desk: 'principal', answer: 'present' }, inReplyTo: id(1) },
      ],
      [
        'cn',
        3,
        {
          type: 'presence',
          presence: { desk: 'principal', answer: 'unavailable' },
          inReplyTo: id(1),
          author: { desk: 'principal', person: 'wang' },
        },
      ],
      [
        'cn',
        4,
        { type: 'presence', presence: { desk: 'principal', answer: 'present' }, inReplyTo: id(1) },
      ],
    ];
    const [check] = presenceChecks(on('us', written));
    expect(check).toMatchObject({
      id: id(1),
      dir: 'out',
      party: 'cn',
      desk: 'principal',
      answer: {
        id: id(3),
        answer: 'unavailable',
        party: 'cn',
        desk: 'principal',
        person: 'wang',
        sent: '2026-12-06T02:00:03.000Z',
        received: '2026-12-06T02:00:04.000Z',
      },
    });
    expect(presenceChecks(on('cn', written))[0]?.answer?.id).toBe(id(3));
  });

  it('is unanswered until answered', () => {
    const [check] = presenceChecks(
      on('cn', [['us', 1, { type: 'presence', presence: { desk: 'principal' } }]]),
    );
    expect(check?.dir).toBe('in');
    expect(check?.answer).toBeNull();
  });
});

describe('a conference', () => {
  it('awaits a person when it proposes a time, not when it accepts or declines', () => {
    expect(awaitsPerson(conf('request', { at: T1 }) as Body)).toBe(true);
    expect(awaitsPerson(conf('propose', { at: T1 }) as Body)).toBe(true);
    expect(awaitsPerson(conf('accept') as Body)).toBe(false);
    expect(awaitsPerson(conf('decline') as Body)).toBe(false);
  });

  it('accepted after a counter-proposal: the same agreed time and people on both sides', () => {
    const v = both([
      ['us', 1, conf('request', { at: T1, minutes: 30, medium: 'video' })],
      ['cn', 2, conf('propose', { at: T2, cites: 1, desk: 'principal' })],
      ['us', 3, conf('accept', { cites: 2 })],
    ]);
    expect(v.state).toBe('agreed');
    expect(v.agreed).toMatchObject({ proposal: id(2), at: T2, minutes: 30, medium: 'video' });
    expect(v.joining).toEqual([
      { party: 'cn', desk: 'principal', person: 'wang' },
      { party: 'us', desk: 'ops', person: 'walker' },
    ]);
    expect(v.proposals.map((p) => p.state)).toEqual(['superseded', 'accepted']);
    expect(acceptable(v, 'us')).toEqual([]);
  });

  it('offers several times as proposals in replies; the other side picks one', () => {
    const written: Written[] = [
      ['us', 1, conf('request', { at: T1, minutes: 45, medium: 'phone' })],
      ['us', 2, conf('propose', { at: T2, cites: 1 })],
      ['us', 3, conf('propose', { at: T3, cites: 1 })],
    ];
    const open = both(written);
    expect(open.state).toBe('proposed');
    expect(acceptable(open, 'cn').map((p) => [p.at, p.minutes, p.medium])).toEqual([
      [T1, 45, 'phone'],
      [T2, 45, 'phone'],
      [T3, 45, 'phone'],
    ]);
    // Nobody accepts their own time.
    expect(acceptable(open, 'us')).toEqual([]);
    const v = both([
      ...written,
      ['us', 4, conf('accept', { cites: 3 })],
      ['cn', 5, conf('accept', { cites: 3 })],
    ]);
    expect(v.entries.map((e) => e.counted)).toEqual([true, true, true, false, true]);
    expect(v.agreed?.at).toBe(T3);
  });

  it('takes the first of two crossing accepts, whatever order they arrive in', () => {
    const written: Written[] = [
      ['us', 1, conf('request', { at: T1 })],
      ['cn', 2, conf('propose', { at: T2, cites: 1 })],
      ['cn', 3, conf('accept', { cites: 1 })],
      ['us', 4, conf('accept', { cites: 2 })],
    ];
    const v = both(written);
    expect(v.agreed?.at).toBe(T1);
    expect(both([...written].reverse()).agreed?.at).toBe(T1);
  });

  it('takes a reply whose id sorts before its parent (a slow clock) after the parent', () => {
    const v = both([
      ['us', 5, conf('request', { at: T1 })],
      ['cn', 3, conf('accept', { cites: 5 })],
    ]);
    expect(v.state).toBe('agreed');
    expect(v.entries.map((e) => e.id)).toEqual([id(5), id(3)]);
  });

  it('is declined by a decline, and a decline after the agreement cancels the call', () => {
    expect(
      both([
        ['us', 1, conf('request', { at: T1 })],
        ['cn', 2, conf('decline', { cites: 1 })],
      ]),
    ).toMatchObject({ state: 'declined', declined: { party: 'cn', cancelled: false } });
    const v = both([
      ['us', 1, conf('request', { at: T1 })],
      ['cn', 2, conf('accept', { cites: 1 })],
      ['us', 3, conf('decline', { cites: 2 })],
      ['cn', 4, conf('propose', { at: T2, cites: 3 })],
    ]);
    expect(v).toMatchObject({
      state: 'declined',
      agreed: null,
      declined: { party: 'us', cancelled: true },
    });
    expect(v.entries.at(-1)?.counted).toBe(false);
  });

  it('is moved by a new time after the agreement, and agreed again', () => {
    const v = both([
      ['us', 1, conf('request', { at: T1 })],
      ['cn', 2, conf('accept', { cites: 1 })],
      ['cn', 3, conf('propose', { at: T3, cites: 2 })],
    ]);
    expect(v.state).toBe('proposed');
    expect(v.proposals.map((p) => p.state)).toEqual(['superseded', 'open']);
    const again = both([
      ['us', 1, conf('request', { at: T1 })],
      ['cn', 2, conf('accept', { cites: 1 })],
      ['cn', 3, conf('propose', { at: T3, cites: 2 })],
      ['us', 4, conf('accept', { cites: 3 })],
    ]);
    expect(again.agreed?.at).toBe(T3);
  });

  it('ignores messages that cite nothing of the thread', () => {
    const v = both([
      ['us', 1, conf('request', { at: T1 })],
      ['cn', 2, { ...conf('accept'), inReplyTo: id(99) }],
    ]);
    expect(v.state).toBe('proposed');
    expect(v.entries).toHaveLength(1);
  });
});
