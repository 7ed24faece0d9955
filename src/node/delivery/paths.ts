/**
 * Paths to a peer: every endpoint its card lists, plus the node's own `paths` setting. Each path
 * has its own state (up, degraded, down), round-trip time and failure count, fed by heartbeats
 * and by every send. Delivery asks `send` to carry a batch: it prefers the best path, sends on the
 * next one as well when the first has not answered within `outbox.failoverMs` or has failed
 * (failover on a send timeout, not only when heartbeats notice), and sends flash traffic on every
 * path that is not down at once. The first valid answer wins; the receiver deduplicates the rest.
 *
 * A relay path (`kind: relay`) is a store-and-forward mailbox (src/relay): a send there is a
 * deposit, and the receipts come back later through the same relay (relays.ts).
 */
import type { Logger } from 'pino';
import type { NodeKeys } from '../../crypto/keys.ts';
import { relayAuthHeaders } from '../../crypto/relay-auth.ts';
import { cardPin, type TlsIdentity } from '../../crypto/tls.ts';
import type { Endpoint } from '../../protocol/card.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { BatchProcessing, BatchResult } from '../../protocol/federation.ts';
import { schemaError } from '../../protocol/validate.ts';
import type { Failover, PathState, PathStatus, PeerPaths } from '../../protocol/views.ts';
import type { Alarms } from '../core/alarms.ts';
import { type Config, relayKey, relayPins } from '../core/config.ts';
import type { NodeEvents } from '../core/events.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Peers } from '../core/peers.ts';
import { getJson, postJson, type TlsClient, TransportError } from './transport.ts';

/** What carrying a batch came to (`processing`: the `202`s the peer answered before it). */
export type Sent =
  | { kind: 'answer'; path: string; answer: BatchResult; processing: number }
  | { kind: 'deposited'; path: string };

/** How long one request for a batch's answer waits at the peer, once it said it is processing. */
const POLL_WAIT_MS = 2000;
/** How long a batch may stay in processing at the peer before the send counts as failed. */
const PROCESSING_MAX_MS = 120_000;

/** RTT above which a path that answers counts as degraded. */
export const DEGRADED_RTT_MS = 1000;
/** Consecutive failures before a path is down. */
export const DOWN_AFTER = 3;

const STATE_VALUE: Record<PathState, number> = { up: 2, degraded: 1, down: 0 };
const STATE_ORDER: Record<PathState, number> = { up: 0, degraded: 1, down: 1 };

/**
 * How to call a relay. One the configuration pins (`relays`, or a relay path's `pin`) is called
 * over pinned mutual TLS, `https:` whatever its URL says, and only its pinned certificate is
 * accepted (`E_TLS_PIN` otherwise); one it does not pin is called as its URL says, CA-checked over
 * `https:`. Either way it is shown our certificate, which its card list pins.
 */
export function relayConnection(
  config: Pick<Config, 'relays' | 'paths'>,
  identity: TlsIdentity | undefined,
  url: string,
): { url: string; tls: TlsClient; pinned: boolean } {
  const pin = relayPins(config).get(relayKey(url));
  if (!pin) return { url, tls: { pin: undefined, identity }, pinned: false };
  return { url: url.replace(/^http:/, 'https:'), tls: { pin, identity }, pinned: true };
}

/** The paths to `party`: its card's endpoints, with this node's settings added or overriding. */
export function configuredPaths(
  config: Config,
  peers: Peers,
  party: string,
): Array<Endpoint & { source: PathStatus['source'] }> {
  const byId = new Map<string, Endpoint & { source: PathStatus['source'] }>();
  for (const e of peers.pinned(party).card.endpoints) byId.set(e.id, { ...e, source: 'card' });
  for (const e of config.paths?.[party] ?? []) byId.set(e.id, { ...e, source: 'config' });
  return [...byId.values()].sort((a, b) => a.priority - b.priority);
}

export interface PathsParts {
  config: Config;
  /** Its signing key signs deposits at relays. */
  keys: NodeKeys;
  /** Our TLS certificate, presented over pinned mutual TLS; absent before `hotline rotate`. */
  tls: TlsIdentity | undefined;
  peers: Peers;
  alarms: Alarms;
  metrics: Metrics;
  events: NodeEvents;
  logger: Logger;
}

/** The path table of a node (one per node, shared by delivery, heartbeats and the API). */
export class Paths {
  readonly #parts: PathsParts;
  readonly #status = new Map<string, Map<string, PathStatus>>();
  readonly #failovers = new Map<string, { count: number; last: Failover | null }>();

