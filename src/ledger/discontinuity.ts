/**
 * The discontinuity statement of a log restored from a backup (docs/ledger.md § Restore): the
 * first leaf of the log's new origin. It cites the restored log's last checkpoint (old origin,
 * size N) and, per peer, the largest of the log's checkpoints that peer co-signed (size C ≤ N)
 * with the RFC 9162 consistency proof from C to N. The leaf is signed by every checkpoint of the
 * new origin (the log key); the recovery request that carries it, by the signing key.
 *
 * The restored leaves stay the prefix of the new log, so a checkpoint of the old origin of size
 * ≤ N still has the new tree's root at its size; one of size > N was lost with the restore.
 */
import type { Card } from '../protocol/card.ts';
import { fromHex, utf8 } from '../protocol/encoding.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { Discontinuity } from '../protocol/recovery.ts';
import { schemaError } from '../protocol/validate.ts';
import { type Checkpoint, formatCheckpoint } from './checkpoint.ts';
import { verifyCosignature } from './cosignature.ts';
import { checkTree } from './merkle.ts';
import { parseNote } from './note.ts';
import { isOriginOf, openPeerCheckpoint, witnessVerifier } from './receipt.ts';

/** The event type of the leaf. */
export const DISCONTINUITY = 'discontinuity';

/** The new origin a restore starts: `<log key name>/restored/<UTC time to the second>`. */
export function restoredOrigin(keyName: string, at: Date): string {
  return `${keyName}/restored/${at.toISOString().replace(/\.\d+Z$/, 'Z')}`;
}

export interface CheckedDiscontinuity {
  origin: string;
  /** The restored log's last checkpoint, of the old origin. */
  last: Checkpoint;
  /** The co-signed checkpoints cited, by co-signer, each contained in `last`. */
  cosigned: Map<string, Checkpoint>;
}

/**
 * Checks a discontinuity leaf's detail, of the log of `card`: the last checkpoint is signed by
 * its log key, the new origin is another origin of that key, and each co-signed checkpoint cited
 * is signed by the log key, co-signed by the witness key of its co-signer's card in `witnesses`
 * (when given) and contained in the last one. Throws E_BAD_DISCONTINUITY otherwise.
 */
export function checkDiscontinuity(
  detail: unknown,
  card: Card,
  witnesses: ReadonlyMap<string, Card>,
): CheckedDiscontinuity {
  const bad = (why: string) => new ProtocolError('E_BAD_DISCONTINUITY', why);
  const error = schemaError(Discontinuity, detail);
  if (error) throw bad(`the discontinuity statement ${error}`);
  const d = detail as Discontinuity;
  const last = open(card, d.last, 'its last checkpoint');
  const keyName = card.keys.find((k) => k.purpose === 'log')?.name ?? '';
  if (!isOriginOf(d.origin, keyName) || d.origin === last.origin)
    throw bad(`"${d.origin}" is not a new origin of the log "${keyName}"`);
  const cosigned = new Map<string, Checkpoint>();
  for (const c of d.cosigned) {
    const checkpoint = open(card, c.note, `the checkpoint "${c.party}" co-signed`);
    if (checkpoint.origin !== last.origin)
      throw bad(`the checkpoint "${c.party}" co-signed is of another origin than the last one`);
    const witness = witnesses.get(c.party);
    if (witness && !cosignedBy(checkpoint, c.line, witness))
      throw bad(`the co-signature cited does not verify with "${c.party}"'s witness key`);
    if (!checkTree(c.proof.map(fromHex), last.size, last.root, checkpoint.size, checkpoint.root))
      throw bad(
        `the last checkpoint (size ${last.size}) does not extend the one "${c.party}" co-signed (size ${checkpoint.size})`,
      );
    cosigned.set(c.party, checkpoint);
  }
  return { origin: d.origin, last, cosigned };
}

function open(card: Card, note: string, what: string): Checkpoint {
  try {
    return openPeerCheckpoint(card, note);
  } catch (e) {
    throw new ProtocolError('E_BAD_DISCONTINUITY', `${what}: ${(e as Error).message}`);
  }
}

/** Whether `line` is a valid co-signature of `checkpoint` by the witness key of `card`. */
function cosignedBy(checkpoint: Checkpoint, line: string, card: Card): boolean {
  try {
    if (line.indexOf('\n') !== line.length - 1) return false;
    const text = formatCheckpoint(checkpoint);
    const [signature, ...more] = parseNote(utf8(`${text}\n${line}`)).signatures;
    return (
      !!signature && !more.length && verifyCosignature(checkpoint, signature, witnessVerifier(card))
    );
  } catch {
    return false;
  }
}
