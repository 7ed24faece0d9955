/**
 * The one glossary of precedence and status terms in both languages. The joint vocabulary
 * (`vocabulary/hotline.json`), the console's labels (web/src/locales) and the docs use these
 * words and no others; `glossary.test.ts` fails when any of them disagrees. The precedence
 * words follow the Chinese telegraph grades (特提 above 特急 above 加急 above 平急).
 */
import type { Precedence, Status } from './values.ts';

export interface Term {
  en: string;
  zh: string;
}

export const PRECEDENCE_TERMS: Readonly<Record<Precedence, Term>> = {
  flash: { en: 'Flash', zh: '特提' },
  immediate: { en: 'Immediate', zh: '特急' },
  priority: { en: 'Priority', zh: '加急' },
  routine: { en: 'Routine', zh: '平急' },
};

export const STATUS_TERMS: Readonly<Record<Status, Term>> = {
  actual: { en: 'Actual', zh: '真实事件' },
  exercise: { en: 'Exercise', zh: '演习' },
  test: { en: 'Test', zh: '测试' },
};

/**
 * What each precedence promises, in the words the joint vocabulary's `precedence.*` entries use:
 * the default acknowledgement deadline (`incidents.precedence.<p>.ackMinutes`, which config.ts
 * takes from here) and the military speed-of-service objective it sits inside
 * (docs/operators.md § Precedence and deadlines). `glossary.test.ts` fails when the vocabulary's
 * texts, in either language, say other numbers.
 */
export const PRECEDENCE_DEADLINES: Readonly<
  Record<Precedence, { ackMinutes: number; escalateMinutes: number; objective: Term }>
> = {
  flash: {
    ackMinutes: 5,
    escalateMinutes: 2,
    objective: { en: 'under 10 minutes', zh: '10分钟以内' },
  },
  immediate: { ackMinutes: 15, escalateMinutes: 5, objective: { en: '30 minutes', zh: '30分钟' } },
  priority: { ackMinutes: 60, escalateMinutes: 30, objective: { en: '3 hours', zh: '3小时' } },
  routine: { ackMinutes: 180, escalateMinutes: 60, objective: { en: '6 hours', zh: '6小时' } },
};

/**
 * The language the joint vocabulary is drafted in: its texts are the source, so a "not yet
 * reviewed by a native speaker" warning concerns only the other languages.
 */
export const VOCABULARY_SOURCE_LANG = 'en';
