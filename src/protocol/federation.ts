/**
 * Federation request and response bodies (docs/protocol.md § Federation API).
 */
import { type Static, Type } from '@sinclair/typebox';
import { OneOf, Uint, Uuid7 } from './common.ts';
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
  },
  { additionalProperties: false },
);
export type BatchResult = Static<typeof BatchResult>;
