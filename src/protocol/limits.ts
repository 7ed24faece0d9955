/**
 * Size limits on the wire (docs/protocol.md § Limits). Every string, array and byte field has a
 * bound, and whole documents have one too, so a hostile peer cannot make a node allocate without
 * limit. Lengths of strings count UTF-16 code units (what JSON Schema's maxLength counts in JS);
 * byte limits count UTF-8 bytes of the canonical JSON.
 */
export const LIMITS = {
  /** A whole envelope as canonical JSON. */
  envelopeBytes: 4 * 1024 * 1024,
  /** The plaintext body (canonical JSON) inside a seal. */
  bodyBytes: 3 * 1024 * 1024,
  /** One federation request (a batch of envelopes, or a heartbeat). */
  requestBytes: 16 * 1024 * 1024,
  /** Envelopes in one federation batch, and entries in one receipt. */
  batchEnvelopes: 256,
  /** Recipients of one message. */
  recipients: 32,
  /** Free text of a message, per text or translation. */
  textChars: 32_000,
  /** Short labels: names, models, places. */
  labelChars: 200,
  /** Vocabulary codes in one list. */
  codes: 64,
  translations: 8,
  attachments: 16,
  /** One attachment's data, base64url characters (1 MiB of bytes). */
  attachmentChars: 1_398_102,
  approvals: 8,
  /** A signed note (checkpoint), in characters. */
  noteChars: 8_192,
  /** Hashes in one Merkle proof: enough for 2^63 leaves. */
  proofHashes: 64,
  /** Ranges above the contiguous seq in a heartbeat. */
  heartbeatRanges: 64,
  keys: 32,
  endpoints: 8,
  /** Extension members and their canonical size. */
  extMembers: 32,
  extBytes: 16 * 1024,
} as const;
