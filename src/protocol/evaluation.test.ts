import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { makeAttachment, viewAttachment } from './attachments.ts';
import { citesOf, citesProblem, parseCite, parseCites } from './citations.ts';
import { utf8 } from './encoding.ts';
import { checkEvaluation, EVALUATION_MEDIA_TYPE, evaluationProblemLine } from './evaluation.ts';

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
        'the evaluation /crossed says false, but a result of 0.62 against a threshold of 0.5 (crossed at or above) crossed it',
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
        'the evaluation /crossed says true, but a result of 0.9 against a threshold of 0.5 (crossed at or below) did not cross it',
      ],
    ],
    [
      'an unknown capability domain',
      (e) => ({ ...e, domain: 'nuclear' }),
      [
        'the evaluation /domain is not one of: cyber-offence, cbrn-uplift, autonomous-replication, oversight-evasion, other',
      ],
    ],
    [
      '"other" without saying what',
      (e) => ({ ...e, domain: 'other' }),
      ['the evaluation has no "domainOther", which says what "other" domain was tested'],
    ],
    [
      'an evidence hash that is not SHA-256',
      (e) => ({ ...e, evidence: [{ sha256: 'abc', description: 'logs' }] }),
      ['the evaluation /evidence/0/sha256 is not a SHA-256 digest (64 lowercase hex digits)'],
    ],
    [
      'a date that is not in the calendar',
      (e) => ({ ...e, evaluatedAt: '2026-02-30' }),
      ['the evaluation /evaluatedAt is not a calendar time (2026-02-30)'],
    ],
    [
      'a missing system identity',
      (e) => {
        const { system: _, ...rest } = e;
        return rest;
      },
      ['the evaluation has no "system"'],
    ],
  ];

  test.each(broken)('refuses %s, saying where and why', (_what, mutate, messages) => {
    const result = checkEvaluation(mutate(evaluation()));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problems.map((p) => evaluationProblemLine(p))).toEqual(messages);
  });

  test('an attachment is shown with its evaluation, or with its problems', () => {
    const good = viewAttachment(makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8(text())));
    expect(good.problems).toEqual([]);
    expect(good.evaluation).toMatchObject({ result: { domain: 'cyber-offence', crossed: true } });
    const bad = viewAttachment(
      makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8(text().replace('true', 'false'))),
    );
    expect(bad.problems[0]).toMatch(/^"eval.json" evaluation \/crossed says false/);
    const notJson = viewAttachment(makeAttachment('eval.json', EVALUATION_MEDIA_TYPE, utf8('{')));
    expect(notJson.problems).toEqual(['"eval.json" evaluation is not JSON']);
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
  test('the CLI form party/message-id/sha256 is parsed, and anything else is not', () => {
    expect(parseCite(`cn/${cite.message}/${cite.sha256}`)).toEqual(cite);
    expect(parseCite(`cn/${cite.message}`)).toBeUndefined();
    expect(parseCite(`cn/${cite.message}/${cite.sha256}/x`)).toBeUndefined();
    expect(parseCites([`cn/${cite.message}/${cite.sha256}`, 'nope'])).toEqual({ bad: 'nope' });
  });
  test('a malformed citation is refused with the field at fault', () => {
    expect(citesProblem({ cites: [{ ...cite, sha256: 'nope' }] })).toMatch(
      /^ext\.cites\/0\/sha256 is not a SHA-256 digest \(64 lowercase hex digits\) \(each citation/,
    );
    expect(citesProblem({ cites: [{ ...cite, note: 1 }] })).toMatch(
      /^ext\.cites\/0 has "note", which it does not take/,
    );
    expect(citesProblem({ cites: [] })).toMatch(/^ext\.cites is an empty list/);
  });
});
