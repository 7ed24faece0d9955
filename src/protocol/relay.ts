/**
 * The relay API (docs/protocol.md § Relay API): a store-and-forward mailbox per party. It carries
 * the same envelopes and batch answers as the federation API, untouched; nothing here is signed by
 * the relay, because nothing the relay says is trusted.
 */
import { type Static, Type } from '@sinclair/typebox';
import { PartyId, Uint } from './common.ts';
import { BatchResult, ConsistencyProofs } from './federation.ts';
import { LIMITS } from './limits.ts';

export const BoxParams = Type.Object({ party: PartyId }, { additionalProperties: false });
export type BoxParams = Static<typeof BoxParams>;

/** What a relay reads of an envelope to file it: who sent it, its id, and whom it is for. */
export const RelayedEnvelope = Type.Object({
  header: Type.Object({
    id: Type.String({ minLength: 1, maxLength: 64 }),
    from: PartyId,
    to: Type.Array(PartyId, { minItems: 1, maxItems: LIMITS.recipients }),
  }),
});

/** POST /relay/v1/boxes/:party/envelopes — the federation batch shape. */
export const EnvelopeDeposit = Type.Object(
  {
    envelopes: Type.Array(RelayedEnvelope, { minItems: 1, maxItems: LIMITS.batchEnvelopes }),
  },
  { additionalProperties: false },
);

/**
 * The consistency proofs beside a relayed answer's receipts: what the sender would otherwise
 * fetch with GET /federation/v1/proof/consistency, which needs a direct path.
 */
export const RelayedProofs = ConsistencyProofs;
export type RelayedProofs = ConsistencyProofs;

/** What an answer item holds: the batch answer and the proofs that go with it. */
export const RelayedAnswer = Type.Object(
  { result: BatchResult, proofs: RelayedProofs },
  { additionalProperties: false },
);
export type RelayedAnswer = Static<typeof RelayedAnswer>;

/** POST /relay/v1/boxes/:party/answers — a receiver's batch answer for the sender `party`. */
export const AnswerDeposit = Type.Object(
  { from: PartyId, result: BatchResult, proofs: RelayedProofs },
  { additionalProperties: false },
);
export type AnswerDeposit = Static<typeof AnswerDeposit>;

export const DepositResult = Type.Object(
  { stored: Uint, held: Uint },
  { additionalProperties: false },
);
export type DepositResult = Static<typeof DepositResult>;

/** GET /relay/v1/boxes/:party?after=N&limit=M (query values are decimal text). */
export const CollectQuery = Type.Object(
  {
    after: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,15})$' })),
    limit: Type.Optional(Type.String({ pattern: '^([1-9][0-9]{0,2})$' })),
  },
  { additionalProperties: false },
);
export type CollectQuery = Static<typeof CollectQuery>;

export const CollectedItem = Type.Object(
  {
    n: Uint,
    kind: Type.Union([Type.Literal('envelope'), Type.Literal('answer')]),
    from: PartyId,
    /** The envelope (kind envelope), or a RelayedAnswer (kind answer). */
    data: Type.Unknown(),
  },
  { additionalProperties: false },
);
export type CollectedItem = Static<typeof CollectedItem>;

export const Collected = Type.Object(
  { items: Type.Array(CollectedItem, { maxItems: 256 }) },
  { additionalProperties: false },
);
export type Collected = Static<typeof Collected>;

/** POST /relay/v1/boxes/:party/ack — removes the items up to `upTo`. */
export const Ack = Type.Object({ upTo: Uint }, { additionalProperties: false });
export type Ack = Static<typeof Ack>;
