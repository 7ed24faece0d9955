/**
 * Card expiry, looked at well before it bites: our own card and every pinned peer's. Within
 * `WARN_DAYS` of its `expires` a card raises a `card-expiring` alarm, once past it a
 * `card-expired` alarm (each once while open). A peer refuses messages signed under an expired
 * card (`E_CARD_EXPIRED`); `hotline rotate` issues a new card valid for two years.
 */
import type { Card } from '../../protocol/card.ts';
import type { Alarms } from './alarms.ts';
import type { Peers } from './peers.ts';

export const WARN_DAYS = 30;
const DAY_MS = 24 * 3600 * 1000;

export interface ExpiryParts {
  card: { card: Card };
  peers: Peers;
  alarms: Alarms;
  clock: () => Date;
}

/** What a card's expiry calls for now: nothing, a warning, or that it has expired. */
export function expiryState(card: Card, now: Date): 'valid' | 'expiring' | 'expired' {
  const left = Date.parse(card.expires) - now.getTime();
  if (left <= 0) return 'expired';
  return left <= WARN_DAYS * DAY_MS ? 'expiring' : 'valid';
}

/** Raises the alarms our card and the peers' cards call for; answers how many it looked at. */
export async function checkCardExpiry(parts: ExpiryParts): Promise<number> {
  const { card, peers, alarms, clock } = parts;
  const now = clock();
  const cards: Array<{ whose: string; party: string | null; card: Card }> = [
    { whose: 'this node’s card', party: null, card: card.card },
    ...[...peers.values()].map((p) => ({
      whose: `the card of "${p.party}"`,
      party: p.party,
      card: p.card,
    })),
  ];
  for (const { whose, party, card } of cards) {
    const state = expiryState(card, now);
    if (state === 'expired')
      await alarms.raise(
        'card-expired',
        party,
        `${whose} expired at ${card.expires}: its messages are refused until ${party ? 'it rotates' : 'you run hotline rotate'}`,
      );
    else if (state === 'expiring')
      await alarms.raise(
        'card-expiring',
        party,
        `${whose} expires at ${card.expires}: ${party ? 'ask its operators to rotate' : 'run hotline rotate'} before then`,
      );
  }
  return cards.length;
}
