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
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}

/** The canonical UTF-8 bytes of a JSON value: what Hotline hashes and signs. */
export function jcsBytes(value: unknown): Uint8Array {
  return utf8(jcs(value));
}
