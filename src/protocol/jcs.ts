/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), through the `canonicalize` package (by one of the
 * RFC's authors), pinned and tested against the RFC's examples in jcs.test.ts.
 *
 * Every hash and signature in Hotline is over JCS bytes, never over whatever bytes arrived.
 */
import { createRequire } from 'node:module';
import { utf8 } from './encoding.ts';

// The package is CommonJS (`module.exports = serialize`) but its typings claim a default export.
const canonicalize = createRequire(import.meta.url)('canonicalize') as (
  value: unknown,
) => string | undefined;

/** The canonical text of a JSON value. Throws on values JSON cannot carry (undefined, NaN…). */
export function jcs(value: unknown): string {
  // Most values hashed here were parsed from canonical text or built in key order: their members
  // already come sorted, and V8's own JSON.stringify then writes exactly what the package would
  // (both write every string and number with JSON.stringify), several times faster.
  if (inCanonicalOrder(value)) return JSON.stringify(value);
  // Otherwise a copy with its members sorted, written by JSON.stringify as well: the package's
  // string concatenation costs several times as much, and leaves a rope that is slow to encode.
  const sorted = sortedCopy(value);
  if (sorted !== NOT_PLAIN) return JSON.stringify(sorted);
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/**
 * Whether JSON.stringify writes `value` as RFC 8785 does: plain JSON values only (no undefined,
 * NaN, Infinity, toJSON or class instance), each object's members enumerated in ascending order
 * of UTF-16 code units (§3.2.3) — which also rules out integer-like keys out of that order, as JS
 * enumerates them first.
 */
function inCanonicalOrder(value: unknown): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (Array.isArray(value)) {
        for (const item of value) if (!inCanonicalOrder(item)) return false;
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      let previous: string | undefined;
      for (const key in value) {
        if (!Object.hasOwn(value, key)) return false;
        if (previous !== undefined && !(previous < key)) return false;
        if (!inCanonicalOrder((value as Record<string, unknown>)[key])) return false;
        previous = key;
      }
      return true;
    }
    default:
      return false;
  }
}

const NOT_PLAIN = Symbol('not plain JSON');

/**
 * `value` with every object's members inserted in ascending order of UTF-16 code units, or
 * NOT_PLAIN for anything `inCanonicalOrder` would refuse — and for a key that starts with a digit,
 * which may be integer-like: JS enumerates those first whatever the insertion order.
 */
function sortedCopy(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : NOT_PLAIN;
    case 'object': {
      if (value === null) return value;
      if (Array.isArray(value)) {
        const copy = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item = sortedCopy(value[i]);
          if (item === NOT_PLAIN) return NOT_PLAIN;
          copy[i] = item;
        }
        return copy;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
      const copy: Record<string, unknown> = {};
      for (const key of Object.keys(value).sort()) {
        const first = key.charCodeAt(0);
        if (first >= 48 && first <= 57) return NOT_PLAIN;
        const item = sortedCopy((value as Record<string, unknown>)[key]);
        if (item === NOT_PLAIN) return NOT_PLAIN;
        copy[key] = item;
      }
      return copy;
    }
    default:
      return NOT_PLAIN;
  }
}

/** The canonical UTF-8 bytes of a JSON value: what Hotline hashes and signs. */
export function jcsBytes(value: unknown): Uint8Array {
  return utf8(jcs(value));
}
