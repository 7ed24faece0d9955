/**
 * Collecting from relays (src/relay): every `relayPollMs` the node empties its box at each relay
 * it knows — those its own card lists, its `relays` setting, and the relay paths to its peers —
 * over pinned mutual TLS to a relay the configuration pins (paths.ts `relayConnection`).
 * Envelopes go through the same checks as a federation batch (`Node.receiveBatch`); the answer,
 * with its signed receipts, is deposited in the sender's box at the same relay. Answers found in
 * our box are peers' receipts for what we deposited, verified and settled as if they had come
 * back directly. Items are acknowledged (removed) only after all that, so a crash in between
 * means they are collected again, and the receiver's deduplication answers with the original
 * receipts.
 */
import type { Logger } from 'pino';
import type { NodeKeys } from '../../crypto/keys.ts';
import { relayAuthHeaders } from '../../crypto/relay-auth.ts';
import { verifyReceiptSignature } from '../../crypto/statements.ts';
import type { TlsIdentity } from '../../crypto/tls.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { BatchResult } from '../../protocol/federation.ts';
import {
  Collected,
  type CollectedItem,
  RelayedAnswer,
  type RelayedProofs,
} from '../../protocol/relay.ts';
import { schemaError } from '../../protocol/validate.ts';
import type { Alarms } from '../core/alarms.ts';
import { type Config, relayKey, relayUrls } from '../core/config.ts';
import type { Metrics } from '../core/metrics.ts';
import type { Node } from '../core/node.ts';
import type { Peers } from '../core/peers.ts';
import type { ReceiptProofs } from '../record/receipt-proofs.ts';
import type { Witness } from '../record/witness.ts';
import type { Outbox } from './outbox.ts';
import { type Paths, relayConnection } from './paths.ts';
import { getJson, postJson, type TlsClient, TransportError } from './transport.ts';

/** Rounds of collecting per relay per tick, so a full box drains quickly but not forever. */
const ROUNDS = 8;
export interface RelayParts {
  config: Config;
  /** Its signing key signs every request to a relay. */
  keys: NodeKeys;
  /** Our TLS certificate, shown to relays reached over `https:`. */
  tls: TlsIdentity | undefined;
  /** A relay presenting a certificate other than its pin is alarmed (`tls-pin`). */
  alarms: Alarms;
  card: SignedCard;
  node: Node;
  receiptProofs: ReceiptProofs;
  peers: Peers;
  paths: Paths;
  witness: Witness;
  outbox: Outbox;
  metrics: Metrics;
  logger: Logger;
}

