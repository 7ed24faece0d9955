import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, test } from 'vitest';
import { deriveIncident, type IncidentMessage } from '../node/incidents/incidents.ts';
import { makeAttachment } from './attachments.ts';
import type { Body } from './body.ts';
import { EVALUATION_MEDIA_TYPE } from './evaluation.ts';
import {
  emptyCriteria,
  exportEuAiAct73,
  exportOecd,
  type FrameworkInput,
  OECD_CRITERIA,
} from './frameworks.ts';
import { loadVocabulary } from './vocabulary.ts';

const schema = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../test/vectors/frameworks/${name}`, import.meta.url), 'utf8'),
  );
const ajv = new Ajv2020({ allErrors: true, strict: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validOecd = ajv.compile(schema('oecd-ai-incident.schema.json'));
const validEu = ajv.compile(schema('eu-ai-act-73.schema.json'));

const vocabulary = loadVocabulary();
const INCIDENT = '019a8f00-0000-7000-8000-000000000000';
const evaluation = readFileSync(
  new URL('../../test/vectors/evaluation/cyber-offence.json', import.meta.url),
);
const evalAttachment = makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, evaluation);

function body(over: Partial<Body>): Body {
  return {
    salt: 'AAAAAAAAAAAAAAAAAAAAAA',
    type: 'query',
    incident: INCIDENT,
    precedence: 'flash',
    status: 'exercise',
    tlp: 'amber',
    codes: [],
    translations: [],
    attachments: [],
    author: { desk: 'ops' },
    approvals: [],
    ...over,
  };
}

/** Washington reports an AI-enabled cyberattack on a grid; Beijing answers and cites an evaluation. */
function twoSided(): IncidentMessage[] {
  return [
    {
      dir: 'out',
      party: 'cn',
      id: '019a8f00-0001-7000-8000-000000000000',
      at: '2026-12-01T08:00:00.000Z',
      body: body({
        type: 'incident.report',
        text: { lang: 'en', body: 'Agent swarm probing the eastern grid SCADA.' },
        attachments: [evalAttachment],
        report: {
          nature: 'incident',
          category: 'category.ai-cyberattack',
          system: { developer: 'Example AI Lab', model: 'Frontier-7' },
          harm: {
            types: ['harm.service-disruption'],
            severity: 'severity.severe',
            geography: ['US-East'],
            reversibility: 'unknown',
          },
          actionsTaken: ['action.isolate-system'],
          actionsRequested: ['action.share-indicators'],
        },
      }),
    },
    {
      dir: 'in',
      party: 'cn',
      id: '019a8f00-0002-7000-8000-000000000000',
      at: '2026-12-01T08:05:00.000Z',
      body: body({
        text: { lang: 'zh', body: '我方正在核查该评估结果。' },
        ext: {
          cites: [
            {
              from: 'us',
              message: '019a8f00-0001-7000-8000-000000000000',
              sha256: evalAttachment.sha256,
            },
          ],
        },
      }),
    },
    {
      dir: 'out',
      party: 'cn',
      id: '019a8f00-0003-7000-8000-000000000000',
      at: '2026-12-01T08:10:00.000Z',
      body: body({
        type: 'query',
        tlp: 'red',
        text: { lang: 'en', body: 'Source: a named agent.' },
      }),
    },
  ];
}

function input(messages: IncidentMessage[]): FrameworkInput {
  const view = deriveIncident(INCIDENT, 'us', messages);
  if (!view) throw new Error('no incident');
  return {
    party: 'us',
    view,
    messages: messages.map((m) => ({
      from: m.dir === 'out' ? 'us' : m.party,
      id: m.id,
      at: m.at,
      body: m.body,
    })),
    text: (code) => vocabulary.render(code, 'en').text,
    lang: 'en',
    generatedAt: '2026-12-01T09:00:00.000Z',
  };
}

describe('OECD common reporting framework', () => {
  test('a two-sided incident exports as the 29 criteria and validates against the schema', () => {
    const out = exportOecd(input(twoSided()));
    expect(validOecd(out), JSON.stringify(validOecd.errors)).toBe(true);
    expect(Object.keys(out.criteria)).toHaveLength(29);
    expect(Object.keys(out.criteria)).toEqual(OECD_CRITERIA.map((k) => k.id));
    expect(out.criteria.title).toBe('An AI-enabled cyberattack (us, 2026-12-01)');
    expect(out.criteria.description).toBe(
      '2026-12-01T08:00:00.000Z us (en): Agent swarm probing the eastern grid SCADA.\n' +
        '2026-12-01T08:05:00.000Z cn (zh): 我方正在核查该评估结果。',
    );
    expect(out.criteria.severity).toEqual({
      level: 'serious-ai-incident',
      code: 'severity.severe',
      text: 'Severe',
    });
    expect(out.criteria.harmTypes).toEqual([
      { type: 'public-interest', code: 'harm.service-disruption', text: expect.any(String) },
    ]);
    expect(out.criteria.modelInformation).toEqual([
      expect.objectContaining({ from: 'us', cited: false, sha256: evalAttachment.sha256 }),
      expect.objectContaining({ from: 'us', cited: true, sha256: evalAttachment.sha256 }),
    ]);
    expect(out.criteria.partiesInvolved).toEqual(['cn', 'us']);
    expect(out.source.redWithheld).toBe(1);
    expect(JSON.stringify(out)).not.toContain('a named agent');
    expect(out.empty).toContain('affectedStakeholders');
    expect(out.empty).not.toContain('developer');
  });

  test('the schema refuses an export without a mandatory criterion or with an unknown one', () => {
    const out = exportOecd(input(twoSided()));
    const { title: _, ...withoutTitle } = out.criteria;
    expect(validOecd({ ...out, criteria: withoutTitle })).toBe(false);
    expect(validOecd({ ...out, criteria: { ...out.criteria, mood: 'calm' } })).toBe(false);
    expect(validOecd({ ...out, criteria: { ...out.criteria, eventType: 'accident' } })).toBe(false);
  });
});

describe('EU AI Act Article 73', () => {
  test('a critical-infrastructure incident is due in 2 days and validates against the schema', () => {
    const out = exportEuAiAct73(input(twoSided()));
    expect(validEu(out), JSON.stringify(validEu.errors)).toBe(true);
    expect(out.report.reportType).toBe('initial');
    expect(out.report.incident.seriousIncidentCategories).toEqual([
      '3-49-b-critical-infrastructure-disruption',
    ]);
    expect(out.report.deadline).toEqual({
      article: '73(3)',
      days: 2,
      dueBy: '2026-12-03T08:00:00.000Z',
    });
    expect(out.report.provider.name).toBe('Example AI Lab');
    expect(out.empty).toContain('aiSystem.euDatabaseRegistration');
  });

  test('a death is due in 10 days; anything else in 15', () => {
    const messages = twoSided();
    const first = messages[0] as IncidentMessage;
    const report = first.body.report as NonNullable<Body['report']>;
    report.category = 'category.loss-of-control';
    report.harm = {
      types: ['harm.loss-of-life'],
      severity: 'severity.extreme',
      reversibility: 'irreversible',
    };
    const death = exportEuAiAct73(input(messages));
    expect(validEu(death), JSON.stringify(validEu.errors)).toBe(true);
    expect(death.report.deadline).toMatchObject({ article: '73(4)', days: 10 });
    report.harm.types = ['harm.information-integrity'];
    expect(exportEuAiAct73(input(messages)).report.deadline).toMatchObject({
      article: '73(2)',
      days: 15,
    });
  });

  test('the schema refuses a deadline that does not match its paragraph', () => {
    const out = exportEuAiAct73(input(twoSided()));
    const wrong = {
      ...out,
      report: { ...out.report, deadline: { ...out.report.deadline, days: 15 } },
    };
    expect(validEu(wrong)).toBe(false);
  });
});

describe('criteria still empty while composing', () => {
  test('a bare report leaves the system criteria empty; filling them removes them', () => {
    const bare = {
      text: { lang: 'en', body: 'Loss of control.' },
      attachments: [],
      report: {
        nature: 'incident' as const,
        category: 'category.loss-of-control',
        actionsTaken: [],
        actionsRequested: [],
      },
    };
    const ids = (d: typeof bare) => emptyCriteria('oecd', d).map((k) => k.id);
    expect(ids(bare)).toEqual(expect.arrayContaining(['aiSystemName', 'developer', 'severity']));
    expect(ids(bare)).not.toContain('title');
    const filled = {
      ...bare,
      report: {
        ...bare.report,
        system: { model: 'Frontier-7', developer: 'Example AI Lab' },
        harm: { types: [], severity: 'severity.severe', reversibility: 'unknown' as const },
      },
    };
    expect(ids(filled)).not.toEqual(expect.arrayContaining(['aiSystemName']));
    expect(ids(filled)).not.toContain('developer');
    expect(ids(filled)).not.toContain('severity');
    expect(emptyCriteria('eu-ai-act-73', filled).map((k) => k.id)).toContain(
      'aiSystem.euDatabaseRegistration',
    );
  });
});
