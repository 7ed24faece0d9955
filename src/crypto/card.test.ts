/**
 * Party cards as a key ceremony uses them: signed by the identity key, refused when any rule
 * breaks, and compared by a fingerprint that survives a change of endpoints.
 */
import { describe, expect, it } from 'vitest';
import { fixedParty } from '../../test/vectors/generate.ts';
import { type Card, Card as CardSchema, type KeyEntry, type SignedCard } from '../protocol/card.ts';
import { fromBase64url, toBase64url } from '../protocol/encoding.ts';
import { type ErrorCode, ProtocolError } from '../protocol/errors.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import { LIMITS } from '../protocol/limits.ts';
import {
  cardExpired,
  cardRuleViolation,
  findKey,
  fingerprint,
  onlyKey,
  signCard,
  verifyCard,
} from './card.ts';
import { signedBytes } from './context.ts';
import { ed25519Sign } from './ed25519.ts';
import { ed25519Key, keyId } from './keys.ts';

const us = await fixedParty('us');
const identity = us.node.signer('identity').key;

function codeOf(action: () => unknown): ErrorCode | 'none' | 'other' {
  try {
    action();
    return 'none';
  } catch (e) {
    return e instanceof ProtocolError ? e.code : 'other';
  }
}

/** Signs whatever it is given, the way a careless or hostile issuer would. */
function signAnyway(card: Card, kid = onlyKey(us.card, 'identity').kid): SignedCard {
  return {
    card,
    kid,
    sig: toBase64url(ed25519Sign(identity, signedBytes('card', jcsBytes(card)))),
  };
}

const withKeys = (edit: (keys: KeyEntry[]) => KeyEntry[]): Card => ({
  ...us.card,
  keys: edit(structuredClone(us.card.keys)),
});
const entry = (purpose: string) => {
  const key = us.card.keys.find((k) => k.purpose === purpose);
  if (!key) throw new Error(`no ${purpose} key`);
  return structuredClone(key);
};
const without = (purpose: string) => (keys: KeyEntry[]) =>
  keys.filter((k) => k.purpose !== purpose);
const extra = ed25519Key('identity', new Uint8Array(32).fill(0x99)).entry;
const spare = ed25519Key('signing', new Uint8Array(32).fill(0x97)).entry;

describe('a signed card', () => {
  it('verifies as written and after a trip through JSON text', () => {
    expect(verifyCard(us.signed)).toBe(us.signed);
    expect(verifyCard(JSON.parse(JSON.stringify(us.signed)))).toEqual(us.signed);
    expect(us.signed.kid).toBe(onlyKey(us.card, 'identity').kid);
  });

  it('fails its signature when any member changes after signing', () => {
    const changes: Record<string, (c: Card) => Card> = {
      party: (c) => ({ ...c, party: 'uk' }),
      names: (c) => ({ ...c, names: { en: 'Washington DC' } }),
      serial: (c) => ({ ...c, serial: 2 }),
      issued: (c) => ({ ...c, issued: '2025-01-01T00:00:00.001Z' }),
      expires: (c) => ({ ...c, expires: '2030-01-01T00:00:00.000Z' }),
      protocols: (c) => ({ ...c, protocols: [1, 3] }),
      keys: (c) => ({ ...c, keys: [...c.keys].reverse() }),
      endpoints: (c) => ({ ...c, endpoints: c.endpoints.slice(1) }),
      vocabulary: (c) => ({ ...c, vocabulary: { ...c.vocabulary, version: '2025.2' } }),
      ext: (c) => ({ ...c, ext: { later: true } }),
    };
    // Every member but v, whose only value is 1.
    expect(Object.keys(changes).sort()).toEqual(
      Object.keys(CardSchema.properties)
        .filter((k) => k !== 'v')
        .sort(),
    );
    for (const [member, change] of Object.entries(changes)) {
      const forged = { ...us.signed, card: change(us.card) };
      expect(cardRuleViolation(forged.card), member).toBeUndefined();
      expect(
        codeOf(() => verifyCard(forged)),
        member,
      ).toBe('E_BAD_SIGNATURE');
    }
  });

  it('fails when signed by another key, or when its signature bytes change', () => {
    const bySigningKey = ed25519Sign(
      us.node.signer('signing').key,
      signedBytes('card', jcsBytes(us.card)),
    );
    expect(codeOf(() => verifyCard({ ...us.signed, sig: toBase64url(bySigningKey) }))).toBe(
      'E_BAD_SIGNATURE',
    );
    const flipped = fromBase64url(us.signed.sig);
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(codeOf(() => verifyCard({ ...us.signed, sig: toBase64url(flipped) }))).toBe(
      'E_BAD_SIGNATURE',
    );
  });

  it('must name its own identity key as the signer', () => {
    const signing = onlyKey(us.card, 'signing').kid;
    expect(codeOf(() => verifyCard({ ...us.signed, kid: signing }))).toBe('E_BAD_CARD');
    expect(codeOf(() => verifyCard({ ...us.signed, kid: extra.kid }))).toBe('E_BAD_CARD');
  });

  it('is not a card signature of another kind', () => {
    const asEnvelope = ed25519Sign(identity, signedBytes('envelope', jcsBytes(us.card)));
    expect(codeOf(() => verifyCard({ ...us.signed, sig: toBase64url(asEnvelope) }))).toBe(
      'E_BAD_SIGNATURE',
    );
  });
});

