/**
 * Pinned peers: the cards compared at a key ceremony, and what the node tracks per peer.
 */
import { fingerprint, verifyCard } from '../../crypto/card.ts';
import type { PinnedPeer } from '../../crypto/receive.ts';
import type { SignedCard } from '../../protocol/card.ts';
import type { Store } from '../../store/store.ts';

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

/** Pins a verified card (after the operator compared its fingerprint). */
export async function pinPeer(store: Store, signed: SignedCard, me: string): Promise<void> {
  const card = verifyCard(signed).card;
  if (card.party === me) throw new Error(`that is this node's own card ("${me}")`);
  await store.putPeer(card.party, signed, []);
}
