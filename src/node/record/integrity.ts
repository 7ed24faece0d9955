/**
 * Integrity while running (docs/operators.md § Integrity): the store's structure checked at start
 * and on a schedule, message bodies re-hashed as they are read (the store does it and reports
 * here), and store errors on the receiving path — each an `integrity` or `store-error` alarm, so
 * damage is seen while the node runs rather than at the next export.
 */
import type { Logger } from 'pino';
import type { DamagedBody } from '../../store/damage.ts';
import type { Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';

export interface IntegrityParts {
  config: Config;
  store: Store;
  alarms: Alarms;
  logger: Logger;
}

/** The cause of the alarm `PRAGMA quick_check` raises. */
export const QUICK_CHECK = 'quick_check';

export class Integrity {
  readonly #parts: IntegrityParts;
  /** Damaged bodies alarmed already by this process (every later read only counts in the log). */
  readonly #reported = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(parts: IntegrityParts) {
    this.#parts = parts;
    parts.store.onDamage((damage) => this.#damagedBody(damage));
  }

  /** Checks the store now (without waiting) and every `integrity.checkIntervalMs`. */
  start(): void {
    this.#stopped = false;
    const look = () => {
      this.#running ??= this.check()
        .catch((err: unknown) => this.#parts.logger.error({ err }, 'integrity check failed'))
        .finally(() => {
          this.#running = undefined;
        });
    };
    look();
    this.#timer = setInterval(look, this.#parts.config.integrity.checkIntervalMs);
    this.#timer.unref();
  }

  /**
   * Stops the schedule. A check under way is not waited for (on a large file it takes a while,
   * and stopping must not): closing the store ends its worker, and what it found is dropped.
   */
  stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    return Promise.resolve();
  }

  /** Runs the store's structure check; a problem found raises an `integrity` alarm. */
  async check(): Promise<string[]> {
    const { store, alarms, logger } = this.#parts;
    const started = performance.now();
    const report = await store.checkIntegrity();
    if (this.#stopped) return report.problems;
    const ms = Math.round(performance.now() - started);
    if (!report.checked) {
      logger.info({ reason: report.reason }, 'the store has no structure check');
      return [];
    }
    if (!report.problems.length) {
      logger.info({ ms }, 'store structure checked: ok');
      return [];
    }
    await alarms.raise(
      'integrity',
      null,
      `the store's structure check found damage (${report.problems.length} problem(s)): ` +
        `${report.problems.slice(0, 3).join('; ')}`.slice(0, 900),
      { cause: QUICK_CHECK },
    );
    return report.problems;
  }

  /**
   * A store error where the node receives (a damaged table or index, a failing disk): one
   * `store-error` alarm per place, counted. When the store cannot take the alarm either, the log
   * is all there is, at error level.
   */
  async storeFailed(where: string, e: unknown): Promise<void> {
    const { alarms, logger } = this.#parts;
    logger.error({ err: e, where }, 'store error');
    await alarms
      .raise(
        'store-error',
        null,
        `the store failed while ${where}: ${(e as Error).message}`.slice(0, 900),
        { cause: where },
      )
      .catch((err: unknown) =>
        logger.error({ err, where }, 'the store error could not be raised as an alarm either'),
      );
  }

  #damagedBody(damage: DamagedBody): void {
    const { alarms, logger } = this.#parts;
    const ref = `${damage.party}/${damage.id}`;
    logger.error({ dir: damage.dir, ref, reason: damage.reason }, 'damaged message withheld');
    if (this.#reported.has(`${damage.dir} ${ref}`)) return;
    this.#reported.add(`${damage.dir} ${ref}`);
    const what =
      damage.dir === 'in' ? `received from "${damage.party}"` : `sent to "${damage.party}"`;
    void alarms
      .raise(
        'integrity',
        damage.party,
        `the stored copy of message ${damage.id} ${what} is damaged (${damage.reason}); it is ` +
          'withheld from the console and API: restore it from the peer or a backup',
        { cause: `body ${damage.dir} ${ref}` },
      )
      .catch((err: unknown) => logger.error({ err, ref }, 'raising an integrity alarm failed'));
  }
}
