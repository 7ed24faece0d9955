/**
 * The primitive wire types: what a receiver accepts in each field, and what it refuses.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Card } from './card.ts';
import {
  B64,
  Code,
  calendarProblem,
  Ext,
  Instant,
  Lang,
  PartyId,
  Timestamp,
  Uuid7,
} from './common.ts';
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

  it('takes an impossible time on the wire as written: the pattern is the contract', () => {
    for (const odd of ['2027-02-30T14:00:00.000Z', '2027-02-30T25:61:61.000Z']) {
      expect(accepts(Timestamp, odd), odd).toBe(true);
      // The wire's checker does not know the operator API's `calendar` keyword.
      expect(accepts(Instant, odd), odd).toBe(true);
    }
  });

  it('says why a time a person entered names no real instant', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1970-01-01'), max: new Date('9999-12-31'), noInvalidDate: true }),
        (d) => {
          expect(calendarProblem(d.toISOString())).toBeUndefined();
          expect(calendarProblem(d.toISOString().slice(0, 10))).toBeUndefined();
        },
      ),
    );
    expect(calendarProblem('2027-02-30T14:00:00.000Z')).toBe(
      '2027-02-30T14:00:00.000Z is not a calendar date/time (February 2027 has no day 30)',
    );
    expect(calendarProblem('2027-02-29')).toBe(
      '2027-02-29 is not a calendar date (February 2027 has no day 29)',
    );
    expect(calendarProblem('2028-02-29')).toBeUndefined();
    expect(calendarProblem('1900-02-29')).toMatch(/has no day 29/);
    expect(calendarProblem('2026-13-45')).toMatch(/there is no month 13/);
    expect(calendarProblem('2026-00-01')).toMatch(/there is no month 00/);
    expect(calendarProblem('2026-04-00')).toMatch(/April 2026 has no day 00/);
    expect(calendarProblem('2026-12-07T24:00:00.000Z')).toMatch(/hours run 00 to 23, not 24/);
    expect(calendarProblem('2026-12-07T23:60:00.000Z')).toMatch(/minutes run 00 to 59/);
    expect(calendarProblem('2016-12-31T23:59:60.000Z')).toMatch(/seconds run 00 to 59/);
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
