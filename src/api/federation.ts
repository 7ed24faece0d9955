/**
 * The federation listener's routes (docs/protocol.md § Federation API): peers only.
 */
import { ConsistencyQuery } from '../node/record/witness.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { EnvelopeBatch } from '../protocol/federation.ts';
import { LIMITS } from '../protocol/limits.ts';
import { ApiError } from './errors.ts';
import { routes } from './services.ts';

export const federationRoutes = routes(
  'federation-routes',
  ['node', 'heartbeats', 'ledger', 'card'],
  async (app) => {
    const { node, heartbeats, ledger, card } = app;

    app.post(
      '/federation/v1/envelopes',
      { schema: { body: EnvelopeBatch }, bodyLimit: LIMITS.requestBytes },
      async (request) => node.receiveBatch(request.body.envelopes),
    );

    app.post('/federation/v1/heartbeat', { bodyLimit: 64 * 1024 }, async (request) =>
      heartbeats.answer(request.body),
    );

    app.get('/federation/v1/card', async () => card);

    app.get(
      '/federation/v1/proof/consistency',
      { schema: { querystring: ConsistencyQuery } },
      async (request) => {
        const from = Number(request.query.from);
        const to = Number(request.query.to);
        if (from > to)
          throw new ProtocolError(
            'E_MALFORMED',
            `from (${from}) must not be larger than to (${to})`,
          );
        if (to > ledger.size)
          throw new ApiError(404, 'E_NOT_FOUND', `the log has ${ledger.size} leaves, not ${to}`);
        return { proof: await ledger.proveConsistency(from, to) };
      },
    );
  },
);
