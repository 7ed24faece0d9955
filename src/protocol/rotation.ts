/**
 * What a compromise rotation says beyond its new card (docs/protocol.md § Rotation): from when,
 * and from which seq on each recipient's channel, the replaced keys are no longer trusted. It
 * travels in the rotation body's `ext.untrusted`, so version 1 nodes that do not know it still
 * take the rotation.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { Body } from './body.ts';
import { PartyId, Seq, Timestamp } from './common.ts';
import { LIMITS } from './limits.ts';
import { schemaError } from './validate.ts';

export const Untrusted = Type.Object(
  {
    /** The owner's word on when the keys were taken; shown to operators. */
    since: Timestamp,
    /** Per recipient: the first seq on its channel the replaced keys may not sign. */
    seq: Type.Record(PartyId, Seq, {
      minProperties: 1,
      maxProperties: LIMITS.recipients,
      additionalProperties: false,
    }),
  },
  { additionalProperties: false },
);
export type Untrusted = Static<typeof Untrusted>;

/** The `ext` member that carries it. */
export const UNTRUSTED_EXT = 'untrusted';

/** A rotation body's `ext.untrusted`: the value, undefined when absent, or what is wrong. */
export function untrustedOf(body: Body): Untrusted | undefined | { error: string } {
  const value = body.ext?.[UNTRUSTED_EXT];
  if (value === undefined) return undefined;
  const error = schemaError(Untrusted, value);
  return error ? { error: `ext.untrusted ${error}` } : (value as Untrusted);
}
