/**
 * Web Push subscriptions of people: each browser or phone a person subscribed from the console,
 * kept by its push service endpoint (one row per endpoint, held by one person). Kysely
 * builders only, so it runs on every backend; what is sent is in src/node/incidents/push.ts.
 *
 * @example
 *   const subscriptions = new PushStore(store);
 *   const phones = await subscriptions.ofUser('olga');
 */
import { sha256, toHex, utf8 } from '../protocol/encoding.ts';
import type { PushSubscriptionsTable } from './schema.ts';
import type { Executor, Store } from './store.ts';

export type PushSubscriptionRow = PushSubscriptionsTable;

/** How a subscription is named in the API: the first 32 hex digits of SHA-256(endpoint). */
export function subscriptionId(endpoint: string): string {
  return toHex(sha256(utf8(endpoint))).slice(0, 32);
}

export class PushStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Adds a subscription, or gives one `row.user_name` holds its new keys (the API refuses another's). */
  async put(row: Omit<PushSubscriptionRow, 'id' | 'last_ok_at' | 'last_error'>) {
    const id = subscriptionId(row.endpoint);
    await this.#store.transaction(async (tx) => {
      await tx.deleteFrom('push_subscriptions').where('id', '=', id).execute();
      await tx
        .insertInto('push_subscriptions')
        .values({ ...row, id, last_ok_at: null, last_error: null })
        .execute();
    });
    return id;
  }

  /** Who subscribed `endpoint`, or undefined when nobody has. */
  async holderOf(endpoint: string): Promise<string | undefined> {
    const row = await this.#store.db
      .selectFrom('push_subscriptions')
      .select('user_name')
      .where('id', '=', subscriptionId(endpoint))
      .executeTakeFirst();
    return row?.user_name;
  }

  async ofUser(user: string, q: Executor = this.#store.db): Promise<PushSubscriptionRow[]> {
    return q
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('user_name', '=', user)
      .orderBy('created_at')
      .execute();
  }

  /** Removes one subscription; with `user`, only if it is theirs. True when one was removed. */
  async remove(id: string, user?: string): Promise<boolean> {
    let query = this.#store.db.deleteFrom('push_subscriptions').where('id', '=', id);
    if (user !== undefined) query = query.where('user_name', '=', user);
    const result = await query.executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** What the last send to a subscription gave: its time when delivered, else why not. */
  async outcome(id: string, at: string, error: string | null): Promise<void> {
    await this.#store.db
      .updateTable('push_subscriptions')
      .set(error === null ? { last_ok_at: at, last_error: null } : { last_error: error })
      .where('id', '=', id)
      .execute();
  }
}
