/**
 * The lease of the replicas of one party, in PostgreSQL (the `leases` table, migration
 * 0027-leases), and the fence every unit of work of the ledger passes (src/node/core/leadership.ts
 * says when each is used).
 *
 * Acquiring raises the row's fencing token by one; the holder renews the row before it expires.
 * Expiry is counted by the database's clock, so the replicas' clocks never have to agree. The
 * lease is read and written on a connection of its own, so a long unit of work on the store's
 * connection never delays a renewal.
 */
import { sql } from 'kysely';
import type pg from 'pg';
import type { Executor } from '../store.ts';
import { type PostgresOptions, postgresPool } from './index.ts';

/** The one lease of a party: who runs delivery, timers and checkpoint signing. */
export const LEADER = 'leader';

/** Milliseconds since the epoch by the database's clock. */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

export interface LeaseRow {
  holder: string;
  token: number;
  expiresAt: number;
}

export class PostgresLeases {
  readonly #pool: pg.Pool;

  constructor(options: PostgresOptions) {
    // A renewal never waits long behind a lock: one that cannot be had in time has failed.
    this.#pool = postgresPool(options, { lockTimeoutMs: 1000 });
  }

  /**
   * Takes the lease for `holder` when it is free or expired: answers the new fencing token, or,
   * when another replica holds it, how long until it expires (ms, by the database's clock).
   */
  async acquire(
    holder: string,
    leaseMs: number,
  ): Promise<{ token: number } | { expiresInMs: number }> {
    const { rows } = await this.#pool.query<{ token: number }>(
      `insert into leases (name, holder, token, expires_at) values ($1, $2, 1, ${NOW_MS} + $3)
       on conflict (name) do update
         set holder = excluded.holder, token = leases.token + 1, expires_at = excluded.expires_at
         where leases.expires_at < ${NOW_MS}
       returning token`,
      [LEADER, holder, leaseMs],
    );
    const taken = rows[0];
    if (taken) return { token: taken.token };
    const held = await this.#pool.query<{ wait: number }>(
      `select expires_at - ${NOW_MS} as wait from leases where name = $1`,
      [LEADER],
    );
    return { expiresInMs: Math.max(0, held.rows[0]?.wait ?? 0) };
  }

  /** Extends the lease; false when the token moved on or the lease expired (it is lost). */
  async renew(holder: string, token: number, leaseMs: number): Promise<boolean> {
    const { rowCount } = await this.#pool.query(
      `update leases set expires_at = ${NOW_MS} + $4
       where name = $1 and holder = $2 and token = $3 and expires_at >= ${NOW_MS}`,
      [LEADER, holder, token, leaseMs],
    );
    return rowCount === 1;
  }

  /** Gives the lease up at once (a clean stop): another replica takes it at its next look. */
  async release(holder: string, token: number): Promise<void> {
    await this.#pool.query(
      'update leases set expires_at = 0 where name = $1 and holder = $2 and token = $3',
      [LEADER, holder, token],
    );
  }

  async current(): Promise<LeaseRow | undefined> {
    const { rows } = await this.#pool.query<{
      holder: string;
      token: number;
      expires_at: number;
    }>('select holder, token, expires_at from leases where name = $1', [LEADER]);
    const row = rows[0];
    return row && { holder: row.holder, token: row.token, expiresAt: row.expires_at };
  }

  close(): Promise<void> {
    return this.#pool.end();
  }
}

/**
 * The fence at the start of every unit of work of a replica, inside its transaction.
 *
 * First, a transaction-scoped advisory lock: units of work of all replicas take their turn, so
 * two of them never read the same ledger size and append at the same index (released at commit
 * or rollback, or when the connection dies).
 *
 * Then, for work the lease holder started (`token` given), its token is checked against the row
 * `FOR SHARE`: a stale token (another replica acquired since) or an expired lease refuses the
 * whole transaction, and while it runs no other replica can acquire. Answers false when refused.
 */
export async function fence(
  tx: Executor,
  holder: string,
  token: number | undefined,
): Promise<boolean> {
  await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '/hotline-ledger'))`.execute(
    tx,
  );
  if (token === undefined) return true;
  const { rows } = await sql<{ token: number }>`
    select token from leases
    where name = ${LEADER} and holder = ${holder} and token = ${token}
      and expires_at >= ${sql.raw(NOW_MS)}
    for share`.execute(tx);
  return rows.length === 1;
}