describe('card rules', () => {
  const broken: [string, Card, RegExp][] = [
    ['two identity keys', withKeys((k) => [...k, extra]), /exactly one identity key, not 2/],
    ['no log key', withKeys(without('log')), /exactly one log key, not 0/],
    ['no witness key', withKeys(without('witness')), /exactly one witness key/],
    ['no recovery key', withKeys(without('recovery')), /exactly one recovery key/],
    ['no signing key', withKeys(without('signing')), /needs a signing key/],
    ['no sealing key', withKeys((k) => [...without('sealing')(k), spare]), /needs a sealing key/],
    [
      'a sealing key that is Ed25519',
      withKeys((k) => [...k, { ...entry('signing'), purpose: 'sealing' }]),
      /a sealing key cannot use ed25519/,
    ],
    [
      'a signing key that is an HPKE key',
      withKeys((k) => [
        ...k,
        { ...(k.find((e) => e.alg === 'x25519') as KeyEntry), purpose: 'signing' },
      ]),
      /a signing key cannot use x25519/,
    ],
    [
      'a public key of the wrong length',
      withKeys((k) => {
        const pub = new Uint8Array(33);
        return [
          ...k,
          { kid: keyId('ed25519', pub), purpose: 'signing', alg: 'ed25519', pub: toBase64url(pub) },
        ];
      }),
      /an ed25519 public key has 32 bytes/,
    ],
    [
      'a public key in a non-canonical spelling',
      withKeys((k) => [
        ...k,
        { ...entry('signing'), pub: `${entry('signing').pub.slice(0, -1)}B` },
      ]),
      /not base64url/,
    ],
    [
      "a kid that is not its key's",
      withKeys((k) => [...without('signing')(k), { ...entry('signing'), kid: extra.kid }]),
      /the kid does not match the key/,
    ],
    ['a key listed twice', withKeys((k) => [...k, entry('signing')]), /is listed twice/],
    [
      'a log key without a note name',
      withKeys((k) => [...without('log')(k), { ...entry('log'), name: undefined } as KeyEntry]),
      /log and witness keys, and only they/,
    ],
    [
      'a signing key with a note name',
      withKeys((k) => [...without('signing')(k), { ...entry('signing'), name: 'hotline/us/sign' }]),
      /log and witness keys, and only they/,
    ],
    [
      'an ext over its size',
      { ...us.card, ext: { pad: 'x'.repeat(LIMITS.extBytes) } },
      /"ext" is too large/,
    ],
    [
      'two endpoints with one id',
      { ...us.card, endpoints: [us.card.endpoints[0], us.card.endpoints[0]] as Card['endpoints'] },
      /endpoint ids must be unique/,
    ],
    ['protocols out of order', { ...us.card, protocols: [2, 1] }, /ascending and unique/],
    ['a protocol listed twice', { ...us.card, protocols: [1, 1] }, /ascending and unique/],
    [
      'an expiry before issue',
      { ...us.card, expires: us.card.issued },
      /expire after it is issued/,
    ],
    ['another version', { ...us.card, v: 2 } as unknown as Card, /card \/v/],
    ['an uppercase party id', { ...us.card, party: 'US' }, /card \/party/],
    ['fewer than six keys', withKeys((k) => k.slice(0, 5)), /card \/keys/],
    [
      'an endpoint that is not http(s)',
      {
        ...us.card,
        endpoints: [{ ...(us.card.endpoints[0] as Card['endpoints'][0]), url: 'ftp://x' }],
      },
      /card \/endpoints/,
    ],
    [
      'an unknown member',
      { ...us.card, owner: 'state' } as unknown as Card,
      /^card has "owner", which it does not take$/,
    ],
  ];

  it.each(broken)('refuse %s, even when properly signed', (_what, card, reason) => {
    expect(cardRuleViolation(card)).toMatch(reason);
    expect(codeOf(() => signCard(card, identity))).toBe('E_BAD_CARD');
    expect(codeOf(() => verifyCard(signAnyway(card)))).toBe('E_BAD_CARD');
  });

  it('refuse something that is not a signed card at all', () => {
    for (const junk of [null, 'card', {}, { card: us.card }, { ...us.signed, sig: 'short' }])
      expect(codeOf(() => verifyCard(junk))).toBe('E_BAD_CARD');
  });

  it('accept the fixed card as it is', () => {
    expect(cardRuleViolation(us.card)).toBeUndefined();
  });
});

