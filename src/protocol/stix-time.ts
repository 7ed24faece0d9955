/**
 * STIX 2.1 timestamps (STIX Version 2.1 §3.2 "timestamp"): an RFC 3339 date-time in UTC,
 * `YYYY-MM-DDTHH:mm:ss[.s+]Z`, that names a real instant — RFC 3339 §5.7: the day exists in its
 * month (no 30 February), the hour is 00–23 (no 24:00:00), and second 60 is used only where a
 * leap second was inserted (RFC 3339 §5.7 and Appendix D: the IERS list, 23:59:60 UTC).
 */

const SHAPE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z$/;

/**
 * The days whose last minute had 61 seconds (IERS Bulletin C; none has been announced since
 * 2016-12-31, and the CGPM decided in 2022 to stop inserting them by 2035). Add a day here if
 * the IERS announces another.
 */
const LEAP_SECOND_DAYS = new Set([
  '1972-06-30',
  '1972-12-31',
  '1973-12-31',
  '1974-12-31',
  '1975-12-31',
  '1976-12-31',
  '1977-12-31',
  '1978-12-31',
  '1979-12-31',
  '1981-06-30',
  '1982-06-30',
  '1983-06-30',
  '1985-06-30',
  '1987-12-31',
  '1989-12-31',
  '1990-12-31',
  '1992-06-30',
  '1993-06-30',
  '1994-06-30',
  '1995-12-31',
  '1997-06-30',
  '1998-12-31',
  '2005-12-31',
  '2008-12-31',
  '2012-06-30',
  '2015-06-30',
  '2016-12-31',
]);

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Why a value is not a STIX 2.1 timestamp, or undefined when it is one. */
export function timestampProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'is not a string';
  const m = SHAPE.exec(value);
  if (!m) return 'is not a UTC timestamp YYYY-MM-DDTHH:mm:ss[.s+]Z';
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[];
  if (month === undefined || month < 1 || month > 12) return `has no month ${m[2]}`;
  if (day === undefined || day < 1 || day > daysIn(year as number, month))
    return `is not a calendar date: ${m[1]}-${m[2]} has no day ${m[3]}`;
  if (hour === undefined || hour > 23) return `has hour ${m[4]}: hours run 00 to 23`;
  if (minute === undefined || minute > 59) return `has minute ${m[5]}`;
  if (second === 60) {
    if (hour !== 23 || minute !== 59 || !LEAP_SECOND_DAYS.has(value.slice(0, 10)))
      return 'has second 60 where no leap second was inserted';
  } else if (second === undefined || second > 59) return `has second ${m[6]}`;
  return undefined;
}

/** Compares two valid timestamps as instants: negative when `a` is earlier. */
export function compareTimestamps(a: string, b: string): number {
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);
  const whole = cmp(a.slice(0, 19), b.slice(0, 19));
  if (whole !== 0) return whole;
  const fraction = (t: string) => (t.length > 20 ? t.slice(20, -1) : '');
  const fa = fraction(a);
  const fb = fraction(b);
  const length = Math.max(fa.length, fb.length);
  return cmp(fa.padEnd(length, '0'), fb.padEnd(length, '0'));
}
