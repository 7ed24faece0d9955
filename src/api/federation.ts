/**
 * The federation listener's routes (docs/protocol.md § Federation API): peers only.
 */
import type { FastifyReply } from 'fastify';
import { ConsistencyQuery } from '../node/record/witness.ts';
import { ProtocolError } from '../protocol/errors.ts';
import {
  BatchParams,
  type BatchProcessing,
  type BatchResult,
  EnvelopeBatch,
  EnvelopesQuery,
  MAX_WAIT_MS,
} from '../protocol/federation.ts';
import { LIMITS } from '../protocol/limits.ts';
import { BatchAnswers, within } from './batch-answers.ts';
import { bodyHashOf } from './bounded-json.ts';
import { ApiError } from './errors.ts';
import { routes } from './services.ts';

/** Proofs beside a direct answer: from the size the sender names and the last few answered. */
const ANSWER_PROOFS = 4;

export const federationRoutes = routes(
  'federation-routes',
  ['node', 'heartbeats', 'ledger', 'card', 'receiptProofs', 'recovery'],
  async (app) => {
    const { node, heartbeats, ledger, card, receiptProofs, recovery } = app;
    const batches = new BatchAnswers();
    /** The answer, with proofs from `witnessed` when named; a `202` when not ready in `wait`. */
    async function answer(
      key: string,
      work: Promise<BatchResult>,
      query: { witnessed?: string; wait?: string },
      reply: FastifyReply,
    ): Promise<BatchResult | BatchProcessing> {
      const { witnessed, wait } = query;
      const done =
        wait === undefined ? await work : await within(work, Math.min(Number(wait), MAX_WAIT_MS));
      if (!done) return reply.code(202).send({ processing: key });
      if (witnessed === undefined || !done.receipts.length) return done;
      // Receipts are to the parties whose envelopes were stored: the sender's, as a rule.
      const proofs: NonNullable<BatchResult['proofs']> = [];
      for (const peer of new Set(done.receipts.map((r) => r.receipt.to))) {
        const receipts = done.receipts.filter((r) => r.receipt.to === peer);
        const starts = [Number(witnessed)];
        proofs.push(...(await receiptProofs.for(peer, receipts, starts, ANSWER_PROOFS)));
      }
      return { ...done, proofs: proofs.slice(0, 32) };
    }

    // A sender that names the size of our log it has witnessed gets the consistency proofs its
    // receipts need in the answer; one that does not (an older node) fetches them with the GET.
    // A batch already in work here (sent again on another path, or resent) joins that work.
    app.post(
      '/federation/v1/envelopes',
      {
        schema: { body: EnvelopeBatch, querystring: EnvelopesQuery },
        bodyLimit: LIMITS.requestBytes,
        // The SHA-256 of the body as it came is the batch's key here.
        config: { hashBody: true },
      },
      async (request, reply) => {
        const key = bodyHashOf(request);
        if (!key) throw new Error('the batch body was not hashed as it was read');
        const work = batches.answer(key, () => node.receiveBatch(request.body.envelopes));
        return answer(key, work, request.query, reply);
      },
    );

    app.get(
      '/federation/v1/batches/:key',
      { schema: { params: BatchParams, querystring: EnvelopesQuery } },
      async (request, reply) => {
        const { key } = request.params;
        const work = batches.get(key);
        if (!work)
          throw new ApiError(
            404,
            'E_NOT_FOUND',
            `batch ${key} is neither in work nor answered lately here: send it again`,
          );
        return answer(key, work, request.query, reply);
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
        // The size stated: a witness takes a log smaller than it witnessed from this alone.
        if (to > size)
          throw new ApiError(404, 'E_NOT_FOUND', `the log has ${size} leaves, not ${to}`, {
            size,
          });
        return { proof: await ledger.proveConsistency(from, to) };
      },
    );
  },
);
