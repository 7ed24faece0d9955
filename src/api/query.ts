/** Path and query-string values: they arrive as text (the validator does not coerce types). */
import { Type } from '@sinclair/typebox';
import { offeredLang } from '../protocol/common.ts';
import { ApiError } from './errors.ts';

/** A stored row's number (an alarm, a shift, a handover), also a page's `before` cursor. */
export const RowId = Type.String({
  pattern: '^[1-9][0-9]{0,15}$',
  description: 'a row number (1 to 16 digits, no leading 0)',
});

const COUNT_PATTERNS = {
  200: '^[1-9][0-9]?$|^1[0-9]{2}$|^200$',
  1000: '^[1-9][0-9]{0,2}$|^1000$',
  10000: '^[1-9][0-9]{0,3}$|^10000$',
} as const;

/** A count of rows to answer, from 1 to `max` (200, 1,000 or 10,000), in digits. */
export function QueryCount(max: keyof typeof COUNT_PATTERNS) {
  return Type.String({
    pattern: COUNT_PATTERNS[max],
    description: `a whole number from 1 to ${max}`,
  });
}

/**
 * The language a reader's `?lang=` asks for, as the node offers it (itself, or its base:
 * `zh-Hans` → `zh`), English when none is asked for. A language `what` has no text in is refused
 * with the ones it has, rather than answered in another language the reader did not ask for.
 */
export function readerLanguage(
  lang: string | undefined,
  languages: readonly string[],
  what: string,
): string {
  if (lang === undefined) return 'en';
  const shown = offeredLang(lang, languages);
  if (shown) return shown;
  throw new ApiError(
    400,
    'E_MALFORMED',
    `lang=${lang}: ${what} has no text in that language; give one of ${languages.join(', ')}`,
    { languages },
  );
}

/** `readerLanguage` for a view rendered through the vocabulary. */
export function vocabularyLanguage(
  lang: string | undefined,
  vocabulary: { readonly languages: readonly string[] },
): string {
  return readerLanguage(lang, vocabulary.languages, 'this node’s vocabulary');
}
