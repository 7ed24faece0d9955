/**
 * Federation request and response bodies (docs/protocol.md § Federation API).
 */
import { type Static, Type } from '@sinclair/typebox';
import { Hex32, OneOf, Uint, Uuid7 } from './common.ts';
import type { Envelope } from './envelope.ts';
import { ERROR_CODES } from './errors.ts';
import { LIMITS } from './limits.ts';
import { SignedReceipt } from './receipt.ts';

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: OneOf(ERROR_CODES),
        message: Type.String({ maxLength: 1000 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type ErrorBody = Static<typeof ErrorBody>;

/** POST /federation/v1/envelopes. Each envelope is checked on its own; see the response. */
export const EnvelopeBatch = Type.Object(
  {
    envelopes: Type.Array(Type.Unknown(), { minItems: 1, maxItems: LIMITS.batchEnvelopes }),
  },
  { additionalProperties: false },
);
export type EnvelopeBatch = { envelopes: Envelope[] };

/**
 * POST /federation/v1/envelopes: the query. `witnessed` is the size of the receiver's log that
 * the sender holds a checkpoint of: asked so, the receiver adds `proofs` to its answer.
 */
export const EnvelopesQuery = Type.Object({
  witnessed: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' })),
  /**
   * Milliseconds (0–10,000) the sender waits for the answer on this request: a receiver still
   * checking the batch then answers `202` with `BatchProcessing`, and the sender asks for the
   * answer with GET /federation/v1/batches/{key} instead of sending the batch again.
   */
  wait: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,3}|10000)$' })),
});
export type EnvelopesQuery = Static<typeof EnvelopesQuery>;

/** The most a request may ask the receiver to wait for a batch's answer. */
export const MAX_WAIT_MS = 10_000;

/** GET /federation/v1/batches/{key}: the batch, by the SHA-256 (hex) of its request body. */
export const BatchParams = Type.Object({ key: Hex32 }, { additionalProperties: false });
export type BatchParams = Static<typeof BatchParams>;

/**
 * `202` to a batch not yet answered within `wait`: the receiver is checking and storing it; its
 * answer is fetched with GET /federation/v1/batches/{processing}.
 */
export const BatchProcessing = Type.Object({ processing: Hex32 }, { additionalProperties: false });
export type BatchProcessing = Static<typeof BatchProcessing>;

/**
 * RFC 9162 consistency proofs of the answering party's log, from sizes the sender may hold to
 * (or from) the sizes of the checkpoints in the answer's receipts: what the sender would
 * otherwise fetch with GET /federation/v1/proof/consistency. Unsigned, as that answer is: each
 * counts only once it verifies against two signed checkpoints.
 */
export const ConsistencyProofs = Type.Array(
  Type.Object(
    {
      from: Uint,
      to: Uint,
      proof: Type.Array(Hex32, { maxItems: LIMITS.proofHashes }),
    },
    { additionalProperties: false },
  ),
  { maxItems: 32 },
);
export type ConsistencyProofs = Static<typeof ConsistencyProofs>;

export const BatchResult = Type.Object(
  {
    /** One new receipt for what this batch stored, plus the original receipt of any duplicate. */
    receipts: Type.Array(SignedReceipt, { maxItems: LIMITS.batchEnvelopes }),
    rejected: Type.Array(
      Type.Object(
        {
          index: Uint,
          id: Type.Optional(Uuid7),
          code: OneOf(ERROR_CODES),
          message: Type.String({ maxLength: 1000 }),
        },
        { additionalProperties: false },
      ),
      { maxItems: LIMITS.batchEnvelopes },
    ),
    /** Only when the request named `witnessed`: an older sender's schema refuses the member. */
    proofs: Type.Optional(ConsistencyProofs),
  },
  { additionalProperties: false },
);
export type BatchResult = Static<typeof BatchResult>;
