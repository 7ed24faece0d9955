/**
 * The people side of the store: accounts, tokens, sessions, desks, shifts, handovers and the audit
 * trail. Kysely builders only, so it runs on every backend; the rules live in src/node/people/accounts.ts,
 * src/node/people/roster.ts and src/node/people/trail.ts.
 *
 * @example
 *   const people = new PeopleStore(store);
 *   const user = await people.user('alice');
 */
import { sql } from 'kysely';
import { fromJson, type Parsed, toJson } from './json.ts';
import type {
  AuditTable,
  DeskStaffTable,
  DesksTable,
  HandoversTable,
  SessionsTable,
  ShiftsTable,
  TokensTable,
  UsersTable,
} from './schema.ts';
import type { Executor, Store } from './store.ts';

export type UserRow = UsersTable;
export type TokenRow = TokensTable;
export type SessionRow = SessionsTable;
export type DeskRow = DesksTable;
export type StaffRow = Parsed<DeskStaffTable>;
export type ShiftRow = Omit<ShiftsTable, 'id'> & { id: number };
export type HandoverRow = Omit<Parsed<HandoversTable>, 'id'> & { id: number };
export type AuditRow = Parsed<AuditTable>;
export type NewAudit = Omit<AuditRow, 'id' | 'hash' | 'leaf_index'>;

export class PeopleStore {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  get db(): Executor {
    return this.#store.db;
  }

  transaction<T>(fn: (q: Executor) => Promise<T>): Promise<T> {
    return this.#store.transaction(fn);
  }

  // users

