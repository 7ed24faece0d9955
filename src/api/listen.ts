/**
 * Opening a listener: its `host:port`, a check that it can be opened before a node or relay
 * changes anything (a restored node's recovery, a relay's new TLS key), and the one-line
 * sentence for an address that cannot be, naming the setting it came from.
 */
import { createServer, type Server } from 'node:net';
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
      }).catch((e: unknown) => {
        throw listenFailure(e, listener, listeners);
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
    throw listenFailure(e, listener);
  }
}

/**
 * Why `listener` cannot be opened, as one sentence: the port taken (by another of `all`, or by
 * another program), a port below 1024 without the privilege, or an address not on this machine.
 * Any other failure is returned as it is.
 */
export function listenFailure(
  e: unknown,
  listener: Listener,
  all: readonly Listener[] = [],
): Error {
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
      return new ConfigError(
        twin
          ? `${setting} names the port of ${twin.setting} (${port}): give each listener a port of its own`
          : `another program listens on ${address} (${setting}): stop it or choose another port`,
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
