/**
 * Recovery after a restore from a backup (docs/ledger.md § Restore, docs/protocol.md § Recovery).
 *
 * A node restored from a backup is behind its own co-signed history: its peers witnessed
 * checkpoints larger than its log, and hold messages with seqs it no longer remembers. Before it
 * serves, the restored node (`afterRestore`):
 * 1. starts a new log origin whose first leaf is the discontinuity statement (the restored log's
 *    last checkpoint, and per peer the largest checkpoint that peer co-signed, with the proof);
 * 2. sends each peer a signed recovery request with the statement, the new origin's first
 *    checkpoint, and the seqs of the peer's messages it holds;
 * 3. takes each signed answer in: the seq high-water of its channel to the peer (so no seq is
 *    used twice) and the peer's co-signature of the new origin.
 * The peer (`answer`) checks the statement against what it witnessed, records the discontinuity
 * in its own ledger, accepts the new origin, and makes the messages the restored node lost due
 * again in its outbox.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { NodeKeys } from '../../crypto/keys.ts';
import {
  signRecoveryAnswer,
  signRecoveryRequest,
  verifyRecoveryAnswer,
  verifyRecoveryRequest,
} from '../../crypto/statements.ts';
import { checkDiscontinuity, DISCONTINUITY } from '../../ledger/discontinuity.ts';
import { eventLeaf } from '../../ledger/leaves.ts';
import { checkRecord, checkTree, leafHash } from '../../ledger/merkle.ts';
import { openPeerCheckpoint } from '../../ledger/receipt.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { equalBytes, fromHex, toHex, utf8 } from '../../protocol/encoding.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { jcs } from '../../protocol/jcs.ts';
import { Leaf } from '../../protocol/leaf.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type {
  Discontinuity,
  RecoveryRequest,
  SignedRecoveryAnswer,
  SignedRecoveryRequest,
} from '../../protocol/recovery.ts';
import { schemaError } from '../../protocol/validate.ts';
import { FORMAT_VERSION } from '../../protocol/version.ts';
import type { Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';
import type { Peers } from '../core/peers.ts';
import { SeqTracker } from '../core/seqs.ts';
import type { Outbox } from '../delivery/outbox.ts';
import type { Paths } from '../delivery/paths.ts';
import { postJson, TransportError } from '../delivery/transport.ts';
import type { Ledger } from './ledger.ts';
import { ROLLED_BACK, type Witness } from './witness.ts';

/** The marker `hotline restore` leaves in the data folder: the node recovers before it serves. */
export interface RestoreMarker {
  /** The new log origin (chosen once, so a recovery interrupted and resumed keeps it). */
  origin: string;
  /** When the copy was put in place, and from which file. */
  at: string;
  from: string;
}

export function readRestoreMarker(file: string): RestoreMarker | undefined {
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as RestoreMarker;
}

export function writeRestoreMarker(file: string, marker: RestoreMarker): void {
  writeFileSync(file, `${JSON.stringify(marker)}\n`);
}

export interface RecoveryParts {
  config: Config;
  keys: NodeKeys;
  card: SignedCard;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  paths: Paths;
  witness: Witness;
  outbox: Outbox;
  alarms: Alarms;
  logger: Logger;
  clock: () => Date;
}

/** What one peer answered a restored node. */
export interface Recovered {
  party: string;
  lastSeq: number;
  resent: number;
}

/** Pause between rounds of asking peers that have not answered yet. */
const RETRY_MS = 1000;
/** Rounds a peer hangs up on every path after the TLS handshake before it is an alarm. */
const HUNG_UP_ROUNDS = 3;
/** The alarm of a peer that does not accept this node's TLS certificate, and its cause. */
const RECOVERY_REFUSED = 'recovery-refused';
const TLS_CAUSE = 'tls';

/** No direct path of a peer answered; `hungUp`: each closed the connection after TLS checked. */
class Unanswered extends Error {
  constructor(
    message: string,
    readonly hungUp: boolean,
  ) {
    super(message);
  }
}

export class Recovery {
  readonly #parts: RecoveryParts;

  constructor(parts: RecoveryParts) {
    this.#parts = parts;
  }

