/**
 * Checks a signed note — a checkpoint with its log signature and its witnesses' cosignatures —
 * against verifier keys of both kinds: Ed25519 (C2SP signed-note, type 0x01) and
 * `cosignature/v1` (C2SP tlog-cosignature, type 0x04). Go's `golang.org/x/mod/sumdb/note` knows
 * only the first, and decodes base64 leniently; this checker knows both and is strict (a note with
 * a non-canonical base64 signature is malformed, `base64.ts`). `hotline note verify` runs it.
 */
import { utf8 } from '../protocol/encoding.ts';
import { parseCheckpoint } from './checkpoint.ts';
import { cosignatureTimestamp, cosignatureVerifier } from './cosignature.ts';
import {
  decodeVerifierKey,
  ed25519NoteVerifier,
  type NoteSignature,
  type NoteVerifier,
  parseNote,
  SIGNATURE_TYPE_COSIGNATURE_V1,
  SIGNATURE_TYPE_ED25519,
} from './note.ts';

export interface KeyCheck {
  /** The verifier key as given. */
  vkey: string;
  name: string;
  kind: 'ed25519' | 'cosignature/v1';
  /** `valid`: a signature line by this key verifies; `invalid`: one does not; `missing`: none. */
  state: 'valid' | 'invalid' | 'missing';
  /** For a valid cosignature: the time it states, ISO 8601. */
  time?: string;
}

export interface NoteCheck {
  /** Every given key verified the note. */
  ok: boolean;
  /** The checkpoint the note carries, when its text is one. */
  checkpoint?: { origin: string; size: number; root: string };
  keys: KeyCheck[];
  /** Signature lines by none of the given keys (ignored, as signed-note requires). */
  others: string[];
}

/**
 * Checks `note` against every verifier key in `vkeys`. Throws (a NoteError `malformed`, or an
 * Error naming the key) when the note or a key cannot be read; answers which keys verified.
 */
export function checkNote(note: Uint8Array, vkeys: readonly string[]): NoteCheck {
  const parsed = parseNote(note);
  const text = utf8(parsed.text);
  const used = new Set<NoteSignature>();
  const keys = vkeys.map((vkey): KeyCheck => {
    const key = decodeVerifierKey(vkey);
    let verifier: NoteVerifier;
    let kind: KeyCheck['kind'];
    if (key.type === SIGNATURE_TYPE_ED25519) {
      verifier = ed25519NoteVerifier(key.name, key.publicKey);
      kind = 'ed25519';
    } else if (key.type === SIGNATURE_TYPE_COSIGNATURE_V1) {
      verifier = cosignatureVerifier(key.name, key.publicKey);
      kind = 'cosignature/v1';
    } else throw new Error(`${vkey}: signature type 0x${key.type.toString(16)} is not known`);
    const lines = parsed.signatures.filter(
      (s) => s.name === verifier.name && s.keyId === verifier.keyId,
    );
    for (const line of lines) used.add(line);
    if (!lines.length) return { vkey, name: key.name, kind, state: 'missing' };
    const good = lines.find((s) => verifier.verify(text, s.signature));
    if (!good) return { vkey, name: key.name, kind, state: 'invalid' };
    const time =
      kind === 'cosignature/v1'
        ? new Date(cosignatureTimestamp(good) * 1000).toISOString()
        : undefined;
    return { vkey, name: key.name, kind, state: 'valid', ...(time ? { time } : {}) };
  });
  let checkpoint: NoteCheck['checkpoint'];
  try {
    const c = parseCheckpoint(parsed.text);
    checkpoint = { origin: c.origin, size: c.size, root: Buffer.from(c.root).toString('base64') };
  } catch {
    checkpoint = undefined;
  }
  return {
    ok: keys.length > 0 && keys.every((k) => k.state === 'valid'),
    ...(checkpoint ? { checkpoint } : {}),
    keys,
    others: parsed.signatures.filter((s) => !used.has(s)).map((s) => s.name),
  };
}

/** The report as lines for people. */
export function describeNoteCheck(check: NoteCheck): string[] {
  const lines: string[] = [];
  if (check.checkpoint)
    lines.push(
      `checkpoint ${check.checkpoint.origin}, size ${check.checkpoint.size}, root ${check.checkpoint.root}`,
    );
  for (const k of check.keys)
    lines.push(
      `${k.state === 'valid' ? 'VALID  ' : k.state === 'invalid' ? 'INVALID' : 'MISSING'} ${k.kind} ${k.name}${k.time ? ` at ${k.time}` : ''}`,
    );
  for (const name of check.others) lines.push(`ignored  signature by ${name} (no key given)`);
  lines.push(check.ok ? 'OK: every given key signed this note' : 'NOT OK');
  return lines;
}
