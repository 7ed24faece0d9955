/**
 * Durable alarms: a row a person must clear, an event leaf in the ledger committed with it, a line
 * in the log and an event on the live feed once it is durable.
 */
import type { Logger } from 'pino';
import { eventLeaf } from '../../ledger/leaves.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { AlarmRow, Executor, Store } from '../../store/store.ts';
import type { Ledger, LedgerWriter } from '../record/ledger.ts';
import type { NodeEvents } from './events.ts';

export interface AlarmsParts {
  store: Store;
  ledger: Ledger;
  logger: Logger;
  events: NodeEvents;
  clock: () => Date;
}

export class Alarms {
  readonly #parts: AlarmsParts;

  constructor(parts: AlarmsParts) {
    this.#parts = parts;
  }

  /** Raises a durable alarm, recorded in the ledger in the same commit. */
  raise(type: string, party: string | null, message: string): Promise<AlarmRow> {
    return this.#parts.ledger.commit((tx, ledger) => this.write(tx, ledger, type, party, message));
  }

  /**
   * Raises an alarm unless one of this type about this party is still open; then it is only
   * logged (a standing fault seen again is not a new alarm).
   */
  async raiseOnce(type: string, party: string | null, message: string): Promise<void> {
    const { store, logger } = this.#parts;
    if (await store.hasOpenAlarm(type, party)) {
      logger.error({ alarm: type, party }, message);
      return;
    }
    await this.raise(type, party, message);
  }

  /** Raises an alarm inside a unit of work that is already under way (the receiver's checks). */
  async write(
    tx: Executor,
    ledger: LedgerWriter,
    type: string,
    party: string | null,
    message: string,
  ): Promise<AlarmRow> {
    const { store, logger, events, clock } = this.#parts;
    const at = clock().toISOString();
    const row = await store.raiseAlarm(type, party, message, tx, { at });
    await ledger.append([eventLeaf(type, at, { party, message })]);
    ledger.afterCommit(() => {
      logger.error({ alarm: type, party }, message);
      events.emit('alarm', row);
    });
    return row;
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
        logger.info({ alarm: row.type, id, party: row.party }, 'alarm cleared');
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
        await this.clear(alarm.id, 'hotline', note, clock()).catch((e: unknown) => {
          if (!(e instanceof ProtocolError && e.code === 'E_CONFLICT')) throw e;
        });
  }
}
