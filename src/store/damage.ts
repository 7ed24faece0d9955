/**
 * Damage to the store noticed while the node runs: a stored message body that no longer matches
 * the hash its signed header carries (a flipped byte on disk, an edit behind the node's back),
 * and errors of the database itself (a damaged table or index, a failing disk).
 */
import type { Body } from '../protocol/body.ts';
import { sha256, toHex } from '../protocol/encoding.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import { fromJson, type Json } from './json.ts';

/** A stored message whose body failed its re-hash when read. */
export interface DamagedBody {
  /** `in`: received from `party`; `out`: sent to `party`. */
  dir: 'in' | 'out';
  party: string;
  id: string;
  reason: string;
}

/** Told of each damaged body the store finds as it reads; it withholds the body itself. */
export type DamageListener = (damage: DamagedBody) => void;

/**
 * The stored body, parsed, if SHA-256 of its JCS form (the plaintext the sender sealed, protocol
 * step 8e) equals `bodyHash` from the signed header; otherwise the reason it is not.
 */
export function checkBody(
  text: Json<Body>,
  bodyHash: string | null | undefined,
): { body: Body } | { reason: string } {
  let body: Body;
  try {
    body = fromJson(text);
  } catch {
    return { reason: 'the stored body is not valid JSON' };
  }
  if (typeof bodyHash !== 'string') return { reason: 'the stored header has no bodyHash' };
  if (toHex(sha256(jcsBytes(body))) !== bodyHash)
    return { reason: 'the stored body does not match the bodyHash of its signed header' };
  return { body };
}

/** The refusal for a read of a damaged body: withheld, never served as if whole. */
export function damagedError(damage: DamagedBody): ProtocolError {
  const what = damage.dir === 'in' ? `from "${damage.party}"` : `to "${damage.party}"`;
  return new ProtocolError(
    'E_STORE',
    `the stored copy of message ${damage.id} ${what} is damaged (${damage.reason}): it is withheld; an integrity alarm is raised`,
  );
}

/**
 * What each layer throws when it is used after the store was closed under it (a request still in
 * flight while the node stops): they carry no code, only these messages.
 */
const CLOSED_MESSAGES = new Set([
  // better-sqlite3 (a TypeError), for a statement prepared before the close
  'The database connection is not open',
  // Kysely, for a query built after it
  'driver has already been destroyed',
  // pg-pool and pg
  'Cannot use a pool after calling end on the pool',
  'Client was closed and is not queryable',
]);

/** Whether `e` is a driver refusing a query because the store was closed. */
export function isStoreClosed(e: unknown): boolean {
  return e instanceof Error && CLOSED_MESSAGES.has(e.message);
}

/**
 * Whether `e` is the database failing rather than the node's logic: SQLite's errors
 * (`SQLITE_CORRUPT`, `SQLITE_IOERR`, …), PostgreSQL's server errors, a store closed under the
 * caller, or a stored JSON column that no longer parses.
 */
export function isStoreError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  if (isStoreClosed(e)) return true;
  const code = (e as { code?: unknown }).code;
  if (e.name === 'SqliteError' || (typeof code === 'string' && code.startsWith('SQLITE_')))
    return true;
  // node-postgres: a server error carries a severity and a five-character SQLSTATE.
  if (typeof (e as { severity?: unknown }).severity === 'string' && typeof code === 'string')
    return /^[0-9A-Z]{5}$/.test(code);
  return e instanceof SyntaxError;
}

/**
 * The database itself failing under a request (a damaged page, a failing or full disk, a
 * PostgreSQL server error): `isStoreError` less what a bug throws too (a SyntaxError) and a
 * constraint the change itself broke (SQLite `SQLITE_CONSTRAINT_*`, PostgreSQL class 23).
 */
export function isStoreFailure(e: unknown): boolean {
  if (!isStoreError(e) || e instanceof SyntaxError) return false;
  const code = String((e as { code?: unknown }).code);
  return !code.startsWith('SQLITE_CONSTRAINT') && !/^23[0-9A-Z]{3}$/.test(code);
}

/**
 * A write refused for a key already taken (PostgreSQL SQLSTATE 23505): on replicas, another one
 * stored the same row first.
 */
export function isUniqueViolation(e: unknown): boolean {
  return (
    e instanceof Error &&
    typeof (e as { severity?: unknown }).severity === 'string' &&
    (e as { code?: unknown }).code === '23505'
  );
}
