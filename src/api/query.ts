/** Query-string values: they arrive as text (the validator does not coerce types). */
import { Type } from '@sinclair/typebox';

/** A count of rows to answer, from 1 to `max` (1,000 or 10,000), in digits. */
export function QueryCount(max: 1000 | 10_000) {
  return Type.String({
    pattern: max === 1000 ? '^[1-9][0-9]{0,2}$|^1000$' : '^[1-9][0-9]{0,3}$|^10000$',
    description: `a whole number from 1 to ${max}`,
  });
}
