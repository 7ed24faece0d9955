/**
 * Durable alarms: a row a person must clear, an event leaf in the ledger committed with it, a line
 * in the log and an event on the live feed once it is durable.
 *
 * Alarms are aggregated: while one of a type about a party with a cause (an error code, say) is
 * open, raising it again only counts it (`count`, `last_at`). The ledger, the log and the live
 * feed hear of a repeat at most once per REPEAT_WINDOW_MS, with the count, so a peer that sends
 * 256 equivocations makes one alarm and one leaf, and a flood cannot bury anything.
 */
import type { Logger } from 'pino';
import { eventLeaf } from '../../ledger/leaves.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { AlarmRow, Executor, RaiseAlarmOptions, Store } from '../../store/store.ts';
import type { Ledger, LedgerWriter } from '../record/ledger.ts';
import type { NodeEvents } from './events.ts';

/** A repeat of an open alarm is recorded, logged and announced at most this often. */
export const REPEAT_WINDOW_MS = 10 * 60_000;

export interface AlarmsParts {
  store: Store;
  ledger: Ledger;
  logger: Logger;
  events: NodeEvents;
  clock: () => Date;
}

/** What distinguishes an alarm from others of its type about its party. */
export type AlarmOptions = Pick<RaiseAlarmOptions, 'cause' | 'ref' | 'category'>;

export class Alarms {
  readonly #parts: AlarmsParts;

  constructor(parts: AlarmsParts) {
    this.#parts = parts;
  }

  /** Raises (or counts again) a durable alarm, recorded in the ledger in the same commit. */
  raise(
    type: string,
    party: string | null,
    message: string,
    options: AlarmOptions = {},
  ): Promise<AlarmRow> {
    return this.#parts.ledger.commit((tx, ledger) =>
      this.write(tx, ledger, type, party, message, options),
    );
  }

  /** Raises an alarm inside a unit of work that is already under way (the receiver's checks). */
  async write(
    tx: Executor,
    ledger: LedgerWriter,
    type: string,
    party: string | null,
    message: string,
    options: AlarmOptions = {},
  ): Promise<AlarmRow> {
    const { store, logger, events, clock } = this.#parts;
    const at = clock().toISOString();
    const row = await store.raiseAlarm(type, party, message, tx, { ...options, at });
    if (row.count === 1) {
      await ledger.append([eventLeaf(type, at, { party, message })]);
      ledger.afterCommit(() => {
        logger.error({ alarm: type, peer: party }, message);
        events.emit('alarm', row);
      });
    } else if (Date.parse(at) - Date.parse(row.logged_at ?? row.at) >= REPEAT_WINDOW_MS) {
      await store.alarmLogged(row.id, at, tx);
      await ledger.append([
        eventLeaf('alarm-repeated', at, { alarm: row.id, type, party, count: row.count }),
      ]);
      ledger.afterCommit(() => {
        logger.error({ alarm: type, peer: party, count: row.count }, message);
        events.emit('alarm', row);
      });
    }
    return row;
  }

  /**
   * Clears, as the node itself, the open alarms of a type about a party with a cause: a fault
   * that has gone (a proof that could not be fetched, verified since).
   */
  async resolve(type: string, party: string | null, cause: string, note: string): Promise<void> {
    const { store, clock } = this.#parts;
    for (const alarm of await store.openAlarmsOf(type, party, cause))
      await this.#clearAsNode(alarm.id, note, clock());
  }

  /**
   * Clears an open alarm (a person has dealt with it), recorded as an `alarm-cleared` event leaf
   * naming the alarm but not the person (who is in the local audit trail).
   */
  clear(id: number, by: string, note: string | null, now = new Date()): Promise<AlarmRow> {
    const { store, ledger, logger, events } = this.#parts;
    const at = now.toISOString();
    return ledger.commit(async (tx, log) => {
      const row = await store.getAlarm(id, tx);
      if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no alarm ${id}`);
      if (!(await store.clearAlarm(id, by, note, at, tx)))
        throw new ProtocolError('E_CONFLICT', `alarm ${id} was cleared at ${row.cleared_at}`);
      await log.append([
        eventLeaf('alarm-cleared', at, { alarm: id, type: row.type, party: row.party }),
      ]);
      log.afterCommit(() => {
        logger.info({ alarm: row.type, id, peer: row.party }, 'alarm cleared');
        events.emit('alarm-cleared', id);
      });
      return { ...row, cleared_at: at, cleared_by: by, cleared_note: note };
    });
  }

  /**
   * Clears, as the node itself, the open alarms about these messages (`<party>/<id>`): they were
   * acknowledged or withdrawn. One cleared meanwhile by a person is left as they cleared it.
   */
  async clearAbout(refs: readonly string[], note: string): Promise<void> {
    const { store, clock } = this.#parts;
    for (const ref of refs)
      for (const alarm of await store.openAlarmsAbout(ref))
        await this.#clearAsNode(alarm.id, note, clock());
  }

  /** Clears as the node; one a person cleared meanwhile is left as they cleared it. */
  async #clearAsNode(id: number, note: string, now: Date): Promise<void> {
    await this.clear(id, 'hotline', note, now).catch((e: unknown) => {
      if (!(e instanceof ProtocolError && e.code === 'E_CONFLICT')) throw e;
    });
  }
}
