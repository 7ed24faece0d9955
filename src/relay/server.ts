/**
 * `hotline relay`: the relay's HTTP listener (docs/protocol.md § Relay API). Anyone may deposit
 * for a party the relay serves and collect a box; the relay's honesty is never relied on, so
 * neither is access control here (mutual TLS, as for federation, is future work).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { ApiError } from '../api/errors.ts';
import { listenerApp } from '../api/server.ts';
import type { App } from '../api/services.ts';
import type { HttpLimits } from '../node/core/config.ts';
import { Ack, AnswerDeposit, BoxParams, CollectQuery, EnvelopeDeposit } from '../protocol/relay.ts';
import { type Deposit, digestKey, type Limits, Mailboxes, MailboxFull } from './mailbox.ts';

/** A collect answer stops adding items beyond this many bytes (it always holds at least one). */
const COLLECT_BYTES = 8 * 1024 * 1024;

export interface RelayOptions {
  /** Folder of the relay's SQLite file. */
  data: string;
  limits: Limits;
  /** The parties it keeps boxes for; empty: any party. */
  parties: readonly string[];
  logger: Logger;
  /** Bounds on what the listener accepts; the node's defaults when left out. */
  http?: HttpLimits;
}

export interface RunningRelay {
  app: App;
  boxes: Mailboxes;
  url: string;
  stop(): Promise<void>;
}

export async function relayServer(options: RelayOptions): Promise<{
  app: App;
  boxes: Mailboxes;
}> {
  mkdirSync(options.data, { recursive: true });
  const boxes = new Mailboxes(join(options.data, 'relay.db'), options.limits);
  const app = listenerApp(options.logger, options.http);
  app.addHook('onClose', async () => boxes.close());

  const served = (party: string) => {
    if (options.parties.length && !options.parties.includes(party))
      throw new ApiError(403, 'E_UNKNOWN_PARTY', `this relay keeps no box for "${party}"`);
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
      for (const [i, e] of envelopes.entries())
        if (!e.header.to.includes(party))
          throw new ApiError(
            421,
            'E_NOT_FOR_ME',
            `envelope ${i} is addressed to ${e.header.to.join(', ')}, not "${party}"`,
          );
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
  }));

  return { app, boxes };
}

/** Starts a relay listening on `host:port`. */
export async function startRelay(options: RelayOptions, listen: string): Promise<RunningRelay> {
  const { app, boxes } = await relayServer(options);
  const at = listen.lastIndexOf(':');
  const url = await app.listen({
    host: listen.slice(0, at).replace(/^\[|\]$/g, ''),
    port: Number(listen.slice(at + 1)),
  });
  return { app, boxes, url, stop: () => app.close() };
}
