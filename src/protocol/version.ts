/** The protocol versions this implementation speaks; a card lists the ones its node supports. */
export const PROTOCOL_VERSION = 1;
export const SUPPORTED_VERSIONS: readonly number[] = [PROTOCOL_VERSION];
