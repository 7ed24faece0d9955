/**
 * Protocol versions (docs/protocol.md § Versioning). Version 2 is version 1 carried over mutual
 * TLS pinned from the party cards (§ Transport): the card pins its node's TLS key in `ext.tls`
 * and lists 2 in `protocols`. The message formats — envelopes, heartbeats, receipts and the other
 * signed statements — did not change, so they still say `v: 1`.
 */
export const PROTOCOL_VERSION = 2;
/** Versions this implementation speaks; a card lists those its node supports. */
export const SUPPORTED_VERSIONS: readonly number[] = [1, PROTOCOL_VERSION];
/** The `v` of the message formats, unchanged since version 1. */
export const FORMAT_VERSION = 1;
/** The message-format versions accepted in an envelope's or statement's `v`. */
export const FORMAT_VERSIONS: readonly number[] = [FORMAT_VERSION];
