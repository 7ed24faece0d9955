/**
 * The federation listener's routes (docs/protocol.md § Federation API): peers only.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Heartbeats } from '../node/heartbeat.ts';
import type { Node } from '../node/node.ts';
import { EnvelopeBatch } from '../protocol/federation.ts';
import { LIMITS } from '../protocol/limits.ts';

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
};