  /**
   * The restored node's part: the new origin (unless an interrupted recovery started it), then
   * every pinned peer asked until it answers; the marker is removed once all have. Waits for as
   * long as a peer stays unreachable, saying so in the log: a restored node must not release a
   * message before it knows which seqs are taken.
   */
  async afterRestore(markerFile: string, marker: RestoreMarker): Promise<Recovered[]> {
    const { ledger, peers, logger, alarms } = this.#parts;
    if (ledger.origin !== marker.origin) await this.#discontinue(marker.origin);
    const waiting = new Set(peers.keys());
    const done: Recovered[] = [];
    const hungUp = new Map<string, number>();
    for (let round = 0; waiting.size; round++) {
      if (round) await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      for (const party of [...waiting]) {
        try {
          done.push(await this.#ask(party));
          waiting.delete(party);
        } catch (e) {
          const refused = e instanceof Unanswered && e.hungUp;
          const rounds = refused ? (hungUp.get(party) ?? 0) + 1 : 0;
          hungUp.set(party, rounds);
          logger.warn(
            { peer: party, round, reason: (e as Error).message },
            refused
              ? 'restored: the peer hangs up on the recovery request after the TLS handshake: it does not accept this node’s certificate, most likely'
              : 'restored: the peer has not answered the recovery request yet',
          );
          if (rounds >= HUNG_UP_ROUNDS)
            await alarms.raise(
              RECOVERY_REFUSED,
              party,
              `"${party}" closes the connection of every recovery request right after the TLS handshake: it does not accept this node's TLS certificate. The keys in this data folder are most likely not those of the card "${party}" pinned (a backup restored into the folder of another node of this party?): stop the node, put back this node's own keys and card, or have "${party}" pin this card`,
              { cause: TLS_CAUSE },
            );
        }
      }
    }
    rmSync(markerFile, { force: true });
    logger.info({ origin: marker.origin, peers: done }, 'restored: recovered from every peer');
    return done;
  }

  async #discontinue(origin: string): Promise<void> {
    const { store, ledger, peers, clock } = this.#parts;
    const size = ledger.size;
    const cosigned: Discontinuity['cosigned'] = [];
    for (const party of peers.keys()) {
      const row = await store.latestCosignature(party);
      const note = row && row.size <= size ? await store.checkpointOfSize(row.size) : undefined;
      if (!row || !note) continue;
      const proof = await ledger.proveConsistency(row.size, size);
      cosigned.push({ party, note, line: row.line, proof });
    }
    const at = clock().toISOString();
    await ledger.discontinue(origin, (last) =>
      eventLeaf(DISCONTINUITY, at, { origin, last: last.note, cosigned }),
    );
  }

