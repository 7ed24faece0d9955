/**
 * The party card (docs/protocol.md § Party card): who a party is, its keys, where to reach it.
 * Exchanged out of band at a key ceremony and pinned by the peer after comparing fingerprints.
 */
import { type Static, Type } from '@sinclair/typebox';
import {
  B64,
  Ext,
  Hex32,
  Label,
  Lang,
  OneOf,
  PartyId,
  Slug,
  Timestamp,
  Version,
} from './common.ts';
import { LIMITS } from './limits.ts';

export const KEY_PURPOSES = [
  'identity',
  'signing',
  'log',
  'witness',
  'sealing',
  'recovery',
] as const;
export type KeyPurpose = (typeof KEY_PURPOSES)[number];

/** Signature keys are Ed25519; sealing keys name their HPKE suite. */
export const KEY_ALGS = ['ed25519', 'x-wing', 'x25519'] as const;
export type KeyAlg = (typeof KEY_ALGS)[number];

/** Public key lengths in bytes, by algorithm. */
export const PUBLIC_KEY_BYTES: Record<KeyAlg, number> = {
  ed25519: 32,
  'x-wing': 1216,
  x25519: 32,
};

export const KeyId = Type.String({
  pattern: '^[0-9a-f]{32}$',
  maxLength: 32,
  description: 'a key id (32 lowercase hex digits)',
});

export const KeyEntry = Type.Object(
  {
    kid: KeyId,
    purpose: OneOf(KEY_PURPOSES),
    alg: OneOf(KEY_ALGS),
    /** Raw public key, base64url. Length is checked against `alg` by cardRules. */
    pub: Type.String({
      pattern: '^[A-Za-z0-9_-]+$',
      maxLength: 1622,
      description: 'a public key in base64url (A-Z, a-z, 0-9, _ and -, no padding)',
    }),
    /** C2SP signed-note key name, for the log and witness keys (the log's origin). */
    name: Type.Optional(
      Type.String({
        pattern: '^[^\\s+]+$',
        maxLength: 128,
        description: 'a key name (no spaces and no +, e.g. hotline.example/us)',
      }),
    ),
  },
  { additionalProperties: false },
);
export type KeyEntry = Static<typeof KeyEntry>;

export const Endpoint = Type.Object(
  {
    /** The path's name, unique in the card: `direct`, `alternate`, `relay-geneva`. */
    id: Slug,
    kind: Type.Union([Type.Literal('direct'), Type.Literal('relay')]),
    url: Type.String({
      pattern: '^https?://[^\\s]+$',
      maxLength: 512,
      description: 'a URL (https://… or http://…, no spaces)',
    }),
    /** Lower is preferred. */
    priority: Type.Integer({ minimum: 0, maximum: 100 }),
  },
  { additionalProperties: false },
);
export type Endpoint = Static<typeof Endpoint>;

export const Card = Type.Object(
  {
    v: Type.Literal(1),
    party: PartyId,
    /** The party's name in each of its languages. */
    names: Type.Record(Lang, Label, {
      minProperties: 1,
      maxProperties: 8,
      additionalProperties: false,
    }),
    /** Increases with every newly signed card of this party; a newer card supersedes. */
    serial: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    issued: Timestamp,
    expires: Timestamp,
    /** Protocol versions the node speaks, ascending. */
    protocols: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), {
      minItems: 1,
      maxItems: 8,
    }),
    keys: Type.Array(KeyEntry, { minItems: 6, maxItems: LIMITS.keys }),
    endpoints: Type.Array(Endpoint, { minItems: 1, maxItems: LIMITS.endpoints }),
    vocabulary: Type.Object({ version: Version, hash: Hex32 }, { additionalProperties: false }),
    ext: Type.Optional(Ext),
  },
  { additionalProperties: false },
);
export type Card = Static<typeof Card>;

/** A card and the identity key's signature over `hotline/v1/card\n` ‖ JCS(card). */
export const SignedCard = Type.Object(
  { card: Card, kid: KeyId, sig: B64(64) },
  { additionalProperties: false },
);
export type SignedCard = Static<typeof SignedCard>;
