import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import type { Body } from './body.ts';
import { type ComplianceMessage, compareCompliance, computeCompliance } from './compliance.ts';
import {
  NOTIFICATION_MEDIA_TYPE,
  notificationAttachment,
  notificationProblem,
  viewNotification,
} from './notification.ts';
import {
  compareRegimes,
  DEFAULT_REGIMES_FILE,
  loadRegimes,
  parseRegimes,
  REGIMES_EXT,
  type RegimesDocument,
  RegimesError,
  regimesProblems,
} from './regimes.ts';

const shipped = () => JSON.parse(readFileSync(DEFAULT_REGIMES_FILE, 'utf8')) as RegimesDocument;
const regimes = loadRegimes();

function body(overrides: Partial<Body>): Body {
  return {
    salt: 'AAAAAAAAAAAAAAAAAAAAAA',
    type: 'notice',
    precedence: 'routine',
    status: 'actual',
    tlp: 'green',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...overrides,
  } as Body;
}

function notice(code: string, fields: Record<string, unknown>, extra: Partial<Body> = {}): Body {
  return body({
    notice: { subject: code },
    attachments: [notificationAttachment(regimes, code, fields)],
    ...extra,
  });
}

describe('the regimes file', () => {
  test('the shipped file is valid and has the six types of the default set, in both languages', () => {
    expect(regimesProblems(shipped())).toEqual([]);
    expect(regimes.types.map((t) => t.code)).toEqual([
      'regime.training-run',
      'regime.agent-deployment',
      'regime.dangerous-capability',
      'regime.cross-border-incident',
      'regime.annual-exchange',
      'regime.nc3-affirmation',
    ]);
    for (const type of regimes.types)
      for (const lang of ['en', 'zh']) {
        expect(type.name[lang]?.trim()).toBeTruthy();
        for (const field of type.fields) expect(field.label[lang]?.trim()).toBeTruthy();
      }
    expect(regimes.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  test('a bad file is refused with every problem named', () => {
    const doc = shipped();
    const [first, second] = doc.types;
    if (!first || !second) throw new Error('the shipped file has types');
    delete first.name.zh;
    second.code = first.code;
    first.timing = { kind: 'before', field: 'developer', days: 30 };
    const compute = first.fields.find((f) => f.name === 'computeFlop');
    if (compute) compute.atLeast = 'developer';
    const problems = regimesProblems(doc);
    expect(problems).toContain('type "regime.training-run" name has no "zh" text');
    expect(problems).toContain('type "regime.training-run" appears twice');
    expect(problems).toContain(
      'type "regime.training-run" is timed by "developer", which must be a required date field',
    );
    expect(problems).toContain(
      'type "regime.training-run" field "computeFlop" is at least "developer": both must be number or integer fields of the type, and not the same',
    );
    expect(() => parseRegimes(doc, 'regimes.json')).toThrow(RegimesError);
    expect(() => parseRegimes({ ...shipped(), format: 2 })).toThrow(/format/);
  });

  test('an unreadable file is refused with a sentence, not a stack', () => {
    const dir = mkdtempSync(join(tmpdir(), 'regimes-'));
    try {
      const file = join(dir, 'regimes.json');
      writeFileSync(file, '{ not json');
      expect(() => loadRegimes(file)).toThrow(/cannot be read as JSON/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a peer pinning other regimes, or none, is a warning', () => {
    expect(compareRegimes(regimes, 'cn', { [REGIMES_EXT]: regimes.ref }).same).toBe(true);
    const other = compareRegimes(regimes, 'cn', {
      [REGIMES_EXT]: { version: '2027.1', hash: 'ab'.repeat(32) },
    });
    expect(other.same).toBe(false);
    expect(other.warning).toContain('2027.1');
    expect(compareRegimes(regimes, 'cn', undefined).warning).toContain('pins no notification');
  });
});

describe('a notification', () => {
  const NOW = new Date('2026-11-02T08:00:00.000Z');
  const fields = {
    plannedStart: '2026-12-01',
    developer: 'Lab A',
    computeFlop: 1e26,
    thresholdFlop: 1e25,
  };

  test('is released only with its fields valid under the regime schema', () => {
    expect(
      notificationProblem(regimes, notice('regime.training-run', fields), NOW),
    ).toBeUndefined();
    expect(
      notificationProblem(
        regimes,
        notice('regime.training-run', { ...fields, computeFlop: 'a lot' }),
        NOW,
      ),
    ).toMatch(/computeFlop/);
    expect(
      notificationProblem(
        regimes,
        notice('regime.training-run', { ...fields, plannedStart: '2026-02-30' }),
        NOW,
      ),
    ).toMatch(/not a calendar date/);
    expect(
      notificationProblem(regimes, body({ notice: { subject: 'regime.training-run' } }), NOW),
    ).toMatch(NOTIFICATION_MEDIA_TYPE);
    // A notice on another subject stays as it was.
    expect(
      notificationProblem(regimes, body({ notice: { subject: 'notice.exercise' } }), NOW),
    ).toBe(undefined);
  });

  test('of a training run below the threshold it states, or planned in the past, is not released', () => {
    expect(
      notificationProblem(
        regimes,
        notice('regime.training-run', { ...fields, computeFlop: 1e24 }),
        NOW,
      ),
    ).toBe(
      'the notification attachment/fields/computeFlop is 1e+24, below thresholdFlop (Agreed threshold (FLOP)), 1e+25: a regime.training-run notice is for a computeFlop at or above it; check both figures',
    );
    expect(
      notificationProblem(
        regimes,
        notice('regime.training-run', { ...fields, plannedStart: '2026-11-01' }),
        NOW,
      ),
    ).toBe(
      'the notification attachment/fields/plannedStart 2026-11-01 is in the past (it is 2026-11-02T08:00:00.000Z): a regime.training-run notice announces what is planned, notified 30 days before plannedStart; give the day to come',
    );
    // The day itself is still to come; a threshold met exactly is at it.
    expect(
      notificationProblem(
        regimes,
        notice('regime.training-run', { ...fields, plannedStart: '2026-11-02', computeFlop: 1e25 }),
        NOW,
      ),
    ).toBeUndefined();
  });

  test('is shown with its labels in the reader’s language, and its problems', () => {
    const attachment = notificationAttachment(regimes, 'regime.training-run', {
      ...fields,
      computeFlop: -1,
    });
    const view = viewNotification(regimes, attachment, 'zh');
    expect(view.name).toBe('超过算力阈值的训练任务事先通报');
    expect(view.fields.find((f) => f.name === 'plannedStart')?.label).toBe('计划开始日期');
    expect(view.problems.join(' ')).toMatch(/computeFlop/);
  });
});

describe('compliance', () => {
  const t0 = Date.parse('2026-06-01T00:00:00.000Z');
  const iso = (hours: number) => new Date(t0 + hours * 3_600_000).toISOString();
  let n = 0;
  const msg = (from: string, hours: number, b: Body): ComplianceMessage => ({
    from,
    to: [from === 'us' ? 'cn' : 'us'],
    id: `0190${String(++n).padStart(4, '0')}-0000-7000-8000-000000000000`,
    sent: iso(hours),
    body: b,
  });
  const incident = '01900000-0000-7000-8000-00000000abcd';
  const report = (severity: string) =>
    body({
      type: 'incident.report',
      incident,
      notice: undefined,
      report: {
        nature: 'incident',
        category: 'category.ai-cyberattack',
        harm: { types: [], severity, reversibility: 'unknown' },
        actionsTaken: [],
        actionsRequested: [],
      },
    });

  test('a severe incident report owes a notice within 72 h: late when none comes', () => {
    const messages = [msg('cn', 0, report('severity.severe'))];
    const before = computeCompliance(regimes, messages, {
      at: new Date(iso(71)),
      parties: ['us', 'cn'],
    });
    const owed = before.obligations.filter((o) => o.type === 'regime.cross-border-incident');
    expect(owed).toMatchObject([{ owedBy: 'cn', owedTo: 'us', state: 'owed', due: iso(72) }]);
    const after = computeCompliance(regimes, messages, {
      at: new Date(iso(73)),
      parties: ['us', 'cn'],
    });
    expect(after.obligations.find((o) => o.type === 'regime.cross-border-incident')?.state).toBe(
      'late',
    );
    expect(after.byParty.cn?.late).toBe(1);
    // A minor one owes nothing.
    const minor = computeCompliance(regimes, [msg('cn', 0, report('severity.minor'))], {
      at: new Date(iso(73)),
      parties: ['us', 'cn'],
    });
    expect(minor.obligations.filter((o) => o.type === 'regime.cross-border-incident')).toEqual([]);
  });

  test('sent on time and acknowledged, the same whichever side computes it', () => {
    const r = msg('cn', 0, report('severity.extreme'));
    const sent = msg(
      'cn',
      10,
      notice('regime.cross-border-incident', { crossedBorder: 'may', summary: 'x' }, { incident }),
    );
    const ack = msg('us', 11, body({ type: 'ack', inReplyTo: sent.id }));
    const at = new Date(iso(100));
    const cnSide = computeCompliance(regimes, [r, sent, ack], { at, parties: ['cn', 'us'] });
    const usSide = computeCompliance(regimes, [ack, sent, r], { at, parties: ['us', 'cn'] });
    const o = cnSide.obligations.find((x) => x.type === 'regime.cross-border-incident');
    expect(o).toMatchObject({
      state: 'sent',
      notice: { id: sent.id },
      acknowledged: { id: ack.id },
    });
    expect(compareCompliance(cnSide, usSide, ['us', 'cn'])).toEqual([]);
  });

  test('an advance notice sent less than 30 days ahead is late; the annual exchange falls due', () => {
    const late = msg('us', 0, notice('regime.training-run', { ...fieldsOf('2026-06-20') }));
    const table = computeCompliance(regimes, [late], {
      at: new Date('2027-02-01T00:00:00.000Z'),
      parties: ['us', 'cn'],
    });
    expect(table.obligations.find((o) => o.type === 'regime.training-run')).toMatchObject({
      state: 'late',
      due: '2026-05-21T00:00:00.000Z',
    });
    const annual = table.obligations.filter((o) => o.type === 'regime.annual-exchange');
    expect(annual.map((o) => [o.owedBy, o.basis, o.state])).toEqual([
      ['cn', { kind: 'annual', year: 2026 }, 'late'],
      ['us', { kind: 'annual', year: 2026 }, 'late'],
      ['cn', { kind: 'annual', year: 2027 }, 'owed'],
      ['us', { kind: 'annual', year: 2027 }, 'owed'],
    ]);
  });

  test('as at the year 9999, no obligation is due in a year no timestamp can write', () => {
    const table = computeCompliance(regimes, [], {
      at: new Date('9999-06-01T00:00:00.000Z'),
      parties: ['us', 'cn'],
    });
    const annual = table.obligations.filter((o) => o.type === 'regime.annual-exchange');
    expect(annual.at(-1)?.basis).toEqual({ kind: 'annual', year: 9998 });
    for (const o of table.obligations) expect(o.due).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  });
});

function fieldsOf(plannedStart: string) {
  return { plannedStart, developer: 'Lab A', computeFlop: 1e26, thresholdFlop: 1e25 };
}
