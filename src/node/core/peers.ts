/**
 * Pinned peers: the cards compared at a key ceremony, and what the node tracks per peer.
 */
import { fingerprint, verifyCard } from '../../crypto/card.ts';
import type { PinnedPeer } from '../../crypto/receive.ts';
import type { SignedCard } from '../../protocol/card.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { Store } from '../../store/store.ts';
import { SeqTracker } from './seqs.ts';

export interface Peer extends PinnedPeer {
  party: string;
  signed: SignedCard;
  fingerprint: string;
}

export async function loadPeers(store: Store): Promise<Map<string, Peer>> {
  const peers = new Map<string, Peer>();
  for (const row of await store.listPeers()) {
    const signed = verifyCard(row.card);
    const retired = row.retired;
    peers.set(row.party, {
      party: row.party,
      signed,
      card: signed.card,
      retired,
      fingerprint: fingerprint(signed.card),
    });
  }
  return peers;
}

/**
 * The pinned peers of a running node, and which of each peer's seqs have arrived (what heartbeats
 * report). `hotline peer add` pins a peer in the store; `reload` picks it up.
 */
export class Peers {
  readonly #store: Store;
  readonly #peers: Map<string, Peer>;
  readonly #received = new Map<string, SeqTracker>();

  private constructor(store: Store, peers: Map<string, Peer>) {
    this.#store = store;
    this.#peers = peers;
  }

  static async open(store: Store): Promise<Peers> {
    const peers = new Peers(store, await loadPeers(store));
    for (const party of peers.keys())
      peers.#received.set(party, new SeqTracker(await store.inboxSeqs(party)));
    return peers;
  }

  /** A pinned peer; `E_UNKNOWN_PARTY` when `party` is not one. */
  pinned(party: string): Peer {
    const peer = this.#peers.get(party);
    if (!peer) throw new ProtocolError('E_UNKNOWN_PARTY', `"${party}" is not a pinned peer`);
    return peer;
  }

  get(party: string): Peer | undefined {
    return this.#peers.get(party);
  }

  has(party: string): boolean {
    return this.#peers.has(party);
  }

  /**
   * The `peer` label of a metric about something claiming to come from `party`: the party when
   * pinned, else `unknown` — so a stranger's made-up names never become series of their own.
   */
  label(party: string | undefined): string {
    return party !== undefined && this.#peers.has(party) ? party : 'unknown';
  }

  get size(): number {
    return this.#peers.size;
  }

  keys(): IterableIterator<string> {
    return this.#peers.keys();
  }

  values(): IterableIterator<Peer> {
    return this.#peers.values();
  }

  /** The seqs received from `party` so far. */
  received(party: string): SeqTracker {
    let tracker = this.#received.get(party);
    if (!tracker) {
      tracker = new SeqTracker();
      this.#received.set(party, tracker);
    }
    return tracker;
  }

  /**
   * Replicas: every message another replica stored joins this one's seqs received — at its notice
   * (`party`), and every few seconds for all peers, so also what no notice reached this one about
   * (a replica killed between its commit and its notice, a channel listening again). One indexed
   * read per peer, of the seqs above the contiguous one.
   */
  async catchUp(party?: string): Promise<void> {
    for (const p of party === undefined ? [...this.#peers.keys()] : [party]) {
      if (!this.#peers.has(p)) continue;
      const tracker = this.received(p);
      for (const seq of await this.#store.inboxSeqs(p, tracker.contiguous)) tracker.add(seq);
    }
  }

  /** Pins a peer's rotated card and retired keys (once the rotation is durable). */
  repin(party: string, signed: SignedCard, retired: Peer['retired']): void {
    this.#peers.set(party, {
      party,
      signed,
      card: signed.card,
      retired,
      fingerprint: fingerprint(signed.card),
    });
  }

  /** Re-reads pinned peers (after `hotline peer add` on a running node's store). */
  async reload(): Promise<void> {
    const fresh = await loadPeers(this.#store);
    for (const party of fresh.keys())
      if (!this.#received.has(party))
        this.#received.set(party, new SeqTracker(await this.#store.inboxSeqs(party)));
    // Updated in place with no await between: a release never sees the map half refilled, and a
    // loop over the peers that awaits meanwhile never visits a peer twice (a cleared and re-added
    // key would be visited again).
    for (const party of [...this.#peers.keys()]) if (!fresh.has(party)) this.#peers.delete(party);
    for (const [party, peer] of fresh) this.#peers.set(party, peer);
  }
}

/**
 * Pins a verified card (after the operator compared its fingerprint). A party pinned already is
 * pinned again only with a card of the same fingerprint (new endpoints), its retired keys kept:
 * other keys for it arrive by its signed rotation, never by a card handed over again.
 */
export async function pinPeer(store: Store, signed: SignedCard, me: string): Promise<void> {
  const card = verifyCard(signed).card;
  if (card.party === me)
    throw new ProtocolError(
      'E_BAD_CARD',
      `that is this node's own card ("${me}"): pin the card of the peer`,
    );
  const pinned = (await store.listPeers()).find((p) => p.party === card.party);
  if (pinned && fingerprint(pinned.card.card) !== fingerprint(card))
    throw new ProtocolError(
      'E_CONFLICT',
      `"${card.party}" is pinned already, with the fingerprint ${fingerprint(pinned.card.card)}; this card has ${fingerprint(card)}. A peer's new keys arrive by its rotation (hotline rotate), never by pinning another card`,
    );
  if (pinned && card.serial < pinned.card.card.serial)
    throw new ProtocolError(
      'E_CONFLICT',
      `"${card.party}" is pinned already with its card serial ${pinned.card.card.serial}; this card is serial ${card.serial}, older: its keys were rotated since`,
    );
  await store.putPeer(card.party, signed, pinned?.retired ?? []);
}
