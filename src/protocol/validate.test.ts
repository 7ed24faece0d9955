import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { Ajv } from 'ajv';
import { describe, expect, test } from 'vitest';
import { malformedSentence, type SchemaFailure } from '../api/malformed.ts';
import { makeHeader } from '../crypto/envelope.ts';
import { Hex32, PartyId } from './common.ts';
import { utf8 } from './encoding.ts';
import { Header } from './envelope.ts';
import { schemaError } from './validate.ts';

describe('schemaError with uniqueItems (its own item key, not TypeBox’s hash)', () => {
  const header = makeHeader(
    {
      kind: 'message',
      id: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
      from: 'us',
      seq: { cn: 1, eu: 1 },
      sent: new Date(),
      kid: 'b'.repeat(32),
    },
    utf8('{}'),
  );

  test('a header naming a recipient twice is refused at /to; distinct recipients pass', () => {
    expect(schemaError(Header, header)).toBeUndefined();
    expect(schemaError(Header, { ...header, to: ['cn', 'cn'] })).toBe(
      '/to has the same item twice (items 0 and 1)',
    );
  });

  test('gives TypeBox’s own verdict on arrays of strings, numbers, objects and mixes', () => {
    const Items = Type.Array(
      Type.Union([Type.String(), Type.Number(), Type.Object({ a: Type.Number() }), Type.Null()]),
      { uniqueItems: true },
    );
    const own = TypeCompiler.Compile(Items);
    const pool: unknown[] = ['a', 'b', 's', 'sa', '1', 1, 2, 0, -0, { a: 1 }, { a: 2 }, null, ''];
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const items = Array.from({ length: next() % 5 }, () =>
        structuredClone(pool[next() % pool.length]),
      );
      const verdict = schemaError(Items, items) === undefined;
      expect(verdict, JSON.stringify(items)).toBe(own.Check(items));
      if (!verdict) refused++;
    }
    // Both verdicts occur: duplicates (by value, objects included) are refused.
    expect(refused).toBeGreaterThan(100);
    expect(schemaError(Items, [{ a: 1 }, { a: 1 }])).toBeDefined();
    expect(schemaError(Items, ['1', 1, 's1'])).toBeUndefined();
  });
});

describe('schemaError words', () => {
  const Card = Type.Object(
    {
      party: PartyId,
      digest: Hex32,
      note: Type.String({ pattern: '^n' }),
      kind: Type.Union([Type.Literal('direct'), Type.Literal('relay')]),
      priority: Type.Integer({ minimum: 0, maximum: 100 }),
      tags: Type.Optional(Type.Array(Type.String({ maxLength: 4 }), { maxItems: 2 })),
    },
    { additionalProperties: false },
  );
  const good = { party: 'cn', digest: 'a'.repeat(64), note: 'n', kind: 'direct', priority: 1 };

  test('a field whose type describes its form is refused in those words, naming the field', () => {
    expect(schemaError(Card, { ...good, party: 'Beijing' })).toBe(
      '/party is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
    );
    expect(schemaError(Card, { ...good, digest: 'A'.repeat(64) })).toBe(
      '/digest is not a SHA-256 digest (64 lowercase hex digits)',
    );
  });

  test('each kind of failure is a sentence: missing, type, unknown, not allowed, form, bounds', () => {
    const { note: _, ...noNote } = good;
    const cases: [unknown, string][] = [
      [noNote, 'has no "note"'],
      [{ ...good, priority: 'high' }, '/priority is not a whole number'],
      [{ ...good, owner: 'state' }, 'has "owner", which it does not take'],
      [{ ...good, kind: 'carrier' }, '/kind is not one of: direct, relay'],
      [{ ...good, note: 'x' }, '/note is not in the form ^n (a regular expression)'],
      [{ ...good, party: 'x'.repeat(40) }, '/party is longer than 32 characters'],
      [{ ...good, priority: 101 }, '/priority is not a whole number from 0 to 100'],
      [{ ...good, tags: ['a', 'b', 'c'] }, '/tags has more than 2 items'],
      [{ ...good, tags: ['abcde'] }, '/tags/0 is longer than 4 characters'],
      [[good], 'is not an object'],
    ];
    for (const [value, said] of cases) expect(schemaError(Card, value)).toBe(said);
    expect(schemaError(Card, good)).toBeUndefined();
  });

  test('a union of objects is said by the branch its tag names, or by the tag', () => {
    const Timing = Type.Union([
      Type.Object({ kind: Type.Literal('before'), days: Type.Integer() }),
      Type.Object({ kind: Type.Literal('annual'), month: Type.Integer({ minimum: 1 }) }),
    ]);
    expect(schemaError(Timing, { kind: 'weekly' })).toBe('/kind is not one of: before, annual');
    expect(schemaError(Timing, { days: 3 })).toBe('has no "kind"');
    expect(schemaError(Timing, { kind: 'annual', month: 0 })).toBe('/month is less than 1');
    expect(schemaError(Timing, { kind: 'before', days: 'x' })).toBe('/days is not a whole number');
  });

  test('a union of a form and an object is said by the branch of the value’s type', () => {
    const Relay = Type.Union([
      Type.String({ pattern: '^https://' }),
      Type.Object({ url: Type.String(), pin: Hex32 }),
    ]);
    expect(schemaError(Relay, { url: 'https://r' })).toBe('has no "pin"');
    expect(schemaError(Relay, 'ftp://r')).toBe(
      'is not in the form ^https:// (a regular expression)',
    );
    expect(schemaError(Relay, 5)).toBe('is not text or an object');
  });

  test('TypeBox and the operator API’s AJV say the same failure in the same words', () => {
    const ajv = new Ajv({ verbose: true, strict: false });
    const check = ajv.compile(Card);
    const { note: _, ...noNote } = good;
    for (const value of [
      noNote,
      { ...good, priority: 'high' },
      { ...good, owner: 'state' },
      { ...good, kind: 'carrier' },
      { ...good, note: 'x' },
      { ...good, party: 'Beijing' },
      { ...good, priority: -1 },
    ]) {
      expect(check(value)).toBe(false);
      const api = malformedSentence('body', check.errors as SchemaFailure[]);
      const error = schemaError(Card, value) as string;
      expect(api.replace(/which this route/, 'which it')).toBe(
        `request body${error.startsWith('/') ? error : ` ${error}`}`,
      );
    }
  });
});
