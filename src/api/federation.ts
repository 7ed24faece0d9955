/**
 * The federation listener's routes (docs/protocol.md § Federation API): peers only.
 */
import { ConsistencyQuery } from '../node/record/witness.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { type BatchResult, EnvelopeBatch, EnvelopesQuery } from '../protocol/federation.ts';
import { LIMITS } from '../protocol/limits.ts';
import { ApiError } from './errors.ts';
import { routes } from './services.ts';

/** Proofs beside a direct answer: from the size the sender names and the last few answered. */
const ANSWER_PROOFS = 4;

export const federationRoutes = routes(
  'federation-routes',
  ['node', 'heartbeats', 'ledger', 'card', 'receiptProofs', 'recovery'],
  async (app) => {
    const { node, heartbeats, ledger, card, receiptProofs, recovery } = app;

    // A sender that names the size of our log it has witnessed gets the consistency proofs its
    // receipts need in the answer; one that does not (an older node) fetches them with the GET.
    app.post(
      '/federation/v1/envelopes',
      {
        schema: { body: EnvelopeBatch, querystring: EnvelopesQuery },
        bodyLimit: LIMITS.requestBytes,
      },
      async (request): Promise<BatchResult> => {
        const answer = await node.receiveBatch(request.body.envelopes);
        const { witnessed } = request.query;
        if (witnessed === undefined || !answer.receipts.length) return answer;
        // Receipts are to the parties whose envelopes were stored: the sender's, as a rule.
        const proofs: NonNullable<BatchResult['proofs']> = [];
        for (const peer of new Set(answer.receipts.map((r) => r.receipt.to))) {
          const receipts = answer.receipts.filter((r) => r.receipt.to === peer);
          const starts = [Number(witnessed)];
          proofs.push(...(await receiptProofs.for(peer, receipts, starts, ANSWER_PROOFS)));
        }
        return { ...answer, proofs: proofs.slice(0, 32) };
      },
    );

    app.post('/federation/v1/heartbeat', { bodyLimit: 64 * 1024 }, async (request) =>
      heartbeats.answer(request.body),
    );

    app.get('/federation/v1/card', async () => card);

    // A peer restored from a backup: its discontinuity statement, checked against what we
    // witnessed (src/node/record/recovery.ts).
    app.post('/federation/v1/recovery', { bodyLimit: 256 * 1024 }, async (request) =>
      recovery.answer(request.body),
    );

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
        const size = await ledger.refresh();
        if (to > size)
          throw new ApiError(404, 'E_NOT_FOUND', `the log has ${size} leaves, not ${to}`);
        return { proof: await ledger.proveConsistency(from, to) };
      },
    );
  },
);
