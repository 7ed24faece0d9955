/**
 * The primitive wire types: what a receiver accepts in each field, and what it refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Card } from './card.ts';
import { B64, Code, Ext, Lang, PartyId, Timestamp, Uuid7 } from './common.ts';
import { fromBase64url, toBase64url } from './encoding.ts';
import { Header } from './envelope.ts';
import { schemaError } from './validate.ts';

const accepts = (schema: Parameters<typeof schemaError>[0], value: unknown) =>
  schemaError(schema, value) === undefined;

describe('B64(n)', () => {
  it.each([16, 32, 64])('accepts exactly the strings that decode canonically to %i bytes', (n) => {
    const alphabet = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];
    const length = Math.ceil((n * 4) / 3);
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ minLength: n, maxLength: n }).map(toBase64url),
          fc.string({ unit: fc.constantFrom(...alphabet), minLength: length, maxLength: length }),
          fc.string({ unit: fc.constantFrom(...alphabet, '=', '+'), maxLength: length + 2 }),
        ),
        (text) => {
          let decodes: boolean;
          try {
            decodes = fromBase64url(text).length === n;
          } catch {
            decodes = false;
          }
          expect(accepts(B64(n), text)).toBe(decodes);
        },
      ),
    );
  });
});

describe('identifiers and times', () => {
  it('takes party ids of 2 to 32 lowercase letters, digits and hyphens', () => {
    for (const ok of ['us', 'cn', 'eu-1', 'a'.repeat(32)])
      expect(accepts(PartyId, ok), ok).toBe(true);
    for (const bad of ['u', 'US', 'u_s', 'a'.repeat(33), 'us ', ''])
      expect(accepts(PartyId, bad), bad).toBe(false);
  });

  it('takes lowercase UUIDv7 only', () => {
    expect(accepts(Uuid7, '01954f7a-3c00-7a00-8000-000000000001')).toBe(true);
    for (const bad of [
      '01954F7A-3C00-7A00-8000-000000000001',
      '01954f7a-3c00-4a00-8000-000000000001',
      '01954f7a-3c00-7a00-c000-000000000001',
      '01954f7a3c007a008000000000000001',
    ])
      expect(accepts(Uuid7, bad), bad).toBe(false);
  });

  it('takes times exactly as Date.toISOString writes them', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (d) => {
          expect(accepts(Timestamp, d.toISOString())).toBe(true);
        },
      ),
    );
    for (const bad of ['2025-03-01T12:00:00Z', '2025-03-01T12:00:00.000+00:00', '2025-03-01'])
      expect(accepts(Timestamp, bad), bad).toBe(false);
  });

  it('takes codes and language tags in their simple forms', () => {
    expect(accepts(Code, 'category.autonomous-unpredictable')).toBe(true);
    for (const bad of ['Category', 'a..b', '.a', 'a-', 'a b'])
      expect(accepts(Code, bad), bad).toBe(false);
    for (const ok of ['en', 'zh', 'zh-Hans', 'fil']) expect(accepts(Lang, ok), ok).toBe(true);
    for (const bad of ['EN', 'e', 'zh_Hans', 'english'])
      expect(accepts(Lang, bad), bad).toBe(false);
  });
});

describe('object-valued maps', () => {
  it('refuse member names outside their pattern, in seq, names and ext alike', () => {
    const seq = Header.properties.seq;
    const names = Card.properties.names;
    expect(accepts(seq, { cn: 1 })).toBe(true);
    expect(accepts(seq, { CN: 1 })).toBe(false);
    expect(accepts(seq, { cn: 0 })).toBe(false);
    expect(accepts(names, { en: 'Beijing', zh: '北京' })).toBe(true);
    expect(accepts(names, { EN: 'Beijing' })).toBe(false);
    expect(accepts(Ext, { later: { any: ['json'] } })).toBe(true);
    expect(accepts(Ext, { 'not-a-name': 1 })).toBe(false);
    expect(accepts(Ext, { Later: 1 })).toBe(false);
  });

  it('leave no room in closed objects for unknown members or null', () => {
    const header = {
      v: 1,
      kind: 'message',
      id: '01954f7a-3c00-7a00-8000-000000000001',
      from: 'us',
      to: ['cn'],
      seq: { cn: 1 },
      sent: '2025-03-01T12:00:00.000Z',
      kid: '0'.repeat(32),
      bodyHash: '0'.repeat(64),
    };
    expect(accepts(Header, header)).toBe(true);
    expect(accepts(Header, { ...header, priority: 'high' })).toBe(false);
    expect(accepts(Header, { ...header, kid: null })).toBe(false);
  });
});
