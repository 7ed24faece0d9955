/**
 * Signing and checking the machine statements that are not envelopes: receipts and heartbeats
 * (docs/protocol.md § Receipt, § Heartbeat). Both are signed by the signing key over their
 * kind's context ‖ JCS(statement).
 */
import type { Card, KeyEntry } from '../protocol/card.ts';
import { fromBase64url, toBase64url } from '../protocol/encoding.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { type Heartbeat, SignedHeartbeat } from '../protocol/heartbeat.ts';
import { jcsBytes } from '../protocol/jcs.ts';
import { type Receipt, SignedReceipt } from '../protocol/receipt.ts';
import {
  type RecoveryAnswer,
  type RecoveryRequest,
  SignedRecoveryAnswer,
  SignedRecoveryRequest,
} from '../protocol/recovery.ts';
import { schemaError } from '../protocol/validate.ts';
import { FORMAT_VERSIONS } from '../protocol/version.ts';
import { type SignatureKind, signedBytes } from './context.ts';
import { type Ed25519SigningKey, ed25519Sign, ed25519Verify } from './ed25519.ts';

export function signReceipt(receipt: Receipt, key: Ed25519SigningKey): SignedReceipt {
  return { receipt, sig: toBase64url(ed25519Sign(key, signedBytes('receipt', jcsBytes(receipt)))) };
}

export function signHeartbeat(heartbeat: Heartbeat, key: Ed25519SigningKey): SignedHeartbeat {
  return {
    heartbeat,
    sig: toBase64url(ed25519Sign(key, signedBytes('heartbeat', jcsBytes(heartbeat)))),
  };
}

export function signRecoveryRequest(request: RecoveryRequest, key: Ed25519SigningKey) {
  const sig = ed25519Sign(key, signedBytes('recovery', jcsBytes(request)));
  return { request, sig: toBase64url(sig) };
}

export function signRecoveryAnswer(answer: RecoveryAnswer, key: Ed25519SigningKey) {
  const sig = ed25519Sign(key, signedBytes('recoveryAnswer', jcsBytes(answer)));
  return { answer, sig: toBase64url(sig) };
}

function signingKey(card: Card, kid: string): KeyEntry {
  const key = card.keys.find((k) => k.kid === kid && k.purpose === 'signing');
  if (!key)
    throw new ProtocolError('E_UNKNOWN_KEY', `key ${kid} is not a signing key of "${card.party}"`);
  return key;
}

function checkStatement(
  kind: SignatureKind,
  statement: { v: number; from: string; to: string; kid: string },
  sig: string,
  card: Card,
  me: string,
  canonical?: Uint8Array,
): void {
  if (!FORMAT_VERSIONS.includes(statement.v))
    throw new ProtocolError(
      'E_UNSUPPORTED_VERSION',
      `protocol version ${statement.v} is not supported`,
    );
  if (statement.from !== card.party)
    throw new ProtocolError(
      'E_UNKNOWN_PARTY',
      `the ${kind} is from "${statement.from}", not "${card.party}"`,
    );
  if (statement.to !== me)
    throw new ProtocolError('E_NOT_FOR_ME', `the ${kind} is not addressed to "${me}"`);
  const key = signingKey(card, statement.kid);
  const ok = ed25519Verify(
    fromBase64url(key.pub),
    signedBytes(kind, canonical ?? jcsBytes(statement)),
    fromBase64url(sig),
  );
  if (!ok) throw new ProtocolError('E_BAD_SIGNATURE', `the ${kind} signature does not verify`);
}

/**
 * Checks a receipt's schema, addressing and signature against the receiver's pinned card. The
 * entries' header hashes, proofs and checkpoint are the ledger's to check (ledger/receipt.ts).
 */
export function verifyReceiptSignature(input: unknown, card: Card, me: string): SignedReceipt {
  const error = schemaError(SignedReceipt, input);
  if (error) throw new ProtocolError('E_MALFORMED', `receipt ${error}`);
  return checkReceiptSignature(input as SignedReceipt, card, me);
}

/**
 * The same for a receipt whose schema is already checked (a ledger leaf's, say); `canonical` is
 * `JCS(signed.receipt)` when that is computed already.
 */
export function checkReceiptSignature(
  signed: SignedReceipt,
  card: Card,
  me: string,
  canonical?: Uint8Array,
): SignedReceipt {
  checkStatement('receipt', signed.receipt, signed.sig, card, me, canonical);
  return signed;
}

export function verifyHeartbeat(input: unknown, card: Card, me: string): SignedHeartbeat {
  const error = schemaError(SignedHeartbeat, input);
  if (error) throw new ProtocolError('E_MALFORMED', `heartbeat ${error}`);
  const signed = input as SignedHeartbeat;
  checkStatement('heartbeat', signed.heartbeat, signed.sig, card, me);
  return signed;
}

export function verifyRecoveryRequest(
  input: unknown,
  card: Card,
  me: string,
): SignedRecoveryRequest {
  const error = schemaError(SignedRecoveryRequest, input);
  if (error) throw new ProtocolError('E_MALFORMED', `recovery request ${error}`);
  const signed = input as SignedRecoveryRequest;
  checkStatement('recovery', signed.request, signed.sig, card, me);
  return signed;
}

export function verifyRecoveryAnswer(input: unknown, card: Card, me: string): SignedRecoveryAnswer {
  const error = schemaError(SignedRecoveryAnswer, input);
  if (error) throw new ProtocolError('E_MALFORMED', `recovery answer ${error}`);
  const signed = input as SignedRecoveryAnswer;
  checkStatement('recoveryAnswer', signed.answer, signed.sig, card, me);
  return signed;
}
