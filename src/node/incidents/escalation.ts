/**
 * Deadlines and escalation, on both sides of the channel (docs/operators.md § Escalation).
 *
 * Receiving side: a received message that needs a person's acknowledgement (every content type
 * but `ack`, `rotation`, `reminder` and `incident.retract`) gets an `in` follow-up whose timer
 * fires at once: the first desk of the ladder is notified. While nobody acknowledges, the timer
 * fires again every `escalateMinutes` of its precedence: before the acknowledgement deadline it
 * repeats at the same desk (at most `repeats` times), after it climbs one desk per firing; past the
 * last desk it raises a standing `unacknowledged` alarm and stops. Each notification goes to the
 * console (an `escalation` alarm per desk reached, and an `escalation` event on the live feed)
 * and to the person on duty at that desk (the roster) through their contact routes: webhook,
 * e-mail. A person's acknowledgement (`ack`), any message of ours citing it, or the peer's
 * retraction of its incident stops it; the peer's reminder restarts it from the first desk.
 *
 * Sending side: a message of ours that needs acknowledgement gets an `out` follow-up whose timer
 * fires at its deadline. Unacknowledged by then, it is marked unanswered (an `unanswered` event
 * leaf), the sending desk is alarmed and notified, and an operator may send a reminder — a new
 * numbered message citing it — which restarts the deadline here and escalation there.
 *
 * Timers are rows of `followups` (`next_at`, epoch ms): durable, checked against the injected
 * clock, and found by an index, so they fire after a restart exactly as they would have. A timer
 * overdue after downtime fires once at start, then keeps its interval from then on.
 */
import type { Logger } from 'pino';
import { eventLeaf } from '../../ledger/leaves.ts';
import type { Body, Precedence } from '../../protocol/body.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { type FollowupRow, FollowupStore, newFollowup } from '../../store/followups.ts';
import type { AlarmRow, Executor } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { AckInfo, CommittedMessage, EscalationStep, Node, Released } from '../core/node.ts';
import type { ContactRoute, Roster } from '../people/roster.ts';
import type { Actor, AuditTrail } from '../people/trail.ts';
import type { PendingAppend } from '../record/ledger.ts';
import { type Notice, Notifiers } from './notifiers.ts';

/** Types that never wait for a person's acknowledgement. */
const NO_ACK = new Set<Body['type']>(['ack', 'rotation', 'reminder', 'incident.retract']);

/**
 * The alarms escalation raises: a message waiting for a person (a console notice, the end of the
 * ladder, one of ours unanswered), cleared by the acknowledgement; not a fault of the system.
 */
export const ACK_ALARMS: ReadonlySet<string> = new Set([
  'escalation',
  'unacknowledged',
  'unanswered',
]);

export function needsAck(body: Body): boolean {
  return !NO_ACK.has(body.type);
}

const MINUTE = 60_000;
/** Due timers taken per batch, and batches per look at most. */
const BATCH = 200;
const MAX_BATCHES = 50;
/** The longest the background loop sleeps between looks, so an injected clock is seen. */
const LOOK_MS = 1000;

const services = new WeakMap<Node, Escalation>();

/** The escalation service of a running node. */
export function escalationOf(node: Node): Escalation {
  const e = services.get(node);
  if (!e) throw new ProtocolError('E_INTERNAL', 'escalation is not running on this node');
  return e;
}

export interface FollowupView {
  dir: 'in' | 'out';
  party: string;
  id: string;
  incident: string | null;
  type: string;
  precedence: string;
  status: string;
  deadline: string;
  /** The ladder desk reached (in), and notifications fired. */
  step: number;
  desk: string | null;
  fired: number;
  nextAt: string | null;
  acknowledged: {
    at: string;
    desk: string | null;
    person: string | null;
    ack: string | null;
  } | null;
  answered: { at: string; by: string | null } | null;
  unansweredAt: string | null;
  retractedAt: string | null;
  exhaustedAt: string | null;
  reminders: number;
}

