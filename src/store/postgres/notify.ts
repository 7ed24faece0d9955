/**
 * A PostgreSQL notification channel (LISTEN/NOTIFY) between the replicas of one party: what one
 * replica publishes, every replica listening on the same schema's channel hears — including the
 * publisher, which skips its own (src/node/core/replica-feed.ts).
 *
 * One connection of its own, held open while listening: a dropped one (the server restarted) is
 * opened again after a second, and listens again; what was published meanwhile is not heard
 * (consoles read the state again on reconnecting, as they do after any gap).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { Logger } from 'pino';
import { type PostgresOptions, postgresPool } from './index.ts';

/** PostgreSQL refuses a notification payload of 8000 bytes or more. */
export const MAX_PAYLOAD_BYTES = 7900;

const RECONNECT_MS = 1000;

export class PostgresChannel {
  readonly #options: PostgresOptions;
  readonly #name: string;
  readonly #logger: Logger;
  readonly #onMessage: (payload: string) => void;
  readonly #publisher: pg.Pool;
  #listening: { pool: pg.Pool; client: pg.PoolClient } | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: PostgresOptions, onMessage: (payload: string) => void, logger: Logger) {
    this.#options = options;
    // Channel names are identifiers (at most 63 bytes): one per schema, named by its hash.
    const schema = options.schema ?? 'public';
    this.#name = `hotline_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
    this.#onMessage = onMessage;
    this.#logger = logger;
    this.#publisher = postgresPool(options);
  }

  /** Starts listening; resolves once the first LISTEN is in place. */
  async listen(): Promise<void> {
    const pool = postgresPool(this.#options);
    try {
      const client = await pool.connect();
      client.on('notification', (n) => {
        if (n.channel === this.#name && n.payload !== undefined) this.#onMessage(n.payload);
      });
      client.on('error', (err) => {
        this.#logger.warn({ err }, 'the replicas’ notification channel dropped: listening again');
        client.release(err);
        void pool.end().catch(() => {});
        this.#listening = undefined;
        this.#again();
      });
      await client.query(`listen ${this.#name}`);
      this.#listening = { pool, client };
    } catch (err) {
      await pool.end().catch(() => {});
      throw err;
    }
  }

  #again(): void {
    if (this.#closed) return;
    this.#retry = setTimeout(() => {
      this.listen().catch((err: unknown) => {
        this.#logger.warn({ err }, 'listening on the replicas’ notification channel failed');
        this.#again();
      });
    }, RECONNECT_MS);
  }

  /** Publishes to every replica (at most MAX_PAYLOAD_BYTES). */
  async publish(payload: string): Promise<void> {
    await this.#publisher.query('select pg_notify($1, $2)', [this.#name, payload]);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const listening = this.#listening;
    this.#listening = undefined;
    if (listening) {
      listening.client.release(true);
      await listening.pool.end();
    }
    await this.#publisher.end();
  }
}
