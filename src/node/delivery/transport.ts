/**
 * HTTP to a peer: JSON with a timeout. A timeout or a non-2xx answer is a failed send.
 *
 * Requests go through undici's `request` on keep-alive pools rather than `fetch`: the
 * connection to a peer stays open between messages, and a round trip costs about half of what
 * `fetch` (WHATWG streams around the same client) adds to it — the latency of a flash message
 * crosses two of them.
 *
 * To a peer whose card pins its TLS key, requests go over mutual TLS (docs/protocol.md
 * § Transport): the node presents its own certificate, and the server's certificate is accepted
 * only if its SubjectPublicKeyInfo hashes to the pin — no CA, no host name. A server presenting
 * another certificate (a TLS-terminating proxy in the middle) fails the send with `E_TLS_PIN`,
 * which the caller raises as an alarm. A relay the node's configuration pins is called the same
 * way (paths.ts `relayConnection`). TLS sessions are cached and resumed.
 */
import { isIP } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { buildConnector, Dispatcher, request } from 'undici';
import { spkiPin, type TlsIdentity } from '../../crypto/tls.ts';

export class TransportError extends Error {
  override name = 'TransportError';
  /** The peer did answer, but not with a 2xx JSON body (as opposed to no answer at all). */
  readonly answered: boolean;
  /** The error code of an error answer (`E_RELAY_FULL`), or `HTTP <status>` without one. */
  readonly code: string | undefined;
  /** The error object of an error answer, as the peer sent it (`{ code, message, … }`). */
  readonly error: Readonly<Record<string, unknown>> | undefined;
  /**
   * A peer whose pinned certificate checked closed the connection without an answer: what a
   * pinned-TLS listener does to a caller whose certificate no card it holds pins.
   */
  readonly hungUp: boolean;
  constructor(
    message: string,
    answered = false,
    code?: string,
    error?: Readonly<Record<string, unknown>>,
    hungUp = false,
  ) {
    super(message);
    this.answered = answered;
    this.code = code;
    this.error = error;
    this.hungUp = hungUp;
  }
}

/** How a connection closed by the other side fails a request (undici's own, or the socket's). */
const HUNG_UP = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);

/** How a request to an `https:` URL is made: whose certificate to accept, which to present. */
export interface TlsClient {
  /** The pin the server's certificate must match; without one, the usual CA checks apply. */
  pin: string | undefined;
  /** Our certificate and key, presented to the server (pinned mutual TLS). */
  identity: TlsIdentity | undefined;
}

/** The server's certificate does not match the pin: raised as `E_TLS_PIN`. */
export class PinMismatch extends Error {
  override name = 'PinMismatch';
  readonly code = 'E_TLS_PIN';
}

interface Client {
  undici: typeof import('undici');
  request: typeof request;
}
let client: Promise<Client> | undefined;
/** Once loaded: a request then leaves in the caller's own tick, with no await before it. */
let loaded: Client | undefined;
/** One connector per (server pin, our certificate): its TLS sessions are reused. */
const connectors = new Map<string, buildConnector.connector>();
/** One pool per origin and connector, for the process's life: its connections are reused. */
const pools = new Map<string, Dispatcher>();

const KEEP_ALIVE = { keepAliveTimeout: 30_000, keepAliveMaxTimeout: 120_000 } as const;

/**
 * undici, for requests whose connections to peers stay open between requests (idle sockets do
 * not hold the process). Loaded on first use: CLI commands that never reach a peer skip it.
 */
function undici() {
  client ??= import('undici').then((u) => {
    loaded = { undici: u, request: u.request };
    return loaded;
  });
  return client;
}

/**
 * The pool for `url`'s origin, made once. Not undici's `Agent`, which makes the same pools: its
 * per-origin bookkeeping counts a closed pool's late disconnect against the pool that replaced
 * it and closes that one too, so after two connections closed in a row by the server (a restart,
 * an error answer with `connection: close`) every later request opened a connection of its own —
 * a TLS handshake on each message, for the rest of the process's life (undici 7.30).
 */
function poolFor(u: typeof import('undici'), url: string, tls: TlsClient | undefined): Dispatcher {
  const origin = new URL(url).origin;
  const via = tls ? `${tls.pin ?? 'ca'} ${tls.identity?.pin ?? '-'}` : 'plain';
  const key = `${origin} ${via}`;
  let pool = pools.get(key);
  if (!pool) {
    let connect = connectors.get(via);
    if (tls && !connect) {
      connect = pinnedConnector(u, tls);
      connectors.set(via, connect);
    }
    pool = new u.Pool(origin, { ...KEEP_ALIVE, ...(connect ? { connect } : {}) });
    pools.set(key, pool);
  }
  return pool;
}

/**
 * A connector for `https:`: our certificate presented; with a pin, the server's certificate
 * checked against it instead of against CAs. TLS sessions are resumed, and a session is kept only
 * from a connection whose certificate passed the check: a resumed handshake carries no
 * certificate, and only the server that issued the ticket can resume it, so a resumed session is
 * the pinned server's. (undici's own session cache would keep a ticket from any server.)
 */
