/**
 * Signed relay requests (docs/protocol.md § Relay API, Access): a deposit, a collection or an
 * acknowledgement carries
 * `Hotline-Relay-Auth: party=<id>;kid=<kid>;time=<unix s>;nonce=<32 hex>;sig=<b64url>`, an Ed25519
 * signature by one of the party's signing keys over the `relay` context ‖
 * `METHOD \n path?query \n time \n nonce \n hex(SHA-256(body))`; the nonce makes a resend of the
 * same batch in the same second a new request, not a replay. The relay checks it against the card it
 * was given for that party, within RELAY_SKEW_S of its clock, and refuses a signature it has seen.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Card } from '../protocol/card.ts';
import { fromBase64url, toBase64url, utf8 } from '../protocol/encoding.ts';
import { signedBytes } from './context.ts';
import { type Ed25519SigningKey, ed25519Sign, ed25519Verify } from './ed25519.ts';

export const RELAY_AUTH_HEADER = 'hotline-relay-auth';
/** How far a request's time may be from the relay's clock, either way. */
export const RELAY_SKEW_S = 300;

export interface RelayAuth {
  party: string;
  kid: string;
  time: number;
  nonce: string;
  sig: string;
}

/** The SHA-256 of a request body, hex (an empty body for a GET). */
export function bodyHash(body: string | Uint8Array = ''): string {
  return createHash('sha256').update(body).digest('hex');
}

function requestBytes(
  method: string,
  path: string,
  auth: Pick<RelayAuth, 'time' | 'nonce'>,
  hash: string,
): Uint8Array {
  return signedBytes('relay', utf8(`${method}\n${path}\n${auth.time}\n${auth.nonce}\n${hash}`));
}

/** The header value for a request (`path` with its query), signed now. */
export function signRelayRequest(
  party: string,
  signer: { kid: string; key: Ed25519SigningKey },
  method: string,
  path: string,
  body: string | undefined,
  now = Date.now(),
): string {
  const time = Math.floor(now / 1000);
  const nonce = randomBytes(16).toString('hex');
  const sig = ed25519Sign(signer.key, requestBytes(method, path, { time, nonce }, bodyHash(body)));
  return `party=${party};kid=${signer.kid};time=${time};nonce=${nonce};sig=${toBase64url(sig)}`;
}

const HEADER =
  /^party=([a-z0-9-]{2,32});kid=([0-9a-f]{32});time=([0-9]{1,12});nonce=([0-9a-f]{32});sig=([A-Za-z0-9_-]{86})$/;

/** The parts of a header value, or undefined when it is not one. */
export function parseRelayAuth(value: string | undefined): RelayAuth | undefined {
  const m = value === undefined ? null : HEADER.exec(value);
  if (!m) return undefined;
  const [, party = '', kid = '', time = '', nonce = '', sig = ''] = m;
  return { party, kid, time: Number(time), nonce, sig };
}

/** Whether `auth` is a signature by a signing key of `card` over this request. */
export function verifyRelayRequest(
  auth: RelayAuth,
  card: Card,
  method: string,
  path: string,
  hash: string,
): boolean {
  const key = card.keys.find((k) => k.kid === auth.kid && k.purpose === 'signing');
  if (!key) return false;
  return ed25519Verify(
    fromBase64url(key.pub),
    requestBytes(method, path, auth, hash),
    fromBase64url(auth.sig),
  );
}

/** The headers that sign a request to a relay at `url` (its path and query are signed). */
export function relayAuthHeaders(
  party: string,
  signer: { kid: string; key: Ed25519SigningKey },
  method: 'GET' | 'POST',
  url: string,
  body?: string,
): Record<string, string> {
  const { pathname, search } = new URL(url);
  return {
    [RELAY_AUTH_HEADER]: signRelayRequest(party, signer, method, `${pathname}${search}`, body),
  };
}