export function followupView(row: FollowupRow): FollowupView {
  return {
    dir: row.dir,
    party: row.party,
    id: row.id,
    incident: row.incident,
    type: row.type,
    precedence: row.precedence,
    status: row.status,
    deadline: row.deadline_at,
    step: row.step,
    desk: row.desk,
    fired: row.fired,
    nextAt: row.next_at === null ? null : new Date(row.next_at).toISOString(),
    acknowledged: row.acked_at
      ? { at: row.acked_at, desk: row.acked_desk, person: row.acked_person, ack: row.ack_id }
      : null,
    answered: row.answered_at ? { at: row.answered_at, by: row.answer_id } : null,
    unansweredAt: row.unanswered_at,
    retractedAt: row.retracted_at,
    exhaustedAt: row.exhausted_at,
    reminders: row.reminders,
  };
}

export interface EscalationParts {
  node: Node;
  roster: Roster;
  trail: AuditTrail;
  logger: Logger;
  clock?: () => Date;
}

/**
 * The escalation service of one node: installs its commit hook, runs the timer loop, and carries
 * out a person's ack or reminder.
 *
 * @example
 *   const escalation = new Escalation({ node, roster, trail, logger, clock });
 *   escalation.start();
 *   await escalation.runDue(); // fire what is due by `clock()` now (tests move the clock)
 */
export class Escalation {
  readonly node: Node;
  readonly followups: FollowupStore;
  readonly notifiers: Notifiers;
  readonly #roster: Roster;
  readonly #trail: AuditTrail;
  readonly #logger: Logger;
  readonly #clock: () => Date;
  readonly #config: Config['incidents'];
  /** Local people acknowledging, by `<party>/<id>`, for the commit hook to record. */
  readonly #ackers = new Map<string, string>();
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #kicked = false;
  #loop: Promise<void> | undefined;
  /** One look at a time: the background loop and a test's `runDue` never fire a timer twice. */
  #look: Promise<number> = Promise.resolve(0);

  constructor(parts: EscalationParts) {
    this.node = parts.node;
    this.#roster = parts.roster;
    this.#trail = parts.trail;
    this.#logger = parts.logger;
    this.#clock = parts.clock ?? parts.node.clock;
    this.#config = parts.node.config.incidents;
    this.followups = new FollowupStore(parts.node.store);
    this.notifiers = new Notifiers(parts.node.config.notify, parts.logger);
    parts.node.commitHooks.push((tx, dir, messages) => this.#onCommit(tx, dir, messages));
    services.set(parts.node, this);
  }

  #deadline(precedence: Precedence) {
    const p = this.#config.precedence[precedence];
    return { ackMs: p.ackMinutes * MINUTE, escalateMs: p.escalateMinutes * MINUTE };
  }

  // Commit hook: what releases and receipts change, in their own transaction.

