/**
 * The embedded SQLite backend (better-sqlite3), the default.
 *
 * Durability: WAL journal with `synchronous = FULL`, so every commit is fsynced before the
 * transaction returns — a receipt is only ever sent for an envelope that survives power loss.
 * (NORMAL would be faster but may lose the last commits on power failure, after the peer was
 * told they were stored.) See docs/architecture.md § Durability.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { Kysely, type SqliteDatabase, SqliteDialect, type SqliteStatement } from 'kysely';
import type { Database as Schema } from '../schema.ts';
import { type IntegrityReport, Store } from '../store.ts';
import { SqliteStatements } from './statements.ts';

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
  const store = new Store(new Kysely<Schema>({ dialect }), 'sqlite', {
    integrityCheck: (stop) =>
      path === ':memory:' ? Promise.resolve(quickCheckHere(db)) : quickCheck(path, stop),
    sqlite: new SqliteStatements(db),
  });
  await store.migrate();
  return store;
}

/** Why a check answered nothing: its store closed while it ran. */
const STOPPED = 'the store closed while the check ran';

/** The most problems `quick_check` lists: the first few say where the damage is. */
const QUICK_CHECK_PROBLEMS = 20;

/**
 * `PRAGMA quick_check` (b-tree structure, record formats, NOT NULL and CHECK constraints; not
 * index-to-table agreement) on a second, read-only connection in a worker thread, so a large file
 * does not hold the event loop: WAL lets it read a consistent snapshot while the node writes. A
 * file too damaged to be checked is itself a problem found.
 */
function quickCheck(path: string, stop: AbortSignal): Promise<IntegrityReport> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const Database = require(workerData.driver);
    let problems;
    try {
      const db = new Database(workerData.path, { readonly: true, fileMustExist: true });
      try {
        problems = db.pragma('quick_check(' + workerData.max + ')').map((r) => Object.values(r)[0]);
      } finally {
        db.close();
      }
    } catch (e) {
      problems = [String((e && e.message) || e)];
    }
    parentPort.postMessage(problems);
  `;
  const driver = createRequire(import.meta.url).resolve('better-sqlite3');
  return new Promise((resolve, reject) => {
    if (stop.aborted) return resolve({ checked: false, problems: [], reason: STOPPED });
    const worker = new Worker(code, {
      eval: true,
      workerData: { path, driver, max: QUICK_CHECK_PROBLEMS },
    });
    // A check under way does not keep a stopping process alive; a closing store ends it (its
    // connection to the file with it) and answers once the worker has exited.
    worker.unref();
    const onStop = () => void worker.terminate();
    stop.addEventListener('abort', onStop, { once: true });
    worker.once('message', (rows: unknown[]) => resolve(report(rows)));
    worker.once('error', reject);
    worker.once('exit', (exit) => {
      stop.removeEventListener('abort', onStop);
      if (stop.aborted) resolve({ checked: false, problems: [], reason: STOPPED });
      else reject(new Error(`the quick check ended with code ${exit}`));
    });
  });
}

/** The same check in this thread, for an in-memory database no other connection can open. */
function quickCheckHere(db: Database.Database): IntegrityReport {
  try {
    const rows = db.pragma(`quick_check(${QUICK_CHECK_PROBLEMS})`) as Record<string, unknown>[];
    return report(rows.map((r) => Object.values(r)[0]));
  } catch (e) {
    return { checked: true, problems: [(e as Error).message] };
  }
}

function report(rows: unknown[]): IntegrityReport {
  const problems = rows.map(String).filter((line) => line !== 'ok');
  return { checked: true, problems };
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
  return new Store(new Kysely<Schema>({ dialect }), 'sqlite', { sqlite: new SqliteStatements(db) });
}
