/**
 * Every time the console shows: ISO 8601 in UTC, and in each party's own time zone with the
 * zone's name (`2026-12-05 12:04 EST`), so nobody reads 05/12 as May or June.
 */

export const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

export function formatUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** `2026-12-05 12:04 EST` in `zone`; the zone's short name as English speakers write it. */
export function formatIn(iso: string, zone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(new Date(iso));
  const part = (type: Intl.DateTimeFormatPartTypes) =>
    parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')} ${part('timeZoneName')}`;
}

/** The zones a time is shown in: each party's that is known, then the reader's own if another. */
export function zonesToShow(
  parties: Array<{ name: string; zone: string | null }>,
  reader: string = localZone(),
): Array<{ name: string | null; zone: string }> {
  const out: Array<{ name: string | null; zone: string }> = [];
  for (const p of parties) if (p.zone) out.push({ name: p.name, zone: p.zone });
  if (!out.some((z) => z.zone === reader)) out.push({ name: null, zone: reader });
  return out;
}
