import { describe, expect, test } from 'vitest';
import { capSchemaErrors } from '../../test/support/cap-schema.ts';
import { body } from '../../test/support/world.ts';
import type { Body } from './body.ts';
import { type CapMessage, capAlert, capTime, readCapAlert } from './cap.ts';
import { loadVocabulary } from './vocabulary.ts';

const INCIDENT = '01937a8e-4f00-7000-8000-0000000000aa';
const names = { cn: { en: 'Beijing', zh: '北京' }, us: { en: 'Washington', zh: '华盛顿' } };

function message(id: string, at: string, overrides: Partial<Body>, from = 'cn'): CapMessage {
  return {
    from,
    id: `01937a8e-4f00-7000-8000-0000000000${id}`,
    at,
    body: body({ incident: INCIDENT, ...overrides }),
  };
}

const report = message('01', '2026-11-27T01:00:00.000Z', {
  type: 'incident.report',
  precedence: 'flash',
  status: 'actual',
  tlp: 'amber',
  codes: ['certainty.likely', 'phrase.no-hostile-intent'],
  text: { lang: 'zh', body: '我方一套自主系统出现异常 & <不可预测> 行为。' },
  translations: [{ lang: 'en', body: 'One of our autonomous systems behaves abnormally.' }],
  report: {
    nature: 'incident',
    category: 'category.autonomous-unpredictable',
    harm: {
      types: ['harm.service-disruption'],
      severity: 'severity.severe',
      reversibility: 'reversible',
      geography: ['Shanghai'],
    },
    actionsTaken: ['action.isolate-system'],
    actionsRequested: ['action.confirm-receipt', 'action.refrain-escalation'],
  },
});

const update = message('02', '2026-11-27T01:20:00.000Z', {
  type: 'incident.update',
  precedence: 'immediate',
  status: 'actual',
  tlp: 'green',
  codes: ['phrase.system-isolated'],
  report: {
    nature: 'incident',
    category: 'category.autonomous-unpredictable',
    harm: { types: [], severity: 'severity.moderate', reversibility: 'reversible' },
    actionsTaken: ['action.isolate-system'],
    actionsRequested: ['action.investigate-report'],
  },
});

/** The values of every `<parameter>` named `name`, one per `<info>`. */
function parametersOf(xml: string, name: string): string[] {
  const pattern = new RegExp(
    `<parameter>\\s*<valueName>${name}</valueName>\\s*<value>([^<]*)</value>`,
    'g',
  );
  return [...xml.matchAll(pattern)].map((m) => m[1] as string);
}

const alert = (messages: CapMessage[], excludedRed = 0, party = 'cn') =>
  capAlert({
    incident: INCIDENT,
    party,
    names,
    messages,
    excludedRed,
    vocabulary: loadVocabulary(),
  });

