/**
 * Transparency log checkpoints: C2SP tlog-checkpoint v1.0.0.
 * https://github.com/C2SP/C2SP/blob/main/tlog-checkpoint.md
 *
 * A checkpoint is a signed note (note.ts) whose text is a log's origin, tree size and RFC 9162
 * root hash, one per line, then optional extension lines. Tree sizes are JS numbers: a checkpoint
 * above 2^53 − 1 leaves is refused rather than rounded.
 */

import { fromBase64, toBase64 } from './base64.ts';
import { HASH_SIZE } from './merkle.ts';
import {
  isNoteText,
  NoteError,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  signNote,
} from './note.ts';

/** A log's tree head: who (origin), how many leaves (size), and their root hash. */
export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** Opaque extension lines, each non-empty; the spec does not recommend them. */
  readonly extensions: readonly string[];
}

/** A checkpoint whose log signature verified, with the note it came in. */
export interface OpenedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: OpenedNote;
}

const SIZE = /^(?:0|[1-9][0-9]*)$/;

// tlog-checkpoint §Note text: "The note text is a sequence of at least three non-empty lines,
// separated by newlines (U+000A)."
/** The note text of a checkpoint: origin, size, base64 root, then any extension lines. */
export function formatCheckpoint(checkpoint: Checkpoint): string {
  const { origin, size, root, extensions } = checkpoint;
  if (!isLine(origin)) throw new Error('checkpoint origin must be one non-empty line');
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError('bad checkpoint size');
  if (!(root instanceof Uint8Array) || root.length !== HASH_SIZE) {
    throw new Error('checkpoint root must be 32 bytes');
  }
  if (!extensions.every(isLine)) throw new Error('extension lines must be non-empty lines');
  const text = [origin, String(size), toBase64(root), ...extensions].map((l) => `${l}\n`).join('');
  if (!isNoteText(text)) throw new Error('checkpoint is not note text');
  return text;
}

/**
 * Reads the note text of a checkpoint, strictly: note text (see isNoteText) whose lines are all
 * non-empty, a decimal size without leading zeros, a canonical base64 root of 32 bytes.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!isNoteText(text)) throw new Error('checkpoint is not note text');
  const [origin, size, root, ...extensions] = text.slice(0, -1).split('\n');
  // 1. "The first line is the origin [...]. The origin MUST be non-empty".
  if (origin === undefined || origin === '') throw new Error('checkpoint has no origin');
  // 2. "The second line is the tree size, the ASCII decimal representation of the number of
  //    leaves in the tree, with no leading zeroes (unless the tree is empty, in which case the
  //    tree size is 0)."
  if (size === undefined || !SIZE.test(size)) throw new Error('bad checkpoint size');
  const leaves = Number(size);
  if (!Number.isSafeInteger(leaves)) throw new RangeError('checkpoint size too large');
  // 3. "The third line is the root hash, the base64 encoding of the root of the RFC 6962 Merkle
  //    hash tree at the specified tree size."
  if (root === undefined) throw new Error('checkpoint has no root hash');
  const hash = decodeRoot(root);
  // 4. "Any following lines are extension lines, opaque and OPTIONAL. Extension lines, if any,
  //    MUST be non-empty."
  if (extensions.some((line) => line === '')) throw new Error('empty extension line');
  return { origin, size: leaves, root: hash, extensions };
}

/** Signs a checkpoint as a note with the log's key. */
export function signCheckpoint(checkpoint: Checkpoint, log: NoteSigner): Uint8Array {
  return signNote(formatCheckpoint(checkpoint), [log]);
}

// tlog-checkpoint §Signatures: "According to the note specification, clients MUST ignore unknown
// signatures." The log's own signature is the one that makes the text a checkpoint; witnesses'
// cosignatures, if among `others`, are checked as well and reported in `note.verified`.
/**
 * Opens a signed checkpoint from the log `origin`: the log's signature must verify, as must any
 * by `others` (such as witnesses), and the origin line must be `origin`. Throws otherwise.
 */
export function openCheckpoint(
  msg: Uint8Array,
  origin: string,
  log: NoteVerifier,
  others: readonly NoteVerifier[] = [],
): OpenedCheckpoint {
  const note = openNote(msg, [log, ...others]);
  if (!note.verified.some((sig) => sig.name === log.name && sig.keyId === log.keyId)) {
    throw new NoteError('unverified', 'checkpoint is not signed by its log');
  }
  const checkpoint = parseCheckpoint(note.text);
  if (checkpoint.origin !== origin) throw new Error('checkpoint is from another log');
  return { checkpoint, note };
}

function decodeRoot(line: string): Uint8Array {
  let root: Uint8Array;
  try {
    root = fromBase64(line);
  } catch {
    throw new Error('checkpoint root is not base64');
  }
  if (root.length !== HASH_SIZE) throw new Error('checkpoint root must be 32 bytes');
  return root;
}

function isLine(line: unknown): line is string {
  return typeof line === 'string' && line !== '' && !line.includes('\n');
}
