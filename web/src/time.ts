/** Every time the console shows, in UTC and in the reader's own zone. */

export const localZone = (): string => Intl.DateTimeFormat().resolvedOptions().timeZone;

const locale = (lang: string) => (lang === 'zh' ? 'zh-CN' : 'en-GB');

export function formatUtc(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function formatLocal(iso: string, lang: string): string {
  const zone = localZone();
  const text = new Intl.DateTimeFormat(locale(lang), {
    timeZone: zone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
  }).format(new Date(iso));
  return `${text} (${zone})`;
}
