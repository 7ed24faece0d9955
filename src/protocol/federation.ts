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
});
export type EnvelopesQuery = Static<typeof EnvelopesQuery>;

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
