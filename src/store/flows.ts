/**
 * The messages of presence checks and conferences (src/protocol/flows.ts derives the flows), found
 * through the search index's `type` column (index `search_type`, migration 0023-flows) rather than
 * a scan of the bodies. Kysely builders only, so it runs on every backend.
 *
 * @example
 *   const messages = await flowMessages(store.db, 'conference', 500);
 *   const calls = conferences(messages);
 */
import type { FlowMessage } from '../protocol/flows.ts';
import { fromJson } from './json.ts';
import type { Executor } from './store.ts';

/**
 * The newest `limit` messages of `type` on each side (sent, one per recipient, and received),
 * with when the other side stored them: ours from its receipt, theirs on arrival here.
 */
export async function flowMessages(
  q: Executor,
  type: 'presence' | 'conference',
  limit: number,
): Promise<FlowMessage[]> {
  const received = await q
    .selectFrom('search')
    .innerJoin('inbox', (j) =>
      j.onRef('inbox.party', '=', 'search.party').onRef('inbox.id', '=', 'search.id'),
    )
    .select([
      'inbox.party',
      'inbox.id',
      'inbox.received_at',
      'inbox.body',
      'search.author',
      'search.sent',
    ])
    .where('search.type', '=', type)
    .where('search.dir', '=', 'in')
    .orderBy('search.doc', 'desc')
    .limit(limit)
    .execute();
  const sent = await q
    .selectFrom('search')
    .innerJoin('outbox', (j) =>
      j.onRef('outbox.party', '=', 'search.party').onRef('outbox.id', '=', 'search.id'),
    )
    .select([
      'outbox.party',
      'outbox.id',
      'outbox.peer_received_at',
      'outbox.body',
      'search.author',
      'search.sent',
    ])
    .where('search.type', '=', type)
    .where('search.dir', '=', 'out')
    .orderBy('search.doc', 'desc')
    .limit(limit)
    .execute();
  return [
    ...received.map(
      (r): FlowMessage => ({
        dir: 'in',
        party: r.party,
        from: r.author,
        id: r.id,
        sent: r.sent,
        received: r.received_at,
        body: fromJson(r.body),
      }),
    ),
    ...sent.map(
      (r): FlowMessage => ({
        dir: 'out',
        party: r.party,
        from: r.author,
        id: r.id,
        sent: r.sent,
        received: r.peer_received_at,
        body: fromJson(r.body),
      }),
    ),
  ];
}