describe('CAP 1.2 export of an incident', () => {
  test('a first report is a well-formed Alert, valid against the official CAP 1.2 schema', async () => {
    const xml = alert([report]);
    expect(await capSchemaErrors(xml)).toEqual([]);
    const cap = readCapAlert(xml);
    expect(cap).toMatchObject({
      identifier: `hotline-cn-${INCIDENT}-${report.id}`,
      sender: 'hotline:cn',
      sent: '2026-11-27T01:00:00-00:00',
      status: 'Actual',
      msgType: 'Alert',
      scope: 'Restricted',
      restriction: expect.stringMatching(/^TLP:AMBER: Limited disclosure/),
      incidents: INCIDENT,
    });
    expect(cap.info.map((i) => i.language)).toEqual(['en-US', 'zh-CN']);
    const [en, zh] = cap.info;
    expect(en).toMatchObject({
      category: ['Safety'],
      event: 'An autonomous system acting unpredictably',
      urgency: 'Immediate',
      severity: 'Severe',
      certainty: 'Likely',
      instruction: 'Confirm receipt; Refrain from escalatory steps',
    });
    expect(zh).toMatchObject({
      category: ['Safety'],
      event: '自主系统出现不可预测行为',
      severity: 'Severe',
      instruction: '确认收悉; 避免采取使局势升级的行动',
    });
    // The original is authoritative and appears as written; the sender's translation is marked.
    expect(en?.description).toContain(
      'original (authoritative) (zh): 我方一套自主系统出现异常 & <不可预测> 行为。',
    );
    expect(en?.description).toContain(
      'translation by the sender (en): One of our autonomous systems behaves abnormally.',
    );
    expect(zh?.description).toContain('原文（以此为准） (zh): 我方一套自主系统出现异常');
    // Unreviewed vocabulary texts are flagged wherever they are rendered.
    expect(zh?.description).toContain('⚠ category.autonomous-unpredictable: 尚未经母语人士审核');
  });

  test('exported by Washington, Beijing’s report names Beijing as its sender, in each language', () => {
    const xml = alert([report], 0, 'us');
    expect(readCapAlert(xml).sender).toBe('hotline:us');
    expect([...xml.matchAll(/<senderName>([^<]*)<\/senderName>/g)].map((m) => m[1])).toEqual([
      'Beijing',
      '北京',
    ]);
  });

  test('a later message makes an Update referencing the first; the most restrictive TLP wins', async () => {
    const xml = alert([report, update], 1);
    expect(await capSchemaErrors(xml)).toEqual([]);
    const cap = readCapAlert(xml);
    expect(cap.msgType).toBe('Update');
    expect(cap.scope).toBe('Restricted');
    expect(cap.identifier).toBe(`hotline-cn-${INCIDENT}-${update.id}`);
    expect(xml).toContain(
      `<references>hotline:cn,hotline-cn-${INCIDENT}-${report.id},2026-11-27T01:00:00-00:00</references>`,
    );
    expect(xml).toContain('1 TLP:RED message(s) of this incident are not included.');
    expect(cap.info[0]).toMatchObject({ severity: 'Moderate', urgency: 'Immediate' });
    // The latest message is GREEN, the first AMBER: the alert and every <info> say AMBER.
    expect(xml).toContain('<code>TLP:AMBER</code>');
    expect(parametersOf(xml, 'TLP')).toEqual(['AMBER', 'AMBER']);
  });

  test('an Update references every earlier alert a consumer may hold, oldest first', async () => {
    const third = message('05', '2026-11-27T01:40:00.000Z', {
      type: 'incident.update',
      precedence: 'priority',
      status: 'actual',
      tlp: 'clear',
      codes: ['phrase.investigating'],
    });
    const xml = alert([report, update, third]);
    expect(await capSchemaErrors(xml)).toEqual([]);
    const references = /<references>([^<]*)<\/references>/.exec(xml)?.[1]?.split(' ');
    expect(references).toEqual([
      `hotline:cn,hotline-cn-${INCIDENT}-${report.id},2026-11-27T01:00:00-00:00`,
      `hotline:cn,hotline-cn-${INCIDENT}-${update.id},2026-11-27T01:20:00-00:00`,
    ]);
    // Each is the identifier and sent time the export made when that message was the latest.
    for (const [i, earlier] of [[report], [report, update]].entries()) {
      const held = readCapAlert(alert(earlier));
      expect(references?.[i]).toBe(`${held.sender},${held.identifier},${held.sent}`);
    }
    expect(parametersOf(xml, 'TLP')).toEqual(['AMBER', 'AMBER']);
  });

  test('every time is written with -00:00 for UTC (CAP 1.2 §3.2.1), never Z or +00:00', async () => {
    const xml = alert([report, update]);
    // sent, the reference, and each message's line in both descriptions.
    const times = xml.match(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[^\s,<]*/g) ?? [];
    expect(times).toHaveLength(6);
    for (const t of times) expect(t).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}-00:00$/);
    expect(xml).not.toContain('+00:00');
    expect(xml).toMatch(/<sent>2026-11-27T01:20:00-00:00<\/sent>/);
  });

  test('a retraction is a Cancel; a closure or retraction makes the urgency Past and AllClear', async () => {
    const retract = message('03', '2026-11-27T02:00:00.000Z', {
      type: 'incident.retract',
      precedence: 'flash',
      status: 'actual',
      tlp: 'clear',
      inReplyTo: report.id,
      codes: ['phrase.false-alarm'],
    });
    const xml = alert([report, retract]);
    expect(await capSchemaErrors(xml)).toEqual([]);
    const cap = readCapAlert(xml);
    expect(cap.msgType).toBe('Cancel');
    expect(cap.info[0]?.urgency).toBe('Past');
    expect(xml).toContain('<responseType>AllClear</responseType>');
  });

  test('exercise and test status carry over, and TLP:CLEAR alone is Public', async () => {
    const drill = message('04', '2026-11-27T03:00:00.000Z', {
      type: 'incident.report',
      precedence: 'routine',
      status: 'exercise',
      tlp: 'clear',
      report: {
        nature: 'hazard',
        category: 'category.from-next-year',
        actionsTaken: [],
        actionsRequested: [],
      },
    });
    const xml = alert([drill]);
    expect(await capSchemaErrors(xml)).toEqual([]);
    const cap = readCapAlert(xml);
    expect(cap).toMatchObject({ status: 'Exercise', scope: 'Public' });
    // The exercise identifier opens the note (CAP 1.2 §3.2.1 note is meant for exercises).
    expect(/<note>([^<]*)<\/note>/.exec(xml)?.[1]).toMatch(new RegExp(`^Exercise ${INCIDENT}\\. `));
    expect(alert([report])).not.toMatch(/<note>Exercise/);
    expect(cap.restriction).toBeUndefined();
    // A category this vocabulary does not know stays visible as its code, mapped to Other.
    expect(cap.info[0]).toMatchObject({
      category: ['Other'],
      event: 'category.from-next-year',
      urgency: 'Future',
      severity: 'Unknown',
      certainty: 'Unknown',
    });
    expect(cap.info[0]?.description).toContain(
      '⚠ category.from-next-year: unknown code: not in vocabulary 2026.3',
    );
  });

  test('the schema check is real: an alert with a bad status or a Z time fails it', async () => {
    const xml = alert([report]);
    expect(
      await capSchemaErrors(xml.replace('<status>Actual</status>', '<status>Real</status>')),
    ).not.toEqual([]);
    expect(
      await capSchemaErrors(xml.replace(capTime(report.at), '2026-11-27T01:00:00Z')),
    ).not.toEqual([]);
  });
});
