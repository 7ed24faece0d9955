/**
 * Heartbeats (docs/protocol.md § Heartbeat): every few seconds on each path, a signed heartbeat
 * goes to the peer and the peer answers with its own. They measure round-trip time and path
 * state, and report which seqs arrived, so a pending envelope the peer lacks is resent at once
 * instead of waiting out its backoff. They also carry both logs' checkpoints, consistency proofs
 * and co-signatures; witness.ts checks and makes those.
 */
import { randomBytes } from 'node:crypto';
import { signHeartbeat, verifyHeartbeat } from '../crypto/statements.ts';
import { ProtocolError } from '../protocol/errors.ts';
import type { Heartbeat, SignedHeartbeat } from '../protocol/heartbeat.ts';
import { LIMITS } from '../protocol/limits.ts';
import { PROTOCOL_VERSION } from '../protocol/version.ts';
import type { Node } from './node.ts';
import type { Outbox } from './outbox.ts';
import { SeqTracker } from './seqs.ts';
import { postJson } from './transport.ts';
import { type Witness, witnessOf } from './witness.ts';

export type PathState = 'up' | 'degraded' | 'down';

export interface PathStatus {
  path: string;
  url: string;
  state: PathState;
  rttMs: number | null;
  lastHeartbeat: string | null;
  failures: number;
}

/** RTT above which a path that answers counts as degraded. */
const DEGRADED_RTT_MS = 1000;
/** Consecutive failures before a path is down. */
const DOWN_AFTER = 3;

const STATE_VALUE: Record<PathState, number> = { up: 2, degraded: 1, down: 0 };

export class Heartbeats {
  readonly #node: Node;
  readonly #outbox: Outbox;
  readonly #witness: Witness;
  readonly #paths = new Map<string, PathStatus>();
  /** The last nonce each peer sent us, to echo. */
  readonly #peerNonce = new Map<string, string>();
  #timer: NodeJS.Timeout | undefined;
  #inFlight = new Set<string>();

  constructor(node: Node, outbox: Outbox) {
    this.#node = node;
    this.#outbox = outbox;
    this.#witness = witnessOf(node);
  }

  start(): void {
    const tick = async () => {
      // Peers pinned by `hotline peer add` while the node runs are picked up here.
      await this.#node
        .reloadPeers()
        .catch((e) => this.#node.logger.error({ err: e }, 'reloading peers failed'));
      for (const party of this.#node.peers.keys()) {
        this.#outbox.kick(party);
        void this.beat(party);
      }
    };
    void tick();
    this.#timer = setInterval(tick, this.#node.config.heartbeatMs);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  status(party: string): PathStatus {
    const peer = this.#node.peer(party);
    const endpoint = [...peer.card.endpoints].sort((a, b) => a.priority - b.priority)[0];
    return (
      this.#paths.get(party) ?? {
        path: endpoint?.id ?? 'direct',
        url: endpoint?.url ?? '',
        state: 'down',
        rttMs: null,
        lastHeartbeat: null,
        failures: 0,
      }
    );
  }

  /** The heartbeat this node sends to `party` now. */
  async make(party: string, path: string): Promise<SignedHeartbeat> {
    const node = this.#node;
    const witnessing = await this.#witness.outgoing(party, this.#latestSize);
    const tracker = node.received.get(party) ?? new SeqTracker();
    const signer = node.keys.signer('signing');
    const echo = this.#peerNonce.get(party);
    const heartbeat: Heartbeat = {
      v: PROTOCOL_VERSION,
      from: node.party,
      to: party,
      path,
      kid: signer.kid,
      sent: new Date().toISOString(),
      nonce: randomBytes(16).toString('base64url'),
      ...(echo ? { echo } : {}),
      received: { contiguous: tracker.contiguous, ranges: tracker.ranges(LIMITS.heartbeatRanges) },
      checkpoint: this.#latestNote,
      ...witnessing,
      card: node.card.card.serial,
    };
    return signHeartbeat(heartbeat, signer.key);
  }

