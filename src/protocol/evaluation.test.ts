import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { makeAttachment, viewAttachment } from './attachments.ts';
import { citesOf, citesProblem } from './citations.ts';
import { utf8 } from './encoding.ts';
import { checkEvaluation, EVALUATION_MEDIA_TYPE } from './evaluation.ts';

const FILE = new URL('../../test/vectors/evaluation/cyber-offence.json', import.meta.url);
const text = () => readFileSync(FILE, 'utf8');
const evaluation = () => JSON.parse(text()) as Record<string, unknown>;

describe('evaluation results', () => {
  test('the shipped example is a valid evaluation', () => {
    const result = checkEvaluation(evaluation());
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.evaluation.system.name).toBe('Frontier-7');
  });

  const broken: Array<[string, (e: Record<string, unknown>) => unknown, string[]]> = [
    [
      'a result that crossed the threshold but says it did not',
      (e) => ({ ...e, crossed: false }),
      [
        '/crossed: says false, but a result of 0.62 against a threshold of 0.5 (crossed at or above) crossed it',
      ],
    ],
    [
      'a lower-is-worse metric read the wrong way',
      (e) => ({
        ...e,
        metric: { name: 'refusal rate', crossedWhen: 'at-or-below' },
        result: 0.9,
        crossed: true,
      }),
      [
        '/crossed: says true, but a result of 0.9 against a threshold of 0.5 (crossed at or below) did not cross it',
      ],
    ],
    [
      'an unknown capability domain',
      (e) => ({ ...e, domain: 'nuclear' }),
      ['/domain: Expected union value'],
    ],
    [
      '"other" without saying what',
      (e) => ({ ...e, domain: 'other' }),
      ['/domainOther: says what "other" domain was tested'],
    ],
    [
      'an evidence hash that is not SHA-256',
      (e) => ({ ...e, evidence: [{ sha256: 'abc', description: 'logs' }] }),
      ["/evidence/0/sha256: Expected string to match '^[0-9a-f]{64}$'"],
    ],
    [
      'a date that is not in the calendar',
      (e) => ({ ...e, evaluatedAt: '2026-02-30' }),
      ['/evaluatedAt: 2026-02-30 is not a calendar time'],
    ],
    [
      'a missing system identity',
      (e) => {
        const { system: _, ...rest } = e;
        return rest;
      },
      ['/system: Expected required property', '/system: Expected object'],
    ],
  ];

  test.each(broken)('refuses %s, saying where and why', (_what, mutate, messages) => {
    const result = checkEvaluation(mutate(evaluation()));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(messages);
  });

  test('an attachment is shown with its evaluation, or with its problems', () => {
    const good = viewAttachment(makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8(text())));
    expect(good.problems).toEqual([]);
    expect(good.evaluation).toMatchObject({ result: { domain: 'cyber-offence', crossed: true } });
    const bad = viewAttachment(
      makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8(text().replace('true', 'false'))),
    );
    expect(bad.problems[0]).toMatch(/^"eval.json" evaluation \/crossed: says false/);
    const notJson = viewAttachment(makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8('{')));
    expect(notJson.problems).toEqual(['"eval.json" evaluation /: is not JSON']);
  });
});

describe('citations', () => {
  const cite = {
    from: 'cn',
    message: '019a0000-0000-7000-8000-000000000001',
    sha256: 'a'.repeat(64),
  };
  test('ext.cites names earlier attachments by party, message and digest', () => {
    expect(citesOf({ cites: [cite] })).toEqual({ cites: [cite] });
    expect(citesOf(undefined)).toEqual({ cites: [] });
  });
  test('a malformed citation is refused with the field at fault', () => {
    expect(citesProblem({ cites: [{ ...cite, sha256: 'nope' }] })).toMatch(
      /^ext\.cites\/0\/sha256: /,
    );
    expect(citesProblem({ cites: [] })).toMatch(/^ext\.cites: /);
  });
});
