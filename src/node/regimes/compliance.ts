/**
 * Compliance with the notification regimes on a node (docs/regimes.md): the table of what each
 * side owes, computed from the ledger as `hotline verify` computes it from an export; reminders
 * to the owing desk before a deadline; and a `notification-late` event leaf, with an alarm, for
 * each obligation that passes its deadline unmet or is met late.
 *
 * The ledger is read once: each look reads only the leaves appended since the last (with the
 * bodies the store keeps for envelope leaves), into the same collector the offline audit uses.
 * What was reminded or recorded is remembered in the store (`meta`, written in the unit of work
 * that appends the leaf), so a restart neither repeats nor skips a record.
 */
import type { Logger } from 'pino';
import { eventLeaf, parseLeaf } from '../../ledger/leaves.ts';
import {
  ComplianceMessages,
  type ComplianceTable,
  computeCompliance,
  type Obligation,
} from '../../protocol/compliance.ts';
import type { Regimes } from '../../protocol/regimes.ts';
import type { Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';
import type { Peers } from '../core/peers.ts';
import { bodiesOf } from '../record/export.ts';
import type { Ledger } from '../record/ledger.ts';

/** The ledger event recording an obligation that passed its deadline unmet, or was met late. */
export const LATE_EVENT = 'notification-late';
/** Leaves read per query. */
const PAGE = 1000;
const HOUR_MS = 3_600_000;
/** How often the background loop looks, at most. */
const LOOK_MS = 60_000;

export interface ComplianceParts {
  config: Config;
  store: Store;
  ledger: Ledger;
  peers: Peers;
  alarms: Alarms;
  regimes: Regimes;
  logger: Logger;
  clock: () => Date;
}

export class Compliance {
  readonly regimes: Regimes;
  readonly #parts: ComplianceParts;
  readonly #messages = new ComplianceMessages();
  #read = 0;
  /** One look at a time: reading the ledger and recording are never interleaved. */
  #look: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | undefined;

  constructor(parts: ComplianceParts) {
    this.#parts = parts;
    this.regimes = parts.regimes;
  }

  /** The parties compliance is counted between: this node's and every pinned peer's. */
  get parties(): string[] {
    return [this.#parts.config.party, ...this.#parts.peers.keys()];
  }

  /** The table at `at` (now by default). */
  table(at: Date = this.#parts.clock()): Promise<ComplianceTable> {
    return this.#serial(async () => {
      await this.#readLedger();
      return computeCompliance(this.regimes, this.#messages.list, { at, parties: this.parties });
    });
  }

  /**
   * Looks at the table now: reminds our desk of what falls due within its type's `remindHours`,
   * records each obligation newly late, and clears the alarms of what has been sent. Answers the
   * keys it recorded as late.
   */
  tick(): Promise<string[]> {
    return this.#serial(async () => {
      await this.#readLedger();
      const now = this.#parts.clock();
      const table = computeCompliance(this.regimes, this.#messages.list, {
        at: now,
        parties: this.parties,
      });
      const recorded: string[] = [];
      for (const o of table.obligations) {
        if (o.state === 'late') {
          if (await this.#recordLate(o, now)) recorded.push(o.key);
        } else if (o.state === 'owed') await this.#remind(o, now);
        else await this.#parts.alarms.clearAbout([o.key], 'notification sent');
      }
      return recorded;
    });
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#look.then(work);
    this.#look = next.catch(() => undefined);
    return next;
  }

  /** Reads the leaves appended since the last look into the collector. */
  async #readLedger(): Promise<void> {
    const { store } = this.#parts;
    const size = await store.ledgerSize();
    for (let from = this.#read; from < size; from += PAGE) {
      const count = Math.min(PAGE, size - from);
      const texts = await store.readLeaves(from, count);
      const bodies = await bodiesOf(store, from, texts, store.db);
      for (const [k, text] of texts.entries()) {
        const leaf = parseLeaf(text);
        const body = bodies.get(from + k);
        if (leaf.leaf === 'envelope' && body) this.#messages.add(leaf.header, body);
      }
      this.#read = from + count;
    }
  }

  /** Records a late obligation once: the event leaf and an alarm, in one unit of work. */
  async #recordLate(o: Obligation, now: Date): Promise<boolean> {
    const { ledger, store, alarms, config, logger } = this.#parts;
    const mark = `compliance.late.${o.key}`;
    if ((await store.getMeta(mark)) !== undefined) return false;
    const at = now.toISOString();
    const ours = o.owedBy === config.party;
    const name = this.regimes.name(o.type, 'en');
    const message = o.notice
      ? `${o.owedBy}'s ${name} (${o.mode}) was sent ${o.notice.sent}, after its deadline ${o.due}`
      : `${o.owedBy}'s ${name} (${o.mode}) was due by ${o.due} and has not been sent`;
    await ledger.commit(async (tx, log) => {
      await store.setMeta(mark, at, tx);
      await log.append([
        eventLeaf(LATE_EVENT, at, {
          key: o.key,
          type: o.type,
          owedBy: o.owedBy,
          owedTo: o.owedTo,
          due: o.due,
          notice: o.notice?.id ?? null,
        }),
      ]);
      await alarms.write(tx, log, LATE_EVENT, ours ? o.owedTo : o.owedBy, message, {
        cause: o.key,
        ref: o.key,
        category: ours ? 'fault' : 'waiting',
      });
    });
    logger.warn({ key: o.key, owedBy: o.owedBy, due: o.due }, 'notification late');
    return true;
  }

  /** Reminds our owing desk once, `remindHours` before the due time. */
  async #remind(o: Obligation, now: Date): Promise<void> {
    const { store, alarms, config } = this.#parts;
    if (o.owedBy !== config.party) return;
    const type = this.regimes.type(o.type);
    if (!type || now.getTime() < Date.parse(o.due) - type.remindHours * HOUR_MS) return;
    const mark = `compliance.reminded.${o.key}`;
    if ((await store.getMeta(mark)) !== undefined) return;
    await store.setMeta(mark, now.toISOString());
    await alarms.raise(
      'notification-due',
      o.owedTo,
      `desk "${type.desk}": our ${this.regimes.name(o.type, 'en')} (${o.mode}) to ${o.owedTo} is due by ${o.due}`,
      { cause: o.key, ref: o.key, category: 'waiting' },
    );
  }

  /** Looks every minute at most (and at once); a failed look is logged and alarmed. */
  start(everyMs = LOOK_MS): void {
    const run = () => {
      this.tick().catch(async (err: unknown) => {
        this.#parts.logger.error({ err }, 'compliance look failed');
        await this.#parts.alarms
          .raise('compliance-fault', null, `compliance look failed: ${(err as Error).message}`)
          .catch((e: unknown) => this.#parts.logger.error({ err: e }, 'raising an alarm failed'));
      });
    };
    run();
    this.#timer = setInterval(run, everyMs);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#look;
  }
}
