/**
 * The approvals queue of the two-person rule, and the reads readiness needs. Kysely builders only,
 * so it runs on every backend; the rules live in src/node/incidents/approvals.ts and src/node/incidents/readiness.ts.
 *
 * A draft moves pending → releasing → released, or pending → rejected, each step one conditional
 * update: two officers deciding the same draft at once cannot both win.
 *
 * @example
 *   const drafts = new DraftStore(store);
 *   const pending = await drafts.list('pending', 100);
 */
import type { Body } from '../protocol/body.ts';
import { fromJson, type Json, type Parsed, toJson } from './json.ts';
import type { DraftsTable } from './schema.ts';
import type { Executor, Store } from './store.ts';

export type DraftRow = Parsed<DraftsTable>;
export type DraftState = DraftsTable['state'];

export interface MessageRow {
  party: string;
  id: string;
  body: Body;
  /** Outbox: created_at (our release). Inbox: received_at (our receipt). */
  at: string;
}

export class DraftStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get db(): Executor {
    return this.#store.db;
  }

  async add(row: DraftRow, q: Executor = this.db): Promise<void> {
    await q
      .insertInto('drafts')
      .values({
        ...row,
        recipients: toJson(row.recipients),
        message: toJson(row.message),
        rules: toJson(row.rules),
        seq: row.seq === null ? null : toJson(row.seq),
      })
      .execute();
  }

  async get(id: string, q: Executor = this.db): Promise<DraftRow | undefined> {
    const row = await q.selectFrom('drafts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && draftRow(row);
  }

  /** Newest first; every state when `state` is undefined. */
  async list(state: DraftState | undefined, limit: number, q: Executor = this.db) {
    let query = q.selectFrom('drafts').selectAll();
    if (state) query = query.where('state', '=', state);
    const rows = await query
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(draftRow);
  }

  /**
   * Takes a pending draft for release by `by`; false if it is no longer pending. With
   * `notAuthor`, a draft written by `by` is never taken (the two-person rule, in the statement).
   */
  async claim(
    id: string,
    by: string,
    at: string,
    notAuthor: boolean,
    q: Executor = this.db,
  ): Promise<boolean> {
    let query = q
      .updateTable('drafts')
      .set({ state: 'releasing', decided_by: by, decided_at: at })
      .where('id', '=', id)
      .where('state', '=', 'pending');
    if (notAuthor) query = query.where('author', '<>', by);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** A release that failed gives its draft back to the queue. */
  async unclaim(id: string, q: Executor = this.db): Promise<void> {
    await q
      .updateTable('drafts')
      .set({ state: 'pending', decided_by: null, decided_at: null, break_glass: null, note: null })
      .where('id', '=', id)
      .where('state', '=', 'releasing')
      .execute();
  }

  /** In the release's own transaction: the draft and its message become one fact. */
  async released(
    id: string,
    messageId: string,
    seq: Record<string, number>,
    extra: { note: string | null; breakGlass: string | null },
    q: Executor,
  ): Promise<void> {
    await q
      .updateTable('drafts')
      .set({
        state: 'released',
        message_id: messageId,
        seq: toJson(seq),
        note: extra.note,
        break_glass: extra.breakGlass,
      })
      .where('id', '=', id)
      .execute();
  }

  async reject(
    id: string,
    by: string,
    at: string,
    note: string,
    q: Executor = this.db,
  ): Promise<boolean> {
    const result = await q
      .updateTable('drafts')
      .set({ state: 'rejected', decided_by: by, decided_at: at, note })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .where('author', '<>', by)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Drafts left `releasing` by a node that stopped mid-release go back to the queue: their release
   * never committed, since the commit marks the draft released in the same transaction. With
   * `before`, only those claimed before it (replicas: a live one may be releasing one now).
   */
  async requeueInterrupted(before?: Date, q: Executor = this.db): Promise<number> {
    let query = q
      .updateTable('drafts')
      .set({ state: 'pending', decided_by: null, decided_at: null })
      .where('state', '=', 'releasing');
    if (before) query = query.where('decided_at', '<', before.toISOString());
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  // readiness: messages read back by time, newest first

  /** Released messages, newest first, `limit` rows from `offset`. */
  async outboxPage(offset: number, limit: number, q: Executor = this.db): Promise<MessageRow[]> {
    const rows = await q
      .selectFrom('outbox')
      .select(['party', 'id', 'body', 'created_at as at'])
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(messageRow);
  }

  /** Received messages, newest first, `limit` rows from `offset`. */
  async inboxPage(offset: number, limit: number, q: Executor = this.db): Promise<MessageRow[]> {
    const rows = await q
      .selectFrom('inbox')
      .select(['party', 'id', 'body', 'received_at as at'])
      .orderBy('received_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(messageRow);
  }

  /** Released messages since `at` (inclusive). */
  async outboxSince(at: string, q: Executor = this.db): Promise<MessageRow[]> {
    const rows = await q
      .selectFrom('outbox')
      .select(['party', 'id', 'body', 'created_at as at'])
      .where('created_at', '>=', at)
      .execute();
    return rows.map(messageRow);
  }

  /** Received messages since `at` (inclusive). */
  async inboxSince(at: string, q: Executor = this.db): Promise<MessageRow[]> {
    const rows = await q
      .selectFrom('inbox')
      .select(['party', 'id', 'body', 'received_at as at'])
      .where('received_at', '>=', at)
      .execute();
    return rows.map(messageRow);
  }
}

function draftRow(row: DraftsTable): DraftRow {
  return {
    ...row,
    recipients: fromJson(row.recipients),
    message: fromJson(row.message),
    rules: fromJson(row.rules),
    seq: row.seq === null ? null : fromJson(row.seq),
  };
}

function messageRow(row: Omit<MessageRow, 'body'> & { body: Json<Body> }): MessageRow {
  return { ...row, body: fromJson(row.body) };
}
