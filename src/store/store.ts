/**
 * The one storage interface the node uses. Queries are Kysely builders, so the same code runs on
 * every backend; a backend only supplies the Kysely dialect (sqlite/, postgres/).
 *
 * Methods take an optional executor `q`: pass a transaction to make several writes one commit.
 *
 * @example
 *   const store = await openSqliteStore('node.db');
 *   await store.transaction(async (tx) => { await store.setMeta('party', 'us', tx); });
 */
import {
  CompiledQuery,
  type Kysely,
  Migrator,
  type Selectable,
  type SqlBool,
  sql,
  type Transaction,
} from 'kysely';
import type { HashReader } from '../ledger/merkle.ts';
import type { Body } from '../protocol/body.ts';
import type { SignedCard } from '../protocol/card.ts';
import type { Envelope } from '../protocol/envelope.ts';
import type { FlowMessage } from '../protocol/flows.ts';
import type { SignedReceipt } from '../protocol/receipt.ts';
import { checkBody, type DamageListener, damagedError } from './damage.ts';
import { fromJson, type Json, type Parsed, toJson } from './json.ts';
import type { Dialect } from './migrations.ts';
import { LEDGER_PAGE_HASHES, migrationProvider } from './migrations.ts';
import type {
  AlarmCategory,
  AlarmsTable,
  CosignaturesTable,
  Database,
  InboxTable,
  OutboxTable,
  PeersTable,
  RetiredKey,
  TranslationsTable,
  WitnessedTable,
} from './schema.ts';
import {
  indexMessages,
  indexTranslation,
  type SearchQuery,
  type SearchRow,
  searchMessages,
} from './search.ts';
import type { SqliteStatements } from './sqlite/statements.ts';

export type Executor = Kysely<Database> | Transaction<Database>;

export type PeerRow = Parsed<PeersTable>;
/** What a release writes to the outbox: one row per message and recipient. */
export type NewOutboxRow = Parsed<OutboxTable>;
/**
 * An outbox row as delivery reads it (`dueOutbox`): only what sending and settling need. `text`
 * is the envelope as stored: what every (re)send sends, byte for byte. `envelope` is parsed from
 * it when first read (settling the receipt), once; a row delivery reads again while its batch is
 * in flight costs no parse.
 */
export type OutboxRow = Pick<
  NewOutboxRow,
  'id' | 'seq' | 'rank' | 'header_hash' | 'status' | 'attempts' | 'leaf_index'
> & {
  text: string;
  readonly envelope: Envelope;
};
/** An outbox row with all its columns and its message's body. */
export type OutboxMessageRow = Omit<NewOutboxRow, 'body' | 'envelope'> & {
  text: string;
  readonly envelope: Envelope;
  body: Body;
};
export type InboxRow = Parsed<InboxTable>;
/** A received message as the inbox lists it: `sent` is its header's, read without the envelope. */
export type InboxListRow = Omit<InboxRow, 'envelope'> & { sent: string };
export type AlarmRow = Omit<Selectable<AlarmsTable>, 'id' | 'count' | 'ref'> & {
  id: number;
  count: number;
  ref: string | null;
};
export interface RaiseAlarmOptions {
  at?: string;
  /** The message it is about, `<party>/<id>`: its cause unless `cause` is given. */
  ref?: string;
  cause?: string;
  category?: AlarmCategory;
}

/**
 * The open alarm of one type, party and cause (raiseAlarm on SQLite's hot path). `IS ?` matches
 * null as `is null` does, and the look-up uses the index (type, party, cleared_at, cause).
 */
export const OPEN_ALARM =
  'select * from alarms where type = ? and party is ? and cleared_at is null and cause is ? order by id limit 1';

function alarmRow(row: Selectable<AlarmsTable>): AlarmRow {
  return { ...row, id: Number(row.id), count: Number(row.count), ref: row.ref ?? null };
}
export type WitnessedRow = WitnessedTable;
export type CosignatureRow = CosignaturesTable;
export type TranslationRow = TranslationsTable;

/**
 * What a check of the database's own structure found: `problems` empty when it is sound;
 * `checked` false when the backend has no such check (`reason` says why).
 */
export interface IntegrityReport {
  checked: boolean;
  problems: string[];
  reason?: string;
}

/** Runs the backend's structure check; `stop` aborts when the store closes (answer unchecked). */
export type IntegrityCheck = (stop: AbortSignal) => Promise<IntegrityReport>;

/** What a backend adds to the shared Kysely code. */
export interface StoreBackend {
  /** The backend's structure check (SQLite's `quick_check`). */
  integrityCheck?: IntegrityCheck;
  /** SQLite: the hot path's prepared statements on the node's one connection. */
  sqlite?: SqliteStatements;
}

/** How a transaction reaches the disk. */
export interface TransactionOptions {
  /**
   * false: the commit returns without waiting for its fsync (SQLite `synchronous = NORMAL`,
   * PostgreSQL `synchronous_commit = off`); it becomes durable with the next durable commit or
   * `sync()`, as both engines write their log in commit order. Only for what a crash may lose:
   * what can be had again (docs/architecture.md § What is durable before something leaves).
   */
  durable?: boolean;
}

/**
 * PostgreSQL answers COMMIT of a transaction in which a statement failed with a silent ROLLBACK:
 * a unit of work that caught that statement's error would return as if all it wrote were stored.
 * One statement before COMMIT makes it an error instead (SQLite raises one at COMMIT itself).
 */
function abortedIsAnError<T>(fn: (tx: Transaction<Database>) => Promise<T>) {
  return async (tx: Transaction<Database>): Promise<T> => {
    const result = await fn(tx);
    try {
      await sql`select 1`.execute(tx);
    } catch (e) {
      throw new Error(
        'a statement of this unit of work failed and its error was caught: nothing of it was stored',
        { cause: e },
      );
    }
    return result;
  };
}

/** A query built with Kysely, as `Store.rows` and `Store.write` take it. */
export interface Built<R> {
  compile(): CompiledQuery<R>;
  execute(): Promise<R[]>;
}

export class Store implements HashReader {
  readonly db: Kysely<Database>;
  readonly dialect: Dialect;
  readonly #integrityCheck: IntegrityCheck | undefined;
  readonly #sqlite: SqliteStatements | undefined;
  /** Commits made without waiting for their fsync, and how many of them `sync` made durable. */
  #lazyCommits = 0;
  #syncedCommits = 0;
  /** Structure checks under way, ended and waited for when the store closes. */
  readonly #checks = new Set<Promise<IntegrityReport>>();
  readonly #closing = new AbortController();
  #damage: DamageListener | undefined;

  constructor(db: Kysely<Database>, dialect: Dialect, backend: StoreBackend = {}) {
    this.db = db;
    this.dialect = dialect;
    this.#integrityCheck = backend.integrityCheck;
    this.#sqlite = backend.sqlite;
  }

