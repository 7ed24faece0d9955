/**
 * Heartbeats (docs/protocol.md § Heartbeat): every few seconds on each path, a signed heartbeat
 * goes to the peer and the peer answers with its own. They measure round-trip time and path
 * state, and report which seqs arrived, so a pending envelope the peer lacks is resent at once
 * instead of waiting out its backoff. They also carry both logs' checkpoints, consistency proofs
 * and co-signatures; witness.ts checks and makes those.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { NodeKeys } from '../../crypto/keys.ts';
import { signHeartbeat, verifyHeartbeat } from '../../crypto/statements.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { Heartbeat, SignedHeartbeat } from '../../protocol/heartbeat.ts';
import { LIMITS } from '../../protocol/limits.ts';
import { FORMAT_VERSION } from '../../protocol/version.ts';
import type { PathStatus } from '../../protocol/views.ts';
import type { Store } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Peers } from '../core/peers.ts';
import { SeqTracker } from '../core/seqs.ts';
import type { Ledger } from '../record/ledger.ts';
import type { Witness } from '../record/witness.ts';
import type { Outbox } from './outbox.ts';
import type { Paths } from './paths.ts';
import { getJson, postJson } from './transport.ts';

export interface HeartbeatsParts {
  config: Config;
  keys: NodeKeys;
  card: SignedCard;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  paths: Paths;
  witness: Witness;
  outbox: Outbox;
  metrics: Metrics;
  logger: Logger;
}

/** Heartbeat nonces remembered per peer: many minutes of heartbeats on every path. */
const REMEMBERED_NONCES = 4096;
/**
 * Envelopes in backoff one heartbeat's gap repair reads at most: the longest-waiting first; the
 * next heartbeat takes the next (those made due leave the backoff), the rest come due by
 * themselves within `outbox.backoffMaxMs`.
 */
const GAP_REPAIR_MAX = 2048;

export class Heartbeats {
  readonly #parts: HeartbeatsParts;
  readonly #witness: Witness;
  readonly #paths: Paths;
  /** The last nonce each peer sent us, to echo. */
  readonly #peerNonce = new Map<string, string>();
  /** The nonces of the heartbeats each peer sent us lately, oldest first: a replay is refused. */
  readonly #answered = new Map<string, Set<string>>();
  #timer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<string>();
  /** Rounds under way, which stop() waits for; none starts once stopped. */
  readonly #rounds = new Set<Promise<void>>();
  #stopped = false;

  constructor(parts: HeartbeatsParts) {
    this.#parts = parts;
    this.#witness = parts.witness;
    this.#paths = parts.paths;
  }

