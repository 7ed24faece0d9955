/** Path and query-string values: they arrive as text (the validator does not coerce types). */
import { Type } from '@sinclair/typebox';

/** A stored row's number (an alarm, a shift, a handover), also a page's `before` cursor. */
export const RowId = Type.String({
  pattern: '^[1-9][0-9]{0,15}$',
  description: 'a row number (1 to 16 digits, no leading 0)',
});

/** A count of rows to answer, from 1 to `max` (1,000 or 10,000), in digits. */
export function QueryCount(max: 1000 | 10_000) {
  return Type.String({
    pattern: max === 1000 ? '^[1-9][0-9]{0,2}$|^1000$' : '^[1-9][0-9]{0,3}$|^10000$',
    description: `a whole number from 1 to ${max}`,
  });
}
