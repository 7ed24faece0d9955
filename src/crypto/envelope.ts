/**
 * Building, signing and sealing envelopes (docs/protocol.md § Envelope). One signed header serves
 * every recipient; only the sealed part is made per recipient.
 */
import { randomBytes } from 'node:crypto';
import type { Body } from '../protocol/body.ts';
import { sha256, toBase64url, toHex } from '../protocol/encoding.ts';
import type { Envelope, EnvelopeKind, Header, Sealed } from '../protocol/envelope.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import { FORMAT_VERSION } from '../protocol/version.ts';
import { signedBytes } from './context.ts';
import { type Ed25519SigningKey, ed25519Sign } from './ed25519.ts';
import { messageKey, type SenderEpoch, sealMessage } from './seal.ts';

/** A fresh 128-bit body salt. */
export function newSalt(): string {
  return toBase64url(new Uint8Array(randomBytes(16)));
}

export interface HeaderInput {
  kind: EnvelopeKind;
  id: string;
  from: string;
  seq: Record<string, number>;
  sent: Date;
  kid: string;
}

/** The header of a body; `to` lists the recipients in the order of `seq`'s keys. */
export function makeHeader(input: HeaderInput, bodyBytes: Uint8Array): Header {
  // Members in JCS order, so the canonical form is JSON.stringify's (jcs.ts), here and at the
  // receiver, which parses them in the order sent.
  return {
    bodyHash: toHex(sha256(bodyBytes)),
    from: input.from,
    id: input.id,
    kid: input.kid,
    kind: input.kind,
    sent: input.sent.toISOString(),
    seq: input.seq,
    to: Object.keys(input.seq),
    v: FORMAT_VERSION,
  };
}

export function signHeader(header: Header, key: Ed25519SigningKey): string {
  return toBase64url(ed25519Sign(key, signedBytes('envelope', jcsBytes(header))));
}

/** Seals the canonical body bytes for one recipient under an open epoch. */
export function sealFor(
  epoch: SenderEpoch,
  headerBytes: Uint8Array,
  bodyBytes: Uint8Array,
): Sealed {
  const key = messageKey(epoch.secret, sha256(headerBytes));
  return {
    ct: toBase64url(sealMessage(key, headerBytes, bodyBytes)),
    epoch: { enc: toBase64url(epoch.enc), id: toBase64url(epoch.id) },
    suite: epoch.suite,
  };
}

export interface SealedMessage {
  header: Header;
  headerHash: string;
  sig: string;
  /** One envelope per recipient, sharing header and signature. */
  envelopes: Record<string, Envelope>;
}

/** Signs a header once and seals the body for each recipient's epoch. */
export function sealMessageFor(
  input: HeaderInput,
  body: Body,
  signer: Ed25519SigningKey,
  epochs: Record<string, SenderEpoch>,
): SealedMessage {
  const bodyBytes = jcsBytes(body);
  const header = makeHeader(input, bodyBytes);
  const headerBytes = jcsBytes(header);
  const sig = signHeader(header, signer);
  const envelopes: Record<string, Envelope> = {};
  for (const party of header.to) {
    const epoch = epochs[party];
    if (!epoch) throw new Error(`no epoch for recipient ${party}`);
    envelopes[party] = { header, sig, sealed: sealFor(epoch, headerBytes, bodyBytes) };
  }
  return { header, headerHash: toHex(sha256(headerBytes)), sig, envelopes };
}