  start(): void {
    this.#stopped = false;
    const round = async () => {
      // Peers pinned by `hotline peer add` while the node runs are picked up here.
      await this.#parts.peers
        .reload()
        .catch((e) => this.#parts.logger.error({ err: e }, 'reloading peers failed'));
      if (this.#stopped) return;
      await Promise.all(
        [...this.#parts.peers.keys()].map((party) => {
          this.#parts.outbox.kick(party);
          return this.beat(party);
        }),
      );
    };
    const tick = () => {
      if (this.#stopped) return;
      const running = round().catch((e) =>
        this.#parts.logger.error({ err: e }, 'a heartbeat round failed'),
      );
      this.#rounds.add(running);
      void running.finally(() => this.#rounds.delete(running));
    };
    tick();
    this.#timer = setInterval(tick, this.#parts.config.heartbeatMs);
  }

  /** Stops sending, and waits for the rounds under way (each bounded by the send timeout). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await Promise.all(this.#rounds);
  }

  /** The path delivery would use first to `party`, with its state. */
  status(party: string): PathStatus {
    const best = this.#paths.best(party);
    return (
      best ?? {
        path: 'direct',
        kind: 'direct',
        url: '',
        priority: 0,
        source: 'card',
        state: 'down',
        rttMs: null,
        lastHeartbeat: null,
        failures: 0,
        lastError: 'no path configured',
      }
    );
  }

  /** The heartbeat this node sends to `party` now. */
  async make(
    party: string,
    path: string,
    echo = this.#peerNonce.get(party),
  ): Promise<SignedHeartbeat> {
    const { config, keys, card, peers } = this.#parts;
    // The checkpoint and the proof that it extends what the peer co-signed go together: read
    // once, as a round's own refresh may sign a newer one while the proof is being made.
    const latest = this.#latest;
    const witnessing = await this.#witness.outgoing(party, latest.size);
    const tracker = peers.received(party);
    const signer = keys.signer('signing');
    const heartbeat: Heartbeat = {
      v: FORMAT_VERSION,
      from: config.party,
      to: party,
      path,
      kid: signer.kid,
      sent: new Date().toISOString(),
      nonce: randomBytes(16).toString('base64url'),
      ...(echo ? { echo } : {}),
      received: { contiguous: tracker.contiguous, ranges: tracker.ranges(LIMITS.heartbeatRanges) },
      checkpoint: latest.note,
      ...witnessing,
      card: card.card.serial,
    };
    return signHeartbeat(heartbeat, signer.key);
  }

  /** The latest signed checkpoint, which heartbeats carry. */
  #latest = { note: '', size: 0 };

  /** Refreshes the checkpoint heartbeats carry (called before each round). */
  async #refreshCheckpoint(signNew: boolean): Promise<void> {
    const { store, ledger } = this.#parts;
    const latest = await store.latestCheckpoint();
    // Rounds and answers refresh concurrently: the newest signed checkpoint wins.
    const keep = (c: { note: string; size: number }) => {
      if (c.size >= this.#latest.size) this.#latest = { note: c.note, size: c.size };
    };
    if (latest && (latest.size === ledger.size || !signNew)) return keep(latest);
    keep(await ledger.commit((_tx, log) => log.checkpoint()));
  }

  /**
   * Sends one heartbeat to a peer on each of its direct paths and takes in the answers; a relay
   * path is probed for health instead (a relay cannot answer for the peer).
   */
  async beat(party: string): Promise<void> {
    const paths = this.#paths.list(party);
    if (paths.some((p) => p.kind === 'direct'))
      await this.#refreshCheckpoint(true).catch((e) =>
        this.#parts.logger.error({ err: e }, 'signing a checkpoint failed'),
      );
    await Promise.all(
      paths.map(async (path) => {
        const key = `${party}\n${path.path}`;
        if (this.#inFlight.has(key)) return;
        this.#inFlight.add(key);
        try {
          if (path.kind === 'relay') await this.#probeRelay(party, path);
          else await this.#beatOn(party, path);
        } finally {
          this.#inFlight.delete(key);
        }
      }),
    );
  }

  async #beatOn(party: string, path: PathStatus): Promise<void> {
    const { config, peers, metrics, logger } = this.#parts;
    try {
      const mine = await this.make(party, path.path);
      const started = performance.now();
      const { url, tls } = this.#paths.connection(party, path);
      const answer = await postJson(
        `${url}/federation/v1/heartbeat`,
        JSON.stringify(mine),
        config.outbox.sendTimeoutMs,
        {},
        tls,
      );
      const theirs = verifyHeartbeat(answer, peers.pinned(party).card, config.party);
      if (theirs.heartbeat.echo !== mine.heartbeat.nonce)
        throw new Error('the answer does not echo our nonce');
      const rttMs = performance.now() - started;
      this.#paths.succeeded(party, path.path, rttMs, true);
      metrics.heartbeatRtt.observe({ peer: party, path: path.path }, rttMs / 1000);
      await this.#takeIn(theirs.heartbeat);
    } catch (e) {
      this.#paths.failed(party, path.path, (e as Error).message, e);
      logger.debug(
        { peer: party, path: path.path, reason: (e as Error).message },
        'heartbeat failed',
      );
    }
  }

  async #probeRelay(party: string, path: PathStatus): Promise<void> {
    const started = performance.now();
    try {
      const { url, tls } = this.#paths.connection(party, path);
      await getJson(`${url}/relay/v1/health`, this.#parts.config.outbox.sendTimeoutMs, {}, tls);
      const rttMs = performance.now() - started;
      this.#paths.succeeded(party, path.path, rttMs, true);
      this.#parts.metrics.heartbeatRtt.observe({ peer: party, path: path.path }, rttMs / 1000);
    } catch (e) {
      this.#paths.failed(party, path.path, (e as Error).message, e);
    }
  }

  /** A heartbeat arriving from a peer: verify, take it in, and answer with ours. */
  async answer(input: unknown): Promise<SignedHeartbeat> {
    const from = (input as { heartbeat?: { from?: unknown } } | null)?.heartbeat?.from;
    if (typeof from !== 'string')
      throw new ProtocolError('E_MALFORMED', 'the heartbeat does not say who it is from');
    const peer = this.#parts.peers.pinned(from);
    const theirs = verifyHeartbeat(input, peer.card, this.#parts.config.party);
    this.#remember(peer.party, theirs.heartbeat.nonce);
    this.#peerNonce.set(peer.party, theirs.heartbeat.nonce);
    await this.#takeIn(theirs.heartbeat);
    // Answer at once with the latest signed checkpoint; signing new ones is the beat's job.
    await this.#refreshCheckpoint(false);
    // Echo this request's nonce: heartbeats on other paths may arrive meanwhile.
    return this.make(peer.party, theirs.heartbeat.path, theirs.heartbeat.nonce);
  }

  /**
   * Refuses a signed heartbeat answered before (its nonce is random per heartbeat): a replay
   * would make the node resend and re-witness on a stranger's say. Only verified heartbeats are
   * remembered, the last REMEMBERED_NONCES per peer, in memory.
   */
  #remember(party: string, nonce: string): void {
    const seen = this.#answered.get(party) ?? new Set<string>();
    this.#answered.set(party, seen);
    if (seen.has(nonce))
      throw new ProtocolError('E_REPLAY', 'this heartbeat was answered before (same nonce)');
    seen.add(nonce);
    if (seen.size > REMEMBERED_NONCES) seen.delete(seen.values().next().value as string);
  }

  /**
   * Gap repair (pending envelopes the peer reports missing are due again now), then witnessing
   * of the peer's checkpoint and co-signature.
   */
  async #takeIn(heartbeat: Heartbeat): Promise<void> {
    this.#peerNonce.set(heartbeat.from, heartbeat.nonce);
    const has = SeqTracker.fromReport(heartbeat.received.contiguous, heartbeat.received.ranges);
    const { store, outbox } = this.#parts;
    // Only envelopes waiting out a backoff can be made due sooner: those due or in flight are
    // not read (under load, thousands), and one heartbeat reads a bounded number.
    const now = Date.now();
    const waiting = await store.backedOffSeqs(
      heartbeat.from,
      now,
      heartbeat.received.contiguous,
      GAP_REPAIR_MAX,
    );
    const missing = waiting.filter((s) => !has.has(s));
    const resent = await store.resendNow(heartbeat.from, missing, now);
    if (resent > 0) outbox.kick(heartbeat.from);
    await this.#witness.takeIn(heartbeat);
  }
}
