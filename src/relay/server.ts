/**
 * `hotline relay`: the relay's listener (docs/protocol.md § Relay API). It keeps boxes only for
 * the parties whose cards it was given, and every deposit, collection and acknowledgement is
 * signed by one of them (src/crypto/relay-auth.ts): a stranger can neither fill a box nor empty
 * one. It serves pinned mutual TLS as the federation listener does (src/api/pinned-tls.ts): a
 * connection is taken only with a client certificate one of its cards pins, and each request is
 * signed by that card's party alone; plain HTTP is served only while a card pins no TLS key.
 * The relay's honesty is still never relied on: the nodes check what it carries.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.ts';
import { checkListenable, listenOn } from '../api/listen.ts';
import { installPinnedTls, type Refusal } from '../api/pinned-tls.ts';
import { listenerApp } from '../api/server.ts';
import type { App } from '../api/services.ts';
import { fingerprint } from '../crypto/card.ts';
import {
  bodyHash,
  parseRelayAuth,
  RELAY_AUTH_HEADER,
  RELAY_SKEW_S,
  verifyRelayRequest,
} from '../crypto/relay-auth.ts';
import type { TlsIdentity } from '../crypto/tls.ts';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../node/core/config.ts';
import type { Card } from '../protocol/card.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { Ack, AnswerDeposit, BoxParams, CollectQuery, EnvelopeDeposit } from '../protocol/relay.ts';
import { relayTls } from './identity.ts';
import { type Deposit, digestKey, type Limits, Mailboxes, MailboxFull } from './mailbox.ts';
import { RELAY_DB } from './paths.ts';

/** A collect answer stops adding items beyond this many bytes (it always holds at least one). */
const COLLECT_BYTES = 8 * 1024 * 1024;

export interface RelayOptions {
  /** Folder of the relay's SQLite file. */
  data: string;
  limits: Limits;
  /** The parties it keeps boxes for, by their cards: only they may deposit and collect. */
  cards: readonly Card[];
  logger: Logger;
  /** Bounds on what the listener accepts; the node's defaults when left out. */
  http?: HttpLimits;
  /**
   * Its TLS key and certificate: pinned mutual TLS in front of the API. `startRelay` always gives
   * one; without it the app serves plain HTTP (tests that call it in-process).
   */
  tls?: TlsIdentity;
  clock?: () => number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** SHA-256 (hex) of the body as received, for the request's signature. */
    relayBodyHash?: string;
  }
}

export interface RunningRelay {
  app: App;
  boxes: Mailboxes;
  /** `https://host:port`: where parties reach it. */
  url: string;
  /** The SPKI pin of its certificate, for the parties' `relays` setting. */
  pin: string;
  /** Whether its TLS key was made at this start (its first). */
  madeTls: boolean;
  stop(): Promise<void>;
}

/**
 * The relay's cards by party. Two cards for one party are refused before anything is made, as a
 * node refuses to pin a second card of a pinned party: which one the relay trusted (whose keys
 * may fill and empty the box) would depend on the order the files were named in.
 */
function cardsByParty(cards: readonly Card[]): Map<string, Card> {
  const byParty = new Map<string, Card>();
  for (const card of cards) {
    const given = byParty.get(card.party);
    if (given)
      throw new ProtocolError(
        'E_CONFLICT',
        `two cards for "${card.party}" (fingerprints ${fingerprint(given)} and ${fingerprint(card)}): give each party's card once`,
      );
    byParty.set(card.party, card);
  }
  return byParty;
}

