/**
 * The PostgreSQL backend (node-postgres), for sites that keep their records in a managed
 * database rather than a file beside the node.
 *
 * One connection, as with SQLite: the node already serialises its writes, and one connection
 * keeps every transaction's view and the order of commits exactly what the SQLite backend gives,
 * so the same Store code is correct on both. Durability: PostgreSQL's default
 * `synchronous_commit = on` flushes the WAL before COMMIT returns; the store refuses to open
 * when the server has it off, since a receipt must never precede a durable commit.
 *
 * Tables live in one schema (default `public`), so several nodes (or tests) can share a database.
 */
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database as Schema } from '../schema.ts';
import { Store } from '../store.ts';

export interface PostgresOptions {
  /** A libpq connection URL: `postgres://user@host:5432/db`. */
  url: string;
  /** The schema holding this node's tables; created when missing. */
  schema?: string;
  /**
   * Replicas: the server ends a session idle inside a transaction this long (a paused process),
   * so its locks (the ledger's turn, the lease row) do not stop the other replicas.
   */
  idleInTransactionMs?: number;
}

/** Settings of a connection pool beyond the store's own. */
interface PoolSettings {
  readOnly?: boolean;
  lockTimeoutMs?: number;
}

/**
 * PostgreSQL has no cheap whole-database check like SQLite's `quick_check`: the server verifies
 * each page's checksum as it reads it (when the cluster has data checksums), and a read that
 * fails is a store error the node alarms on; `amcheck` and `pg_checksums` are the operator's.
 */
const NO_QUICK_CHECK =
  'PostgreSQL checks page checksums as it reads; run amcheck or pg_checksums (docs/operators.md)';

/** Schema names are interpolated into SQL, so only plain identifiers are accepted. */
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** int8 (OID 20) as a JS number: every stored integer (seqs, sizes, times) is below 2^53. */
const INT8 = 20;
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8 && format !== 'binary') return (text: string) => Number(text);
    return pg.types.getTypeParser(oid, format);
  },
};

/** One connection to the node's schema (the store's, or the lease's: ./leases.ts). */
export function postgresPool(options: PostgresOptions, settings: PoolSettings = {}): pg.Pool {
  const schema = options.schema ?? 'public';
  if (!SCHEMA_NAME.test(schema))
    throw new Error(`"${schema}" is not a plain schema name (a-z, 0-9, _; at most 63)`);
  const params = [`-c search_path=${schema}`];
  if (settings.readOnly) params.push('-c default_transaction_read_only=on');
  if (settings.lockTimeoutMs) params.push(`-c lock_timeout=${Math.floor(settings.lockTimeoutMs)}`);
  if (options.idleInTransactionMs)
    params.push(
      `-c idle_in_transaction_session_timeout=${Math.floor(options.idleInTransactionMs)}`,
    );
  const pool = new pg.Pool({
    connectionString: options.url,
    max: 1,
    options: params.join(' '),
    types,
  });
  // An idle connection the server ended (a restart, a replica's frozen session timed out) is an
  // 'error' event of the pool, which would end the process unheard: the pool drops that client
  // and the next query opens a new connection; a query that meets the failure throws as usual.
  pool.on('error', () => {});
  // The same ending while the connection is checked out — a replica frozen (SIGSTOP) inside a
  // transaction wakes to find it cut — is an 'error' event of the client itself: heard here, the
  // transaction's next query fails, the unit of work is refused whole, and the client is dropped.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

async function open(options: PostgresOptions, readOnly: boolean): Promise<Store> {
  const schema = options.schema ?? 'public';
  const connections = postgresPool(options, { readOnly });
  const store = new Store(
    new Kysely<Schema>({ dialect: new PostgresDialect({ pool: connections }) }),
    'postgres',
    { integrityCheck: async () => ({ checked: false, problems: [], reason: NO_QUICK_CHECK }) },
  );
  try {
    const { rows } = await connections.query<{ synchronous_commit: string }>(
      'show synchronous_commit',
    );
    if (rows[0]?.synchronous_commit === 'off')
      throw new Error(
        'the server runs with synchronous_commit = off: commits would not be durable',
      );
    if (!readOnly) {
      await connections.query(`create schema if not exists ${schema}`);
      await store.migrate(schema);
    }
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Opens (and migrates) a node's store in PostgreSQL. */
export function openPostgresStore(options: PostgresOptions): Promise<Store> {
  return open(options, false);
}

/** Opens a node's store for reading only, without migrating it (export, audit). */
export function openPostgresStoreReadOnly(options: PostgresOptions): Promise<Store> {
  return open(options, true);
}