  /**
   * The SQLite hot path, when `q` may use it: inside the caller's own transaction (the
   * connection is held for it), or, for a read only, while no transaction is open.
   */
  #fast(q: Executor, read = false): SqliteStatements | undefined {
    const sqlite = this.#sqlite;
    if (!sqlite) return undefined;
    return q.isTransaction || (read && !sqlite.inTransaction) ? sqlite : undefined;
  }

  /**
   * The rows a query built with Kysely returns (a select, or a write with `returning`). On the
   * SQLite hot path (`#fast`: inside the caller's transaction, or for a `read` while none is open)
   * it is compiled and run as a kept prepared statement, skipping Kysely's driver, whose promise
   * chain costs several times the statement; else Kysely runs it. Same SQL either way.
   */
  async rows<R>(query: Built<R>, q: Executor, read = false): Promise<R[]> {
    const fast = this.#fast(q, read);
    if (!fast) return query.execute();
    const { sql, parameters } = query.compile();
    return fast.statement(sql).all(...parameters) as R[];
  }

  /** Runs a write built with Kysely, prepared on the SQLite hot path as `rows` does. */
  async write(query: Built<unknown>, q: Executor): Promise<void> {
    const fast = this.#fast(q);
    if (!fast) {
      await query.execute();
      return;
    }
    const { sql, parameters } = query.compile();
    fast.statement(sql).run(...parameters);
  }

  /** Checks the database's structure (SQLite: `PRAGMA quick_check`, off the event loop). */
  checkIntegrity(): Promise<IntegrityReport> {
    if (!this.#integrityCheck)
      return Promise.resolve({
        checked: false,
        problems: [],
        reason: 'this backend has no quick check',
      });
    const check = this.#integrityCheck(this.#closing.signal);
    this.#checks.add(check);
    const done = () => this.#checks.delete(check);
    check.then(done, done);
    return check;
  }

  /**
   * Every message body read from the inbox or outbox is re-hashed against its signed header; a
   * damaged one is withheld (left out of lists, refused with `E_STORE` when read alone) and
   * reported to `listener`.
   */
  onDamage(listener: DamageListener): void {
    this.#damage = listener;
  }

  /** The body if it matches its header's bodyHash; otherwise reported, and undefined. */
  #checked(
    dir: 'in' | 'out',
    party: string,
    id: string,
    text: Json<Body>,
    bodyHash: string | null | undefined,
  ): Body | undefined {
    const checked = checkBody(text, bodyHash);
    if ('body' in checked) return checked.body;
    this.#damage?.({ dir, party, id, reason: checked.reason });
    return undefined;
  }

  /** As #checked, but a damaged body is an `E_STORE` refusal. */
  #whole(
    dir: 'in' | 'out',
    party: string,
    id: string,
    text: Json<Body>,
    bodyHash: string | null | undefined,
  ): Body {
    const checked = checkBody(text, bodyHash);
    if ('body' in checked) return checked.body;
    const damage = { dir, party, id, reason: checked.reason };
    this.#damage?.(damage);
    throw damagedError(damage);
  }

  /** The signed header's bodyHash of a stored envelope, if it still parses. */
  #bodyHashOf(envelope: () => Envelope): string | undefined {
    try {
      return envelope().header.bodyHash;
    } catch {
      return undefined;
    }
  }

  /** Brings the schema up to date; `schema` names where PostgreSQL keeps Kysely's own tables. */
  async migrate(schema?: string): Promise<void> {
    const migrator = new Migrator({
      db: this.db,
      provider: migrationProvider(this.dialect),
      ...(schema ? { migrationTableSchema: schema } : {}),
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
  }

  async transaction<T>(
    fn: (tx: Transaction<Database>) => Promise<T>,
    options: TransactionOptions = {},
  ): Promise<T> {
    const work = this.dialect === 'postgres' ? abortedIsAnError(fn) : fn;
    if (options.durable !== false) return this.db.transaction().execute(work);
    const result = await this.#lazyTransaction(work);
    this.#lazyCommits++;
    return result;
  }

  #lazyTransaction<T>(fn: (tx: Transaction<Database>) => Promise<T>): Promise<T> {
    const sqlite = this.#sqlite;
    if (!sqlite)
      return this.db.transaction().execute(async (tx) => {
        await sql`set local synchronous_commit = off`.execute(tx);
        return fn(tx);
      });
    // The setting is the connection's: it is held (no other unit runs) from before BEGIN until
    // the setting is back, so no other commit goes without its fsync.
    return this.db.connection().execute(async (connection) => {
      sqlite.synchronous('NORMAL');
      try {
        return await connection.transaction().execute(fn);
      } finally {
        sqlite.synchronous('FULL');
      }
    });
  }

  /**
   * Makes every commit so far durable: when some were made without waiting for their fsync, one
   * durable write (the engines' logs are written in commit order, so its fsync covers them).
   */
  async sync(): Promise<void> {
    const upTo = this.#lazyCommits;
    if (upTo === this.#syncedCommits) return;
    await this.setMeta('synced_at', new Date().toISOString());
    this.#syncedCommits = Math.max(this.#syncedCommits, upTo);
  }

  async close(): Promise<void> {
    // A check's worker holds its own connection to the file: it is ended before the store is.
    this.#closing.abort();
    await Promise.allSettled(this.#checks);
    await this.db.destroy();
  }

  // meta

  async getMeta(key: string, q: Executor = this.db): Promise<string | undefined> {
    const fast = this.#fast(q, true);
    if (fast)
      return (
        fast.statement('select value from meta where key = ?').get(key) as
          | { value: string }
          | undefined
      )?.value;
    const row = await q
      .selectFrom('meta')
      .select('value')
      .where('key', '=', key)
      .executeTakeFirst();
    return row?.value;
  }

  async setMeta(key: string, value: string, q: Executor = this.db): Promise<void> {
    const fast = this.#fast(q);
    if (fast) {
      fast
        .statement(
          'insert into meta (key, value) values (?, ?) on conflict (key) do update set value = excluded.value',
        )
        .run(key, value);
      return;
    }
    await q
      .insertInto('meta')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }

  // peers

  async listPeers(q: Executor = this.db): Promise<PeerRow[]> {
    const rows = await q.selectFrom('peers').selectAll().orderBy('party').execute();
    return rows.map((r) => ({ ...r, card: fromJson(r.card), retired: fromJson(r.retired) }));
  }

  async putPeer(
    party: string,
    signed: SignedCard,
    retiredKeys: RetiredKey[],
    q: Executor = this.db,
  ): Promise<void> {
    const pinned_at = new Date().toISOString();
    const card = toJson(signed);
    const retired = toJson(retiredKeys);
    await q
      .insertInto('peers')
      .values({ party, card, retired, pinned_at })
      .onConflict((oc) => oc.column('party').doUpdateSet({ card, retired }))
      .execute();
  }

  // channels

  /** The last seq released on the channel me → party (0 before the first). */
  async lastSeq(party: string, q: Executor = this.db): Promise<number> {
    const fast = this.#fast(q, true);
    if (fast) {
      const row = fast.statement('select last_seq from channels where party = ?').get(party) as
        | { last_seq: number }
        | undefined;
      return Number(row?.last_seq ?? 0);
    }
    const row = await q
      .selectFrom('channels')
      .select('last_seq')
      .where('party', '=', party)
      .executeTakeFirst();
    return Number(row?.last_seq ?? 0);
  }

  /** Records the last seq released; call in the releasing transaction. */
  async setLastSeq(party: string, seq: number, q: Executor): Promise<void> {
    const fast = this.#fast(q);
    if (fast) {
      fast
        .statement(
          'insert into channels (party, last_seq) values (?, ?) on conflict (party) do update set last_seq = excluded.last_seq',
        )
        .run(party, seq);
      return;
    }
    await q
      .insertInto('channels')
      .values({ party, last_seq: seq })
      .onConflict((oc) => oc.column('party').doUpdateSet({ last_seq: seq }))
      .execute();
  }

  // outbox

  async addOutbox(rows: NewOutboxRow[], q: Executor): Promise<void> {
    // A message's rows (one per recipient) share its body: its text is made once.
    let body: { value: Body; text: Json<Body> } | undefined;
    const values = rows.map((r) => {
      if (body?.value !== r.body) body = { value: r.body, text: toJson(r.body) };
      return { ...r, envelope: toJson(r.envelope), body: body.text };
    });
    await this.insertRows('outbox', OUTBOX_INSERT, values, q);
    await indexMessages(
      q,
      this.dialect,
      rows.map((r) => ({
        dir: 'out',
        party: r.party,
        from: r.envelope.header.from,
        id: r.id,
        sent: r.envelope.header.sent,
        body: r.body,
      })),
      this,
    );
  }

  /**
   * Pending envelopes for a peer whose time has come, by precedence then seq; with
   * `attemptsBelow`, only those tried fewer times (delivery held after a fork).
   */
  async dueOutbox(
    party: string,
    ranks: readonly number[],
    now: number,
    limit: number,
    q: Executor = this.db,
    attemptsBelow?: number,
  ): Promise<OutboxRow[]> {
    const due = dueOf(DUE_SQL, party, ranks, now, limit, attemptsBelow);
    const rows = await this.rawRows<DueRow>(due.sql, due.params, q, true);
    return rows.map(outboxRow);
  }

  /**
   * The ids `dueOutbox` would answer, without reading the rows: delivery skips those in flight by
   * id, then reads only the rows it sends (`pendingRows`), not every envelope in flight again.
   */
  async dueIds(
    party: string,
    ranks: readonly number[],
    now: number,
    limit: number,
    attemptsBelow?: number,
  ): Promise<string[]> {
    const due = dueOf('id', party, ranks, now, limit, attemptsBelow);
    const rows = await this.rawRows<{ id: string }>(due.sql, due.params, this.db, true);
    return rows.map((r) => r.id);
  }

  /** The pending rows of these ids, as `dueOutbox` reads them, by precedence then seq. */
  async pendingRows(party: string, ids: readonly string[]): Promise<OutboxRow[]> {
    if (!ids.length) return [];
    const rows = await this.rows(
      this.db
        .selectFrom('outbox')
        .select(DUE_COLUMNS)
        .where('party', '=', party)
        .where('id', 'in', ids)
        .where(PENDING_BY_KEY)
        .orderBy('rank')
        .orderBy('seq'),
      this.db,
      true,
    );
    return rows.map(outboxRow);
  }

  /** The earliest next attempt among pending envelopes of these ranks (as dueOutbox), if any. */
  async nextDue(
    party: string,
    ranks: readonly number[],
    q: Executor = this.db,
    attemptsBelow?: number,
  ): Promise<number | undefined> {
    const pending = pendingOf(party, ranks, attemptsBelow);
    const [row] = await this.rawRows<{ at: number | string | null }>(
      `select min(next_attempt_at) as at ${pending.sql}`,
      pending.params,
      q,
      true,
    );
    return row?.at === null || row?.at === undefined ? undefined : Number(row.at);
  }

  async getOutbox(
    party: string,
    id: string,
    q: Executor = this.db,
  ): Promise<OutboxMessageRow | undefined> {
    const row = await q
      .selectFrom('outbox')
      .select([...OUTBOX_COLUMNS, 'body'])
      .where('party', '=', party)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    const read = outboxRow(row);
    const hash = this.#bodyHashOf(() => read.envelope);
    return Object.assign(read, { body: this.#whole('out', party, id, row.body, hash) });
  }

  /** Clears envelopes a verified receipt covers: one statement per receipt time. */
  async markReceipted(
    party: string,
    entries: ReadonlyArray<{ id: string; receivedAt: string; index: number }>,
    q: Executor,
  ): Promise<void> {
    const receiptedAt = new Date().toISOString();
    const fast = this.#fast(q);
    if (fast) {
      const update = fast.statement(
        "update outbox set status = 'receipted', receipted_at = ?, peer_received_at = ?, peer_index = ?, last_error = null where party = ? and id = ?",
      );
      for (const e of entries) update.run(receiptedAt, e.receivedAt, e.index, party, e.id);
      return;
    }
    const byTime = new Map<string, { id: string; index: number }[]>();
    for (const e of entries) byTime.set(e.receivedAt, [...(byTime.get(e.receivedAt) ?? []), e]);
    for (const [receivedAt, list] of byTime) {
      for (let i = 0; i < list.length; i += 300) {
        const chunk = list.slice(i, i + 300);
        await q
          .updateTable('outbox')
          .set((eb) => {
            let index = eb.case();
            for (const e of chunk) index = index.when('id', '=', e.id).then(e.index) as never;
            return {
              status: 'receipted',
              receipted_at: receiptedAt,
              peer_received_at: receivedAt,
              peer_index: (index as unknown as { end(): never }).end(),
              last_error: null,
            };
          })
          .where('party', '=', party)
          .where(
            'id',
            'in',
            chunk.map((e) => e.id),
          )
          .execute();
      }
    }
  }

  /**
   * Records a failed attempt on pending envelopes: one more attempt each, and one retry time for
   * all of them, so a batch that failed together is retried together. Alone, it is
   * group-committed: a crash that loses it only makes the envelopes due sooner.
   */
  async markAttempt(
    party: string,
    ids: readonly string[],
    error: string | null,
    nextAttemptAt: number,
    q?: Executor,
  ): Promise<void> {
    if (!q)
      return this.transaction((tx) => this.markAttempt(party, ids, error, nextAttemptAt, tx), {
        durable: false,
      });
    for (let i = 0; i < ids.length; i += 500)
      await q
        .updateTable('outbox')
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          next_attempt_at: nextAttemptAt,
          last_error: error,
        }))
        .where('party', '=', party)
        .where('id', 'in', ids.slice(i, i + 500))
        .where(PENDING_BY_KEY)
        .execute();
  }

  /**
   * Makes pending envelopes due now: those with these seqs (gap repair after a heartbeat), or
   * all of the party's when `seqs` is undefined (its card was re-pinned).
   */
  async resendNow(
    party: string,
    seqs: readonly number[] | undefined,
    now: number,
    q: Executor = this.db,
  ): Promise<number> {
    if (seqs?.length === 0) return 0;
    const update = q
      .updateTable('outbox')
      .set({ next_attempt_at: now })
      .where('party', '=', party)
      .where('next_attempt_at', '>', now);
    const result = await (seqs
      ? update.where('seq', 'in', seqs).where(PENDING_BY_KEY)
      : update.where('status', '=', 'pending')
    ).executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Makes receipted envelopes to `party` pending again, due now, except the seqs `holds` says the
   * peer has: the peer was restored from a backup and lost them (docs/ledger.md § Restore). It
   * answers how many were made due.
   */
  async resendLost(
    party: string,
    holds: (seq: number) => boolean,
    now: number,
    q: Executor,
  ): Promise<number> {
    const rows = await q
      .selectFrom('outbox')
      .select(['id', 'seq'])
      .where('party', '=', party)
      .where('status', '=', 'receipted')
      .execute();
    const lost = rows.filter((r) => !holds(Number(r.seq))).map((r) => r.id);
    for (let i = 0; i < lost.length; i += 500)
      await q
        .updateTable('outbox')
        .set({
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          receipted_at: null,
          peer_received_at: null,
          peer_index: null,
        })
        .where('party', '=', party)
        .where('id', 'in', lost.slice(i, i + 500))
        .execute();
    return lost.length;
  }

  /**
   * The seqs above `after` of pending envelopes to `party` waiting out a backoff (due after
   * `now`), at most `limit`, longest wait first: what gap repair may make due now (`after`: the
   * peer holds every seq up to it). Read by the partial index
   * `outbox_backoff`, so a backlog of envelopes due or in flight costs nothing to skip; on SQLite
   * named (`indexed by`), as beside `status = 'pending'` it would walk `outbox_due` instead. Only
   * a failed attempt sets a retry time in the future, so those in backoff have `attempts > 0`.
   */
  async backedOffSeqs(
    party: string,
    now: number,
    after: number,
    limit: number,
    q: Executor = this.db,
  ): Promise<number[]> {
    const indexed = sql.raw(this.dialect === 'sqlite' ? 'indexed by outbox_backoff' : '');
    const query = sql<{ seq: number | string }>`select seq from outbox ${indexed}
      where party = ${party} and status = 'pending' and attempts > 0 and next_attempt_at > ${now}
        and seq > ${after}
      order by next_attempt_at desc limit ${limit}`;
    const rows = await this.rows(
      { compile: () => query.compile(q), execute: async () => (await query.execute(q)).rows },
      q,
      true,
    );
    return rows.map((r) => Number(r.seq));
  }

  /** How many envelopes to `party` wait for a verified receipt (the outbox bound counts them). */
  async pendingCount(party: string, q: Executor = this.db): Promise<number> {
    const [row] = await this.rawRows<{ n: number | string }>(
      "select count(*) as n from outbox where party = ? and status = 'pending'",
      [party],
      q,
      true,
    );
    return Number(row?.n ?? 0);
  }

  async outboxStats(party: string, q: Executor = this.db) {
    const row = await q
      .selectFrom('outbox')
      .select((eb) => [
        eb.fn.countAll<number>().as('pending'),
        eb.fn.min('created_at').as('oldest'),
      ])
      .where('party', '=', party)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    const last = await q
      .selectFrom('outbox')
      .select((eb) => eb.fn.max('receipted_at').as('at'))
      .where('party', '=', party)
      .executeTakeFirst();
    return {
      pending: Number(row?.pending ?? 0),
      oldestPending: row?.oldest ?? null,
      lastReceiptAt: last?.at ?? null,
    };
  }

  async listOutbox(limit: number, q: Executor = this.db): Promise<OutboxMessageRow[]> {
    const rows = await q
      .selectFrom('outbox')
      .select([...OUTBOX_COLUMNS, 'body'])
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    return this.#checkedOutbox(rows);
  }

  /** Outbox rows with their bodies, those whose body fails its re-hash left out (and reported). */
  #checkedOutbox<Row extends { text: Json<Envelope>; body: Json<Body>; party: string; id: string }>(
    rows: readonly Row[],
  ) {
    const out: Array<Omit<Row, 'body'> & StoredEnvelope & { body: Body }> = [];
    for (const { body: text, ...row } of rows) {
      const read = outboxRow(row);
      const hash = this.#bodyHashOf(() => read.envelope);
      const body = this.#checked('out', row.party, row.id, text, hash);
      if (body) out.push(Object.assign(read, { body }));
    }
    return out;
  }

  // inbox

  /** Header hashes already stored for these ids from `party`. */
  async inboxHeaderHashes(
    party: string,
    ids: readonly string[],
    q: Executor = this.db,
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const fast = this.#fast(q, true);
    if (fast) {
      const read = fast.statement('select header_hash from inbox where party = ? and id = ?');
      for (const id of ids) {
        const row = read.get(party, id) as { header_hash: string } | undefined;
        if (row) out.set(id, row.header_hash);
      }
      return out;
    }
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await q
        .selectFrom('inbox')
        .select(['id', 'header_hash'])
        .where('party', '=', party)
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.id, r.header_hash);
    }
    return out;
  }

  /** The ids already stored under these seqs from `party`. */
  async inboxSeqOwners(
    party: string,
    seqs: readonly number[],
    q: Executor = this.db,
  ): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const fast = this.#fast(q, true);
    if (fast) {
      const read = fast.statement('select id from inbox where party = ? and seq = ?');
      for (const seq of seqs) {
        const row = read.get(party, seq) as { id: string } | undefined;
        if (row) out.set(seq, row.id);
      }
      return out;
    }
    for (let i = 0; i < seqs.length; i += 500) {
      const rows = await q
        .selectFrom('inbox')
        .select(['id', 'seq'])
        .where('party', '=', party)
        .where('seq', 'in', seqs.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(Number(r.seq), r.id);
    }
    return out;
  }

  async inboxHeaderHash(
    party: string,
    id: string,
    q: Executor = this.db,
  ): Promise<string | undefined> {
    const row = await q
      .selectFrom('inbox')
      .select('header_hash')
      .where('party', '=', party)
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.header_hash;
  }

  async inboxSeqOwner(
    party: string,
    seq: number,
    q: Executor = this.db,
  ): Promise<string | undefined> {
    const row = await q
      .selectFrom('inbox')
      .select('id')
      .where('party', '=', party)
      .where('seq', '=', seq)
      .executeTakeFirst();
    return row?.id;
  }

  async addInbox(rows: InboxRow[], q: Executor): Promise<void> {
    const values = rows.map((r) => ({
      ...r,
      envelope: toJson(r.envelope),
      body: toJson(r.body),
    }));
    await this.insertRows('inbox', INBOX_INSERT, values, q);
    await indexMessages(
      q,
      this.dialect,
      rows.map((r) => ({
        dir: 'in',
        party: r.party,
        from: r.party,
        id: r.id,
        sent: r.envelope.header.sent,
        body: r.body,
      })),
      this,
    );
  }

  async inboxReceiptIds(
    party: string,
    ids: readonly string[],
    q: Executor = this.db,
  ): Promise<number[]> {
    if (!ids.length) return [];
    const rows = await q
      .selectFrom('inbox')
      .select('receipt_id')
      .distinct()
      .where('party', '=', party)
      .where('id', 'in', ids)
      .execute();
    return rows.map((r) => Number(r.receipt_id));
  }

  /** The seqs of the messages received from `party`, ascending; only those above `above`. */
  async inboxSeqs(party: string, above = 0, q: Executor = this.db): Promise<number[]> {
    const rows = await q
      .selectFrom('inbox')
      .select('seq')
      .where('party', '=', party)
      .where('seq', '>', above)
      .orderBy('seq')
      .execute();
    return rows.map((r) => Number(r.seq));
  }

  async listInbox(limit: number, q: Executor = this.db): Promise<InboxListRow[]> {
    const sent =
      this.dialect === 'postgres'
        ? sql<string>`envelope::json #>> '{header,sent}'`
        : sql<string>`json_extract(envelope, '$.header.sent')`;
    const bodyHash =
      this.dialect === 'postgres'
        ? sql<string | null>`envelope::json #>> '{header,bodyHash}'`
        : sql<string | null>`json_extract(envelope, '$.header.bodyHash')`;
    const rows = await q
      .selectFrom('inbox')
      .select([
        'party',
        'id',
        'seq',
        'header_hash',
        'body',
        'received_at',
        'leaf_index',
        'receipt_id',
        sent.as('sent'),
        bodyHash.as('body_hash'),
      ])
      .orderBy('received_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
    const out: InboxListRow[] = [];
    for (const { body_hash, ...r } of rows) {
      const body = this.#checked('in', r.party, r.id, r.body, body_hash);
      if (body) out.push({ ...numbers(r), body });
    }
    return out;
  }

  async countInbox(q: Executor = this.db): Promise<number> {
    const row = await q
      .selectFrom('inbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  // receipts

  async addReceipt(
    dir: 'in' | 'out',
    party: string,
    receipt: SignedReceipt,
    q: Executor,
  ): Promise<number> {
    const fast = this.#fast(q);
    if (fast)
      return Number(
        fast
          .statement('insert into receipts (dir, party, at, receipt) values (?, ?, ?, ?)')
          .run(dir, party, new Date().toISOString(), toJson(receipt)).lastInsertRowid,
      );
    const row = await q
      .insertInto('receipts')
      .values({ dir, party, at: new Date().toISOString(), receipt: toJson(receipt) })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async getReceipts(
    ids: readonly number[],
    q: Executor = this.db,
  ): Promise<Array<{ id: number; receipt: SignedReceipt }>> {
    if (!ids.length) return [];
    const rows = await q
      .selectFrom('receipts')
      .select(['id', 'receipt'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: Number(r.id), receipt: fromJson(r.receipt) }));
  }

  /** Names `receiptId` as the receipt of the messages `ids` received from `party`. */
  async setInboxReceipt(
    party: string,
    ids: readonly string[],
    receiptId: number,
    q: Executor,
  ): Promise<void> {
    if (!ids.length) return;
    await q
      .updateTable('inbox')
      .set({ receipt_id: receiptId })
      .where('party', '=', party)
      .where('id', 'in', ids)
      .execute();
  }

  // alarms

  /**
   * Raises an alarm, or counts it again: while an alarm of this type about this party with this
   * cause is open, raising it again adds one to its count and moves `last_at` (one row per
   * aggregate, never one per occurrence). `ref` names the message it is about (`<party>/<id>`),
   * and is then its cause. The row returned has `count` 1 when it is new.
   */
  async raiseAlarm(
    type: string,
    party: string | null,
    message: string,
    q: Executor = this.db,
    options: RaiseAlarmOptions = {},
  ): Promise<AlarmRow> {
    const at = options.at ?? new Date().toISOString();
    const cause = options.cause ?? options.ref ?? null;
    // On SQLite inside a unit of work (a receiver raises one for every message that waits to be
    // acknowledged), the same statements run prepared.
    const fast = this.#fast(q);
    const open = fast
      ? (fast.statement(OPEN_ALARM).get(type, party, cause) as Selectable<AlarmsTable> | undefined)
      : await q
          .selectFrom('alarms')
          .selectAll()
          .where('type', '=', type)
          .where('party', party === null ? 'is' : '=', party)
          .where('cause', cause === null ? 'is' : '=', cause)
          .where('cleared_at', 'is', null)
          .orderBy('id')
          .limit(1)
          .executeTakeFirst();
    if (open) {
      const count = Number(open.count) + 1;
      if (fast)
        fast
          .statement('update alarms set count = ?, last_at = ? where id = ?')
          .run(count, at, open.id);
      else
        await q
          .updateTable('alarms')
          .set({ count, last_at: at })
          .where('id', '=', open.id)
          .execute();
      return { ...alarmRow(open), count, last_at: at };
    }
    const values = {
      at,
      type,
      party,
      message,
      cleared_at: null,
      ref: options.ref ?? null,
      cause,
      count: 1,
      last_at: at,
      logged_at: at,
      category: options.category ?? 'fault',
    };
    const id = fast
      ? fast
          .statement(
            `insert into alarms (${Object.keys(values).join(', ')}) values (${Object.keys(values)
              .map(() => '?')
              .join(', ')})`,
          )
          .run(...Object.values(values)).lastInsertRowid
      : (await q.insertInto('alarms').values(values).returning('id').executeTakeFirstOrThrow()).id;
    // Spread last: on Node 20, properties a literal adds after a spread cost ~1 µs each.
    return { id: Number(id), cleared_by: null, cleared_note: null, ...values };
  }

  /** Records that the ledger recorded an alarm's count at `at` (repeats are rate limited). */
  async alarmLogged(id: number, at: string, q: Executor = this.db): Promise<void> {
    await q.updateTable('alarms').set({ logged_at: at }).where('id', '=', id).execute();
  }

  /** Open alarms about one message (`ref` = `<party>/<id>`). */
  async openAlarmsAbout(ref: string, q: Executor = this.db): Promise<AlarmRow[]> {
    const rows = await q
      .selectFrom('alarms')
      .selectAll()
      .where('ref', '=', ref)
      .where('cleared_at', 'is', null)
      .execute();
    return rows.map(alarmRow);
  }

  /**
   * One page of open alarms of a category, newest first: those with an id below `before`, at
   * most `limit`. Page on with `before` set to the last id of a page until a page is short.
   */
  async openAlarms(
    options: { category?: AlarmCategory; before?: number; limit?: number } = {},
    q: Executor = this.db,
  ): Promise<AlarmRow[]> {
    let query = q
      .selectFrom('alarms')
      .selectAll()
      .where('cleared_at', 'is', null)
      .where('category', '=', options.category ?? 'fault');
    if (options.before !== undefined) query = query.where('id', '<', options.before);
    const rows = await query
      .orderBy('id', 'desc')
      .limit(options.limit ?? 100)
      .execute();
    return rows.map(alarmRow);
  }

  /** Every open alarm of a type (and party, when given), oldest first. */
  async openAlarmsOf(
    type: string,
    party: string | null,
    cause?: string | null,
    q: Executor = this.db,
  ): Promise<AlarmRow[]> {
    // Asked at every checkpoint a receipt brings: on SQLite's hot path, kept SQL (`IS ?` matches
    // null as `is null` does).
    const fast = this.#fast(q, true);
    if (fast)
      return (
        fast
          .statement(
            cause === undefined
              ? 'select * from alarms where type = ? and party is ? and cleared_at is null order by id'
              : 'select * from alarms where type = ? and party is ? and cleared_at is null and cause is ? order by id',
          )
          .all(type, party, ...(cause === undefined ? [] : [cause])) as Selectable<AlarmsTable>[]
      ).map(alarmRow);
    let query = q
      .selectFrom('alarms')
      .selectAll()
      .where('type', '=', type)
      .where('party', party === null ? 'is' : '=', party)
      .where('cleared_at', 'is', null);
    if (cause !== undefined) query = query.where('cause', cause === null ? 'is' : '=', cause);
    return (await query.orderBy('id').execute()).map(alarmRow);
  }

  /** How many alarms of each category are open. */
  async openAlarmCounts(q: Executor = this.db): Promise<Record<AlarmCategory, number>> {
    const rows = await q
      .selectFrom('alarms')
      .select(['category', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where('cleared_at', 'is', null)
      .groupBy('category')
      .execute();
    const counts: Record<AlarmCategory, number> = { fault: 0, waiting: 0 };
    for (const r of rows) counts[r.category] = Number(r.n);
    return counts;
  }

  async getAlarm(id: number, q: Executor = this.db): Promise<AlarmRow | undefined> {
    const row = await q.selectFrom('alarms').selectAll().where('id', '=', id).executeTakeFirst();
    return row && alarmRow(row);
  }

  /** Clears an open alarm; returns whether it was open. */
  async clearAlarm(
    id: number,
    by: string,
    note: string | null,
    at: string,
    q: Executor = this.db,
  ): Promise<boolean> {
    const result = await q
      .updateTable('alarms')
      .set({ cleared_at: at, cleared_by: by, cleared_note: note })
      .where('id', '=', id)
      .where('cleared_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  // ledger

  async ledgerSize(q: Executor = this.db): Promise<number> {
    return Number((await this.getMeta('ledger_size', q)) ?? 0);
  }

  /**
   * Appends leaves `start`, `start + 1`, … and the stored hashes they complete (`hashes`, from
   * stored-hash index `firstHash` on, contiguous), and records the new size, in the caller's
   * transaction. Statements are a few fixed shapes with many rows each, so a batch of 256 leaves
   * is a handful of prepared statements rather than ~800 single-row inserts.
   */
  async appendLedger(
    start: number,
    leaves: readonly string[],
    firstHash: number,
    hashes: readonly Uint8Array[],
    q: Executor,
  ): Promise<void> {
    for (let done = 0; done < leaves.length; ) {
      const rows = chunkOf(leaves.length - done);
      const params: unknown[] = [];
      for (let k = done; k < done + rows; k++) params.push(start + k, leaves[k]);
      await this.rawRows(this.#insert('ledger_leaves (idx, leaf)', rows, 2, ''), params, q);
      done += rows;
    }
    await this.#writeHashes(firstHash, hashes, q);
    await this.setMeta('ledger_size', String(start + leaves.length), q);
  }

  /** Writes contiguous stored hashes from index `first` into their pages (ledger_pages). */
  async #writeHashes(first: number, hashes: readonly Uint8Array[], q: Executor): Promise<void> {
    if (!hashes.length) return;
    const P = LEDGER_PAGE_HASHES;
    let page = Math.floor(first / P);
    let fill = first % P;
    // The last page may be partly written: what it holds comes first in its new text.
    let current = new Uint8Array(P * HASH_BYTES);
    if (fill > 0) {
      const hashes = (await this.#pages([page], q)).get(page);
      if (hashes?.length !== fill * HASH_BYTES)
        throw new Error(`ledger page ${page} does not end at stored hash ${first}`);
      current.set(hashes);
    }
    const rows: [number, Buffer][] = [];
    for (const hash of hashes) {
      current.set(hash, fill * HASH_BYTES);
      if (++fill === P) {
        rows.push([page++, Buffer.from(current.buffer)]);
        current = new Uint8Array(P * HASH_BYTES);
        fill = 0;
      }
    }
    if (fill > 0) rows.push([page, Buffer.from(current.buffer, 0, fill * HASH_BYTES)]);
    // SQLite and PostgreSQL spell the upsert alike; only the first page can exist already.
    const upsert = ' on conflict (page) do update set hashes = excluded.hashes';
    for (let done = 0; done < rows.length; ) {
      const n = chunkOf(rows.length - done);
      const params = rows.slice(done, done + n).flat();
      await this.rawRows(this.#insert('ledger_pages (page, hashes)', n, 2, upsert), params, q);
      done += n;
    }
  }

  /**
   * The rows of one raw statement written with `?` placeholders (numbered for PostgreSQL; none
   * for a write without `returning`): on the SQLite hot path (`#fast`, as `rows` takes it)
   * prepared once and kept, else through Kysely. For the hot path's fixed statements, whose
   * building and compiling by Kysely at each call cost more than running them.
   */
  async rawRows<R>(
    text: string,
    params: readonly unknown[],
    q: Executor,
    read = false,
  ): Promise<R[]> {
    const fast = this.#fast(q, read);
    if (!fast)
      return (await q.executeQuery<R>(CompiledQuery.raw(this.#numbered(text), [...params]))).rows;
    const statement = fast.statement(text);
    // A write without `returning` has no rows to give (better-sqlite3 refuses `all` for it).
    if (!statement.reader) {
      statement.run(...params);
      return [];
    }
    return statement.all(...params) as R[];
  }

  /**
   * Inserts `rows` into `table`, each giving every one of `columns`, in statements of up to 256
   * rows whose text is kept (prepared once on SQLite's hot path), not built and compiled by Kysely
   * at each call. `suffix` follows the values: an `on conflict …` clause.
   */
  async insertRows<T>(
    table: string,
    columns: readonly (keyof T & string)[],
    rows: readonly T[],
    q: Executor,
    suffix = '',
  ): Promise<void> {
    const target = `${table} (${columns.map((c) => `"${c}"`).join(', ')})`;
    for (let done = 0; done < rows.length; ) {
      const n = chunkOf(rows.length - done);
      const params: unknown[] = [];
      for (let k = done; k < done + n; k++) for (const c of columns) params.push((rows[k] as T)[c]);
      await this.rawRows(this.#insert(target, n, columns.length, suffix), params, q);
      done += n;
    }
  }

  /** `text` with its `?` placeholders numbered (`$1`, …) in PostgreSQL; as it is in SQLite. */
  #numbered(text: string): string {
    if (this.dialect !== 'postgres') return text;
    let n = 0;
    return text.replace(/\?/g, () => `$${++n}`);
  }

  /** `insert into <target> values (…), …` for `rows` rows of `columns`, `?` placeholders. */
  #insert(target: string, rows: number, columns: number, suffix: string): string {
    const key = `${target}\n${rows}\n${suffix}`;
    let text = this.#insertTexts.get(key);
    if (!text) {
      const tuple = `(${Array.from({ length: columns }, () => '?').join(', ')})`;
      const tuples = Array.from({ length: rows }, () => tuple);
      text = `insert into ${target} values ${tuples.join(', ')}${suffix}`;
      this.#insertTexts.set(key, text);
    }
    return text;
  }

  readonly #insertTexts = new Map<string, string>();

  /** The stored hashes at `indexes`, in order, from the pages that hold them (one read). */
  async readHashes(indexes: readonly number[], q: Executor = this.db): Promise<Uint8Array[]> {
    if (!indexes.length) return [];
    const P = LEDGER_PAGE_HASHES;
    const pages = await this.#pages([...new Set(indexes.map((i) => Math.floor(i / P)))], q);
    return indexes.map((i) => {
      const at = (i % P) * HASH_BYTES;
      const page = pages.get(Math.floor(i / P));
      if (!page || page.length < at + HASH_BYTES) throw new Error(`ledger hash ${i} is missing`);
      return new Uint8Array(page.subarray(at, at + HASH_BYTES));
    });
  }

  /** The stored hash pages of these numbers (those that exist). */
  async #pages(numbers: readonly number[], q: Executor): Promise<Map<number, Uint8Array>> {
    const pages = new Map<number, Uint8Array>();
    const fast = this.#fast(q, true);
    if (fast) {
      const read = fast.statement('select hashes from ledger_pages where page = ?');
      for (const page of numbers) {
        const row = read.get(page) as { hashes: Uint8Array } | undefined;
        if (row) pages.set(page, row.hashes);
      }
    } else
      for (const r of await q
        .selectFrom('ledger_pages')
        .select(['page', 'hashes'])
        .where('page', 'in', numbers)
        .execute())
        pages.set(Number(r.page), r.hashes);
    return pages;
  }

  /** The stored texts of the leaves at `indexes` (those the log holds), by index. */
  async leafTexts(indexes: readonly number[], q: Executor = this.db): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    // On a receipt's hot path: one prepared statement whatever the count (Kysely's building and
    // compiling cost forty times the read of one leaf).
    const fast = this.#fast(q, true);
    if (fast) {
      const rows = fast
        .statement(
          'select idx, leaf from ledger_leaves where idx in (select value from json_each(?))',
        )
        .all(JSON.stringify(indexes)) as Array<{ idx: number; leaf: string }>;
      for (const r of rows) out.set(Number(r.idx), r.leaf);
      return out;
    }
    for (let i = 0; i < indexes.length; i += 500) {
      const rows = await this.rows(
        q
          .selectFrom('ledger_leaves')
          .select(['idx', 'leaf'])
          .where('idx', 'in', indexes.slice(i, i + 500)),
        q,
        true,
      );
      for (const r of rows) out.set(Number(r.idx), r.leaf);
    }
    return out;
  }

  async readLeaves(from: number, count: number, q: Executor = this.db): Promise<string[]> {
    const rows = await q
      .selectFrom('ledger_leaves')
      .select('leaf')
      .where('idx', '>=', from)
      .where('idx', '<', from + count)
      .orderBy('idx')
      .execute();
    return rows.map((r) => r.leaf);
  }

  async addCheckpoint(size: number, note: string, q: Executor): Promise<void> {
    const fast = this.#fast(q);
    if (fast) {
      fast
        .statement(
          'insert into checkpoints (size, note, at) values (?, ?, ?) on conflict (size) do nothing',
        )
        .run(size, note, new Date().toISOString());
      return;
    }
    await q
      .insertInto('checkpoints')
      .values({ size, note, at: new Date().toISOString() })
      .onConflict((oc) => oc.column('size').doNothing())
      .execute();
  }

  async latestCheckpoint(
    q: Executor = this.db,
  ): Promise<{ size: number; note: string } | undefined> {
    const row = await q
      .selectFrom('checkpoints')
      .select(['size', 'note'])
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { size: Number(row.size), note: row.note };
  }

  /** This node's own signed checkpoint of tree size `size`, if it signed one. */
  async checkpointOfSize(size: number, q: Executor = this.db): Promise<string | undefined> {
    const row = await q
      .selectFrom('checkpoints')
      .select('note')
      .where('size', '=', size)
      .executeTakeFirst();
    return row?.note;
  }

  // witnessing

  /** The last checkpoint of `party`'s log this node accepted, with its own co-signature line. */
  async witnessed(party: string, q: Executor = this.db): Promise<WitnessedRow | undefined> {
    const row = await q
      .selectFrom('witnessed')
      .selectAll()
      .where('party', '=', party)
      .executeTakeFirst();
    return row && { ...row, size: Number(row.size) };
  }

  /** Records a newly accepted checkpoint of `party` (one statement: atomic). */
  async putWitnessed(row: WitnessedRow, q: Executor = this.db): Promise<void> {
    const fast = this.#fast(q);
    if (fast) {
      fast
        .statement(
          'insert into witnessed (party, size, root, note, cosignature, at) values (?, ?, ?, ?, ?, ?) on conflict (party) do update set size = excluded.size, root = excluded.root, note = excluded.note, cosignature = excluded.cosignature, at = excluded.at',
        )
        .run(row.party, row.size, row.root, row.note, row.cosignature, row.at);
      return;
    }
    const { party, ...rest } = row;
    await q
      .insertInto('witnessed')
      .values(row)
      .onConflict((oc) => oc.column('party').doUpdateSet(rest))
      .execute();
  }

  /** Stores a peer's verified co-signature of our checkpoint; the first one per size is kept. */
  async addCosignature(row: CosignatureRow, q: Executor = this.db): Promise<void> {
    await q
      .insertInto('cosignatures')
      .values(row)
      .onConflict((oc) => oc.columns(['party', 'size']).doNothing())
      .execute();
  }

  /** The co-signature by `party` of our largest checkpoint it co-signed. */
  async latestCosignature(
    party: string,
    q: Executor = this.db,
  ): Promise<CosignatureRow | undefined> {
    const row = await q
      .selectFrom('cosignatures')
      .selectAll()
      .where('party', '=', party)
      .orderBy('size', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { ...row, size: Number(row.size), time: Number(row.time) };
  }

  /** Whether an alarm of this type about this party is raised and not cleared. */
  async hasOpenAlarm(type: string, party: string | null, q: Executor = this.db): Promise<boolean> {
    const row = await q
      .selectFrom('alarms')
      .select('id')
      .where('type', '=', type)
      .where('party', party === null ? 'is' : '=', party)
      .where('cleared_at', 'is', null)
      .limit(1)
      .executeTakeFirst();
    return row !== undefined;
  }

  /** A liveness probe of the backend. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  // export (read only: `hotline export` reads a running node's store beside it)

  /** Every signed checkpoint of the log, by increasing size. */
  async listCheckpoints(
    q: Executor = this.db,
  ): Promise<{ size: number; note: string; at: string }[]> {
    const rows = await q.selectFrom('checkpoints').selectAll().orderBy('size').execute();
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  /**
   * The bodies of logged envelopes by their leaf index: `out` from the outbox, `in` from the inbox,
   * for messages `ids` sent to or received from `parties` (both are lookup keys of the table).
   */
  async bodiesByLeaf(
    dir: 'in' | 'out',
    parties: readonly string[],
    ids: readonly string[],
    q: Executor = this.db,
  ): Promise<Map<number, Body>> {
    const out = new Map<number, Body>();
    if (!parties.length || !ids.length) return out;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await q
        .selectFrom(dir === 'out' ? 'outbox' : 'inbox')
        .select(['leaf_index', 'body'])
        .where('party', 'in', parties)
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(Number(r.leaf_index), fromJson(r.body));
    }
    return out;
  }

  /**
   * The envelopes (sealed parts included, as sent or received) of logged messages by their leaf
   * index, with the peer (sender or recipient) and the message's TLP; looked up as `bodiesByLeaf`.
   */
  async envelopesByLeaf(
    dir: 'in' | 'out',
    parties: readonly string[],
    ids: readonly string[],
    q: Executor = this.db,
  ): Promise<Map<number, { party: string; envelope: Envelope; tlp: string }>> {
    const out = new Map<number, { party: string; envelope: Envelope; tlp: string }>();
    if (!parties.length || !ids.length) return out;
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await q
        .selectFrom(dir === 'out' ? 'outbox' : 'inbox')
        .select(['leaf_index', 'party', 'envelope', 'body'])
        .where('party', 'in', parties)
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows)
        out.set(Number(r.leaf_index), {
          party: r.party,
          envelope: fromJson(r.envelope),
          tlp: (fromJson(r.body) as Body).tlp,
        });
    }
    return out;
  }

  /** Whether the database has a table of this name (tables added by later migrations). */
  async hasTable(name: string, q: Executor = this.db): Promise<boolean> {
    const tables = await q.introspection.getTables();
    return tables.some((t) => t.name === name);
  }

  /** Peers' co-signature lines on this log's checkpoints, if the `cosignatures` table exists. */
  async listCosignatureLines(
    q: Executor = this.db,
  ): Promise<{ party: string; size: number; line: string }[]> {
    if (!(await this.hasTable('cosignatures', q))) return [];
    const { rows } = await sql<{ party: string; size: number | string; line: string }>`
      select party, size, line from cosignatures order by size, party`.execute(q);
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  /**
   * This node's own co-signature lines on its peers' checkpoints, with the checkpoint notes, if
   * the `witnessed` table exists.
   */
  async listWitnessedLines(
    q: Executor = this.db,
  ): Promise<{ party: string; size: number; note: string; line: string }[]> {
    if (!(await this.hasTable('witnessed', q))) return [];
    const { rows } = await sql<{
      party: string;
      size: number | string;
      note: string;
      line: string;
    }>`
      select party, size, note, cosignature as line from witnessed order by party`.execute(q);
    return rows.map((r) => ({ ...r, size: Number(r.size) }));
  }

  // language: local translations, and finding messages by id or incident

  /** Stores a local translation and adds its text to the message's search index, in one commit. */
  async addTranslation(row: TranslationRow, q?: Executor): Promise<void> {
    const write = async (tx: Executor) => {
      await tx.insertInto('translations').values(row).execute();
      await indexTranslation(tx, this.dialect, row.party, row.message_id, row.text);
    };
    await (q ? write(q) : this.transaction(write));
  }

  /** The local translations of several messages of one author party, oldest first. */
  async translationsOf(
    party: string,
    ids: readonly string[],
    q: Executor = this.db,
  ): Promise<TranslationRow[]> {
    if (!ids.length) return [];
    const out: TranslationRow[] = [];
    for (let i = 0; i < ids.length; i += 500)
      out.push(
        ...(await q
          .selectFrom('translations')
          .selectAll()
          .where('party', '=', party)
          .where('message_id', 'in', ids.slice(i, i + 500))
          .orderBy('created_at')
          .orderBy('id')
          .execute()),
      );
    return out;
  }

  /** History and search: messages matching every filter, newest first (src/store/search.ts). */
  search(query: SearchQuery, q: Executor = this.db): Promise<SearchRow[]> {
    return searchMessages(q, this.dialect, query);
  }

  /** The local translations of one message, oldest first. */
  async listTranslations(
    party: string,
    messageId: string,
    q: Executor = this.db,
  ): Promise<TranslationRow[]> {
    return q
      .selectFrom('translations')
      .selectAll()
      .where('party', '=', party)
      .where('message_id', '=', messageId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  }

  async getInbox(party: string, id: string, q: Executor = this.db): Promise<InboxRow | undefined> {
    const row = await q
      .selectFrom('inbox')
      .selectAll()
      .where('party', '=', party)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row) return undefined;
    let envelope: Envelope | undefined;
    const hash = this.#bodyHashOf(() => {
      envelope = fromJson(row.envelope);
      return envelope;
    });
    const body = this.#whole('in', party, id, row.body, hash);
    return { ...numbers(row), envelope: envelope as Envelope, body };
  }

  /**
   * Whether this node sent or received a message with this id, from or to any peer: found through
   * the search index's `id` column (index `search_id`), which every stored message is in.
   */
  async holdsMessage(id: string, q: Executor = this.db): Promise<boolean> {
    const row = await q.selectFrom('search').select('doc').where('id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  /** The outbox rows of one message we sent: one per recipient. */
  async outboxRowsOf(id: string, q: Executor = this.db): Promise<OutboxMessageRow[]> {
    const rows = await q
      .selectFrom('outbox')
      .select([...OUTBOX_COLUMNS, 'body'])
      .where('id', '=', id)
      .execute();
    return this.#checkedOutbox(rows);
  }

  /**
   * Messages sent and received of one incident, oldest first, found through the search index's
   * `incident` column (0018-search) rather than a scan of the bodies; each is confirmed on its
   * parsed body.
   */
  async incidentMessages(incident: string, q: Executor = this.db): Promise<IncidentMessageRow[]> {
    const received = await q
      .selectFrom('search')
      .innerJoin('inbox', (j) =>
        j.onRef('inbox.party', '=', 'search.party').onRef('inbox.id', '=', 'search.id'),
      )
      .select([
        'inbox.party',
        'inbox.id',
        'inbox.received_at as at',
        'inbox.body',
        'inbox.envelope',
      ])
      .where('search.incident', '=', incident)
      .where('search.dir', '=', 'in')
      .execute();
    const sent = await q
      .selectFrom('search')
      .innerJoin('outbox', (j) =>
        j.onRef('outbox.party', '=', 'search.party').onRef('outbox.id', '=', 'search.id'),
      )
      .select([
        'outbox.party',
        'outbox.id',
        'outbox.created_at as at',
        'outbox.body',
        'outbox.envelope',
      ])
      .where('search.incident', '=', incident)
      .where('search.dir', '=', 'out')
      .execute();
    const seen = new Set<string>();
    const out: IncidentMessageRow[] = [];
    for (const { envelope, ...r } of received) {
      let header: Envelope['header'] | undefined;
      const hash = this.#bodyHashOf(() => {
        header = fromJson(envelope).header;
        return { header } as Envelope;
      });
      const body = this.#checked('in', r.party, r.id, r.body, hash);
      if (body && header) out.push({ dir: 'in', ...r, to: header.to, body });
    }
    // A message to several recipients has one outbox row each: keep one, naming them all.
    const recipients = new Map<string, string[]>();
    for (const r of sent) recipients.set(r.id, [...(recipients.get(r.id) ?? []), r.party]);
    for (const { envelope, ...r } of sent) {
      if (seen.has(r.id) || !seen.add(r.id)) continue;
      const hash = this.#bodyHashOf(() => fromJson(envelope));
      const body = this.#checked('out', r.party, r.id, r.body, hash);
      if (body) out.push({ dir: 'out', ...r, to: recipients.get(r.id) ?? [], body });
    }
    return out
      .filter((m) => m.body.incident === incident)
      .sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.id < b.id ? -1 : 1));
  }

  /**
   * The newest `limit` messages of `type` on each side (sent, one per recipient, and received),
   * with when the other side stored them: ours from its receipt, theirs on arrival here. Found
   * through the search index's `type` column (index `search_type`, migration 0023-flows), for
   * src/protocol/flows.ts to derive presence checks and conferences from.
   */
  async flowMessages(
    type: 'presence' | 'conference',
    limit: number,
    q: Executor = this.db,
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
        'inbox.envelope',
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
        'outbox.envelope',
        'search.author',
        'search.sent',
      ])
      .where('search.type', '=', type)
      .where('search.dir', '=', 'out')
      .orderBy('search.doc', 'desc')
      .limit(limit)
      .execute();
    // A body that no longer matches its signed header is left out and reported, as everywhere.
    const out: FlowMessage[] = [];
    for (const r of received) {
      const hash = this.#bodyHashOf(() => fromJson(r.envelope));
      const body = this.#checked('in', r.party, r.id, r.body, hash);
      if (body)
        out.push({
          dir: 'in',
          party: r.party,
          from: r.author,
          id: r.id,
          sent: r.sent,
          received: r.received_at,
          body,
        });
    }
    for (const r of sent) {
      const hash = this.#bodyHashOf(() => fromJson(r.envelope));
      const body = this.#checked('out', r.party, r.id, r.body, hash);
      if (body)
        out.push({
          dir: 'out',
          party: r.party,
          from: r.author,
          id: r.id,
          sent: r.sent,
          received: r.peer_received_at,
          body,
        });
    }
    return out;
  }
}

/** A message of an incident, sent or received, with every recipient its header names. */
export interface IncidentMessageRow {
  dir: 'in' | 'out';
  /** The sender of `in`, the first recipient of `out`. */
  party: string;
  id: string;
  at: string;
  /** The header's recipients (`in`), or the outbox rows' parties (`out`). */
  to: string[];
  body: Body;
}

const HASH_BYTES = 32;

/**
 * `status = 'pending'` for rows looked up by key (`id`, `seq`), written so that SQLite does not
 * take it for an index: with a plain `status = ?` beside the key, it walks `outbox_due` — every
 * pending row of the party — for each lookup. Under a backlog of 20,000 that made the sender's
 * CPU per message 3× (overload bench, `pendingRows`).
 */
const PENDING_BY_KEY = sql<SqlBool>`coalesce(status, '') = 'pending'`;

/**
 * What delivery reads of a due row, and no more: the envelope as stored (what it sends), and
 * what settling a receipt and a retry need.
 */
const DUE_COLUMNS = [
  'id',
  'seq',
  'rank',
  'header_hash',
  'envelope as text',
  'status',
  'attempts',
  'leaf_index',
] as const;
/** The same columns as kept SQL, each alias quoted (`text` is also a type's name). */
const DUE_SQL = DUE_COLUMNS.map((c) => c.replace(/ as (\w+)$/, ' as "$1"')).join(', ');

/**
 * A party's pending envelopes of these ranks (with `attemptsBelow`, only those tried fewer
 * times), as `from … where …` and its parameters: what `dueOutbox`, `dueIds` and `nextDue` read,
 * by `outbox_due`. Kept SQL: on a flash's path, building it with Kysely cost more than the read.
 */
function pendingOf(party: string, ranks: readonly number[], attemptsBelow?: number) {
  const below = attemptsBelow === undefined ? '' : ' and attempts < ?';
  return {
    sql: `from outbox where party = ? and status = 'pending' and rank in (${ranks.map(() => '?').join(', ')})${below}`,
    params: [party, ...ranks, ...(attemptsBelow === undefined ? [] : [attemptsBelow])],
  };
}

/** `select <columns>` of the pending envelopes due at `now`, by precedence then seq. */
function dueOf(
  columns: string,
  party: string,
  ranks: readonly number[],
  now: number,
  limit: number,
  attemptsBelow?: number,
) {
  const pending = pendingOf(party, ranks, attemptsBelow);
  return {
    sql: `select ${columns} ${pending.sql} and next_attempt_at <= ? order by rank, seq limit ?`,
    params: [...pending.params, now, limit],
  };
}
type DueRow = Pick<
  NewOutboxRow,
  'id' | 'seq' | 'rank' | 'header_hash' | 'status' | 'attempts' | 'leaf_index'
> & {
  text: Json<Envelope>;
};

const OUTBOX_COLUMNS = [
  'party',
  'id',
  'seq',
  'rank',
  'header_hash',
  'envelope as text',
  'created_at',
  'status',
  'attempts',
  'next_attempt_at',
  'last_error',
  'receipted_at',
  'peer_received_at',
  'peer_index',
  'leaf_index',
] as const;

/**
 * What an outbox row read back adds to its columns: the envelope, parsed from the stored `text`
 * when first read and kept. The getter lives on the prototype: a getter defined on each row (a
 * closure per row) cost delivery more CPU than parsing every row it reads.
 */
class StoredEnvelope {
  declare readonly text: Json<Envelope>;
  #envelope: Envelope | undefined;

  get envelope(): Envelope {
    this.#envelope ??= fromJson(this.text);
    return this.#envelope;
  }
}

function outboxRow<Row extends { text: Json<Envelope> }>(row: Row): Row & StoredEnvelope {
  return numbers(row, new StoredEnvelope());
}

/**
 * A table's columns for `Store.insertRows`, checked complete: a column added to `T` and not listed
 * here fails to compile rather than being left to its default.
 */
export function columnsOf<T>() {
  return <const C extends ReadonlyArray<keyof T & string>>(
    columns: C &
      ([Exclude<keyof T, C[number]>] extends [never]
        ? unknown
        : { missing: Exclude<keyof T, C[number]> }),
  ): C => columns;
}

const OUTBOX_INSERT = columnsOf<OutboxTable>()([
  'party',
  'id',
  'seq',
  'rank',
  'header_hash',
  'envelope',
  'body',
  'created_at',
  'status',
  'attempts',
  'next_attempt_at',
  'last_error',
  'receipted_at',
  'peer_received_at',
  'peer_index',
  'leaf_index',
]);

const INBOX_INSERT = columnsOf<InboxTable>()([
  'party',
  'id',
  'seq',
  'header_hash',
  'envelope',
  'body',
  'received_at',
  'leaf_index',
  'receipt_id',
]);

/** Rows per multi-row insert: the largest power of two up to 256, so few statement shapes. */
function chunkOf(remaining: number): number {
  let n = 256;
  while (n > remaining) n /= 2;
  return n;
}

/** PostgreSQL returns bigint columns as strings: a copy of `row` (into `into`) with numbers. */
function numbers<T extends object, Into extends object = object>(row: T, into?: Into): T & Into {
  const out = Object.assign(into ?? {}, row) as Record<string, unknown>;
  for (const key of [
    'seq',
    'rank',
    'attempts',
    'next_attempt_at',
    'peer_index',
    'leaf_index',
    'receipt_id',
  ]) {
    const v = out[key];
    if (typeof v === 'string' || typeof v === 'bigint') out[key] = Number(v);
  }
  return out as T & Into;
}
