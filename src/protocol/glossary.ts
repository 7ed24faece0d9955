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
 * The language the joint vocabulary is drafted in: its texts are the source, so a "not yet
 * reviewed by a native speaker" warning concerns only the other languages.
 */
export const VOCABULARY_SOURCE_LANG = 'en';