function pinnedConnector(u: typeof import('undici'), tls: TlsClient): buildConnector.connector {
  const { pin } = tls;
  const identity = tls.identity ? { key: tls.identity.key, cert: tls.identity.cert } : {};
  if (!pin) return u.buildConnector({ minVersion: 'TLSv1.3', ...identity });
  const sessions = new Map<string, Buffer>();
  return (options, callback) => {
    const where = `${options.hostname}:${options.port}`;
    let verified = false;
    let answered = false;
    const answer = (err: Error | null, socket: TLSSocket | null) => {
      if (answered) return;
      answered = true;
      if (err) callback(err, null);
      else callback(null, socket as TLSSocket);
    };
    const socket = tlsConnect({
      host: options.hostname,
      port: Number(options.port) || 443,
      ...(isIP(options.hostname) ? {} : { servername: options.hostname }),
      ...identity,
      minVersion: 'TLSv1.3',
      ALPNProtocols: ['http/1.1'],
      // Checked against the pin below, not against CAs.
      rejectUnauthorized: false,
      ...(sessions.has(where) ? { session: sessions.get(where) } : {}),
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
    socket.on('session', (session: Buffer) => {
      if (verified) sessions.set(where, session);
    });
    socket.once('error', (err) => answer(err, null));
    socket.once('secureConnect', () => {
      if (socket.isSessionReused()) verified = true;
      else {
        const raw = socket.getPeerCertificate()?.raw;
        const got = raw ? spkiPin(raw) : 'none';
        verified = got === pin;
        if (!verified) {
          sessions.delete(where);
          socket.destroy();
          return answer(
            new PinMismatch(
              `the server's TLS certificate (SPKI SHA-256 ${got.slice(0, 16)}…) is not the pinned one (${pin.slice(0, 16)}…): something in the middle, or the wrong server`,
            ),
            null,
          );
        }
      }
      answer(null, socket);
    });
  };
}

/** Headers to add to a request (a relay request's signature). */
export type Headers = Record<string, string>;

export function postJson(
  url: string,
  body: string,
  timeoutMs: number,
  headers: Headers = {},
  tls?: TlsClient,
): Promise<unknown> {
  return call(url, 'POST', body, timeoutMs, headers, tls);
}

export function getJson(
  url: string,
  timeoutMs: number,
  headers: Headers = {},
  tls?: TlsClient,
): Promise<unknown> {
  return call(url, 'GET', undefined, timeoutMs, headers, tls);
}

async function call(
  url: string,
  method: 'GET' | 'POST',
  body: string | undefined,
  timeoutMs: number,
  headers: Headers,
  tls: TlsClient | undefined,
): Promise<unknown> {
  const signal = AbortSignal.timeout(timeoutMs);
  let status: number;
  let text: string;
  const { undici: u, request } = loaded ?? (await undici());
  try {
    const response = await request(url, {
      method,
      dispatcher: poolFor(u, url, url.startsWith('https:') ? tls : undefined),
      signal,
      ...(body === undefined
        ? { headers }
        : { body, headers: { ...headers, 'content-type': 'application/json' } }),
    });
    status = response.statusCode;
    text = await response.body.text();
  } catch (e) {
    const mismatch = pinMismatchIn(e);
    if (mismatch) throw new TransportError(`${url}: ${mismatch.message}`, false, mismatch.code);
    const code = (e as { code?: string }).code;
    if (!signal.aborted && tls?.pin && code && HUNG_UP.has(code))
      throw new TransportError(
        `${url}: the peer closed the connection without an answer (${code}) after its certificate matched the pin: it does not accept this node's TLS certificate, most likely`,
        false,
        undefined,
        undefined,
        true,
      );
    const reason = signal.aborted ? `no answer in ${timeoutMs} ms` : (code ?? (e as Error).message);
    throw new TransportError(`${url}: ${reason}`);
  }
  if (status < 200 || status > 299) {
    const error = errorObjectOf(text);
    const code = typeof error?.code === 'string' && ERROR_CODE.test(error.code) ? error.code : null;
    throw new TransportError(
      `${url}: HTTP ${status} ${text.slice(0, 200)}`,
      true,
      code ?? `HTTP ${status}`,
      error,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new TransportError(`${url}: the answer is not JSON`, true);
  }
}

/** The pin mismatch behind a failed request, if that is what failed it. */
function pinMismatchIn(e: unknown): PinMismatch | undefined {
  for (let cause = e, depth = 0; cause && depth < 4; depth++) {
    if (cause instanceof PinMismatch) return cause;
    cause = (cause as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The `error.code` of an error answer in the one error shape, if it is one (a short slug). */
/** An error code as the protocol spells one (`E_NOT_FOUND`). */
const ERROR_CODE = /^E_[A-Z_]{1,40}$/;

/** The `error` object of an error answer's JSON body (`{ code, message, … }`), if it has one. */
function errorObjectOf(text: string): Record<string, unknown> | undefined {
  try {
    const error = (JSON.parse(text) as { error?: unknown } | null)?.error;
    return error !== null && typeof error === 'object' && !Array.isArray(error)
      ? (error as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
