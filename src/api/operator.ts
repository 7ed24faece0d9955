/**
 * The operator API under /api/v1 (the CLI and, later, the console). Every route needs the
 * node's bearer token, checked in one hook.
 */
import { timingSafeEqual } from 'node:crypto';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Heartbeats } from '../node/heartbeat.ts';
import { languageOf } from '../node/language.ts';
import type { Node } from '../node/node.ts';
import { pathsOf } from '../node/paths.ts';
import { watchdogOf } from '../node/watchdog.ts';
import { witnessOf } from '../node/witness.ts';
import { Body } from '../protocol/body.ts';
import { PartyId } from '../protocol/common.ts';
import { LIMITS } from '../protocol/limits.ts';
import { ApiError } from './errors.ts';
import { languageRoutes } from './language.ts';

export const SendRequest = Type.Object(
  {
    to: Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients }),
    message: Type.Omit(Body, ['salt']),
  },
  { additionalProperties: false },
);
export type SendRequest = Static<typeof SendRequest>;

/** Query strings arrive as text (the validator does not coerce types): digits only. */
const Limit = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[1-9][0-9]{0,3}$|^10000$' })) },
  { additionalProperties: false },
);
const limitOf = (query: unknown) => Number((query as Static<typeof Limit>).limit ?? 100);

export interface OperatorOptions {
  node: Node;
  heartbeats: Heartbeats;
  token: string;
}

export const operatorRoutes: FastifyPluginAsync<OperatorOptions> = async (
  app,
  { node, heartbeats, token },
) => {
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (request) => {
    const given = Buffer.from(request.headers.authorization ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      throw new ApiError(
        401,
        'E_UNAUTHORIZED',
        'a valid operator token is required (Authorization: Bearer …)',
      );
  });

  app.post(
    '/api/v1/messages',
    { schema: { body: SendRequest, tags: ['messages'] } },
    async (request, reply) => {
      const { to, message } = request.body as SendRequest;
      const released = await node.release(to, message);
      return reply.status(201).send(released);
    },
  );

  app.get(
    '/api/v1/inbox',
    { schema: { querystring: Limit, tags: ['messages'] } },
    async (request) => {
      const rows = await node.store.listInbox(limitOf(request.query));
      return rows.map((r) => ({
        from: r.party,
        id: r.id,
        seq: r.seq,
        receivedAt: r.received_at,
        sent: (JSON.parse(r.envelope) as { header: { sent: string } }).header.sent,
        body: JSON.parse(r.body),
      }));
    },
  );

  app.get(
    '/api/v1/outbox',
    { schema: { querystring: Limit, tags: ['messages'] } },
    async (request) => {
      const rows = await node.store.listOutbox(limitOf(request.query));
      return rows.map((r) => ({
        to: r.party,
        id: r.id,
        seq: r.seq,
        status: r.status,
        createdAt: r.created_at,
        receiptedAt: r.receipted_at,
        peerReceivedAt: r.peer_received_at,
        attempts: r.attempts,
        lastError: r.last_error,
        body: JSON.parse(r.body),
      }));
    },
  );

  app.get('/api/v1/status', { schema: { tags: ['status'] } }, async () => {
    const peers = [];
    for (const peer of node.peers.values()) {
      peers.push({
        party: peer.party,
        names: peer.card.names,
        fingerprint: peer.fingerprint,
        path: heartbeats.status(peer.party),
        // Every path with its state, and the failovers between them since the node started.
        ...pathsOf(node).status(peer.party),
        outbox: await node.store.outboxStats(peer.party),
        received: node.received.get(peer.party)?.contiguous ?? 0,
        // Its checkpoint we last accepted; our largest checkpoint it co-signed.
        witness: await witnessOf(node).status(peer.party),
        // Its vocabulary against ours: a difference is a warning for operators.
        vocabulary: languageOf(node).peer(peer.party),
      });
    }
    return {
      party: node.party,
      names: node.card.card.names,
      ledger: { size: node.ledger.size },
      vocabulary: languageOf(node).ownCard(),
      peers,
      alarms: await node.store.openAlarms(),
      watchdog: watchdogOf(node)?.status() ?? null,
    };
  });

  app.get('/api/v1/alarms', { schema: { tags: ['status'] } }, async () => node.store.openAlarms());

  // Registered here so the authorization hook above applies to them too.
  await app.register(languageRoutes, { node });
};