  async user(name: string, q: Executor = this.db): Promise<UserRow | undefined> {
    const [row] = await this.#store.rows(
      q.selectFrom('users').selectAll().where('name', '=', name),
      q,
      true,
    );
    return row && { ...row, failed_logins: Number(row.failed_logins) };
  }

  async users(q: Executor = this.db): Promise<UserRow[]> {
    const rows = await q.selectFrom('users').selectAll().orderBy('name').execute();
    return rows.map((r) => ({ ...r, failed_logins: Number(r.failed_logins) }));
  }

  async countUsers(q: Executor = this.db): Promise<number> {
    const row = await q
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async addUser(row: UserRow, q: Executor = this.db): Promise<void> {
    await q.insertInto('users').values(row).execute();
  }

  async updateUser(
    name: string,
    set: Partial<Omit<UserRow, 'name'>>,
    q: Executor = this.db,
  ): Promise<void> {
    await q.updateTable('users').set(set).where('name', '=', name).execute();
  }

  // tokens

  async token(id: string, q: Executor = this.db): Promise<TokenRow | undefined> {
    return q.selectFrom('tokens').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async tokens(user: string | undefined, q: Executor = this.db): Promise<TokenRow[]> {
    let query = q.selectFrom('tokens').selectAll();
    if (user !== undefined) query = query.where('user_name', '=', user);
    return query.orderBy('created_at').execute();
  }

  async addToken(row: TokenRow, q: Executor = this.db): Promise<void> {
    await q.insertInto('tokens').values(row).execute();
  }

  async touchToken(id: string, at: string, q: Executor = this.db): Promise<void> {
    await q.updateTable('tokens').set({ last_used_at: at }).where('id', '=', id).execute();
  }

  /** Revokes one token, or every live token of a user; returns how many were revoked. */
  async revokeTokens(
    where: { id: string } | { user: string },
    at: string,
    q: Executor = this.db,
  ): Promise<number> {
    let query = q.updateTable('tokens').set({ revoked_at: at }).where('revoked_at', 'is', null);
    query =
      'id' in where ? query.where('id', '=', where.id) : query.where('user_name', '=', where.user);
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  // sessions

  async session(idHash: string, q: Executor = this.db): Promise<SessionRow | undefined> {
    return q.selectFrom('sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
  }

  async addSession(row: SessionRow, q: Executor = this.db): Promise<void> {
    await q.insertInto('sessions').values(row).execute();
  }

  async renewSession(idHash: string, idleUntil: string, q: Executor = this.db): Promise<void> {
    await q
      .updateTable('sessions')
      .set({ idle_until: idleUntil })
      .where('id_hash', '=', idHash)
      .execute();
  }

  /** Ends one session, or every session of a user. */
  async endSessions(
    where: { idHash: string } | { user: string },
    q: Executor = this.db,
  ): Promise<number> {
    const query = q.deleteFrom('sessions');
    const result = await ('idHash' in where
      ? query.where('id_hash', '=', where.idHash)
      : query.where('user_name', '=', where.user)
    ).executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async sessionCount(user: string, q: Executor = this.db): Promise<number> {
    const row = await q
      .selectFrom('sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('user_name', '=', user)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  // desks and staff

  async desk(id: string, q: Executor = this.db): Promise<DeskRow | undefined> {
    const [row] = await this.#store.rows(
      q.selectFrom('desks').selectAll().where('id', '=', id),
      q,
      true,
    );
    return row;
  }

  async desks(q: Executor = this.db): Promise<DeskRow[]> {
    return q.selectFrom('desks').selectAll().orderBy('id').execute();
  }

  async addDesk(row: DeskRow, q: Executor = this.db): Promise<void> {
    await q.insertInto('desks').values(row).execute();
  }

  async staff(desk: string | undefined, q: Executor = this.db): Promise<StaffRow[]> {
    let query = q.selectFrom('desk_staff').selectAll();
    if (desk !== undefined) query = query.where('desk', '=', desk);
    const rows = await this.#store.rows(query.orderBy('desk').orderBy('user_name'), q, true);
    return rows.map((r) => ({ ...r, routes: fromJson(r.routes) }));
  }

  async putStaff(row: StaffRow, q: Executor = this.db): Promise<void> {
    const routes = toJson(row.routes);
    await q
      .insertInto('desk_staff')
      .values({ ...row, routes })
      .onConflict((oc) => oc.columns(['desk', 'user_name']).doUpdateSet({ routes }))
      .execute();
  }

  async removeStaff(desk: string, user: string, q: Executor = this.db): Promise<number> {
    const result = await q
      .deleteFrom('desk_staff')
      .where('desk', '=', desk)
      .where('user_name', '=', user)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  // shifts

  /** Live shifts of a desk that overlap [from, to): at most one covers any instant. */
  async shifts(desk: string, from: string, to: string, q: Executor = this.db): Promise<ShiftRow[]> {
    const rows = await this.#store.rows(
      q
        .selectFrom('shifts')
        .selectAll()
        .where('desk', '=', desk)
        .where('cancelled_at', 'is', null)
        .where('starts_at', '<', to)
        .where('ends_at', '>', from)
        .orderBy('starts_at'),
      q,
      true,
    );
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  async shift(id: number, q: Executor = this.db): Promise<ShiftRow | undefined> {
    const row = await q.selectFrom('shifts').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...row, id: Number(row.id) };
  }

  /** The roster's version token (migration 0034): changed by every write to what `onDuty` reads. */
  async rosterVersion(q: Executor = this.db): Promise<string> {
    // Read at every escalation step (each received flash): kept SQL, not built by Kysely.
    const [row] = await this.#store.rawRows<{ version: unknown }>(
      'select version from roster_version where id = 1',
      [],
      q,
      true,
    );
    return String(row?.version);
  }

  /** The first live shift of a desk starting at or after `at`. */
  async nextShift(desk: string, at: string, q: Executor = this.db): Promise<ShiftRow | undefined> {
    const [row] = await this.#store.rows(
      q
        .selectFrom('shifts')
        .selectAll()
        .where('desk', '=', desk)
        .where('cancelled_at', 'is', null)
        .where('starts_at', '>=', at)
        .orderBy('starts_at')
        .limit(1),
      q,
      true,
    );
    return row && { ...row, id: Number(row.id) };
  }

  async addShift(row: Omit<ShiftRow, 'id'>, q: Executor = this.db): Promise<number> {
    const inserted = await q
      .insertInto('shifts')
      .values(row)
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(inserted.id);
  }

  async cancelShift(id: number, at: string, q: Executor = this.db): Promise<number> {
    const result = await q
      .updateTable('shifts')
      .set({ cancelled_at: at })
      .where('id', '=', id)
      .where('cancelled_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  // handovers

  async handover(id: number, q: Executor = this.db): Promise<HandoverRow | undefined> {
    const row = await q.selectFrom('handovers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { ...row, id: Number(row.id), items: fromJson(row.items) };
  }

  async handovers(desk: string | undefined, q: Executor = this.db): Promise<HandoverRow[]> {
    let query = q.selectFrom('handovers').selectAll();
    if (desk !== undefined) query = query.where('desk', '=', desk);
    const rows = await query.orderBy('id', 'desc').limit(100).execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), items: fromJson(r.items) }));
  }

  async addHandover(row: Omit<HandoverRow, 'id'>, q: Executor = this.db): Promise<number> {
    const inserted = await q
      .insertInto('handovers')
      .values({ ...row, items: toJson(row.items) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(inserted.id);
  }

  async confirmHandover(id: number, at: string, q: Executor = this.db): Promise<number> {
    const result = await q
      .updateTable('handovers')
      .set({ confirmed_at: at })
      .where('id', '=', id)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  // audit

  /**
   * Appends an entry with id = max + 1, in one statement, so writers in two processes (a node and
   * `hotline export` beside it) never take the same id.
   */
  async addAudit(entry: NewAudit, q: Executor = this.db): Promise<void> {
    await sql`insert into audit (id, at, actor, role, via, source, action, target, outcome, detail)
      select coalesce(max(id), 0) + 1, ${entry.at}, ${entry.actor}, ${entry.role}, ${entry.via},
        ${entry.source}, ${entry.action}, ${entry.target}, ${entry.outcome}, ${toJson(entry.detail)}
      from audit`.execute(q);
  }

  async unanchoredAudit(q: Executor = this.db): Promise<AuditRow[]> {
    const rows = await q
      .selectFrom('audit')
      .selectAll()
      .where('leaf_index', 'is', null)
      .orderBy('id')
      .limit(1000)
      .execute();
    return rows.map(auditRow);
  }

  async anchorAudit(id: number, hash: string, leafIndex: number, q: Executor): Promise<void> {
    await q
      .updateTable('audit')
      .set({ hash, leaf_index: leafIndex })
      .where('id', '=', id)
      .execute();
  }

  async audit(
    filter: { actor?: string; action?: string; since?: string; before?: number; limit: number },
    q: Executor = this.db,
  ): Promise<AuditRow[]> {
    let query = q.selectFrom('audit').selectAll();
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.since !== undefined) query = query.where('at', '>=', filter.since);
    if (filter.before !== undefined) query = query.where('id', '<', filter.before);
    const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
    return rows.map(auditRow);
  }

  /** Every entry, oldest first, a page at a time (for the integrity check). */
  async auditPage(after: number, limit: number, q: Executor = this.db): Promise<AuditRow[]> {
    const rows = await q
      .selectFrom('audit')
      .selectAll()
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(auditRow);
  }

  /** Ledger leaves that are audit anchors: `{leaf: event, type: audit}`. */
  async auditLeaves(q: Executor = this.db): Promise<{ idx: number; leaf: string }[]> {
    const rows = await q
      .selectFrom('ledger_leaves')
      .select(['idx', 'leaf'])
      .where('leaf', 'like', '%"leaf":"event","type":"audit"}')
      .orderBy('idx')
      .execute();
    return rows.map((r) => ({ idx: Number(r.idx), leaf: r.leaf }));
  }
}

function auditRow(row: AuditTable): AuditRow {
  return {
    ...row,
    id: Number(row.id),
    leaf_index: row.leaf_index === null ? null : Number(row.leaf_index),
    detail: fromJson(row.detail),
  };
}