export async function relayServer(options: RelayOptions): Promise<{
  app: App;
  boxes: Mailboxes;
}> {
  const cards = cardsByParty(options.cards);
  mkdirSync(options.data, { recursive: true });
  const boxes = new Mailboxes(join(options.data, RELAY_DB), options.limits);
  const app = listenerApp(options.logger, options.http);
  app.addHook('onClose', async () => boxes.close());

  const clock = options.clock ?? Date.now;
  /** Connections closed before any request, by reason (shown by the health answer). */
  const refused: Partial<Record<Refusal, number>> = {};
  if (options.tls)
    installPinnedTls(app, {
      tls: options.tls,
      cards: () => cards.values(),
      claimed: (request) => {
        const header = request.headers[RELAY_AUTH_HEADER];
        const auth = parseRelayAuth(typeof header === 'string' ? header : undefined);
        return auth ? [auth.party] : [];
      },
      refused: (reason) => {
        refused[reason] = (refused[reason] ?? 0) + 1;
      },
      logger: options.logger,
      handshakeMs: (options.http ?? DEFAULT_HTTP_LIMITS).headersTimeoutMs,
    });
  const served = (party: string) => {
    if (!cards.has(party))
      throw new ApiError(403, 'E_UNKNOWN_PARTY', `this relay keeps no box for "${party}"`);
  };
  // Signatures seen within the skew window, with when they may be forgotten: no replay.
  const seen = new Map<string, number>();
  app.addHook('preParsing', async (request, _reply, payload) => {
    const hash = createHash('sha256');
    return payload.pipe(
      new Transform({
        transform(chunk, _encoding, done) {
          hash.update(chunk);
          done(null, chunk);
        },
        flush(done) {
          request.relayBodyHash = hash.digest('hex');
          done();
        },
      }),
    );
  });
  /** The party that signed this request, or a refusal. */
  const signer = (request: FastifyRequest): string => {
    const header = request.headers[RELAY_AUTH_HEADER];
    const auth = parseRelayAuth(typeof header === 'string' ? header : undefined);
    if (!auth)
      throw new ApiError(
        401,
        'E_UNAUTHORIZED',
        `a relay request must carry a valid ${RELAY_AUTH_HEADER} header`,
      );
    const card = cards.get(auth.party);
    if (!card)
      throw new ApiError(403, 'E_UNKNOWN_PARTY', `this relay serves no party "${auth.party}"`);
    const now = clock() / 1000;
    if (Math.abs(now - auth.time) > RELAY_SKEW_S)
      throw new ApiError(
        401,
        'E_UNAUTHORIZED',
        `the request was signed at ${auth.time}, more than ${RELAY_SKEW_S} s from the relay's clock (${Math.floor(now)}): check both clocks`,
      );
    const hash = request.relayBodyHash ?? bodyHash();
    if (!verifyRelayRequest(auth, card, request.method, request.url, hash))
      throw new ApiError(
        401,
        'E_BAD_SIGNATURE',
        `the request's signature does not verify with a signing key of "${auth.party}"`,
      );
    for (const [sig, until] of seen) if (until < now) seen.delete(sig);
    if (seen.has(auth.sig))
      throw new ApiError(
        401,
        'E_UNAUTHORIZED',
        'this signed request was already made once (a replay)',
      );
    seen.set(auth.sig, auth.time + RELAY_SKEW_S);
    return auth.party;
  };
  const mustBe = (who: string, party: string, what: string) => {
    if (who !== party) throw new ApiError(403, 'E_FORBIDDEN', `"${who}" may not ${what}`);
  };
  const deposit = (party: string, items: Deposit[]) => {
    try {
      return boxes.deposit(party, items);
    } catch (e) {
      if (e instanceof MailboxFull) {
        options.logger.warn({ party, reason: e.message }, 'relay full');
        throw new ApiError(507, 'E_RELAY_FULL', e.message);
      }
      throw e;
    }
  };

  app.post(
    '/relay/v1/boxes/:party/envelopes',
    { schema: { params: BoxParams, body: EnvelopeDeposit } },
    async (request) => {
      const { party } = request.params;
      served(party);
      const { envelopes } = request.body;
      // Checked before the signature is taken as used: a client may repeat a request answered
      // 421 (HTTP's "misdirected"), and the repeat must get the same answer, not E_UNAUTHORIZED.
      for (const [i, e] of envelopes.entries())
        if (!e.header.to.includes(party))
          throw new ApiError(
            421,
            'E_NOT_FOR_ME',
            `envelope ${i} is addressed to ${e.header.to.join(', ')}, not "${party}"`,
          );
      const who = signer(request);
      for (const [i, e] of envelopes.entries())
        mustBe(who, e.header.from, `deposit envelope ${i}, which is from "${e.header.from}"`);
      return deposit(
        party,
        envelopes.map((e) => ({
          kind: 'envelope',
          from: e.header.from,
          key: e.header.id,
          data: JSON.stringify(e),
        })),
      );
    },
  );

  app.post(
    '/relay/v1/boxes/:party/answers',
    { schema: { params: BoxParams, body: AnswerDeposit } },
    async (request) => {
      const { party } = request.params;
      served(party);
      const { from, result, proofs } = request.body;
      mustBe(signer(request), from, `leave an answer from "${from}"`);
      const data = JSON.stringify({ result, proofs });
      return deposit(party, [{ kind: 'answer', from, key: digestKey(data), data }]);
    },
  );

  app.get(
    '/relay/v1/boxes/:party',
    { schema: { params: BoxParams, querystring: CollectQuery } },
    async (request, reply) => {
      const { party } = request.params;
      served(party);
      mustBe(signer(request), party, `collect the box of "${party}"`);
      const { query } = request;
      const items = boxes.collect(party, Number(query.after ?? 0), Number(query.limit ?? 256));
      let bytes = 0;
      const parts: string[] = [];
      for (const item of items) {
        bytes += item.data.length;
        if (bytes > COLLECT_BYTES && parts.length) break;
        parts.push(
          `{"n":${item.n},"kind":"${item.kind}","from":${JSON.stringify(item.from)},"data":${item.data}}`,
        );
      }
      reply.header('content-type', 'application/json');
      return `{"items":[${parts.join(',')}]}`;
    },
  );

  app.post(
    '/relay/v1/boxes/:party/ack',
    { schema: { params: BoxParams, body: Ack } },
    async (request) => {
      const { party } = request.params;
      served(party);
      mustBe(signer(request), party, `acknowledge the box of "${party}"`);
      return { removed: boxes.acknowledge(party, request.body.upTo) };
    },
  );

  app.get('/relay/v1/health', async () => ({
    relay: 'hotline',
    boxes: boxes.boxes(),
    stored: boxes.stored,
    bytes: boxes.bytes,
    maxBytes: boxes.limits.maxBytes,
    maxItemsPerBox: boxes.limits.maxItemsPerBox,
    refusedConnections: refused,
  }));

  return { app, boxes };
}

/**
 * Starts a relay listening on `host:port` over pinned mutual TLS, with the TLS key of its data
 * folder (made there at its first start).
 */
export async function startRelay(
  options: Omit<RelayOptions, 'tls'>,
  listen: string,
): Promise<RunningRelay> {
  cardsByParty(options.cards);
  const listener = { address: listen, setting: '--listen' };
  // Before the data folder and its TLS key are made: a relay that cannot listen changes nothing.
  await checkListenable([listener]);
  const { tls, made } = await relayTls(options.data);
  const { app, boxes } = await relayServer({ ...options, tls });
  const url = await listenOn(app, listener);
  return {
    app,
    boxes,
    url: url.replace(/^http:/, 'https:'),
    pin: tls.pin,
    madeTls: made,
    stop: () => app.close(),
  };
}