export class RelayCollector {
  readonly #parts: RelayParts;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(parts: RelayParts) {
    this.#parts = parts;
  }

  start(): void {
    this.#stopped = false;
    const tick = () => {
      if (this.#running || this.#stopped) return;
      this.#running = this.collectAll().finally(() => {
        this.#running = undefined;
      });
    };
    tick();
    this.#timer = setInterval(tick, this.#parts.config.relayPollMs);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#running;
  }

  /** Every relay this node collects from, once each however many URLs name it. */
  relays(): string[] {
    const { config, card, peers, paths } = this.#parts;
    const urls = new Map<string, string>();
    const add = (url: string) => {
      if (!urls.has(relayKey(url))) urls.set(relayKey(url), url);
    };
    for (const url of relayUrls(config)) add(url);
    for (const e of card.card.endpoints) if (e.kind === 'relay') add(e.url);
    for (const party of peers.keys())
      for (const p of paths.list(party)) if (p.kind === 'relay') add(p.url);
    return [...urls.values()];
  }

  async collectAll(): Promise<void> {
    await Promise.all(
      this.relays().map(async (url) => {
        try {
          for (let round = 0; round < ROUNDS && !this.#stopped; round++)
            if ((await this.collect(url)) === 0) break;
        } catch (e) {
          this.#parts.logger.debug({ relay: url, reason: (e as Error).message }, 'relay collect');
        }
      }),
    );
  }

  /** One round at one relay; answers how many items it took in. */
  async collect(relay: string): Promise<number> {
    const { config, metrics } = this.#parts;
    const timeout = config.outbox.sendTimeoutMs;
    const { url, tls } = relayConnection(config, this.#parts.tls, relay);
    const box = `${url}/relay/v1/boxes/${config.party}`;
    const collect = `${box}?after=0&limit=256`;
    const answer = await getJson(collect, timeout, this.#signed('GET', collect), tls).catch(
      async (e: unknown) => {
        if (e instanceof TransportError && e.code === 'E_TLS_PIN') await this.#pinAlarm(relay, e);
        throw e;
      },
    );
    const error = schemaError(Collected, answer);
    if (error) throw new ProtocolError('E_MALFORMED', `the relay's answer ${error}`);
    const { items } = answer as Collected;
    if (!items.length) return 0;
    const envelopes = items.filter((i) => i.kind === 'envelope');
    if (envelopes.length) await this.#receive(url, tls, envelopes);
    for (const item of items) if (item.kind === 'answer') await this.#settle(item);
    metrics.relayCollected.inc({ kind: 'envelope' }, envelopes.length);
    metrics.relayCollected.inc({ kind: 'answer' }, items.length - envelopes.length);
    const upTo = Math.max(...items.map((i) => i.n));
    const ack = JSON.stringify({ upTo });
    await postJson(`${box}/ack`, ack, timeout, this.#signed('POST', `${box}/ack`, ack), tls);
    return items.length;
  }

  /**
   * The relay answered with a certificate that is not its pin: something in the middle, or
   * another server at its address. One `tls-pin` alarm per relay, counted while it lasts;
   * nothing was collected there, nor signed for it.
   */
  async #pinAlarm(relay: string, e: TransportError): Promise<void> {
    await this.#parts.alarms
      .raise(
        'tls-pin',
        null,
        `the relay ${relay} answered with a TLS certificate that is not the relay's pin in our configuration; nothing was collected from it: ${e.message}`.slice(
          0,
          900,
        ),
        { cause: `relay ${relayKey(relay)}`.slice(0, 200) },
      )
      .catch((err: unknown) => this.#parts.logger.error({ err }, 'raising a TLS alarm failed'));
  }

  #signed(method: 'GET' | 'POST', url: string, body?: string) {
    const { config, keys } = this.#parts;
    return relayAuthHeaders(config.party, keys.signer('signing'), method, url, body);
  }

  /** Checks and stores envelopes like a federation batch, and leaves the answers at the relay. */
  async #receive(url: string, tls: TlsClient, items: CollectedItem[]): Promise<void> {
    const { node, peers, config } = this.#parts;
    const result = await node.receiveBatch(items.map((i) => i.data));
    const senders = new Set(items.map((i) => i.from));
    for (const sender of senders) {
      if (!peers.has(sender)) continue;
      const mine: BatchResult = {
        receipts: result.receipts.filter((r) => r.receipt.to === sender),
        rejected: result.rejected.filter((r) => items[r.index]?.from === sender),
      };
      if (!mine.receipts.length && !mine.rejected.length) continue;
      const proofs = await this.#proofs(sender, mine);
      const to = `${url}/relay/v1/boxes/${sender}/answers`;
      const body = JSON.stringify({ from: config.party, result: mine, proofs });
      await postJson(to, body, config.outbox.sendTimeoutMs, this.#signed('POST', to, body), tls);
    }
  }

  /**
   * Consistency proofs the sender may need to accept the answer's receipts without a direct
   * path: from the size it last co-signed and the sizes we answered it lately.
   */
  async #proofs(peer: string, answer: BatchResult): Promise<RelayedProofs> {
    const { receiptProofs, witness } = this.#parts;
    const cosigned = (await witness.status(peer)).cosigned?.size;
    return receiptProofs.for(peer, answer.receipts, cosigned ? [cosigned] : []);
  }

  /**
   * A peer's answer to what we deposited: its receipts, verified like any other. Anyone who can
   * reach the relay can leave an answer claiming to be from a peer, so before anything is
   * recorded or alarmed each receipt's signature is checked against the claimed peer's card: one
   * it did not sign is dropped and counted, never an alarm blaming that peer. The answer's
   * refusals and proofs are unsigned: refusals name no row here (nothing is alarmed or marked by
   * them) and proofs are offered only with a receipt the peer signed (and checked when used).
   */
  async #settle(item: CollectedItem): Promise<void> {
    const { config, peers, witness, outbox, metrics, logger } = this.#parts;
    if (!peers.has(item.from)) {
      metrics.relayDropped.inc({ reason: 'unknown' });
      return;
    }
    const error = schemaError(RelayedAnswer, item.data);
    if (error) {
      metrics.relayDropped.inc({ reason: 'malformed' });
      logger.warn({ peer: item.from, reason: error }, 'a relayed answer is malformed');
      return;
    }
    const { result, proofs } = item.data as RelayedAnswer;
    const card = peers.pinned(item.from).card;
    const receipts = result.receipts.filter((r) => {
      try {
        verifyReceiptSignature(r, card, config.party);
        return true;
      } catch {
        return false;
      }
    });
    const unsigned = result.receipts.length - receipts.length;
    if (unsigned) {
      metrics.relayDropped.inc({ reason: 'unsigned' }, unsigned);
      logger.warn(
        { peer: item.from, dropped: unsigned },
        'a relayed answer carries receipts the party it names did not sign: dropped',
      );
    }
    if (!receipts.length) return;
    witness.offerProofs(item.from, proofs);
    await outbox.settle(item.from, { receipts, rejected: result.rejected });
  }
}
