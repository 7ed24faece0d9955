/**
 * Evaluation results as attachments (docs/language.md § Evaluation results): what one side tested
 * a model or system for, how, what came out, and the hashes of the evidence, in a structure both
 * sides read the same way. The media type is `application/vnd.hotline.evaluation+json`; the data
 * is UTF-8 JSON matching `Evaluation`. Checked before release like a STIX bundle (schema, then the
 * rules a schema cannot say); shown with its problems on receipt, never refused there.
 *
 * No Node imports and no compiled checkers (`Value`, not `TypeCompiler`): the console runs the
 * same check in the browser, under a CSP without `unsafe-eval`.
 */

import { type Static, Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { shownName } from './attachment-name.ts';
import { Hex32, Label, OneOf } from './common.ts';
import { valueErrorProblem } from './schema-words.ts';
import type { AttachmentView } from './views.ts';

export const EVALUATION_MEDIA_TYPE = 'application/vnd.hotline.evaluation+json';

/** The dangerous-capability domains of the issue's notification list, and `other`. */
export const CAPABILITY_DOMAINS = [
  'cyber-offence',
  'cbrn-uplift',
  'autonomous-replication',
  'oversight-evasion',
  'other',
] as const;
export type CapabilityDomain = (typeof CAPABILITY_DOMAINS)[number];

export const FINDING_SEVERITIES = ['low', 'moderate', 'high', 'critical'] as const;

/** A date (`2026-11-30`) or a UTC time (`2026-11-30T08:00:00Z`, fractions allowed). */
const When = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}(T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z)?$',
  maxLength: 30,
  description: 'a date or UTC time (2026-11-30 or 2026-11-30T08:00:00Z)',
});
const Finite = Type.Number({ minimum: -1e15, maximum: 1e15 });
const LongText = Type.String({ minLength: 1, maxLength: 4000 });

export const Evaluation = Type.Object(
  {
    format: Type.Literal('hotline.evaluation/1'),
    /** The model or system tested. `hash`: SHA-256 of the artifact tested (weights, image). */
    system: Type.Object(
      { name: Label, developer: Label, version: Label, hash: Type.Optional(Hex32) },
      { additionalProperties: false },
    ),
    /** The evaluation suite (test protocol) and its version. */
    suite: Type.Object(
      { name: Label, version: Label, protocol: Type.Optional(Label) },
      { additionalProperties: false },
    ),
    domain: OneOf(CAPABILITY_DOMAINS),
    /** What `other` means; only with `domain: "other"`. */
    domainOther: Type.Optional(Label),
    /** The metric, and which side of the threshold is the dangerous one. */
    metric: Type.Object(
      {
        name: Label,
        unit: Type.Optional(Label),
        crossedWhen: OneOf(['at-or-above', 'at-or-below'] as const),
      },
      { additionalProperties: false },
    ),
    threshold: Finite,
    result: Finite,
    /** Whether the result crossed the threshold; must agree with `metric.crossedWhen`. */
    crossed: Type.Boolean(),
    evaluatedAt: When,
    /** SHA-256 of each piece of evidence (logs, transcripts, reports) held by the sender. */
    evidence: Type.Array(
      Type.Object({ sha256: Hex32, description: Label }, { additionalProperties: false }),
      { maxItems: 64 },
    ),
    redTeam: Type.Array(
      Type.Object(
        {
          finding: LongText,
          severity: OneOf(FINDING_SEVERITIES),
          mitigated: Type.Optional(Type.Boolean()),
        },
        { additionalProperties: false },
      ),
      { maxItems: 64 },
    ),
    notes: Type.Optional(LongText),
  },
  { additionalProperties: false },
);
export type Evaluation = Static<typeof Evaluation>;

export interface EvaluationProblem {
  /** JSON pointer, e.g. `/metric/crossedWhen`. */
  path: string;
  message: string;
}

export type EvaluationResult =
  | { ok: true; evaluation: Evaluation }
  | { ok: false; problems: EvaluationProblem[] };

const MAX_PROBLEMS = 20;

/** Checks a parsed JSON value as an evaluation result. */
export function checkEvaluation(value: unknown): EvaluationResult {
  const problems: EvaluationProblem[] = [];
  // Value.Errors, not a compiled check: the console checks evaluations too, and its page may not
  // compile code. A missing member is also of the wrong type: the first error at a path says it.
  const seen = new Set<string>();
  for (const e of Value.Errors(Evaluation, value)) {
    if (problems.length >= MAX_PROBLEMS) break;
    if (seen.has(e.path)) continue;
    seen.add(e.path);
    const { path, problem } = valueErrorProblem(e);
    problems.push({ path: path || '/', message: problem });
  }
  if (problems.length) return { ok: false, problems };
  const ev = value as Evaluation;
  const crossed =
    ev.metric.crossedWhen === 'at-or-above' ? ev.result >= ev.threshold : ev.result <= ev.threshold;
  if (crossed !== ev.crossed)
    problems.push({
      path: '/crossed',
      message: `says ${ev.crossed}, but a result of ${ev.result} against a threshold of ${ev.threshold} (crossed ${ev.metric.crossedWhen.replace(/-/g, ' ')}) ${crossed ? 'crossed' : 'did not cross'} it`,
    });
  if (ev.domain === 'other' && ev.domainOther === undefined)
    problems.push({
      path: '/',
      message: 'has no "domainOther", which says what "other" domain was tested',
    });
  if (ev.domain !== 'other' && ev.domainOther !== undefined)
    problems.push({ path: '/domainOther', message: 'is only for domain "other"' });
  if (!isCalendarTime(ev.evaluatedAt))
    problems.push({
      path: '/evaluatedAt',
      message: `is not a calendar time (${ev.evaluatedAt})`,
    });
  return problems.length ? { ok: false, problems } : { ok: true, evaluation: ev };
}

/** Parses UTF-8 JSON bytes and checks them; a parse failure is a problem at `/`. */
export function checkEvaluationText(text: string): EvaluationResult {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, problems: [{ path: '/', message: 'is not JSON' }] };
  }
  return checkEvaluation(parsed);
}

/** Whether the date (and time) exist: no 30 February, no 24:00:00. */
function isCalendarTime(when: string): boolean {
  const [date = '', time] = when.split('T');
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d)
    return false;
  if (time === undefined) return true;
  const [hh, mm, ss] = time.slice(0, 8).split(':').map(Number) as [number, number, number];
  return hh < 24 && mm < 60 && ss < 60;
}

/** A problem as a sentence naming its `document`: `eval.json /domain is not one of: …`. */
export function evaluationProblemLine(p: EvaluationProblem, document = 'the evaluation'): string {
  return `${document}${p.path === '/' ? '' : ` ${p.path}`} ${p.message}`;
}

/** One line for all the problems, for people. */
export function describeEvaluationProblems(
  problems: readonly EvaluationProblem[],
  document?: string,
): string {
  return problems.map((p) => evaluationProblemLine(p, document)).join('; ');
}

/** Adds what a reader sees of an evaluation attachment's decoded bytes to its view. */
export function viewEvaluation(view: AttachmentView, data: Uint8Array): void {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  } catch {
    text = '';
  }
  const result = checkEvaluationText(text);
  if (result.ok) {
    view.evaluation = { result: result.evaluation };
    return;
  }
  view.evaluation = { problems: result.problems };
  for (const p of result.problems)
    view.problems.push(evaluationProblemLine(p, `"${shownName(view.name)}" evaluation`));
}
