import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { describe, expect, test } from 'vitest';
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
    expect(schemaError(Header, { ...header, to: ['cn', 'cn'] })).toMatch(/^\/to: .*unique/i);
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
  const Card = Type.Object({ party: PartyId, digest: Hex32, note: Type.String({ pattern: '^n' }) });
  const good = { party: 'cn', digest: 'a'.repeat(64), note: 'n' };

  test('a field whose type describes its form is refused in those words, naming the field', () => {
    expect(schemaError(Card, { ...good, party: 'Beijing' })).toBe(
      '/party is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
    );
    expect(schemaError(Card, { ...good, digest: 'A'.repeat(64) })).toBe(
      '/digest is not a SHA-256 digest (64 lowercase hex digits)',
    );
  });

  test('a type without words, or a failure other than its pattern, is said as TypeBox says it', () => {
    expect(schemaError(Card, { ...good, note: 'x' })).toBe("/note: Expected string to match '^n'");
    expect(schemaError(Card, { ...good, party: 'x'.repeat(40) })).toMatch(
      /^\/party: Expected string length less or equal to 32/,
    );
    expect(schemaError(Card, good)).toBeUndefined();
  });
});
