import { describe, expect, it } from 'vitest';
import { typedTime } from './inputs.ts';

describe('a time typed on the command line', () => {
  it('is read in the forms people type, to the wire form', () => {
    expect(typedTime('2026-12-06T14:00Z', '--at')).toBe('2026-12-06T14:00:00.000Z');
    expect(typedTime('2026-12-06 22:00+08:00', '--at')).toBe('2026-12-06T14:00:00.000Z');
    expect(typedTime('2028-02-29T23:59:59Z', '--at')).toBe('2028-02-29T23:59:59.000Z');
  });

  it('is refused when it names no real instant, not moved to the next month', () => {
    expect(() => typedTime('2027-02-30T14:00Z', '--at')).toThrow(
      '--at: "2027-02-30T14:00Z" is not a calendar date/time (February 2027 has no day 30)',
    );
    expect(() => typedTime('2027-02-29', '--from')).toThrow(/February 2027 has no day 29/);
    expect(() => typedTime('2026-12-06 25:00+08:00', '--until')).toThrow(/hours run 00 to 23/);
    expect(() => typedTime('tomorrow', '--at')).toThrow('--at: "tomorrow" is not a time');
  });
});
