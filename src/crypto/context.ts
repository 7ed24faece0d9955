/**
 * Signature contexts and key derivation labels (docs/protocol.md § Contexts). Every signature is
 * over its kind's context string followed by the signed bytes, so no signature of one kind can be
 * replayed as another.
 */
import { concatBytes, utf8 } from '../protocol/encoding.ts';

export const SIGNATURE_CONTEXTS = {
  card: 'hotline/v1/card\n',
  envelope: 'hotline/v1/envelope\n',
  receipt: 'hotline/v1/receipt\n',
  heartbeat: 'hotline/v1/heartbeat\n',
  relay: 'hotline/v1/relay-request\n',
  recovery: 'hotline/v1/recovery-request\n',
  recoveryAnswer: 'hotline/v1/recovery-answer\n',
} as const;
export type SignatureKind = keyof typeof SIGNATURE_CONTEXTS;

export const LABELS = {
  kid: 'hotline/v1/kid\n',
  fingerprint: 'hotline/v1/fingerprint\n',
  epochInfo: 'hotline/v1/epoch\n',
  epochSecret: 'hotline/v1/epoch-secret\n',
  messageKey: 'hotline/v1/msg\n',
} as const;

/** The bytes a signature of `kind` covers: context ‖ payload. */
export function signedBytes(kind: SignatureKind, payload: Uint8Array): Uint8Array {
  return concatBytes(utf8(SIGNATURE_CONTEXTS[kind]), payload);
}
