/**
 * HTTP to a peer: JSON with a timeout. A timeout or a non-2xx answer is a failed send.
 *
 * Requests go through undici's `request` on one keep-alive agent rather than `fetch`: the
 * connection to a peer stays open between messages, and a round trip costs about half of what
 * `fetch` (WHATWG streams around the same client) adds to it — the latency of a flash message
 * crosses two of them.
 */
import { Agent, request } from 'undici';

export class TransportError extends Error {
  override name = 'TransportError';
}

/** Connections to peers, kept open between requests (idle sockets do not hold the process). */
const agent = new Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 });

export function postJson(url: string, body: string, timeoutMs: number): Promise<unknown> {
  return call(url, 'POST', body, timeoutMs);
}

export function getJson(url: string, timeoutMs: number): Promise<unknown> {
  return call(url, 'GET', undefined, timeoutMs);
}

async function call(
  url: string,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  try {
    const response = await request(url, {
      method,
      dispatcher: agent,
      signal,
      ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/json' } }),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (e) {
    const reason = signal.aborted
      ? `no answer in ${timeoutMs} ms`
      : ((e as { code?: string }).code ?? (e as Error).message);
    throw new TransportError(`${url}: ${reason}`);
  }
  if (status < 200 || status > 299)
    throw new TransportError(`${url}: HTTP ${status} ${text.slice(0, 200)}`);
  try {
    return JSON.parse(text);
  } catch {
    throw new TransportError(`${url}: the answer is not JSON`);
  }
}