  #latestNote = '';
  #latestSize = 0;

  /** Refreshes the checkpoint heartbeats carry (called before each round). */
  async #refreshCheckpoint(signNew: boolean): Promise<void> {
    const latest = await this.#node.store.latestCheckpoint();
    if (latest && (latest.size === this.#node.ledger.size || !signNew)) {
      this.#latestNote = latest.note;
      this.#latestSize = latest.size;
      return;
    }
    const { note, size } = await this.#node.write(() =>
      this.#node.store.transaction((tx) => this.#node.ledger.checkpoint(tx)),
    );
    this.#latestNote = note;
    this.#latestSize = size;
  }

  /** Sends one heartbeat to a peer and takes in its answer. */
  async beat(party: string): Promise<void> {
    if (this.#inFlight.has(party)) return;
    this.#inFlight.add(party);
    const node = this.#node;
    const status = this.status(party);
    try {
      await this.#refreshCheckpoint(true);
      const mine = await this.make(party, status.path);
      const started = performance.now();
      const answer = await postJson(
        `${status.url}/federation/v1/heartbeat`,
        JSON.stringify(mine),
        node.config.outbox.sendTimeoutMs,
      );
      const theirs = verifyHeartbeat(answer, node.peer(party).card, node.party);
      if (theirs.heartbeat.echo !== mine.heartbeat.nonce)
        throw new Error('the answer does not echo our nonce');
      const rttMs = performance.now() - started;
      this.#record(party, {
        ...status,
        state: rttMs > DEGRADED_RTT_MS ? 'degraded' : 'up',
        rttMs,
        lastHeartbeat: new Date().toISOString(),
        failures: 0,
      });
      node.metrics.heartbeatRtt.observe({ peer: party, path: status.path }, rttMs / 1000);
      await this.#takeIn(theirs.heartbeat);
    } catch (e) {
      const failures = status.failures + 1;
      this.#record(party, {
        ...status,
        state: failures >= DOWN_AFTER ? 'down' : 'degraded',
        failures,
      });
      node.logger.debug({ peer: party, reason: (e as Error).message }, 'heartbeat failed');
    } finally {
      this.#inFlight.delete(party);
    }
  }

  #record(party: string, status: PathStatus): void {
    this.#paths.set(party, status);
    this.#node.metrics.pathUp.set({ peer: party, path: status.path }, STATE_VALUE[status.state]);
  }

  /** A heartbeat arriving from a peer: verify, take it in, and answer with ours. */
  async answer(input: unknown): Promise<SignedHeartbeat> {
    const from = (input as { heartbeat?: { from?: unknown } } | null)?.heartbeat?.from;
    if (typeof from !== 'string')
      throw new ProtocolError('E_MALFORMED', 'the heartbeat does not say who it is from');
    const peer = this.#node.peer(from);
    const theirs = verifyHeartbeat(input, peer.card, this.#node.party);
    this.#peerNonce.set(peer.party, theirs.heartbeat.nonce);
    await this.#takeIn(theirs.heartbeat);
    // Answer at once with the latest signed checkpoint; signing new ones is the beat's job.
    await this.#refreshCheckpoint(false);
    return this.make(peer.party, theirs.heartbeat.path);
  }

  /**
   * Gap repair (pending envelopes the peer reports missing are due again now), then witnessing
   * of the peer's checkpoint and co-signature.
   */
  async #takeIn(heartbeat: Heartbeat): Promise<void> {
    this.#peerNonce.set(heartbeat.from, heartbeat.nonce);
    const has = SeqTracker.fromReport(heartbeat.received.contiguous, heartbeat.received.ranges);
    const pending = await this.#node.store.pendingSeqs(heartbeat.from);
    const missing = pending.filter((s) => !has.has(s));
    const resent = await this.#node.store.resendNow(heartbeat.from, missing, Date.now());
    if (resent > 0) this.#outbox.kick(heartbeat.from);
    await this.#witness.takeIn(heartbeat);
  }
}