  async #onCommit(
    tx: Executor,
    dir: 'in' | 'out',
    messages: readonly CommittedMessage[],
  ): Promise<(() => void) | undefined> {
    const incidents = new Set<string>();
    const acked: Array<[string, string, AckInfo]> = [];
    const stopped: string[] = [];
    let due = false;
    const fresh: FollowupRow[] = [];
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
            const { ackMs } = this.#deadline(row.precedence as Precedence);
            await this.followups.update(
              'in',
              m.party,
              cited,
              {
                started_at: m.at,
                deadline_at: new Date(at + ackMs).toISOString(),
                step: 0,
                fired: 0,
                step_fired: 0,
                next_at: at,
                exhausted_at: null,
                reminders: row.reminders + 1,
              },
              tx,
            );
            due = true;
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
        const { ackMs } = this.#deadline(body.precedence);
        fresh.push(
          newFollowup({
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
          }),
        );
        if (dir === 'in') due = true;
      }
    }
    if (fresh.length) await this.followups.add(fresh, tx);
    if (!incidents.size && !acked.length && !stopped.length && !due) return undefined;
    return () => {
      for (const [party, id, info] of acked) this.node.events.emit('acknowledged', party, id, info);
      for (const incident of incidents) this.node.events.emit('incident', incident);
      if (stopped.length)
        this.#clearAlarms(stopped).catch((err) =>
          this.#logger.error({ err }, 'clearing acknowledged alarms failed'),
        );
      if (due) this.kick();
    };
  }

  /** Clears the open alarms about these messages: they were acknowledged or withdrawn. */
  async #clearAlarms(refs: readonly string[]): Promise<void> {
    for (const ref of refs)
      for (const alarm of await this.node.store.openAlarmsAbout(ref))
        await this.node
          .clearAlarm(alarm.id, 'hotline', 'acknowledged or withdrawn', this.#clock())
          .catch(() => undefined);
  }

  // Timers

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.kick();
    await this.#loop;
    await this.#look;
    await this.notifiers.close();
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#kicked = false;
      await this.runDue().catch((e) => this.#logger.error({ err: e }, 'escalation look failed'));
      if (!this.#running) break;
      const next = await this.followups.nextDue().catch(() => undefined);
      const wait =
        next === undefined
          ? LOOK_MS
          : Math.max(0, Math.min(LOOK_MS, next - this.#clock().getTime()));
      // A kick that came while the loop was looking must not wait out the timer.
      if (this.#kicked) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(this.#timer);
          this.#wake = undefined;
          resolve();
        };
        this.#timer = setTimeout(done, wait);
        this.#wake = done;
      });
    }
  }

  /** Fires every timer due by the clock now; answers how many fired. One look at a time. */
  runDue(): Promise<number> {
    const look = this.#look.then(() => this.#fireDue());
    this.#look = look.catch(() => 0);
    return look;
  }

  async #fireDue(): Promise<number> {
    let fired = 0;
    // Bounded: a look takes at most MAX_BATCHES batches; what is left is due at the next look.
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      const now = this.#clock().getTime();
      const rows = await this.followups.due(now, BATCH);
      let progress = 0;
      for (const row of rows) {
        // One timer that fails (its desk's roster unreadable, say) must not hold up the others.
        const ok = await this.#fire(row, now).catch(async (err) => {
          this.#logger.error({ err, party: row.party, id: row.id }, 'escalation timer failed');
          // Try again in a minute rather than at every look.
          await this.followups
            .update(row.dir, row.party, row.id, { next_at: now + MINUTE })
            .catch(() => undefined);
          return false;
        });
        if (ok) progress++;
      }
      fired += progress;
      if (rows.length < BATCH || progress === 0) break;
    }
    return fired;
  }

  /** Fires one timer; false when it changed meanwhile (acknowledged, retracted). */
  async #fire(row: FollowupRow, now: number): Promise<boolean> {
    const at = new Date(now).toISOString();
    const { escalateMs } = this.#deadline(row.precedence as Precedence);
    const scheduled = row.next_at as number;
    const nextAt = scheduled + escalateMs > now ? scheduled + escalateMs : now + escalateMs;
    const ladder = this.#config.ladder;
    let step = row.step;
    let stepFired = row.step_fired;
    let final = false;
    let desk: string;
    let changes: Partial<FollowupRow>;
    let alarm: { type: string; message: string } | undefined;
    const ref = `${row.party}/${row.id}`;
    const label = `${row.precedence} ${row.type} ${ref}`;
    if (row.dir === 'out') {
      desk = row.desk ?? ladder[0] ?? 'ops';
      changes = { unanswered_at: at, next_at: null, fired: row.fired + 1 };
      alarm = {
        type: 'unanswered',
        message: `our ${label} was not acknowledged by its deadline ${row.deadline_at}: send a reminder`,
      };
    } else {
      // Before the deadline, repeat at the desk (bounded); after it, climb one desk per firing.
      if (
        row.fired > 0 &&
        (stepFired >= this.#config.repeats || now >= Date.parse(row.deadline_at))
      ) {
        step += 1;
        stepFired = 0;
      }
      final = step >= ladder.length;
      desk = (final ? ladder.at(-1) : ladder[step]) ?? 'ops';
      changes = final
        ? { step: ladder.length, exhausted_at: at, next_at: null }
        : { step, step_fired: stepFired + 1, fired: row.fired + 1, next_at: nextAt };
      if (final)
        alarm = {
          type: 'unacknowledged',
          message: `${label} is still not acknowledged after every desk of the ladder (${ladder.join(' → ')})`,
        };
      else if (stepFired === 0)
        alarm = {
          type: 'escalation',
          message: `${label} awaits acknowledgement: desk "${desk}" notified (step ${step + 1} of ${ladder.length})`,
        };
    }
    const duty = final
      ? undefined
      : await this.#roster.onDuty(desk, new Date(now)).catch(() => undefined);
    const person = duty?.onDuty ?? null;
    const routes: ContactRoute[] = person?.routes ?? [];
    const channels: EscalationStep['channels'] = [{ kind: 'console', ok: true }];
    const dispatch: Array<['webhook' | 'email', string]> = [];
    for (const route of routes) {
      if (route.kind === 'console') continue;
      const kind = route.kind;
      const target = route.kind === 'email' ? route.address : route.url;
      const why = this.notifiers.unavailable(kind);
      channels.push({ kind, ok: !why, ...(why ? { detail: why } : {}) });
      if (!why) dispatch.push([kind, target]);
    }
    if (!final && !person)
      channels.push({ kind: 'roster', ok: false, detail: duty?.reason ?? `no desk "${desk}"` });
    const fields = {
      dir: row.dir,
      party: row.party,
      message_id: row.id,
      step: final ? ladder.length : step,
      desk,
      user_name: person?.user ?? null,
      channels,
      at,
    };
    let pending: PendingAppend | undefined;
    let raised: AlarmRow | undefined;
    const done = await this.node.write(async () => {
      const ok = await this.node.store.transaction(async (tx) => {
        const current = await this.followups.get(row.dir, row.party, row.id, tx);
        if (current?.next_at !== scheduled) return false;
        await this.followups.update(row.dir, row.party, row.id, changes, tx);
        await this.followups.addEscalation(fields, tx);
        if (alarm)
          raised = await this.node.store.raiseAlarm(alarm.type, row.party, alarm.message, tx, {
            at,
            ref,
          });
        // Leaves name desks, never people (the local escalations table keeps who).
        const type = row.dir === 'out' ? 'unanswered' : final ? 'unacknowledged' : 'escalation';
        const detail = {
          party: row.party,
          id: row.id,
          precedence: row.precedence,
          ...(row.dir === 'out' ? { deadline: row.deadline_at } : { step: fields.step, desk }),
        };
        pending = await this.node.ledger.append([eventLeaf(type, at, detail)], tx);
        return true;
      });
      if (pending) this.node.ledger.committed(pending);
      return ok;
    });
    if (!done) return false;
    const notice: Notice = {
      kind: row.dir === 'out' ? 'unanswered' : final ? 'standing' : 'escalation',
      node: this.node.party,
      party: row.party,
      id: row.id,
      incident: row.incident,
      precedence: row.precedence,
      status: row.status,
      type: row.type,
      step: fields.step,
      desk,
      user: person?.user ?? null,
      fired: row.fired + 1,
      at,
    };
    for (const [kind, target] of dispatch) this.notifiers.dispatch(kind, target, notice);
    if (raised) this.node.events.emit('alarm', raised);
    this.node.events.emit('escalation', {
      dir: row.dir,
      party: row.party,
      id: row.id,
      incident: row.incident,
      precedence: row.precedence as Precedence,
      step: fields.step,
      desk,
      user: person?.user ?? null,
      fired: row.fired + 1,
      channels,
      final,
      at,
    });
    if (row.incident) this.node.events.emit('incident', row.incident);
    // A first notice is routine; a climb, the ladder's end and an unanswered message are not.
    const level = row.dir === 'out' || final || fields.step > 0 ? 'warn' : 'info';
    this.#logger[level](
      { party: row.party, id: row.id, step: fields.step, desk, final, dir: row.dir },
      row.dir === 'out' ? 'message unanswered' : 'escalation',
    );
    return true;
  }

  // What people do

  /**
   * A person acknowledges a received message: an `ack` citing it goes to the peer, the follow-up
   * records who, and escalation stops. A reminder is acknowledged by acknowledging its original.
   */
  async ack(
    by: Actor & { actor: string },
    party: string,
    id: string,
    desk: string,
    disclose: boolean,
  ): Promise<{ ack: Released; acknowledged: string }> {
    const row = await this.node.store.getInbox(party, id);
    if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no message ${id} from "${party}"`);
    let body = row.body;
    let target = id;
    if (body.type === 'reminder' && body.inReplyTo) {
      const original = await this.node.store.getInbox(party, body.inReplyTo);
      if (original) {
        target = body.inReplyTo;
        body = original.body;
      }
    }
    if (body.type === 'ack' || body.type === 'rotation')
      throw new ProtocolError(
        'E_CONFLICT',
        `a ${body.type} message is not acknowledged by a person`,
      );
    const followup = await this.followups.get('in', party, target);
    if (followup?.acked_at)
      throw new ProtocolError(
        'E_CONFLICT',
        `message ${target} was acknowledged at ${followup.acked_at} by the desk "${followup.acked_desk}"`,
      );
    const key = `${party}/${target}`;
    this.#ackers.set(key, by.actor);
    let released: Released;
    try {
      released = await this.node.release([party], {
        type: 'ack',
        ...(body.incident ? { incident: body.incident } : {}),
        precedence: body.precedence,
        status: body.status,
        tlp: body.tlp,
        codes: ['phrase.received-understood'],
        translations: [],
        attachments: [],
        author: disclose ? { desk, person: by.actor } : { desk },
        approvals: [],
        inReplyTo: target,
      });
    } finally {
      this.#ackers.delete(key);
    }
    await this.#trail.record({
      ...by,
      action: 'message.ack',
      target: key,
      detail: { desk, ack: released.id, precedence: body.precedence },
    });
    return { ack: released, acknowledged: target };
  }

  /** An operator re-raises an unacknowledged message of ours: a numbered reminder citing it. */
  async remind(
    by: Actor & { actor: string },
    party: string,
    id: string,
    desk: string,
    disclose: boolean,
  ): Promise<{ reminder: Released; number: number; deadline: string }> {
    const row = await this.node.store.getOutbox(party, id);
    if (!row) throw new ProtocolError('E_NOT_FOUND', `we sent no message ${id} to "${party}"`);
    const body = row.body;
    const followup = await this.followups.get('out', party, id);
    if (!followup)
      throw new ProtocolError(
        'E_CONFLICT',
        `a ${body.type} message does not await acknowledgement`,
      );
    if (followup.acked_at)
      throw new ProtocolError(
        'E_CONFLICT',
        `message ${id} was acknowledged at ${followup.acked_at} by the desk "${followup.acked_desk}": no reminder needed`,
      );
    if (followup.retracted_at)
      throw new ProtocolError('E_CONFLICT', `message ${id} belongs to a retracted incident`);
    const number = followup.reminders + 1;
    const released = await this.node.release([party], {
      type: 'reminder',
      ...(body.incident ? { incident: body.incident } : {}),
      precedence: body.precedence,
      status: body.status,
      tlp: body.tlp,
      codes: [],
      text: { lang: 'en', body: `Reminder ${number}: message ${id} awaits your acknowledgement.` },
      translations: [{ lang: 'zh', body: `第 ${number} 次提醒：消息 ${id} 仍待贵方确认。` }],
      attachments: [],
      author: disclose ? { desk, person: by.actor } : { desk },
      approvals: [],
      inReplyTo: id,
      ext: { reminder: number },
    });
    const now = this.#clock();
    const { ackMs } = this.#deadline(body.precedence);
    const deadline = new Date(now.getTime() + ackMs).toISOString();
    await this.followups.update('out', party, id, {
      reminders: number,
      started_at: now.toISOString(),
      deadline_at: deadline,
      next_at: now.getTime() + ackMs,
    });
    await this.#clearAlarms([`${party}/${id}`]);
    await this.#trail.record({
      ...by,
      action: 'message.remind',
      target: `${party}/${id}`,
      detail: { desk, reminder: released.id, number },
    });
    if (body.incident) this.node.events.emit('incident', body.incident);
    this.kick();
    return { reminder: released, number, deadline };
  }
}
