/** Path and query-string values: they arrive as text (the validator does not coerce types). */
import { Type } from '@sinclair/typebox';

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
