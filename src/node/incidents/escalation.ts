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
 * Held drafts: a draft the two-person rule holds gets a `held` follow-up (party: our own, id: the
 * draft's) that climbs `approvals.ladder` (the incidents ladder unless set) exactly as a received
 * message does, with `held-escalation` / `held-unapproved` alarms about `draft/<id>`, until an
 * officer approves, rejects or breaks glass (src/node/incidents/approvals.ts).
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
import type { Draft } from '../../protocol/body.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { isPresenceCheck } from '../../protocol/flows.ts';
import type { Leaf } from '../../protocol/leaf.ts';
import type { ContactRoute } from '../../protocol/roster.ts';
import { type Precedence, withArticle } from '../../protocol/values.ts';
import type { Duty, EscalationStep, FollowupView, Released } from '../../protocol/views.ts';
import type { EscalationRow, FollowupRow, FollowupStore } from '../../store/followups.ts';
import type { AlarmRow, Executor, Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import type { Config } from '../core/config.ts';
import type { NodeEvents } from '../core/events.ts';
import type { Node } from '../core/node.ts';
import type { Roster } from '../people/roster.ts';
import type { Actor, AuditTrail } from '../people/trail.ts';
import type { Ledger, LedgerWriter } from '../record/ledger.ts';
import type { FollowupRecorder } from './followups.ts';
import type { Channel, Notice, Notifiers } from './notifiers.ts';

export { ACK_ALARMS } from '../../protocol/values.ts';

const MINUTE = 60_000;

/** The least time between two reminders of one message (less when its deadline is shorter). */
const REMIND_AGAIN_AFTER_MS = 5 * MINUTE;

/** One timer's firing: worked out before the transaction, recorded in it, announced after. */
interface Firing {
  row: FollowupRow;
  /** The timer's next_at when read: it fires only if still so in the transaction. */
  scheduled: number;
  changes: Partial<FollowupRow>;
  fields: Omit<EscalationRow, 'id'>;
  alarm: { type: string; message: string } | undefined;
  raised?: AlarmRow | undefined;
  ref: string;
  at: string;
  final: boolean;
  desk: string;
  user: string | null;
  channels: EscalationStep['channels'];
  dispatch: Array<[Channel, string]>;
}
/** Due timers taken per batch, and batches per look at most. */
const BATCH = 200;
const MAX_BATCHES = 50;
/** The longest the background loop sleeps between looks, so an injected clock is seen. */
const LOOK_MS = 1000;

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
  config: Config;
  store: Store;
  ledger: Ledger;
  /** Releases acks and reminders. */
  node: Node;
  alarms: Alarms;
  events: NodeEvents;
  recorder: FollowupRecorder;
  notifiers: Notifiers;
  roster: Roster;
  trail: AuditTrail;
  logger: Logger;
  clock: () => Date;
}

/**
 * The escalation service of one node: runs the timer loop, and carries out a person's ack or
 * reminder. What stored messages start or stop is recorded by `FollowupRecorder` (followups.ts).
 *
 * @example
 *   const escalation = new Escalation({ config, store, ledger, node, alarms, events, recorder, notifiers, roster, trail, logger, clock });
 *   escalation.start();
 *   await escalation.runDue(); // fire what is due by `clock()` now (tests move the clock)
 */
export class Escalation {
  readonly followups: FollowupStore;
  readonly notifiers: Notifiers;
  readonly #parts: EscalationParts;
  readonly #clock: () => Date;
  readonly #config: Config['incidents'];
  #running = false;
  #timer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #kicked = false;
  #loop: Promise<void> | undefined;
  /** One look at a time: the background loop and a test's `runDue` never fire a timer twice. */
  #look: Promise<number> = Promise.resolve(0);

  constructor(parts: EscalationParts) {
    this.#parts = parts;
    this.#clock = parts.clock;
    this.#config = parts.config.incidents;
    this.followups = parts.recorder.followups;
    this.notifiers = parts.notifiers;
  }

  // Timers

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops the loop and waits for the look under way; notices can still go out (a replica). */
  async pause(): Promise<void> {
    this.#running = false;
    this.kick();
    await this.#loop;
    await this.#look;
  }

  async stop(): Promise<void> {
    await this.pause();
    await this.notifiers.close();
  }

  kick(): void {
    this.#kicked = true;
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      this.#kicked = false;
      await this.runDue().catch((err) => this.#fault(err, 'escalation look failed'));
      if (!this.#running) break;
      // Unreadable, the loop looks again within LOOK_MS; the look itself raises the alarm.
      const next = await this.followups
        .nextDue()
        .catch((err) => this.#parts.logger.error({ err }, 'reading the next due timer failed'));
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
      const progress = await this.#fireBatch(rows, now);
      fired += progress;
      if (rows.length < BATCH || progress === 0) break;
    }
    return fired;
  }

  /**
   * Fires a batch of due timers in one transaction (one durable commit for the batch, not one
   * per timer). Should that commit fail, each timer is tried on its own, so one that cannot be
   * recorded does not hold up the others. Answers how many fired.
   */
  async #fireBatch(rows: readonly FollowupRow[], now: number): Promise<number> {
    const prepared: Firing[] = [];
    // One timer that fails (its desk's roster unreadable, say) must not hold up the others.
    for (const row of rows)
      await this.#prepare(row, now).then(
        (p) => prepared.push(p),
        (err) => this.#failed(row, now, err),
      );
    if (!prepared.length) return 0;
    let done: boolean[];
    try {
      done = await this.#parts.ledger.commit((tx, log) => this.#record(prepared, tx, log));
    } catch (err) {
      if (prepared.length === 1) {
        await this.#failed(prepared[0]?.row as FollowupRow, now, err);
        return 0;
      }
      done = [];
      for (const p of prepared)
        done.push(
          await this.#parts.ledger
            .commit(async (tx, log) => (await this.#record([p], tx, log))[0] === true)
            .catch(async (e) => {
              await this.#failed(p.row, now, e);
              return false;
            }),
        );
    }
    let fired = 0;
    prepared.forEach((p, i) => {
      if (!done[i]) return;
      this.#announce(p);
      fired++;
    });
    return fired;
  }

  /** A timer that could not fire: alarmed, and tried again in a minute rather than at every look. */
  async #failed(row: FollowupRow, now: number, err: unknown): Promise<void> {
    await this.#fault(err, `escalation of ${row.party}/${row.id} failed`, row.party);
    await this.followups.update(row.dir, row.party, row.id, { next_at: now + MINUTE });
  }

  /**
   * Fires the first step of follow-ups due at once — a message received, or one a received
   * reminder restarted — inside the unit of work that stores them (the node's receive commit):
   * one durable commit for the message and its first notice, not two. The step is recorded as the
   * loop would record it; its notices go out once the commit is durable, as the loop's do.
   *
   * Inside a commit nothing may wait for the store's connection or the write lock: the roster is
   * read through `tx` (once per desk), and nothing here raises an alarm through `Alarms`. A timer
   * that cannot be prepared here (its desk's roster unreadable, say) stays due, and the loop fires
   * and alarms it as it does any other. A failed write fails the unit of work: the message is
   * then not stored either, and its sender sends it again.
   *
   * `rows` stand in `tx` as given (this unit of work wrote them), so they are not read back.
   * Those of them in `unwritten` (new, not yet in `tx`) are written here, once, as their first
   * step leaves them, or as given when left to the loop.
   */
  async fireInCommit(
    rows: readonly FollowupRow[],
    unwritten: readonly FollowupRow[],
    tx: Executor,
    log: LedgerWriter,
  ): Promise<void> {
    if (!rows.length) return;
    const pending = new Map(unwritten.map((row) => [row, row]));
    const duties = new Map<string, Duty>();
    const onDuty = async (desk: string, at: Date) => {
      const known = duties.get(desk);
      if (known && known.at === at.toISOString()) return known;
      const duty = await this.#parts.roster.onDuty(desk, at, tx);
      duties.set(desk, duty);
      return duty;
    };
    const prepared: Firing[] = [];
    let left = false;
    for (const row of rows) {
      // Fires at its scheduled time: the moment the message was stored.
      const firing = await this.#prepare(row, row.next_at as number, onDuty, tx).catch((err) => {
        this.#parts.logger.warn(
          { err, peer: row.party, id: row.id },
          'first escalation step left to the loop',
        );
        return undefined;
      });
      if (!firing) left = true;
      else prepared.push(firing);
    }
    const recorded = await this.#record(prepared, tx, log, pending);
    await this.followups.add([...pending.values()], tx);
    const fired = prepared.filter((_, i) => recorded[i]);
    log.afterCommit(() => {
      for (const p of fired) this.#announce(p);
      if (left) this.#parts.events.emit('timers-due');
    });
  }

  /**
   * What firing one timer changes and says, worked out before the transaction. With `onDuty`
   * (inside a commit), the roster is read through it and a failure to read it is thrown, not
   * alarmed here.
   */
  async #prepare(
    row: FollowupRow,
    now: number,
    onDuty?: (desk: string, at: Date) => Promise<Duty>,
    /** Inside a commit, its transaction: every read goes through it. */
    tx?: Executor,
  ): Promise<Firing> {
    const at = new Date(now).toISOString();
    const { escalateMs } = this.#parts.recorder.deadline(row.precedence as Precedence);
    const scheduled = row.next_at as number;
    const nextAt = scheduled + escalateMs > now ? scheduled + escalateMs : now + escalateMs;
    // A draft held for a second officer climbs the approvals ladder (the incidents one unless set).
    const ladder =
      row.dir === 'held'
        ? (this.#parts.config.approvals.ladder ?? this.#config.ladder)
        : this.#config.ladder;
    let step = row.step;
    let stepFired = row.step_fired;
    let final = false;
    let desk: string;
    let changes: Partial<FollowupRow>;
    let alarm: { type: string; message: string } | undefined;
    const ref = row.dir === 'held' ? `draft/${row.id}` : `${row.party}/${row.id}`;
    const label = `${row.precedence} ${row.type} ${ref}`;
    const held = row.dir === 'held';
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
          type: held ? 'held-unapproved' : 'unacknowledged',
          message: `${label} is still not ${held ? 'approved' : 'acknowledged'} after every desk of the ladder (${ladder.join(' → ')})`,
        };
      else if (stepFired === 0)
        alarm = {
          type: held ? 'held-escalation' : 'escalation',
          message: `${label} awaits ${held ? 'a second officer’s approval' : 'acknowledgement'}: desk "${desk}" notified (step ${step + 1} of ${ladder.length})`,
        };
    }
    // An unreadable roster must not stop the console notice: it is said there, logged and alarmed.
    const duty = final
      ? undefined
      : onDuty
        ? await onDuty(desk, new Date(now))
        : await this.#parts.roster.onDuty(desk, new Date(now)).catch(async (err: Error) => {
            await this.#fault(err, `the roster of desk "${desk}" could not be read`);
            return { onDuty: null, reason: `the roster could not be read: ${err.message}` };
          });
    const person = duty?.onDuty ?? null;
    const routes: ContactRoute[] = person?.routes ?? [];
    const channels: EscalationStep['channels'] = [{ kind: 'console', ok: true }];
    const dispatch: Array<[Channel, string]> = [];
    for (const route of routes) {
      if (route.kind === 'console') continue;
      const kind = route.kind;
      const target = route.kind === 'email' ? route.address : route.url;
      const why = this.notifiers.unavailable(kind);
      channels.push({ kind, ok: !why, ...(why ? { detail: why } : {}) });
      if (!why) dispatch.push([kind, target]);
    }
    // The browsers and phones the person subscribed, whatever their routes say.
    const push = this.notifiers.push;
    if (person && push && !push.unavailable()) {
      const devices = (await push.subscriptionsOf(person.user, tx)).length;
      if (devices) {
        channels.push({ kind: 'push', ok: true, detail: `${devices} device(s)` });
        dispatch.push(['push', person.user]);
      }
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
    return {
      row,
      scheduled,
      changes,
      fields,
      alarm,
      ref,
      at,
      final,
      desk,
      user: person?.user ?? null,
      channels,
      dispatch,
    };
  }

  /**
   * Records firings in the batch's transaction, their notifications and leaves in one statement
   * each; per firing, false when its timer changed meanwhile. With `known` (inside the unit of
   * work that wrote the rows), rows are as given, not read back; those `known` maps are not yet
   * written, and their changes go into the row it will insert.
   */
  async #record(
    firings: readonly Firing[],
    tx: Executor,
    log: LedgerWriter,
    known?: Map<FollowupRow, FollowupRow>,
  ): Promise<boolean[]> {
    const recorded: boolean[] = [];
    const fields: Firing['fields'][] = [];
    const leaves: Leaf[] = [];
    for (const p of firings) {
      const { row, alarm, at, final, desk } = p;
      if (known?.has(row)) known.set(row, { ...row, ...p.changes });
      else {
        const current = known ? row : await this.followups.get(row.dir, row.party, row.id, tx);
        if (current?.next_at !== p.scheduled) {
          recorded.push(false);
          continue;
        }
        await this.followups.update(row.dir, row.party, row.id, p.changes, tx);
      }
      fields.push(p.fields);
      if (alarm)
        p.raised = await this.#parts.store.raiseAlarm(alarm.type, row.party, alarm.message, tx, {
          at,
          ref: p.ref,
          category: 'waiting',
        });
      // Leaves name desks, never people (the local escalations table keeps who).
      const type =
        row.dir === 'held'
          ? final
            ? 'held-unapproved'
            : 'held-escalation'
          : row.dir === 'out'
            ? 'unanswered'
            : final
              ? 'unacknowledged'
              : 'escalation';
      const detail =
        row.dir === 'held'
          ? { draft: row.id, precedence: row.precedence, step: p.fields.step, desk }
          : {
              party: row.party,
              id: row.id,
              precedence: row.precedence,
              ...(row.dir === 'out'
                ? { deadline: row.deadline_at }
                : { step: p.fields.step, desk }),
            };
      leaves.push(eventLeaf(type, at, detail));
      recorded.push(true);
    }
    await this.followups.addEscalations(fields, tx);
    await log.append(leaves);
    return recorded;
  }

  /** After the commit: notices out, events and the log line. */
  #announce(p: Firing): void {
    const { row, fields, final, desk, at, channels, raised, user, dispatch } = p;
    const { events, logger } = this.#parts;
    const notice: Notice = {
      kind:
        row.dir === 'held'
          ? 'held'
          : row.dir === 'out'
            ? 'unanswered'
            : final
              ? 'standing'
              : 'escalation',
      node: this.#parts.config.party,
      party: row.party,
      id: row.id,
      incident: row.incident,
      precedence: row.precedence,
      status: row.status,
      type: row.type,
      step: fields.step,
      desk,
      user,
      fired: row.fired + 1,
      at,
    };
    for (const [kind, target] of dispatch) this.notifiers.dispatch(kind, target, notice);
    if (raised) events.emit('alarm', raised);
    events.emit('escalation', {
      dir: row.dir,
      party: row.party,
      id: row.id,
      incident: row.incident,
      precedence: row.precedence as Precedence,
      step: fields.step,
      desk,
      user,
      fired: row.fired + 1,
      channels,
      final,
      at,
    });
    if (row.incident) events.emit('incident', row.incident);
    // A first notice is routine; a climb, the ladder's end and an unanswered message are not.
    const level = row.dir === 'out' || final || fields.step > 0 ? 'warn' : 'info';
    logger[level](
      { peer: row.party, id: row.id, step: fields.step, desk, final, dir: row.dir },
      row.dir === 'out' ? 'message unanswered' : 'escalation',
    );
  }

  /** A failure on the escalation path: logged, and alarmed (counted while it stands). */
  async #fault(err: unknown, what: string, party: string | null = null): Promise<void> {
    const { alarms, logger } = this.#parts;
    logger.error({ err, peer: party }, what);
    await alarms
      .raise('escalation-fault', party, `${what}: ${(err as Error).message}`)
      .catch((e: unknown) => logger.error({ err: e }, 'raising an escalation alarm failed'));
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
    const { store, node, recorder, trail } = this.#parts;
    const row = await store.getInbox(party, id);
    if (!row) throw notReceived(this.#parts.config.party, party, id, 'acknowledge');
    let body = row.body;
    let target = id;
    if (body.type === 'reminder' && body.inReplyTo) {
      const original = await store.getInbox(party, body.inReplyTo);
      if (original) {
        target = body.inReplyTo;
        body = original.body;
      }
    }
    if (body.type === 'ack' || body.type === 'rotation')
      throw new ProtocolError(
        'E_CONFLICT',
        `${withArticle(body.type)} message is not acknowledged by a person`,
      );
    if (isPresenceCheck(body))
      throw new ProtocolError(
        'E_CONFLICT',
        `a presence check is answered, not acknowledged: a person on the desk "${body.presence?.desk}" answers "present" or "unavailable"`,
      );
    const followup = await this.followups.get('in', party, target);
    if (followup?.acked_at)
      throw new ProtocolError(
        'E_CONFLICT',
        `message ${target} was acknowledged at ${followup.acked_at} by the desk "${followup.acked_desk}"`,
      );
    const key = `${party}/${target}`;
    const released = await recorder.acking(key, by.actor, () =>
      node.release([party], {
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
      }),
    );
    await trail.record({
      ...by,
      action: 'message.ack',
      target: key,
      detail: { desk, ack: released.id, precedence: body.precedence },
    });
    return { ack: released, acknowledged: target };
  }

  /**
   * A person's answer to a received message that is not an `ack` (a presence answer): released
   * like an ack, so the follow-up of the message it cites names who answered.
   */
  answer(by: { actor: string }, party: string, id: string, draft: Draft): Promise<Released> {
    const { node, recorder } = this.#parts;
    return recorder.acking(`${party}/${id}`, by.actor, () => node.release([party], draft));
  }

  /** An operator re-raises an unacknowledged message of ours: a numbered reminder citing it. */
  async remind(
    by: Actor & { actor: string },
    party: string,
    id: string,
    desk: string,
    disclose: boolean,
  ): Promise<{ reminder: Released; number: number; deadline: string }> {
    const { store, node, alarms, events, trail } = this.#parts;
    const row = await store.getOutbox(party, id);
    if (!row) throw new ProtocolError('E_NOT_FOUND', `we sent no message ${id} to "${party}"`);
    const body = row.body;
    const followup = await this.followups.get('out', party, id);
    if (!followup)
      throw new ProtocolError(
        'E_CONFLICT',
        `${withArticle(body.type)} message does not await acknowledgement`,
      );
    if (followup.acked_at)
      throw new ProtocolError(
        'E_CONFLICT',
        `message ${id} was acknowledged at ${followup.acked_at} by the desk "${followup.acked_desk}": no reminder needed`,
      );
    if (followup.retracted_at)
      throw new ProtocolError('E_CONFLICT', `message ${id} belongs to a retracted incident`);
    const { ackMs } = this.#parts.recorder.deadline(body.precedence);
    // Each reminder restarts the peer's ladder from its first desk: one sent again at once only
    // pages their duty officer twice. The last reminder restarted our follow-up (`started_at`).
    const now = this.#clock();
    if (followup.reminders > 0) {
      const next = new Date(
        Date.parse(followup.started_at) + Math.min(ackMs, REMIND_AGAIN_AFTER_MS),
      );
      if (now < next)
        throw new ProtocolError(
          'E_THROTTLED',
          `reminder ${followup.reminders} of message ${id} was sent at ${followup.started_at}: the next is allowed from ${next.toISOString()}, so the peer's duty officer is not paged twice for one message`,
        );
    }
    const number = followup.reminders + 1;
    const released = await node.release([party], {
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
    const deadline = new Date(now.getTime() + ackMs).toISOString();
    await this.followups.update('out', party, id, {
      reminders: number,
      started_at: now.toISOString(),
      deadline_at: deadline,
      next_at: now.getTime() + ackMs,
    });
    await alarms.clearAbout([`${party}/${id}`], 'acknowledged or withdrawn');
    await trail.record({
      ...by,
      action: 'message.remind',
      target: `${party}/${id}`,
      detail: { desk, reminder: released.id, number },
    });
    if (body.incident) events.emit('incident', body.incident);
    this.kick();
    return { reminder: released, number, deadline };
  }
}

/**
 * The refusal for a received message that is not there. This node's own party is said as such:
 * a person acknowledges or answers a message a peer sent, and the own party sends none here.
 */
export function notReceived(own: string, party: string, id: string, act: string): ProtocolError {
  return new ProtocolError(
    'E_NOT_FOUND',
    party === own
      ? `"${party}" is this node's own party: you ${act} a message received from a peer, named by the peer's party`
      : `there is no message ${id} from "${party}"`,
  );
}
