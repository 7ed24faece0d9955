/**
 * Stable error codes (docs/errors.md). A code never changes meaning once published; add new ones
 * instead. Every rejection a node makes carries one of these and a sentence for people.
 */
export const ERROR_CODES = [
  'E_MALFORMED',
  'E_TOO_LARGE',
  'E_UNSUPPORTED_VERSION',
  'E_UNSUPPORTED_SUITE',
  'E_UNKNOWN_PARTY',
  'E_UNKNOWN_KEY',
  'E_BAD_SIGNATURE',
  'E_NOT_FOR_ME',
  'E_EQUIVOCATION',
  'E_BAD_SEAL',
  'E_BAD_BODY_HASH',
  'E_BAD_CARD',
  'E_BAD_ROTATION',
  'E_CARD_EXPIRED',
  'E_BAD_RECEIPT',
  'E_BAD_PROOF',
  // A restored node's discontinuity statement that does not match what its peer witnessed.
  'E_BAD_DISCONTINUITY',
  // A signed statement that was already taken in once (a replayed heartbeat).
  'E_REPLAY',
  // A relay's answer: its storage is full until parties collect.
  'E_RELAY_FULL',
  // The receiver could not read or write its own store (damaged table or index, disk error), or
  // a stored message no longer matches its signed header: retry later, nothing was taken in.
  'E_STORE',
  // A release refused: the outbox to a recipient holds as many undelivered messages as it may.
  'E_OUTBOX_FULL',
  // Not rejections of a document, but answers of the HTTP listeners:
  'E_UNAUTHORIZED',
  'E_FORBIDDEN',
  'E_CSRF',
  'E_LOCKED',
  'E_THROTTLED',
  'E_CONFLICT',
  'E_NOT_FOUND',
  'E_INTERNAL',
  // The operator listener does not answer for this Host (DNS rebinding).
  'E_BAD_HOST',
  // Answers of the operator API about language and standards (docs/language.md):
  'E_BAD_ATTACHMENT',
  'E_NO_TRANSLATOR',
  'E_TRANSLATOR_FAILED',
  'E_TLP_RED',
  // A message less restricted than the TLP marking of a STIX bundle it carries.
  'E_TLP_BELOW_MARKING',
  // A regime notification whose fields its regime's schema refuses (docs/regimes.md).
  'E_BAD_NOTIFICATION',
  // Answers of the operator API about incidents and escalation (docs/operators.md):
  'E_FLASH_TOO_LONG',
  // A release naming a code its own vocabulary does not have (docs/language.md).
  'E_UNKNOWN_CODE',
  // A release that says nothing: a blank text, or a query, reply or test with no content.
  'E_EMPTY_MESSAGE',
  // The two-person rule (docs/operators.md): the author of a draft tried to approve or reject it.
  'E_SELF_APPROVAL',
  // Second factors (docs/people.md): one is needed, or the one given is wrong or used; or the
  // role must enrol one before doing anything else.
  'E_SECOND_FACTOR',
  'E_ENROL_SECOND_FACTOR',
  // Pinned mutual TLS between nodes (docs/protocol.md § Transport): a request claiming another
  // party than its connection's certificate, or claiming a party that pins TLS over a connection
  // without its certificate; and, raised by a sender only, a server whose certificate is not the
  // pinned one.
  'E_TLS_PEER',
  'E_TLS_REQUIRED',
  'E_TLS_PIN',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** A rejection as a value: what the receiver answers, what the sender records. */
export interface Rejection {
  readonly code: ErrorCode;
  readonly message: string;
}

/** The thrown form, for code paths where a rejection ends the operation. */
export class ProtocolError extends Error implements Rejection {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.code = code;
  }
}
