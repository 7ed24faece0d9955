/**
 * The embedded SQLite backend (better-sqlite3), the default.
 *
 * Durability: WAL journal with `synchronous = FULL`, so every commit is fsynced before the
 * transaction returns — a receipt is only ever sent for an envelope that survives power loss.
 * (NORMAL would be faster but may lose the last commits on power failure, after the peer was
 * told they were stored.) See docs/architecture.md § Durability.
 */
import Database from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import type { Database as Schema } from '../schema.ts';
import { Store } from '../store.ts';

/** Distinct SQL texts kept prepared; the node issues a few dozen shapes. */
const STATEMENT_CACHE = 512;

/**
 * Kysely prepares every query anew; preparing costs more than running a small statement, so
 * statements are kept by their SQL text (better-sqlite3 statements are reusable).
 */
function withStatementCache(db: Database.Database): SqliteDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let statement = cache.get(sql);
      if (!statement) {
        statement = db.prepare(sql) as unknown as SqliteStatement;
        if (cache.size >= STATEMENT_CACHE) cache.clear();
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

export async function openSqliteStore(path: string): Promise<Store> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const dialect = new SqliteDialect({ database: withStatementCache(db) });
  const store = new Store(new Kysely<Schema>({ dialect }), 'sqlite');
  await store.migrate();
  return store;
}

/**
 * Opens an existing database for reading only, without migrating it: beside a running node (WAL
 * lets a second connection read a consistent snapshot while the node writes) or in a stopped
 * node's folder. Only reads work; the schema is whatever the node last migrated to.
 */
export function openSqliteStoreReadOnly(path: string): Store {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  const dialect = new SqliteDialect({ database: withStatementCache(db) });
  return new Store(new Kysely<Schema>({ dialect }), 'sqlite');
}
