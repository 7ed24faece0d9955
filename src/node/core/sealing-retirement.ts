/**
 * Retired sealing keys, destroyed once nothing sealed to them can still arrive (docs/protocol.md
 * § Rotation). After our rotation, a peer seals to our new sealing key from the moment it has
 * applied the rotation; what it sealed before, to the old key, may still be on its way (a
 * message is sealed once, and every resend sends the same bytes). So we keep the old private key
 * while any peer may still send such a message, and then erase it: an attacker who later takes
 * the key files can no longer open the traffic of that time.
 *
 * For each pinned peer P, the old key is no longer needed once:
 *   1. P has receipted our rotation: its receipt says when P took it in (`receivedAt`, P's
 *      clock), in the unit of work that applied it;
 *   2. we hold a message M from P that P stamped (`sent`, P's clock again) more than
 *      `APPLY_MARGIN_MS` after that: P released M after applying our rotation, so everything P
 *      sealed to the old key has a lower seq than M (seqs are taken at release, in order);
 *   3. we hold every seq from P up to M's: all of it arrived, was opened and receipted.
 * A key with no rotation of ours naming it, or a peer that never answers, keeps it: the rule
 * errs toward keeping. Destroying records a `sealing-key-destroyed` event leaf and the rotation's
 * `detail.destroyed`, then overwrites and removes the key file.
 */
import type { Logger } from 'pino';
import type { NodeKeys } from '../../crypto/keys.ts';
import { eventLeaf } from '../../ledger/leaves.ts';
import type { KeyEntry } from '../../protocol/card.ts';
import type { SealingKeyView } from '../../protocol/views.ts';
import type { RotationStore } from '../../store/rotations.ts';
import type { Ledger } from '../record/ledger.ts';
import { destroyRetiredSealingKey } from './keyfiles.ts';
import type { Peers } from './peers.ts';

/**
 * How long after taking in our rotation a peer may still seal to the old key: between its
 * receiver pinning the new card and a release that read the old one just before.
 */
export const APPLY_MARGIN_MS = 60_000;

export interface RetirementParts {
  keys: NodeKeys;
  /** The key folder; without it (tests building services alone) nothing is erased. */
  keysDir: string | undefined;
  rotations: RotationStore;
  peers: Peers;
  ledger: Ledger;
  logger: Logger;
  clock: () => Date;
}

export class SealingKeyRetirement {
  readonly #parts: RetirementParts;
  /** Why each retired key is still held, as of the last check. */
  readonly #waiting = new Map<string, string[]>();

  constructor(parts: RetirementParts) {
    this.#parts = parts;
  }

  /** Destroys every retired sealing key nothing can need any more; answers their kids. */
  async check(): Promise<string[]> {
    const destroyed: string[] = [];
    for (const key of [...this.#parts.keys.retiredSealing]) {
      const rotation = await this.#rotationOf(key.entry.kid);
      const waiting = rotation
        ? await this.#waitingFor(rotation)
        : ['no rotation of ours names it'];
      this.#waiting.set(key.entry.kid, waiting);
      if (waiting.length || !rotation || !this.#parts.keysDir) continue;
      await this.#destroy(this.#parts.keysDir, key.entry, rotation);
      destroyed.push(key.entry.kid);
    }
    return destroyed;
  }

  /** Every sealing key our rotations replaced: held (and why) or destroyed (and when). */
  async status(): Promise<SealingKeyView[]> {
    const out: SealingKeyView[] = [];
    const held = new Set(this.#parts.keys.retiredSealing.map((k) => k.entry.kid));
    for (const row of await this.#parts.rotations.list()) {
      if (row.dir !== 'out') continue;
      const sealing = row.detail.previous?.card.keys.filter((k) => k.purpose === 'sealing') ?? [];
      for (const key of sealing) {
        const gone = row.detail.destroyed?.find((d) => d.kid === key.kid);
        out.push({
          kid: key.kid,
          suite: key.alg,
          rotation: row.id,
          retiredAt: row.at,
          state: gone ? 'destroyed' : held.has(key.kid) ? 'held' : 'missing',
          destroyedAt: gone?.at ?? null,
          // Asked now, not as of the last hourly check: a receipt since then shows at once.
          waiting: gone
            ? []
            : held.has(key.kid)
              ? await this.#waitingFor({ id: row.id, upTo: {} })
              : (this.#waiting.get(key.kid) ?? []),
        });
      }
    }
    return out;
  }

  async #rotationOf(kid: string) {
    const row = (await this.#parts.rotations.list()).find(
      (r) => r.dir === 'out' && r.detail.replaced.includes(kid),
    );
    if (!row) return undefined;
    const recorded = row.detail.destroyed?.some((d) => d.kid === kid) ?? false;
    return { id: row.id, upTo: {} as Record<string, number>, recorded };
  }

  /** What still stands in the way, per peer; fills `rotation.upTo` with each peer's seq M. */
  async #waitingFor(rotation: { id: string; upTo: Record<string, number> }): Promise<string[]> {
    const { rotations, peers } = this.#parts;
    const waiting: string[] = [];
    for (const { party } of peers.values()) {
      const took = await rotations.peerReceivedAt(party, rotation.id);
      if (!took) {
        waiting.push(`"${party}" has not receipted our rotation ${rotation.id}`);
        continue;
      }
      const after = Date.parse(took) + APPLY_MARGIN_MS;
      const seq = await rotations.firstSentAfter(party, after);
      if (seq === undefined) {
        waiting.push(
          `no message from "${party}" sent after ${new Date(after).toISOString()} (its clock) yet`,
        );
        continue;
      }
      const held = await rotations.heldUpTo(party, seq);
      if (held < seq) {
        waiting.push(`${seq - held} of "${party}"'s messages up to seq ${seq} have not arrived`);
        continue;
      }
      rotation.upTo[party] = seq;
    }
    return waiting;
  }

  /** Recorded first (once, should an erase have been cut short), then erased. */
  async #destroy(
    keysDir: string,
    entry: KeyEntry,
    rotation: { id: string; upTo: Record<string, number>; recorded: boolean },
  ): Promise<void> {
    const { ledger, rotations, keys, logger, clock } = this.#parts;
    const at = clock().toISOString();
    const upTo = rotation.upTo;
    if (!rotation.recorded)
      await ledger.commit(async (tx, log) => {
        await rotations.markDestroyed(rotation.id, entry.kid, at, tx);
        await log.append([
          eventLeaf('sealing-key-destroyed', at, {
            kid: entry.kid,
            suite: entry.alg,
            rotation: rotation.id,
            receivedUpTo: upTo,
          }),
        ]);
      });
    destroyRetiredSealingKey(keysDir, entry);
    keys.forgetRetiredSealing(entry.kid);
    this.#waiting.delete(entry.kid);
    logger.warn(
      { kid: entry.kid, rotation: rotation.id, receivedUpTo: upTo },
      'retired sealing key destroyed',
    );
  }
}