  constructor(parts: PathsParts) {
    this.#parts = parts;
  }

  /** Every path to `party`, in the table's current state (a new path starts down, untried). */
  list(party: string): PathStatus[] {
    const known = this.#status.get(party) ?? new Map<string, PathStatus>();
    const fresh = new Map<string, PathStatus>();
    for (const e of configuredPaths(this.#parts.config, this.#parts.peers, party)) {
      const old = known.get(e.id);
      fresh.set(e.id, {
        path: e.id,
        kind: e.kind,
        url: e.url,
        priority: e.priority,
        source: e.source,
        state: old && old.url === e.url ? old.state : 'down',
        rttMs: old && old.url === e.url ? old.rttMs : null,
        lastHeartbeat: old && old.url === e.url ? old.lastHeartbeat : null,
        failures: old && old.url === e.url ? old.failures : 0,
        lastError: old && old.url === e.url ? old.lastError : null,
      });
    }
    this.#status.set(party, fresh);
    return [...fresh.values()];
  }

  /**
   * Paths best first: direct paths that answer, then relays that answer (a relay adds a hop and
   * a poll), then paths that are down; within each, up before degraded, then by priority, then
   * by RTT.
   */
  order(party: string): PathStatus[] {
    const rank = (p: PathStatus) =>
      p.state === 'down'
        ? 4 + (p.kind === 'relay' ? 1 : 0)
        : (p.kind === 'relay' ? 2 : 0) + STATE_ORDER[p.state];
    return this.list(party).sort(
      (a, b) =>
        rank(a) - rank(b) ||
        a.priority - b.priority ||
        (a.rttMs ?? Number.POSITIVE_INFINITY) - (b.rttMs ?? Number.POSITIVE_INFINITY),
    );
  }

  /** The path delivery would use first. */
  best(party: string): PathStatus | undefined {
    return this.order(party)[0];
  }

  /** Status for the operator API: every path, and the failovers so far. */
  status(party: string): PeerPaths {
    const f = this.#failovers.get(party);
    return { paths: this.order(party), failovers: f?.count ?? 0, lastFailover: f?.last ?? null };
  }

  /** A heartbeat or send on the path was answered, in `rttMs` when measured. */
  succeeded(party: string, path: string, rttMs?: number, heartbeat = false): void {
    const status = this.#find(party, path);
    if (!status) return;
    const rtt = rttMs ?? status.rttMs;
    const before = status.state;
    status.state = rtt !== null && rtt > DEGRADED_RTT_MS ? 'degraded' : 'up';
    status.rttMs = rtt;
    status.failures = 0;
    status.lastError = null;
    if (heartbeat) status.lastHeartbeat = new Date().toISOString();
    this.#publish(party, status, before);
  }

  /**
   * How to call a path. A direct path of a peer whose card pins TLS is called over pinned mutual
   * TLS (`https:`, whatever scheme the card's URL has: a card of version 1 listed `http:`); a peer
   * that pins none is called as its URL says. A relay is called as relayConnection says.
   */
  connection(
    party: string,
    path: Pick<PathStatus, 'kind' | 'url'>,
  ): {
    url: string;
    tls: TlsClient | undefined;
  } {
    if (path.kind === 'relay')
      return relayConnection(this.#parts.config, this.#parts.tls, path.url);
    const pin = cardPin(this.#parts.peers.pinned(party).card.ext);
    if (!pin) return { url: path.url, tls: undefined };
    return { url: path.url.replace(/^http:/, 'https:'), tls: { pin, identity: this.#parts.tls } };
  }

  /**
   * A heartbeat or send on the path failed. A server whose certificate is not the pinned one is
   * more than a path down: one `tls-pin` alarm per path, counted while it stays open.
   */
  failed(party: string, path: string, reason: string, error?: unknown): void {
    const status = this.#find(party, path);
    if (!status) return;
    if (error instanceof TransportError && error.code === 'E_TLS_PIN')
      this.#parts.alarms
        .raise(
          'tls-pin',
          party,
          (status.kind === 'relay'
            ? `the relay path "${path}" to "${party}" (${status.url}) answered with a TLS certificate that is not the relay's pin in our configuration; nothing was sent on it: ${error.message}`
            : `the path "${path}" to "${party}" answered with a TLS certificate that "${party}"'s card does not pin; nothing was sent on it: ${error.message}`
          ).slice(0, 900),
          { cause: path },
        )
        .catch((err: unknown) => this.#parts.logger.error({ err }, 'raising a TLS alarm failed'));
    status.failures++;
    const before = status.state;
    status.state = status.failures >= DOWN_AFTER ? 'down' : 'degraded';
    status.lastError = reason.slice(0, 300);
    this.#publish(party, status, before);
  }

  #find(party: string, path: string): PathStatus | undefined {
    return (this.#status.get(party) ?? new Map(this.list(party).map((p) => [p.path, p]))).get(path);
  }

  #publish(party: string, status: PathStatus, before: PathState): void {
    this.#parts.metrics.pathUp.set({ peer: party, path: status.path }, STATE_VALUE[status.state]);
    if (status.state !== before) this.#parts.events.emit('link', party, status.path, status.state);
  }

  #failover(party: string, from: string, to: string, reason: string): void {
    const f = this.#failovers.get(party) ?? { count: 0, last: null };
    f.count++;
    f.last = { at: new Date().toISOString(), from, to, reason };
    this.#failovers.set(party, f);
    this.#parts.metrics.failovers.inc({ peer: party, from, to });
    this.#parts.logger.warn({ peer: party, from, to, reason }, 'path failover');
  }

  /**
   * Carries one batch (`{"envelopes":[…]}`) to `party`. Normal traffic goes on the best path and
   * fails over path by path; `everywhere` (flash) goes on every path not down at once. Answers
   * the first valid answer, or a relay's acceptance when no direct path answered; throws when
   * every path failed. `witnessed`, the size of the peer's log we hold a checkpoint of, asks a
   * direct path for the consistency proofs of its receipts with the answer.
   */
  send(party: string, batch: string, everywhere: boolean, witnessed?: number): Promise<Sent> {
    const { failoverMs } = this.#parts.config.outbox;
    const queue = this.order(party);
    if (!queue.length)
      return Promise.reject(new Error(`no path to "${party}" is configured or listed in its card`));
    const initial = everywhere ? queue.filter((p) => p.state !== 'down') : [];
    if (!initial.length) initial.push(queue[0] as PathStatus);
    for (const p of initial) queue.splice(queue.indexOf(p), 1);
    return new Promise<Sent>((resolve, reject) => {
      let running = 0;
      let done = false;
      let deposited: Sent | undefined;
      let timer: NodeJS.Timeout | undefined;
      const errors: string[] = [];
      const settle = (outcome: Sent | undefined) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (outcome) resolve(outcome);
        else reject(new Error(`every path failed: ${errors.join('; ')}`));
      };
      const advance = (from: string, reason: string) => {
        const path = queue.shift();
        if (path) {
          this.#failover(party, from, path.path, reason);
          start(path);
        } else if (running === 0) settle(deposited);
      };
      const start = (path: PathStatus) => {
        running++;
        clearTimeout(timer);
        if (queue.length)
          timer = setTimeout(() => {
            if (done || deposited) return;
            // Slow counts as a failure now, so the next batch prefers the path that answers;
            // an answer that still comes marks the path up again.
            const reason = `no answer in ${failoverMs} ms`;
            this.failed(party, path.path, reason);
            advance(path.path, reason);
          }, failoverMs);
        // The peer says it is still processing the batch: the path is alive, and sending the
        // batch on the next one too would only add to the peer's work.
        const alive = () => {
          clearTimeout(timer);
          this.succeeded(party, path.path);
        };
        this.#carry(party, path, batch, witnessed, alive).then(
          (sent) => {
            running--;
            this.succeeded(party, path.path);
            if (sent.kind === 'answer') settle(sent);
            else {
              // A relay holds the batch now; a direct path still running may yet answer.
              deposited ??= sent;
              if (running === 0) settle(deposited);
            }
          },
          (e: unknown) => {
            running--;
            const reason = (e as Error).message;
            errors.push(`${path.path}: ${reason}`);
            this.failed(party, path.path, reason, e);
            if (done || running > 0) return;
            if (deposited) settle(deposited);
            else advance(path.path, reason);
          },
        );
      };
      for (const path of initial) start(path);
    });
  }

  /**
   * A deposit at a relay. A relay that answers with a refusal (full, or not serving us) is alarmed
   * as `relay-refused`: one alarm per path and code, counted however often the outbox retries,
   * until a person clears it. A relay that does not answer is only a path down.
   */
  async #deposit(party: string, path: PathStatus, batch: string, timeout: number): Promise<void> {
    const relay = this.connection(party, path);
    const url = `${relay.url}/relay/v1/boxes/${party}/envelopes`;
    const { config, keys } = this.#parts;
    try {
      await postJson(
        url,
        batch,
        timeout,
        relayAuthHeaders(config.party, keys.signer('signing'), 'POST', url, batch),
        relay.tls,
      );
    } catch (e) {
      if (e instanceof TransportError && e.answered)
        await this.#parts.alarms
          .raise(
            'relay-refused',
            party,
            `the relay path "${path.path}" (${path.url}) refuses our messages for "${party}": ${e.message}`,
            { cause: `${path.path} ${e.code}` },
          )
          .catch((err: unknown) =>
            this.#parts.logger.error({ err }, 'raising a relay alarm failed'),
          );
      throw e;
    }
  }

  /**
   * The peer answered `E_STORE`: its store failed and it took nothing in. One `peer-store-error`
   * alarm (counted per retry) says so, rather than only a path marked degraded; the messages
   * wait in the outbox and are retried.
   */
  async #peerStore(party: string, e: TransportError): Promise<void> {
    await this.#parts.alarms
      .raise(
        'peer-store-error',
        party,
        `"${party}" cannot store what we send (E_STORE): its node reports a damaged or failing ` +
          `store and has raised an alarm there; our messages wait in the outbox: ${e.message}`.slice(
            0,
            900,
          ),
        { cause: 'E_STORE' },
      )
      .catch((err: unknown) => this.#parts.logger.error({ err }, 'raising a store alarm failed'));
  }

  /**
   * The time a batch request waits for the answer before a peer still processing it says so
   * (`202`): well within `failoverMs`, so a slow peer is not taken for a dead path.
   */
  get answerWaitMs(): number {
    return Math.max(20, Math.floor(this.#parts.config.outbox.failoverMs / 3));
  }

  async #carry(
    party: string,
    path: PathStatus,
    batch: string,
    witnessed: number | undefined,
    alive: () => void,
  ): Promise<Sent> {
    const timeout = this.#parts.config.outbox.sendTimeoutMs;
    if (path.kind === 'relay') {
      await this.#deposit(party, path, batch, timeout);
      this.#parts.metrics.relayDeposits.inc({ peer: party, path: path.path });
      return { kind: 'deposited', path: path.path };
    }
    // An older peer ignores `witnessed`, answers without proofs, and is asked for them (the GET);
    // it ignores `wait` too, and answers when it is done, as before.
    const query = `${witnessed === undefined ? '' : `witnessed=${witnessed}&`}wait=`;
    const deadline = Date.now() + PROCESSING_MAX_MS;
    let answer = await this.#post(party, path, batch, `?${query}${this.answerWaitMs}`, timeout);
    let processing = 0;
    while (!schemaError(BatchProcessing, answer)) {
      const { processing: key } = answer as BatchProcessing;
      if (processing++ === 0) {
        alive();
        this.#parts.metrics.batchesProcessing.inc({ peer: party });
      }
      if (Date.now() > deadline)
        throw new TransportError(
          `${path.url}: the batch was still being processed after ${PROCESSING_MAX_MS} ms`,
        );
      const { url, tls } = this.connection(party, path);
      answer = await getJson(
        `${url}/federation/v1/batches/${key}?${query}${POLL_WAIT_MS}`,
        POLL_WAIT_MS + timeout,
        {},
        tls,
      ).catch((e: unknown) => {
        // The peer forgot the batch (it restarted): send it again, on this path.
        if (e instanceof TransportError && e.code === 'E_NOT_FOUND')
          return this.#post(party, path, batch, `?${query}${this.answerWaitMs}`, timeout);
        throw e;
      });
    }
    const error = schemaError(BatchResult, answer);
    if (error) throw new ProtocolError('E_MALFORMED', `batch answer ${error}`);
    return { kind: 'answer', path: path.path, answer: answer as BatchResult, processing };
  }

  #post(
    party: string,
    path: PathStatus,
    batch: string,
    query: string,
    timeout: number,
  ): Promise<unknown> {
    const { url, tls } = this.connection(party, path);
    return postJson(`${url}/federation/v1/envelopes${query}`, batch, timeout, {}, tls).catch(
      async (e: unknown) => {
        if (e instanceof TransportError && e.code === 'E_STORE') await this.#peerStore(party, e);
        throw e;
      },
    );
  }
}
