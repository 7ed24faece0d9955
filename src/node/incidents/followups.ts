/**
 * The follow-ups of messages (docs/operators.md § Escalation), as the messages are stored: a
 * received message needing a person's acknowledgement gets an `in` follow-up whose timer fires at
 * once, one of ours an `out` follow-up whose timer fires at its deadline; an `ack` (or any message
 * citing one of the other direction) records who acknowledged and answered; a received reminder
 * restarts escalation; a retraction stops its incident's follow-ups. All of it is written in the
 * unit of work that stores the messages, so no message is ever stored without its timer; the
 * timers themselves fire in escalation.ts — those due at once in that same unit of work
 * (`Escalation.fireInCommit`, wired in src/app/services.ts), the rest from its loop.
 */
import type { Logger } from 'pino';
import type { Body } from '../../protocol/body.ts';
import { awaitsPerson } from '../../protocol/flows.ts';
import type { Precedence } from '../../protocol/values.ts';
import type { AckInfo } from '../../protocol/views.ts';
import { type FollowupRow, type FollowupStore, newFollowup } from '../../store/followups.ts';
import type { Executor } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';
import type { NodeEvents } from '../core/events.ts';
import type { CommittedMessage } from '../core/node.ts';
import type { LedgerWriter } from '../record/ledger.ts';

/** Whether a message waits for a person (src/protocol/flows.ts: not an answer to a flow). */
export function needsAck(body: Body): boolean {
  return awaitsPerson(body);
}

const MINUTE = 60_000;

export interface FollowupParts {
  config: Config;
  followups: FollowupStore;
  alarms: Alarms;
  events: NodeEvents;
  logger: Logger;
}

export class FollowupRecorder {
  readonly #parts: FollowupParts;
  readonly followups: FollowupStore;
  /** Local people acknowledging, by `<party>/<id>`, for `record` to name. */
  readonly #ackers = new Map<string, string>();

  constructor(parts: FollowupParts) {
    this.#parts = parts;
    this.followups = parts.followups;
  }

  /** Runs `release` (an ack's) naming `actor` as the person acknowledging `<party>/<id>`. */
  async acking<T>(key: string, actor: string, release: () => Promise<T>): Promise<T> {
    this.#ackers.set(key, actor);
    try {
      return await release();
    } finally {
      this.#ackers.delete(key);
    }
  }

  /** The acknowledgement deadline and escalation interval of a precedence. */
  deadline(precedence: Precedence): { ackMs: number; escalateMs: number } {
    const p = this.#parts.config.incidents.precedence[precedence];
    return { ackMs: p.ackMinutes * MINUTE, escalateMs: p.escalateMinutes * MINUTE };
  }

  /**
   * What released and received messages start, answer or stop — written in the unit of work
   * that stores them (the node's commit hook calls it). Answers the follow-ups due at once — a
   * received message's, or one a received reminder restarted — as they now stand in `tx`, and
   * of them those not yet written (`unwritten`: received messages' new follow-ups). The caller
   * fires their first step in the same unit of work and writes the unwritten ones, each once
   * and as its first step left it (`Escalation.fireInCommit`), rather than inserting, reading
   * back and updating every received message's row.
   */
  async record(
    tx: Executor,
    ledger: LedgerWriter,
    dir: 'in' | 'out',
    messages: readonly CommittedMessage[],
  ): Promise<{ due: FollowupRow[]; unwritten: FollowupRow[] }> {
    const incidents = new Set<string>();
    const acked: Array<[string, string, AckInfo]> = [];
    const stopped: string[] = [];
    const due: FollowupRow[] = [];
    const fresh: FollowupRow[] = [];
    const unwritten: FollowupRow[] = [];
    for (const m of messages) {
      const { body } = m;
      if (body.incident) incidents.add(body.incident);
      const at = Date.parse(m.at);
      const cited = body.inReplyTo;
      // A message citing one of the other direction answers it.
      if (cited) {
        const other = dir === 'in' ? 'out' : 'in';
        // A reminder cites a message of its own sender: the one it re-raises here.
        const reminded =
          body.type === 'reminder' && dir === 'in'
            ? await this.followups.get('in', m.party, cited, tx)
            : undefined;
        const row = reminded ?? (await this.followups.get(other, m.party, cited, tx));
        if (reminded) {
          const row = reminded;
          if (!row.acked_at && !row.retracted_at) {
            const { ackMs } = this.deadline(row.precedence as Precedence);
            const restart: Partial<FollowupRow> = {
              started_at: m.at,
              deadline_at: new Date(at + ackMs).toISOString(),
              step: 0,
              fired: 0,
              step_fired: 0,
              next_at: at,
              exhausted_at: null,
              reminders: row.reminders + 1,
            };
            await this.followups.update('in', m.party, cited, restart, tx);
            due.push({ ...row, ...restart });
          }
        } else if (row && body.type !== 'reminder' && body.type !== 'incident.retract') {
          const changes: Partial<FollowupRow> = {};
          if (body.type !== 'ack' && !row.answered_at) {
            changes.answered_at = m.at;
            changes.answer_id = m.id;
          }
          if (!row.acked_at) {
            const person =
              dir === 'out'
                ? (this.#ackers.get(`${m.party}/${cited}`) ?? body.author.person ?? null)
                : (body.author.person ?? null);
            Object.assign(changes, {
              acked_at: m.at,
              acked_desk: body.author.desk,
              acked_person: person,
              ack_id: m.id,
              next_at: null,
            });
            acked.push([
              m.party,
              cited,
              { dir: other, desk: body.author.desk, person, at: m.at, ackId: m.id },
            ]);
            stopped.push(`${m.party}/${cited}`);
          }
          if (Object.keys(changes).length)
            await this.followups.update(other, m.party, cited, changes, tx);
        }
      }
      if (body.type === 'incident.retract' && body.incident) {
        // The reporting party withdrew it: nothing of it escalates or waits any more.
        const rows = await this.followups.ofIncident(body.incident, tx);
        for (const row of rows)
          if (row.party === m.party && row.next_at !== null) {
            await this.followups.update(
              row.dir,
              row.party,
              row.id,
              { retracted_at: m.at, next_at: null },
              tx,
            );
            stopped.push(`${row.party}/${row.id}`);
          }
      }
      if (needsAck(body)) {
        const { ackMs } = this.deadline(body.precedence);
        const followup = newFollowup({
          dir,
          party: m.party,
          id: m.id,
          incident: body.incident ?? null,
          type: body.type,
          precedence: body.precedence,
          status: body.status,
          desk: body.author.desk,
          started_at: m.at,
          deadline_at: new Date(at + ackMs).toISOString(),
          // Received: notify at once. Sent: look again at the deadline.
          next_at: dir === 'in' ? at : at + ackMs,
        });
        if (dir === 'in') {
          due.push(followup);
          unwritten.push(followup);
        } else fresh.push(followup);
      }
    }
    if (fresh.length) await this.followups.add(fresh, tx);
    if (!incidents.size && !acked.length && !stopped.length) return { due, unwritten };
    ledger.afterCommit(() => {
      const { events, alarms, logger } = this.#parts;
      for (const [party, id, info] of acked) events.emit('acknowledged', party, id, info);
      for (const incident of incidents) events.emit('incident', incident);
      if (stopped.length)
        alarms
          .clearAbout(stopped, 'acknowledged or withdrawn')
          .catch((err) => logger.error({ err }, 'clearing acknowledged alarms failed'));
    });
    return { due, unwritten };
  }
}