describe('the TLS pin (protocol 2)', () => {
  const pin = 'ab'.repeat(32);
  it('a card lists protocol 2 exactly when ext.tls pins a key', () => {
    const pinned: Card = {
      ...us.card,
      protocols: [1, 2],
      ext: { ...us.card.ext, tls: { spki: pin } },
    };
    expect(cardRuleViolation(pinned)).toBeUndefined();
    expect(cardRuleViolation({ ...pinned, protocols: [1] })).toMatch(/protocol 2 exactly when/);
    expect(cardRuleViolation({ ...us.card, protocols: [1, 2] })).toMatch(/protocol 2 exactly when/);
    const badPin = { ...pinned, ext: { tls: { spki: 'AB'.repeat(32) } } };
    expect(cardRuleViolation(badPin)).toMatch(/protocol 2 exactly when/);
  });
});

describe('key lookups and expiry', () => {
  it('find a key by purpose or id, and name a missing purpose as a bad card', () => {
    const signing = onlyKey(us.card, 'signing');
    expect(findKey(us.card, signing.kid)).toBe(signing);
    expect(findKey(us.card, extra.kid)).toBeUndefined();
    expect(codeOf(() => onlyKey({ ...us.card, keys: [] }, 'identity'))).toBe('E_BAD_CARD');
  });

  it('expire at, not after, the expiry time', () => {
    const expires = new Date(us.card.expires);
    expect(cardExpired(us.card, new Date(expires.getTime() - 1))).toBe(false);
    expect(cardExpired(us.card, expires)).toBe(true);
    expect(Date.parse(us.card.expires) - Date.parse(us.card.issued)).toBe(2 * 365 * 86_400_000);
  });
});

describe('the fingerprint', () => {
  const replace = (purpose: string, seed: number): Card =>
    withKeys((keys) =>
      keys.map((k) =>
        k.purpose === purpose
          ? ed25519Key(k.purpose, new Uint8Array(32).fill(seed), k.name).entry
          : k,
      ),
    );

  it('is 40 digits in 8 groups of 5, as in the worked example of docs/protocol.md', () => {
    expect(fingerprint(us.card)).toMatch(/^\d{5}( \d{5}){7}$/);
    expect(fingerprint(us.card)).toBe('33238 65280 82586 01274 83998 56190 75837 06454');
  });

  it('stays the same across a newly signed card with new endpoints and working keys', () => {
    const moved: Card = {
      ...us.card,
      serial: 7,
      names: { en: 'Washington' },
      endpoints: [
        { id: 'alternate', kind: 'direct', url: 'https://backup.us.example', priority: 1 },
      ],
    };
    expect(fingerprint(verifyCard(signCard(moved, identity)).card)).toBe(fingerprint(us.card));
    for (const purpose of ['signing', 'log', 'witness'])
      expect(fingerprint(replace(purpose, 0x77)), purpose).toBe(fingerprint(us.card));
    expect(fingerprint(withKeys(without('sealing')))).toBe(fingerprint(us.card));
  });

  it('changes with the identity key, the recovery key, or the party', () => {
    const original = fingerprint(us.card);
    expect(fingerprint(replace('identity', 0x77))).not.toBe(original);
    expect(fingerprint(replace('recovery', 0x77))).not.toBe(original);
    expect(fingerprint({ ...us.card, party: 'uk' })).not.toBe(original);
  });
});
