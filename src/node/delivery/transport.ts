/**
 * HTTP to a peer: JSON with a timeout. A timeout or a non-2xx answer is a failed send.
 *
 * Requests go through undici's `request` on one keep-alive agent rather than `fetch`: the
 * connection to a peer stays open between messages, and a round trip costs about half of what
 * `fetch` (WHATWG streams around the same client) adds to it — the latency of a flash message
 * crosses two of them.
 */
import type { Agent, request } from 'undici';

export class TransportError extends Error {
  override name = 'TransportError';
  /** The peer did answer, but not with a 2xx JSON body (as opposed to no answer at all). */
  readonly answered: boolean;
  /** The error code of an error answer (`E_RELAY_FULL`), or `HTTP <status>` without one. */
  readonly code: string | undefined;
  constructor(message: string, answered = false, code?: string) {
    super(message);
    this.answered = answered;
    this.code = code;
  }
}

interface Client {
  agent: Agent;
  request: typeof request;
}
let client: Promise<Client> | undefined;
/** Once loaded: a request then leaves in the caller's own tick, with no await before it. */
let loaded: Client | undefined;

/**
 * undici and one agent whose connections to peers stay open between requests (idle sockets do
 * not hold the process). Loaded on first use: CLI commands that never reach a peer skip it.
 */
function undici() {
  client ??= import('undici').then((u) => {
    loaded = {
      agent: new u.Agent({ keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 }),
      request: u.request,
    };
    return loaded;
  });
  return client;
}

/** Headers to add to a request (a relay request's signature). */
export type Headers = Record<string, string>;

export function postJson(
  url: string,
  body: string,
  timeoutMs: number,
  headers: Headers = {},
): Promise<unknown> {
  return call(url, 'POST', body, timeoutMs, headers);
}

export function getJson(url: string, timeoutMs: number, headers: Headers = {}): Promise<unknown> {
  return call(url, 'GET', undefined, timeoutMs, headers);
}

async function call(
  url: string,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
  headers: Headers,
): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  const { agent, request } = loaded ?? (await undici());
  try {
    const response = await request(url, {
      method,
      dispatcher: agent,
      signal,
      ...(body === undefined
        ? { headers }
        : { body, headers: { ...headers, 'content-type': 'application/json' } }),
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
    throw new TransportError(
      `${url}: HTTP ${status} ${text.slice(0, 200)}`,
      true,
      errorCodeOf(text) ?? `HTTP ${status}`,
    );
  try {
    return JSON.parse(text);
  } catch {
    throw new TransportError(`${url}: the answer is not JSON`, true);
  }
}

/** The `error.code` of an error answer in the one error shape, if it is one (a short slug). */
function errorCodeOf(text: string): string | undefined {
  return /^\{"error":\{"code":"(E_[A-Z_]{1,40})"/.exec(text)?.[1];
}
