/**
 * Which replica of a party leads: the one holding the lease in PostgreSQL
 * (src/store/postgres/leases.ts). Every replica serves operators and the federation listener; the
 * leader alone runs the loops — delivery, heartbeats, relay collection, escalation, link tests,
 * compliance, audit anchoring, expiry — started when it acquires the lease, stopped the moment it
 * loses it.
 *
 * The fencing rule (docs/architecture.md § Replicas): the loops run inside an async context that
 * carries the fencing token of the term that started them, and every unit of work of the ledger
 * passes `guard` inside its transaction. Work of a term carries its token to the database, which
 * refuses it once another replica has acquired (the token moved) or the lease has expired — so a
 * leader paused (SIGSTOP, a long GC, a frozen VM) and resumed after a takeover cannot write late,
 * whatever it still believes. Work an operator or a peer asked for (a request) carries no token:
 * any replica may do it, and the guard only gives it its turn among the replicas' units of work.
 *
 * @example
 *   const leadership = new Leadership({ leases, id: 'us-1', leaseMs: 3000, renewMs: 1000, logger, metrics });
 *   const ledger = await Ledger.open(store, signer, leadership.guard);
 *   leadership.start({ start: startLoops, stop: stopLoops });
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Logger } from 'pino';
import { fence, type PostgresLeases } from '../../store/postgres/leases.ts';
import type { Executor } from '../../store/store.ts';
import type { Metrics } from './metrics.ts';

/** A unit of work of a term whose lease another replica has since taken: refused, rolled back. */
export class FencedError extends Error {
  override name = 'FencedError';
}

/** What the leader runs: started on acquiring the lease, stopped on losing it. */
export interface Loops {
  start(): void | Promise<void>;
  stop(): Promise<void>;
}

export interface LeadershipParts {
  leases: PostgresLeases;
  /** This replica's id (`replica.id`). */
  id: string;
  leaseMs: number;
  renewMs: number;
  logger: Logger;
  metrics: Metrics;
}

/** How long after the holder's expiry a follower looks: past it, by the database's clock. */
const EXPIRY_MARGIN_MS = 5;

export class Leadership {
  readonly #parts: LeadershipParts;
  /** The fencing token of the term that started the work running now, if a term did. */
  readonly #term = new AsyncLocalStorage<number>();
  #token: number | undefined;
  /** When the lease was last acquired or renewed (this process's monotonic clock). */
  #heldSince = 0;
  #loops: Loops | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** A follower's look timed for the moment the holder's lease runs out. */
  #atExpiry: NodeJS.Timeout | undefined;
  #turn: Promise<void> | undefined;

  constructor(parts: LeadershipParts) {
    this.#parts = parts;
  }

  /** The fencing token while this replica leads. */
  get token(): number | undefined {
    return this.#token;
  }

  /**
   * The ledger's guard (src/node/record/ledger.ts), inside each unit of work's transaction: the
   * replicas' turn, and for work of a term, the database's check of its token.
   */
  readonly guard = async (tx: Executor): Promise<void> => {
    const token = this.#term.getStore();
    if (await fence(tx, this.#parts.id, token)) return;
    this.#parts.metrics.fenced.inc({ what: 'commit' });
    this.#parts.logger.warn(
      { replica: this.#parts.id, token, fenced: 'commit' },
      'the database refused a write of an ended term as leader (its fencing token is stale): nothing of it was kept; this replica follows',
    );
    if (token !== undefined) void this.#look(() => this.#follow(token));
    throw new FencedError(`fencing token ${token} is stale: another replica holds the lease`);
  };

  /** Looks for the lease at once and every `renewMs`: renews it while held, takes it when free. */
  start(loops: Loops): void {
    this.#loops = loops;
    this.#timer = setInterval(() => this.#tickSoon(), this.#parts.renewMs);
    this.#tickSoon();
  }

  /** Stops the loops if leading and gives the lease up, so another replica takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    clearTimeout(this.#atExpiry);
    this.#timer = undefined;
    await this.#look(async () => {
      const token = this.#token;
      if (token === undefined) return;
      await this.#follow(token);
      await this.#parts.leases
        .release(this.#parts.id, token)
        .catch((err: unknown) => this.#parts.logger.warn({ err }, 'giving the lease up failed'));
    });
    await this.#parts.leases.close();
  }

  #tickSoon(): void {
    if (!this.#turn) void this.#look(() => this.#tick());
  }

  /** One thing at a time: a look, a step down, the stop. */
  async #look(step: () => Promise<void>): Promise<void> {
    while (this.#turn) await this.#turn;
    this.#turn = step()
      .catch((err: unknown) => this.#parts.logger.error({ err }, 'looking at the lease failed'))
      .finally(() => {
        this.#turn = undefined;
      });
    await this.#turn;
  }

  async #tick(): Promise<void> {
    const { leases, id, leaseMs, logger, metrics } = this.#parts;
    if (!this.#timer) return;
    const token = this.#token;
    if (token !== undefined) {
      const started = performance.now();
      let renewed: boolean;
      try {
        renewed = await leases.renew(id, token, leaseMs);
      } catch (err) {
        // The database is out of reach: the lease runs out by itself; past its length another
        // replica may hold it, and this one's work would be refused anyway.
        logger.warn({ err, replica: id }, 'renewing the lease failed');
        if (performance.now() - this.#heldSince > leaseMs) await this.#follow(token);
        return;
      }
      if (renewed) {
        this.#heldSince = started;
        return;
      }
      metrics.fenced.inc({ what: 'renewal' });
      logger.warn(
        { replica: id, token, fenced: 'renewal' },
        'the database refused to renew the lease (expired, or taken with a newer fencing token): this replica follows',
      );
      await this.#follow(token);
      return;
    }
    const started = performance.now();
    const answer = await leases.acquire(id, leaseMs);
    if (!('token' in answer)) {
      // Held by another: look again the moment it runs out, if that comes before the next look
      // (a dead leader is replaced after its lease, not after its lease and a look's wait).
      clearTimeout(this.#atExpiry);
      if (answer.expiresInMs < this.#parts.renewMs)
        this.#atExpiry = setTimeout(() => this.#tickSoon(), answer.expiresInMs + EXPIRY_MARGIN_MS);
      return;
    }
    const acquired = answer.token;
    this.#token = acquired;
    this.#heldSince = started;
    metrics.leading.set(1);
    logger.info({ replica: id, token: acquired }, 'this replica holds the lease: it leads');
    const loops = this.#loops;
    if (loops) await this.#term.run(acquired, () => loops.start());
  }

  /** Stops the loops of the term `token` at once; this replica serves on as a follower. */
  async #follow(token: number): Promise<void> {
    if (this.#token !== token) return;
    this.#token = undefined;
    this.#parts.metrics.leading.set(0);
    this.#parts.logger.info(
      { replica: this.#parts.id, token },
      'this replica no longer holds the lease: it follows',
    );
    await this.#loops?.stop();
  }
}
