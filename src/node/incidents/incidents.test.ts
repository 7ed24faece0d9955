/**
 * An incident's state from its messages: the owner's chain of changes, requests and decisions,
 * stale changes, closure and retraction — and the same answer from either side's copy. Also the
 * configured deadlines and the flash text limit.
 */
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, test } from 'vitest';
import { draft } from '../../../test/support/pair.ts';
import type { Body } from '../../protocol/body.ts';
import type { IncidentState } from '../../protocol/values.ts';
import { ConfigError, parseConfig } from '../core/config.ts';
import { flashTextProblem } from '../core/node.ts';
import { deriveIncident, type IncidentMessage, transitionProblem } from './incidents.ts';

const incident = uuidv7();
const salt = 'AAAAAAAAAAAAAAAAAAAAAA';

/** A message of the incident as written by `from` (us or cn). */
function msg(
  from: 'us' | 'cn',
  overrides: Partial<Body>,
): { from: 'us' | 'cn'; m: Omit<IncidentMessage, 'dir' | 'party'> } {
  const id = uuidv7();
  return {
    from,
    m: {
      id,
      at: new Date().toISOString(),
      body: { salt, ...draft({ incident, ...overrides }) } as Body,
    },
  };
}

/** The same messages as `me` holds them: its own are `out`, the other's `in`. */
function viewOf(me: 'us' | 'cn', list: ReturnType<typeof msg>[]): IncidentMessage[] {
  const other = me === 'us' ? 'cn' : 'us';
  return list.map(({ from, m }) => ({ ...m, dir: from === me ? 'out' : 'in', party: other }));
}

const report = () =>
  msg('us', {
    type: 'incident.report',
    precedence: 'flash',
    report: {
      nature: 'incident',
      category: 'category.other',
      actionsTaken: [],
      actionsRequested: [],
    },
  });
const change = (from: 'us' | 'cn', to: IncidentState, previous: string | null) =>
  msg(from, { type: 'state', state: { to, previous, request: false } });

describe('incident state', () => {
  test('the owner’s chain of changes gives the state; both sides compute the same', () => {
    const r = report();
    const a = change('us', 'acknowledged', null);
    const b = change('us', 'investigating', a.m.id);
    const stale = change('us', 'resolved', null); // cites nothing current: ignored
    const list = [r, a, b, stale];
    const atUs = deriveIncident(incident, 'us', viewOf('us', list));
    const atCn = deriveIncident(incident, 'cn', viewOf('cn', list));
    expect(atUs?.state).toBe('investigating');
    expect(atUs?.head).toBe(b.m.id);
    expect(atUs?.owner).toBe('us');
    expect(atUs?.ours).toBe(true);
    expect(atCn?.ours).toBe(false);
    const { ours: _a, peers: _b, reportedAt: _c, updatedAt: _d, ...sharedUs } = atUs ?? {};
    const { ours: _e, peers: _f, reportedAt: _g, updatedAt: _h, ...sharedCn } = atCn ?? {};
    expect(sharedCn).toEqual(sharedUs);
  });

  test('a change from the other side does not count; its request waits for the owner’s decision', () => {
    const r = report();
    const forged = change('cn', 'closed', null);
    const request = msg('cn', {
      type: 'state',
      state: { to: 'mitigating', previous: null, request: true },
    });
    let view = deriveIncident(incident, 'us', viewOf('us', [r, forged, request]));
    expect(view?.state).toBe('reported');
    expect(view?.pendingRequests.map((p) => p.id)).toEqual([request.m.id]);
    const declined = msg('us', {
      type: 'state',
      inReplyTo: request.m.id,
      state: { to: 'mitigating', previous: null, request: false, decision: 'declined' },
    });
    view = deriveIncident(incident, 'cn', viewOf('cn', [r, forged, request, declined]));
    expect(view?.state).toBe('reported');
    expect(view?.pendingRequests).toEqual([]);
    const again = msg('cn', {
      type: 'state',
      state: { to: 'mitigating', previous: null, request: true },
    });
    const accepted = msg('us', {
      type: 'state',
      inReplyTo: again.m.id,
      state: { to: 'mitigating', previous: null, request: false, decision: 'accepted' },
    });
    view = deriveIncident(
      incident,
      'cn',
      viewOf('cn', [r, forged, request, declined, again, accepted]),
    );
    expect(view?.state).toBe('mitigating');
    expect(view?.head).toBe(accepted.m.id);
  });

  test('closed is final; a retraction by the owner is reported, by anyone else ignored', () => {
    const r = report();
    const close = change('us', 'closed', null);
    const after = change('us', 'investigating', close.m.id);
    const fake = msg('cn', { type: 'incident.retract', inReplyTo: r.m.id });
    let view = deriveIncident(incident, 'cn', viewOf('cn', [r, close, after, fake]));
    expect(view?.state).toBe('closed');
    expect(view?.retracted).toBeNull();
    const retract = msg('us', {
      type: 'incident.retract',
      inReplyTo: r.m.id,
      text: { lang: 'en', body: 'False alarm.' },
    });
    view = deriveIncident(incident, 'cn', viewOf('cn', [r, retract]));
    expect(view?.retracted).toMatchObject({ id: retract.m.id, text: 'False alarm.' });
    expect(transitionProblem('closed', 'investigating')).toMatch(/closed/);
    expect(transitionProblem('reported', 'reported')).toMatch(/already/);
    expect(transitionProblem('resolved', 'investigating')).toBeUndefined();
    expect(deriveIncident(uuidv7(), 'us', viewOf('us', [r]))).toBeUndefined();
  });
});

describe('deadlines and limits in the configuration', () => {
  test('defaults sit inside the speed-of-service objectives', () => {
    const { incidents } = parseConfig({ party: 'us' });
    expect(incidents.precedence).toEqual({
      flash: { ackMinutes: 5, escalateMinutes: 2 },
      immediate: { ackMinutes: 15, escalateMinutes: 5 },
      priority: { ackMinutes: 60, escalateMinutes: 30 },
      routine: { ackMinutes: 180, escalateMinutes: 60 },
    });
    expect(incidents.ladder).toEqual(['ops', 'duty-officer', 'principal']);
    expect(incidents.repeats).toBe(3);
    expect(incidents.flashTextMax).toBe(500);
  });

  test('a bad setting is refused with its name', () => {
    expect(() =>
      parseConfig({ party: 'us', incidents: { precedence: { flash: { ackMinutes: 0 } } } }),
    ).toThrow(ConfigError);
    expect(() =>
      parseConfig({ party: 'us', incidents: { precedence: { flash: { ackMinutes: 0 } } } }),
    ).toThrow(/incidents\.precedence\.flash\.ackMinutes/);
    expect(() => parseConfig({ party: 'us', notify: { webhook: { secret: 'short' } } })).toThrow(
      /notify\.webhook\.secret/,
    );
  });

  test('flash free text is counted in characters, text and translations alike', () => {
    const body = (text: string, precedence: Body['precedence'] = 'flash') =>
      ({ salt, ...draft({ precedence, text: { lang: 'zh', body: text } }) }) as Body;
    expect(flashTextProblem(body('字'.repeat(500)), 500)).toBeUndefined();
    expect(flashTextProblem(body('字'.repeat(501)), 500)).toMatch(
      /501 characters; the limit is 500/,
    );
    expect(flashTextProblem(body('x'.repeat(5000), 'immediate'), 500)).toBeUndefined();
    const translated = {
      ...body('short'),
      translations: [{ lang: 'en', body: 'y'.repeat(600) }],
    } as Body;
    expect(flashTextProblem(translated, 500)).toMatch(/en translation has 600/);
  });
});
