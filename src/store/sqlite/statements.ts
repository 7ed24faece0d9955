/**
 * The SQLite hot path: the statements a message's release, receipt, receive and delivery run,
 * prepared once on better-sqlite3 and run on the node's one connection without Kysely (whose
 * building, compiling and promise per query cost more than the statement itself). `Store` chooses
 * it behind its own methods (`Store.#fast`), so callers never know which ran; PostgreSQL and the
 * cold paths stay on Kysely.
 *
 * A statement may run here only when it cannot land inside another unit's transaction: inside
 * the caller's own transaction (Kysely holds the connection for it), or a read while no
 * transaction is open on the connection.
 */
import type Database from 'better-sqlite3';

/** Distinct SQL texts kept prepared. */
const MAX_PREPARED = 512;

export class SqliteStatements {
  readonly #db: Database.Database;
  readonly #prepared = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Whether a transaction is open on the connection (BEGIN run, COMMIT not yet). */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /** The statement for `sql`, prepared on first use and kept (the node runs a few dozen). */
  statement(sql: string): Database.Statement {
    let statement = this.#prepared.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      // Multi-row inserts make one text per row count; the set stays small all the same.
      if (this.#prepared.size >= MAX_PREPARED) this.#prepared.clear();
      this.#prepared.set(sql, statement);
    }
    return statement;
  }

  /**
   * Sets how the next commits reach the disk: FULL fsyncs the WAL at each commit; NORMAL writes
   * it without fsync, and the next FULL commit's fsync makes it durable too (the WAL is one file,
   * written in commit order). Only between transactions: SQLite refuses it inside one.
   */
  synchronous(level: 'FULL' | 'NORMAL'): void {
    this.#db.pragma(`synchronous = ${level}`);
  }
}
