/** Which messages answer which: replies and acknowledgements point at the message they answer. */
import { awaitsPerson } from '../../src/protocol/flows.ts';
import type { InboxItem, OutboxItem } from '../../src/protocol/views.ts';
import { ALARMING } from './alarm.ts';

/** The acknowledgements and the other replies of message `id`, among `inbox` and `outbox`. */
export function answersTo(
  id: string,
  inbox: InboxItem[],
  outbox: OutboxItem[],
): { acks: Array<InboxItem | OutboxItem>; replies: Array<InboxItem | OutboxItem> } {
  const all = [...inbox, ...outbox].filter((m) => m.body.inReplyTo === id);
  return {
    acks: all.filter((m) => m.body.type === 'ack'),
    replies: all.filter((m) => m.body.type !== 'ack'),
  };
}

/** Received flash and immediate messages nobody here has acknowledged yet. */
export function unacknowledged(inbox: InboxItem[], outbox: OutboxItem[]): InboxItem[] {
  // A presence check is answered rather than acknowledged: the answer counts as the ack.
  const acked = new Set(
    outbox
      .filter((m) => m.body.type === 'ack' || m.body.presence?.answer)
      .map((m) => `${m.to}/${m.body.inReplyTo}`),
  );
  return inbox.filter(
    (m) =>
      ALARMING.includes(m.body.precedence) &&
      awaitsPerson(m.body) &&
      !acked.has(`${m.from}/${m.id}`),
  );
}
