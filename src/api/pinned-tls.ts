/**
 * Pinned mutual TLS in front of a listener (docs/protocol.md § Transport): the federation
 * listener, whose callers are the pinned peers, and a relay's (`hotline relay`), whose callers are
 * the parties whose cards it holds. One port serves both TLS and plain HTTP: a connection whose
 * first byte opens a TLS handshake is served over TLS with a client certificate requested; any
 * other is plain HTTP, which is kept only for parties whose cards do not pin a TLS key yet
 * (protocol version 1).
 *
 * - A client certificate whose SPKI hashes to a card's pin makes a *pinned* connection of that
 *   party: every request on it may claim that party alone (`E_TLS_PEER` otherwise).
 * - Any other connection (plain, or TLS with no or an unknown certificate) is accepted only while
 *   some card pins no TLS key, and its requests may claim only such parties (`E_TLS_REQUIRED`
 *   otherwise). With every card on version 2 it is closed at once.
 *
 * Handshakes are bounded by the listener's header timeout, and TLS sessions are resumed.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { createServer, type TLSSocket } from 'node:tls';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { cardPin, spkiPin, type TlsIdentity } from '../crypto/tls.ts';
import type { Card } from '../protocol/card.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { App } from './services.ts';

/** The first byte of a TLS handshake record. */
const HANDSHAKE = 0x16;

/** Why a connection was closed before any request (the metric's `reason`). */
export type Refusal = 'handshake' | 'unknown certificate' | 'no certificate' | 'plain HTTP';

/** The pin of the certificate a connection presented (none on plain HTTP or without one). */
type Caller = { pin: string | undefined };

export interface PinnedTlsParts {
  tls: TlsIdentity;
  /**
   * The cards of the parties that may call, read at each connection and request: a rotation that
   * pins another certificate takes effect at once.
   */
  cards: () => Iterable<Pick<Card, 'party' | 'ext'>>;
  /** The parties a request speaks for (an envelope's sender, a relay request's signer). */
  claimed: (request: FastifyRequest) => Iterable<string>;
  /** Counts a connection closed before any request. */
  refused: (reason: Refusal) => void;
  logger: Logger;
  /** How long a connection may take to say what it speaks and finish its handshake. */
  handshakeMs: number;
}

/**
 * Puts pinned TLS in front of a listener's HTTP server and checks each request's claimed party
 * against its connection. Call before the listener listens.
 */
export function installPinnedTls(app: App, parts: PinnedTlsParts): void {
  const { tls, cards, claimed, refused, logger, handshakeMs } = parts;
  const server = app.server as Server;
  const callers = new WeakMap<Socket, Caller>();
  // Looked up at each request, not once per connection: a peer's rotation that pins the
  // certificate of a connection already open makes it that peer's at once.
  const partyOf = (pin: string | undefined) =>
    pin ? [...cards()].find((c) => cardPin(c.ext) === pin)?.party : undefined;
  const [serveHttp] = server.listeners('connection') as Array<(socket: Socket) => void>;
  if (!serveHttp) throw new Error('the listener has no HTTP connection handler');
  server.removeAllListeners('connection');
  const refuse = (socket: Socket, reason: Refusal, detail?: string) => {
    refused(reason);
    logger.warn({ remote: socket.remoteAddress, reason, detail }, 'connection refused');
    socket.destroy();
  };
  // Anyone unproven may talk only while a party is still on plain HTTP.
  const anyUnpinned = () => [...cards()].some((c) => !cardPin(c.ext));
  const pins = (party: string) => {
    const card = [...cards()].find((c) => c.party === party);
    return card !== undefined && cardPin(card.ext) !== undefined;
  };
  const tlsServer = createServer({
    key: tls.key,
    cert: tls.cert,
    minVersion: 'TLSv1.3',
    requestCert: true,
    // Certificates are checked against the pins below, not against CAs.
    rejectUnauthorized: false,
    handshakeTimeout: handshakeMs,
  });
  tlsServer.on('tlsClientError', (err, socket) => refuse(socket, 'handshake', err.message));
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    const raw = socket.getPeerCertificate()?.raw;
    const pin = raw ? spkiPin(raw) : undefined;
    if (!partyOf(pin) && !anyUnpinned())
      return refuse(socket, pin ? 'unknown certificate' : 'no certificate');
    callers.set(socket, { pin });
    serveHttp.call(server, socket);
  });
  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => socket.destroy(), handshakeMs);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === HANDSHAKE) {
        // The TLS socket reads the unshifted bytes first; its own handshake timeout takes over.
        clearTimeout(timer);
        tlsServer.emit('connection', socket);
        return;
      }
      clearTimeout(timer);
      if (!anyUnpinned()) return refuse(socket, 'plain HTTP');
      callers.set(socket, { pin: undefined });
      serveHttp.call(server, socket);
      socket.resume();
    });
  });
  app.addHook('preHandler', async (request, reply) => {
    const caller = partyOf(callers.get(request.raw.socket)?.pin);
    // A connection opened while a peer was on plain HTTP outlives that peer's move.
    if (caller === undefined && !anyUnpinned()) {
      reply.header('connection', 'close');
      throw new ProtocolError(
        'E_TLS_REQUIRED',
        'every party served here pins a TLS key: requests come over mutual TLS with a pinned certificate',
      );
    }
    for (const party of claimed(request)) {
      if (caller !== undefined) {
        if (party !== caller)
          throw new ProtocolError(
            'E_TLS_PEER',
            `this connection's certificate is "${caller}"'s: it cannot speak for "${party.slice(0, 32)}"`,
          );
      } else if (pins(party))
        throw new ProtocolError(
          'E_TLS_REQUIRED',
          `"${party.slice(0, 32)}" pins a TLS key in its card: its requests come over mutual TLS with that key`,
        );
    }
  });
}

/** The parties a federation request speaks for: its envelopes' senders, a heartbeat's sender. */
export function claimedParties(body: unknown): Set<string> {
  const claimed = new Set<string>();
  const add = (v: unknown) => {
    if (typeof v === 'string') claimed.add(v);
  };
  if (body && typeof body === 'object') {
    const envelopes = (body as { envelopes?: unknown }).envelopes;
    if (Array.isArray(envelopes))
      for (const e of envelopes) add((e as { header?: { from?: unknown } } | null)?.header?.from);
    add((body as { heartbeat?: { from?: unknown } }).heartbeat?.from);
  }
  return claimed;
}
