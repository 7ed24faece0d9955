/**
 * The embedded SQLite backend (better-sqlite3), the default.
 *
 * Durability: WAL journal with `synchronous = FULL`, so every commit is fsynced before the
 * transaction returns — a receipt is only ever sent for an envelope that survives power loss.
 * (NORMAL would be faster but may lose the last commits on power failure, after the peer was
 * told they were stored.) See docs/architecture.md § Durability.
 */
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database as Schema } from '../schema.ts';
import { Store } from '../store.ts';

export async function openSqliteStore(path: string): Promise<Store> {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const store = new Store(
    new Kysely<Schema>({ dialect: new SqliteDialect({ database: db }) }),
    'sqlite',
  );
  await store.migrate();
  return store;
}