  /** One peer's recovery: the request on its direct paths, best first, and the answer taken in. */
  async #ask(party: string): Promise<Recovered> {
    const { config, keys, store, ledger, peers, paths, witness, alarms } = this.#parts;
    const index = ledger.originStart;
    if (index === undefined) throw new Error('the log has not started a new origin');
    const size = index + 1;
    const [leaf] = await store.readLeaves(index, 1);
    const note = await store.checkpointOfSize(size);
    if (!leaf || !note) throw new Error(`the discontinuity statement at leaf ${index} is missing`);
    const tracker = new SeqTracker(await store.inboxSeqs(party));
    const signer = keys.signer('signing');
    const request: RecoveryRequest = {
      v: FORMAT_VERSION,
      from: config.party,
      to: party,
      kid: signer.kid,
      sent: new Date().toISOString(),
      nonce: randomBytes(16).toString('base64url'),
      leaf,
      index,
      checkpoint: note,
      inclusion: await ledger.commit((_tx, log) => log.prove(index, size)),
      consistency: await ledger.proveConsistency(index, size),
      received: { contiguous: tracker.contiguous, ranges: tracker.ranges(LIMITS.heartbeatRanges) },
    };
    const body = JSON.stringify(signRecoveryRequest(request, signer.key));
    const direct = paths.order(party).filter((p) => p.kind === 'direct');
    if (!direct.length) throw new Error('no direct path to the peer');
    const errors: string[] = [];
    let hungUp = true;
    for (const path of direct) {
      let input: unknown;
      try {
        const { url, tls } = paths.connection(party, path);
        input = await postJson(
          `${url}/federation/v1/recovery`,
          body,
          config.outbox.sendTimeoutMs,
          {},
          tls,
        );
      } catch (e) {
        errors.push(`${path.path}: ${(e as Error).message}`);
        hungUp &&= e instanceof TransportError && e.hungUp;
        continue;
      }
      const { answer } = verifyRecoveryAnswer(input, peers.pinned(party).card, config.party);
      if (answer.echo !== request.nonce) throw new Error('the answer does not echo our nonce');
      await witness.takeCosignature(party, size, answer.cosignature);
      await ledger.commit(async (tx, log) => {
        const last = await store.lastSeq(party, tx);
        if (answer.lastSeq > last) await store.setLastSeq(party, answer.lastSeq, tx);
        await log.append([
          eventLeaf('recovered', new Date().toISOString(), {
            party,
            lastSeq: answer.lastSeq,
            ourLastSeq: last,
            resent: answer.resent,
          }),
        ]);
      });
      await alarms.resolve(
        ROLLED_BACK,
        party,
        ROLLED_BACK,
        `recovered: "${party}" took the new log origin`,
      );
      await alarms.resolve(
        RECOVERY_REFUSED,
        party,
        TLS_CAUSE,
        `recovered: "${party}" accepted this node's certificate`,
      );
      return { party, lastSeq: answer.lastSeq, resent: answer.resent };
    }
    throw new Unanswered(errors.join('; '), hungUp);
  }

  /**
   * The peer's part: POST /federation/v1/recovery. Every check passes before anything is stored;
   * a statement that does not match what this node witnessed is refused (E_BAD_DISCONTINUITY)
   * and changes nothing.
   */
  async answer(input: unknown): Promise<SignedRecoveryAnswer> {
    const { config, keys, card, store, ledger, peers, witness, outbox, logger } = this.#parts;
    const from = (input as { request?: { from?: unknown } } | null)?.request?.from;
    if (typeof from !== 'string')
      throw new ProtocolError('E_MALFORMED', 'the recovery request does not say who it is from');
    const peer = peers.pinned(from);
    const { request } = verifyRecoveryRequest(
      input,
      peer.card,
      config.party,
    ) as SignedRecoveryRequest;
    const bad = (why: string) => new ProtocolError('E_BAD_DISCONTINUITY', why);
    let leaf: Leaf;
    try {
      leaf = JSON.parse(request.leaf) as Leaf;
    } catch {
      throw bad('the statement leaf is not JSON');
    }
    if (schemaError(Leaf, leaf) || jcs(leaf) !== request.leaf)
      throw bad('the statement leaf is not a leaf in canonical JSON');
    if (leaf.leaf !== 'event' || leaf.type !== DISCONTINUITY)
      throw bad('the statement leaf is not a discontinuity statement');
    const statement = checkDiscontinuity(
      leaf.detail,
      peer.card,
      new Map([[config.party, card.card]]),
    );
    const { last } = statement;
    const first = openPeerCheckpoint(peer.card, request.checkpoint);
    if (first.origin !== statement.origin || first.size !== request.index + 1)
      throw bad('the new checkpoint is not the first of the new origin');
    if (request.index !== last.size)
      throw bad(`the statement is at leaf ${request.index}, not right after its last checkpoint`);
    if (!checkTree(request.consistency.map(fromHex), first.size, first.root, last.size, last.root))
      throw bad('the new origin does not extend the restored log');
    const leafOk = checkRecord(
      request.inclusion.map(fromHex),
      first.size,
      first.root,
      request.index,
      leafHash(utf8(request.leaf)),
    );
    if (!leafOk) throw bad('the statement is not the leaf the new checkpoint holds at its index');
    const witnessed = await witness.accepted(from);
    const mine = statement.cosigned.get(config.party);
    const held = SeqTracker.fromReport(request.received.contiguous, request.received.ranges);
    const answerWith = async (line: string, resent: number) => {
      const signer = keys.signer('signing');
      return signRecoveryAnswer(
        {
          v: FORMAT_VERSION,
          from: config.party,
          to: from,
          kid: signer.kid,
          sent: new Date().toISOString(),
          echo: request.nonce,
          lastSeq: (await store.inboxSeqs(from)).reduce((a, b) => Math.max(a, b), 0),
          resent,
          cosignature: line,
        },
        signer.key,
      );
    };
    if (witnessed?.origin === first.origin) {
      // Asked again (the answer was lost): the origin was taken; only what is still lost is resent.
      if (
        witnessed.size < first.size ||
        (witnessed.size === first.size && !equalBytes(witnessed.root, first.root))
      )
        throw bad('this node witnessed another checkpoint of the new origin');
      const resent = await ledger.commit((tx) =>
        store.resendLost(from, (s) => held.has(s), Date.now(), tx),
      );
      if (resent) outbox.kick(from);
      const row = await store.witnessed(from);
      return answerWith(row?.cosignature ?? '', resent);
    }
    if (witnessed) {
      if (witnessed.origin !== last.origin)
        throw bad(`this node witnesses the origin "${witnessed.origin}", not "${last.origin}"`);
      if (last.size === witnessed.size && !equalBytes(last.root, witnessed.root))
        throw bad(
          `the last checkpoint has another root than the one of size ${last.size} witnessed`,
        );
      if (mine && mine.size > witnessed.size)
        throw bad(
          `the co-signed checkpoint cited (size ${mine.size}) is beyond what this node witnessed`,
        );
    }
    let resent = 0;
    const at = new Date().toISOString();
    const line = await witness.restart(from, request.checkpoint, first, (also) =>
      ledger.commit(async (tx, log) => {
        await also(tx);
        resent = await store.resendLost(from, (s) => held.has(s), Date.now(), tx);
        await log.append([
          eventLeaf(DISCONTINUITY, at, {
            party: from,
            previous: { origin: last.origin, size: last.size, root: toHex(last.root) },
            witnessed: witnessed
              ? { origin: witnessed.origin, size: witnessed.size, root: toHex(witnessed.root) }
              : null,
            cosigned: mine ? mine.size : null,
            origin: first.origin,
            first: { size: first.size, root: toHex(first.root) },
            resent,
          }),
        ]);
      }),
    );
    logger.warn(
      {
        peer: from,
        previous: { origin: last.origin, size: last.size },
        witnessed: witnessed?.size ?? null,
        origin: first.origin,
        resent,
      },
      'a peer restored from a backup started a new log origin',
    );
    if (resent) outbox.kick(from);
    return answerWith(line, resent);
  }
}
