/**
 * A URL that carries its credential (a webhook with a token in its path or query, a monitor's ping
 * URL, `postgres://user:password@host`) as it may be shown: its scheme, host and port, the rest
 * replaced by "…". No Node imports, so the console shows URLs the same way.
 */
import type { ContactRoute } from './roster.ts';

/** `url` without its user info, path, query and fragment: `https://hooks.example:8443/…`. */
export function urlWithoutSecrets(url: string): string {
  try {
    const { protocol, host } = new URL(url);
    return `${protocol}//${host}/…`;
  } catch {
    return '…';
  }
}

/** Contact routes as they may be shown: a webhook's URL without its secret. */
export function routesWithoutSecrets(routes: readonly ContactRoute[]): ContactRoute[] {
  return routes.map((r) => (r.kind === 'webhook' ? { ...r, url: urlWithoutSecrets(r.url) } : r));
}
