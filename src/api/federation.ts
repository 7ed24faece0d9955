/**
 * The federation listener's routes (docs/protocol.md § Federation API): peers only.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Node } from '../node/core/node.ts';
import type { Heartbeats } from '../node/delivery/heartbeat.ts';
import { type ConsistencyProof, ConsistencyQuery } from '../node/record/witness.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { EnvelopeBatch } from '../protocol/federation.ts';
import { LIMITS } from '../protocol/limits.ts';
import { ApiError } from './errors.ts';

export interface FederationOptions {
  node: Node;
  heartbeats: Heartbeats;
}

export const federationRoutes: FastifyPluginAsync<FederationOptions> = async (
  app,
  { node, heartbeats },
) => {
  app.post(
    '/federation/v1/envelopes',
    { schema: { body: EnvelopeBatch }, bodyLimit: LIMITS.requestBytes },
    async (request) => {
      const { envelopes } = request.body as { envelopes: unknown[] };
      return node.receiveBatch(envelopes);
    },
  );

  app.post('/federation/v1/heartbeat', { bodyLimit: 64 * 1024 }, async (request) =>
    heartbeats.answer(request.body),
  );

  app.get('/federation/v1/card', async () => node.card);

  // A witness that holds our checkpoint of size `from` asks how the tree of size `to` extends it.
  app.get(
    '/federation/v1/proof/consistency',
    { schema: { querystring: ConsistencyQuery } },
    async (request): Promise<ConsistencyProof> => {
      const query = request.query as ConsistencyQuery;
      const from = Number(query.from);
      const to = Number(query.to);
      if (from > to)
        throw new ProtocolError('E_MALFORMED', `from (${from}) must not be larger than to (${to})`);
      if (to > node.ledger.size)
        throw new ApiError(404, 'E_NOT_FOUND', `the log has ${node.ledger.size} leaves, not ${to}`);
      return { proof: await node.ledger.proveConsistency(from, to) };
    },
  );
};
