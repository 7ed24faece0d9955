/**
 * Opening a listener: its `host:port`, a check that it can be opened before a node or relay
 * changes anything (a restored node's recovery, a relay's new TLS key), and the one-line
 * sentence for an address that cannot be, naming the setting it came from.
 */
import { request as httpRequest } from 'node:http';
import { createServer, type Server } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../node/core/config.ts';

/** A listener's address and where it was given (`listen in hotline.yaml`, `--listen`). */
export interface Listener {
  address: string;
  setting: string;
}

/** Splits "host:port" (IPv6 in brackets) for listen(). */
export function hostPort(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  return {
    host: address.slice(0, at).replace(/^\[|\]$/g, ''),
    port: Number(address.slice(at + 1)),
  };
}

/**
 * Opens each listener's address and closes it again, holding all open at once (so two listeners
 * on one port are caught too): the first that cannot be opened is a `ConfigError` saying why.
 * Port 0 (any free port) always opens and is not tried.
 */
export async function checkListenable(listeners: readonly Listener[]): Promise<void> {
  const held: Server[] = [];
  try {
    for (const listener of listeners) {
      const { host, port } = hostPort(listener.address);
      if (port === 0) continue;
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port, exclusive: true }, resolve);
      }).catch(async (e: unknown) => {
        throw await listenFailure(e, listener, listeners);
      });
      held.push(server);
    }
  } finally {
    await Promise.all(
      held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
  }
}

/** `app.listen` on the listener's address; a failure is the sentence `listenFailure` says. */
export async function listenOn(app: FastifyInstance, listener: Listener): Promise<string> {
  try {
    return await app.listen(hostPort(listener.address));
  } catch (e) {
    throw await listenFailure(e, listener);
  }
}

/** How long the refusal of a port taken waits to learn whether Hotline holds it. */
export const HOLDER_PROBE_MS = 800;

/**
 * What listens on `host:port`, when it says it is Hotline: a node's operator listener answers
 * `GET /healthz` as src/api/health.ts does (200 `{"status":"ok"}`, or 503 `E_STORE`); a node's
 * federation listener or a relay shows, over TLS, the certificate `makeTlsIdentity` makes
 * (`CN=hotline <party>`, `CN=hotline relay`), before any client certificate it asks for. Both are
 * asked at once, for at most `HOLDER_PROBE_MS`; anything else, or no answer, is undefined.
 */
async function hotlineHolder(host: string, port: number): Promise<string | undefined> {
  // A listener on every address is reached on loopback.
  const to = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
  const bounded = <T>(socketOf: (done: (answer: T | undefined) => void) => Probe) =>
    new Promise<T | undefined>((resolve) => {
      const socket = socketOf(resolve);
      // However slowly it answers: the refusal waits no longer.
      const bound = setTimeout(() => socket.destroy(), HOLDER_PROBE_MS);
      socket.on('close', () => {
        clearTimeout(bound);
        resolve(undefined);
      });
      socket.on('error', () => resolve(undefined));
    });
  const health = bounded<string>((done) => {
    const req = httpRequest({ host: to, port, path: '/healthz' }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text = (text + chunk).slice(0, 4096);
      });
      res.on('end', () =>
        done(isHealthAnswer(res.statusCode, text) ? 'another Hotline node' : undefined),
      );
      res.on('error', () => done(undefined));
    });
    req.end();
    return req;
  });
  const certificate = bounded<string>((done) => {
    const socket = tlsConnect({ host: to, port, rejectUnauthorized: false }, () => {
      const name = /^hotline ([a-z0-9-]+)$/.exec(
        String(socket.getPeerCertificate().subject?.CN),
      )?.[1];
      done(
        name === undefined
          ? undefined
          : name === 'relay'
            ? 'a Hotline relay'
            : `another Hotline node (party ${name})`,
      );
      socket.destroy();
    });
    return socket;
  });
  const [byHealth, byCertificate] = await Promise.all([health, certificate]);
  return byCertificate ?? byHealth;
}

/** A request or a socket asked: closed when it ends, however it ends. */
interface Probe {
  destroy(): unknown;
  on(event: 'close' | 'error', listener: () => void): unknown;
}

/** A body `GET /healthz` of a Hotline node answers with (src/api/health.ts). */
function isHealthAnswer(status: number | undefined, text: string): boolean {
  try {
    const body = JSON.parse(text) as { status?: unknown; error?: { code?: unknown } };
    return status === 200
      ? body.status === 'ok' && Object.keys(body).length === 1
      : status === 503 && body.error?.code === 'E_STORE';
  } catch {
    return false;
  }
}

/**
 * Why `listener` cannot be opened, as one sentence: the port taken (by another of `all`, by
 * another Hotline node, or by another program), a port below 1024 without the privilege, or an
 * address not on this machine. Any other failure is returned as it is.
 */
export async function listenFailure(
  e: unknown,
  listener: Listener,
  all: readonly Listener[] = [],
): Promise<Error> {
  const { address, setting } = listener;
  const { host, port } = hostPort(address);
  switch ((e as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE': {
      const twin = all.find(
        (other) =>
          other !== listener &&
          hostPort(other.address).port === port &&
          all.indexOf(other) < all.indexOf(listener),
      );
      if (twin)
        return new ConfigError(
          `${setting} names the port of ${twin.setting} (${port}): give each listener a port of its own`,
        );
      const holder = (await hotlineHolder(host, port)) ?? 'another program';
      return new ConfigError(
        `${holder} listens on ${address} (${setting}): stop it or choose another port`,
      );
    }
    case 'EACCES':
      return new ConfigError(
        `this user may not listen on ${address} (${setting}): ports below 1024 need privileges; choose a port above 1023, or grant the program CAP_NET_BIND_SERVICE`,
      );
    case 'EADDRNOTAVAIL':
      return new ConfigError(
        `${host} is not an address of this machine (${setting}: ${address}): give one of its addresses, 127.0.0.1, or 0.0.0.0 for all`,
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError(
        `${host} is not a host name this machine resolves (${setting}: ${address}): give an IP address or a name it resolves`,
      );
    default:
      return e instanceof Error ? e : new Error(String(e));
  }
}
