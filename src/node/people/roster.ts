/**
 * Desks, the people who staff them, the duty roster, and shift handover.
 *
 * Shifts of one desk never overlap (refused on entry), so "who is on duty at desk X at time t?"
 * has exactly one answer — the person of the one live shift covering t, or nobody — and that is
 * the answer escalation uses. A handover does not move duty (the roster does); it moves the open
 * items from the outgoing person to the incoming one, who confirms receiving them.
 */
import { Type } from '@sinclair/typebox';
import { rangeProblem, Slug, Written, whenProblem } from '../../protocol/common.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import { LIMITS } from '../../protocol/limits.ts';
import type { ContactRoute, HandoverItem } from '../../protocol/roster.ts';
import type { DeskView, Duty, HandoverView, ShiftView } from '../../protocol/views.ts';
import type { HandoverRow, PeopleStore, ShiftRow } from '../../store/people.ts';
import type { Executor, Store } from '../../store/store.ts';
import type { Alarms } from '../core/alarms.ts';
import { USER_NAME } from './accounts.ts';
import type { Actor, AuditTrail } from './trail.ts';

export const DeskId = Slug;
/** A desk's name as people read it: not blank. */
export const DeskName = Written(LIMITS.labelChars, 1, 'name');
/** An account's name (accounts.ts `USER_NAME`). */
export const UserName = Type.String({
  pattern: USER_NAME.source,
  description: 'a user name (2 to 32 of a-z, 0-9, ., _ and -, starting with a letter)',
});

/** The alarm of a ladder desk where escalation would reach nobody (cause: the desk). */
export const LADDER_GAP_ALARM = 'nobody-on-duty';

/** Later than any shift's end: "from now on" in a range query. */
const END_OF_TIME = '9999-12-31T23:59:59.999Z';

/** The longest shift accepted: a week. */
const MAX_SHIFT_MS = 7 * 24 * 3_600_000;

function iso(text: string, what: string): string {
  const ms = Date.parse(text);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text) || Number.isNaN(ms))
    throw new ProtocolError(
      'E_MALFORMED',
      `${what} must be an ISO 8601 time, e.g. 2026-01-01T08:00:00Z`,
    );
  return new Date(ms).toISOString();
}

/**
 * A desk's duty as read at `from`, which holds until `until` (ms) while the roster's version
 * token (migration 0034: the database changes it on every roster write) is `version`.
 */
interface KnownDuty extends Pick<Duty, 'onDuty' | 'next' | 'reason'> {
  version: string;
  from: number;
  until: number;
}

export class Roster {
  readonly #store: Store;
  readonly #people: PeopleStore;
  readonly #trail: AuditTrail;
  readonly #clock: () => Date;
  /** The desks escalation climbs (`incidents.ladder` and `approvals.ladder`). */
  readonly #ladder: ReadonlySet<string>;
  /** The node's alarms (absent on a stopped node's data folder). */
  readonly #alarms: Alarms | undefined;
  /** `onDuty`'s answers by desk (a few dozen desks at most: only desks that exist are kept). */
  readonly #duties = new Map<string, KnownDuty>();

  constructor(
    store: Store,
    people: PeopleStore,
    trail: AuditTrail,
    clock: () => Date = () => new Date(),
    ladder: readonly string[] = [],
    alarms?: Alarms,
  ) {
    this.#alarms = alarms;
    this.#store = store;
    this.#people = people;
    this.#trail = trail;
    this.#clock = clock;
    this.#ladder = new Set(ladder);
  }

  async #desk(id: string, q?: Executor) {
    const desk = await this.#people.desk(id, q);
    if (!desk) throw new ProtocolError('E_NOT_FOUND', `there is no desk "${id}"`);
    return desk;
  }

  // desks and staff

  async addDesk(by: Actor, id: string, name: string): Promise<void> {
    await this.#trail.change(async (tx, audit) => {
      if (await this.#people.desk(id, tx))
        throw new ProtocolError('E_CONFLICT', `the desk "${id}" already exists`);
      await this.#people.addDesk({ id, name, created_at: this.#clock().toISOString() }, tx);
      await audit({ ...by, action: 'desk.add', target: id, detail: { name } });
    });
  }

  async desks(): Promise<DeskView[]> {
    const staff = await this.#people.staff(undefined);
    return (await this.#people.desks()).map((d) => ({
      id: d.id,
      name: d.name,
      staff: staff
        .filter((s) => s.desk === d.id)
        .map((s) => ({ user: s.user_name, routes: s.routes })),
    }));
  }

  /**
   * Adds a person to a desk's staff with `routes`, or changes their routes there. Routes left out
   * (`undefined`) keep those they have (a newcomer is reached on the console): re-staffing never
   * drops a route in silence. Answers the routes they have now and those they had before (`null`
   * for a newcomer).
   */
  async putStaff(
    by: Actor,
    desk: string,
    user: string,
    routes: ContactRoute[] | undefined,
  ): Promise<{ routes: ContactRoute[]; before: ContactRoute[] | null }> {
    await this.#desk(desk);
    await this.#user(user);
    return this.#trail.change(async (tx, audit) => {
      const held = (await this.#people.staff(desk, tx)).find((s) => s.user_name === user);
      const now = routes ?? held?.routes ?? [{ kind: 'console' }];
      const reachable = await this.#reachableOnDuty(desk, tx);
      await this.#people.putStaff({ desk, user_name: user, routes: now }, tx);
      await this.#refuseLadderGap(
        desk,
        user,
        reachable,
        `taking every contact route of "${user}"`,
        tx,
      );
      await audit({
        ...by,
        action: 'desk.staff',
        target: desk,
        detail: { user, routes: now.map((r) => r.kind) },
      });
      return { routes: now, before: held ? held.routes : null };
    });
  }

  /**
   * Takes a person off a desk's staff. Refused while they have a shift there that has not ended
   * (the roster would name someone on duty at a desk they do not staff: cancel the shifts first),
   * and when nobody else staffs the desk (nobody could write as it, as the last admin cannot be
   * disabled).
   */
  async removeStaff(by: Actor, desk: string, user: string): Promise<void> {
    await this.#desk(desk);
    await this.#trail.change(async (tx, audit) => {
      const staff = await this.#people.staff(desk, tx);
      if (!staff.some((s) => s.user_name === user))
        throw new ProtocolError('E_NOT_FOUND', `"${user}" does not staff the desk "${desk}"`);
      const now = this.#clock().toISOString();
      const shifts = (await this.#people.shifts(desk, now, END_OF_TIME, tx)).filter(
        (s) => s.user_name === user,
      );
      if (shifts.length)
        throw new ProtocolError(
          'E_CONFLICT',
          `"${user}" is rostered at "${desk}" (${shifts.map((s) => `shift ${s.id}, ${s.starts_at} to ${s.ends_at}`).join('; ')}): cancel ${shifts.length === 1 ? 'that shift' : 'those shifts'} first (hotline roster cancel <id>), then take them off the desk`,
        );
      if (staff.length === 1)
        throw new ProtocolError(
          'E_CONFLICT',
          `"${user}" is the only person staffing "${desk}": nobody could write as it; add someone else to its staff first (hotline desk staff ${desk} <user>)`,
        );
      await this.#people.removeStaff(desk, user, tx);
      await audit({ ...by, action: 'desk.unstaff', target: desk, detail: { user } });
    });
  }

  /** Whether this node has the desk `id`. */
  async hasDesk(id: string): Promise<boolean> {
    return (await this.#people.desk(id)) !== undefined;
  }

  /**
   * Why `user` cannot `act` as `desk` ("write as", "approve as"), or undefined when they staff it:
   * they do not, or this node has no such desk — a name from a peer's message, or mistyped.
   */
  async staffingProblem(user: string, desk: string, act: string): Promise<string | undefined> {
    if (await this.staffs(user, desk)) return undefined;
    return (await this.hasDesk(desk))
      ? `"${user}" does not staff the desk "${desk}" and cannot ${act} it`
      : `there is no desk "${desk}" on this node, so "${user}" cannot ${act} it (hotline desk list shows its desks)`;
  }

  /** Whether `user` staffs `desk`. */
  /** The user named, or E_NOT_FOUND naming them. */
  async #user(name: string) {
    const user = await this.#people.user(name);
    if (!user) throw new ProtocolError('E_NOT_FOUND', `there is no user "${name}"`);
    return user;
  }

  async staffs(user: string, desk: string): Promise<boolean> {
    return (await this.#people.staff(desk)).some((s) => s.user_name === user);
  }

  /**
   * The desk `user` acts as to `act` (a sentence's verb phrase): the one asked for, which they
   * must staff, else the first they staff. `E_FORBIDDEN` when they staff none of it.
   */
  async deskFor(user: string, desk: string | undefined, act: string): Promise<string> {
    if (desk !== undefined) {
      const problem = await this.staffingProblem(user, desk, `${act} as`);
      if (problem) throw new ProtocolError('E_FORBIDDEN', problem);
      return desk;
    }
    const staffed = (await this.desks()).find((d) => d.staff.some((s) => s.user === user));
    if (!staffed)
      throw new ProtocolError(
        'E_FORBIDDEN',
        `"${user}" staffs no desk: to ${act}, a person acts as a desk they staff`,
      );
    return staffed.id;
  }

  // the escalation ladder's reach

  /** The desks of the escalation ladder that this node has. */
  async ladderDesks(): Promise<string[]> {
    const desks = new Set((await this.#people.desks()).map((d) => d.id));
    return [...this.#ladder].filter((d) => desks.has(d));
  }

  /**
   * Why escalation reaching `desk` now would reach nobody — nobody on duty, or the person on duty
   * has no contact route there — or undefined when someone would be reached.
   */
  async unreachable(desk: string, q?: Executor): Promise<string | undefined> {
    const duty = await this.#readDuty(desk, this.#clock(), '', q);
    if (!duty.onDuty) return duty.reason ?? `nobody is on duty at "${desk}"`;
    if (!duty.onDuty.routes.length)
      return `${duty.onDuty.user}, on duty at "${desk}", has no contact route there`;
    return undefined;
  }

  /** The ladder desks where `user` is on duty now and can be reached. */
  async reachableDutiesOf(user: string): Promise<string[]> {
    const desks: string[] = [];
    for (const desk of await this.ladderDesks()) {
      const duty = await this.#readDuty(desk, this.#clock(), '');
      if (duty.onDuty?.user === user && duty.onDuty.routes.length) desks.push(desk);
    }
    return desks;
  }

  /**
   * After a change that could not be refused (disabling an account), raises a standing
   * `nobody-on-duty` alarm for each of `desks` where nobody can be reached now; answers them.
   * `clearLadderAlarms` clears each once someone reachable is on duty there again.
   */
  async alarmLadderGaps(desks: readonly string[], change: string): Promise<string[]> {
    const gaps: string[] = [];
    for (const desk of desks) {
      const why = await this.unreachable(desk);
      if (!why) continue;
      gaps.push(desk);
      await this.#alarms?.raise(
        LADDER_GAP_ALARM,
        null,
        `${change}: escalation reaching "${desk}" now reaches nobody (${why}); roster someone reachable there (hotline roster add ${desk} <user>)`,
        { cause: desk },
      );
    }
    return gaps;
  }

  /** Clears the `nobody-on-duty` alarm of each ladder desk where someone can be reached now. */
  async clearLadderAlarms(): Promise<void> {
    if (!this.#alarms) return;
    for (const desk of await this.ladderDesks())
      if (!(await this.unreachable(desk)))
        await this.#alarms.resolve(LADDER_GAP_ALARM, null, desk, 'someone reachable is on duty');
  }

  /** Whether `desk` is on the ladder and someone on duty there now can be reached. */
  async #reachableOnDuty(desk: string, q: Executor): Promise<boolean> {
    return this.#ladder.has(desk) && (await this.unreachable(desk, q)) === undefined;
  }

  /**
   * Refuses (`E_CONFLICT`, rolling the change back) a change to a ladder desk that was reachable
   * before it (`reachable`) and is not after: escalation would climb to nobody. Names who else
   * than `user` could be put on duty: the enabled staff with a contact route there.
   */
  async #refuseLadderGap(
    desk: string,
    user: string,
    reachable: boolean,
    change: string,
    q: Executor,
  ): Promise<void> {
    if (!reachable) return;
    const why = await this.unreachable(desk, q);
    if (!why) return;
    const users = new Map((await this.#people.users(q)).map((u) => [u.name, u]));
    const others = (await this.#people.staff(desk, q))
      .filter(
        (s) => s.user_name !== user && s.routes.length && !users.get(s.user_name)?.disabled_at,
      )
      .map((s) => s.user_name);
    const fix = others.length
      ? `roster one of ${others.join(', ')} there first (hotline roster add ${desk} <user>)`
      : `staff someone with a contact route there and roster them first (hotline desk staff ${desk} <user>, then hotline roster add ${desk} <user>)`;
    throw new ProtocolError(
      'E_CONFLICT',
      `${change} would leave "${desk}", a desk of the escalation ladder, with nobody reachable on duty now (${why}): ${fix}`,
    );
  }

  // shifts

  /** Rosters `user` at `desk` for [startsAt, endsAt); refuses an overlap with any live shift. */
  async addShift(
    by: Actor,
    input: { desk: string; user: string; startsAt: string; endsAt: string },
  ): Promise<ShiftView> {
    const startsAt = iso(input.startsAt, 'startsAt');
    const endsAt = iso(input.endsAt, 'endsAt');
    const empty = rangeProblem(
      { name: 'startsAt', given: input.startsAt, at: startsAt },
      { name: 'endsAt', given: input.endsAt, at: endsAt },
      { exclusive: true },
    );
    if (empty) throw new ProtocolError('E_MALFORMED', empty);
    const over = whenProblem(
      { name: 'endsAt', given: input.endsAt, at: endsAt },
      this.#clock(),
      'future',
      'a shift says who will be on duty; who was on duty is in the audit trail',
    );
    if (over) throw new ProtocolError('E_MALFORMED', over);
    if (Date.parse(endsAt) - Date.parse(startsAt) > MAX_SHIFT_MS)
      throw new ProtocolError('E_MALFORMED', 'a shift lasts at most 7 days');
    await this.#desk(input.desk);
    const user = await this.#user(input.user);
    if (user.disabled_at)
      throw new ProtocolError('E_CONFLICT', `"${input.user}" is disabled and cannot be rostered`);
    if (!(await this.staffs(input.user, input.desk)))
      throw new ProtocolError(
        'E_CONFLICT',
        `"${input.user}" does not staff the desk "${input.desk}": add them to its staff first`,
      );
    return this.#trail.change(async (tx, audit) => {
      const [clash] = await this.#people.shifts(input.desk, startsAt, endsAt, tx);
      if (clash)
        throw new ProtocolError(
          'E_CONFLICT',
          `the shift overlaps shift ${clash.id} of ${clash.user_name} at "${input.desk}" (${clash.starts_at} to ${clash.ends_at}): one person is on duty at a desk at a time`,
        );
      const row = {
        desk: input.desk,
        user_name: input.user,
        starts_at: startsAt,
        ends_at: endsAt,
        created_by: by.actor ?? 'unknown',
        created_at: this.#clock().toISOString(),
        cancelled_at: null,
      };
      const id = await this.#people.addShift(row, tx);
      await audit({
        ...by,
        action: 'shift.add',
        target: input.desk,
        detail: { shift: id, user: input.user, startsAt, endsAt },
      });
      return shiftView({ ...row, id });
    });
  }

  async cancelShift(by: Actor, id: number): Promise<void> {
    await this.#trail.change(async (tx, audit) => {
      const shift = await this.#people.shift(id, tx);
      if (!shift || shift.cancelled_at)
        throw new ProtocolError('E_NOT_FOUND', `there is no live shift ${id}`);
      const reachable = await this.#reachableOnDuty(shift.desk, tx);
      await this.#people.cancelShift(id, this.#clock().toISOString(), tx);
      await this.#refuseLadderGap(
        shift.desk,
        shift.user_name,
        reachable,
        `cancelling shift ${id} of "${shift.user_name}"`,
        tx,
      );
      await audit({
        ...by,
        action: 'shift.cancel',
        target: shift.desk,
        detail: { shift: id, user: shift.user_name },
      });
    });
  }

  async shifts(desk: string, from: string, to: string): Promise<ShiftView[]> {
    await this.#desk(desk);
    return (await this.#people.shifts(desk, iso(from, 'from'), iso(to, 'to'))).map(shiftView);
  }

  /**
   * Who is on duty at `desk` at `at` (now by default): one answer. Read through `q` when given:
   * inside a unit of work (escalation's first step in the receive commit), a read outside its
   * transaction would wait on SQLite for the very connection that transaction holds. The answer
   * is kept per desk until the next shift boundary or any roster change (one read checks it).
   */
  async onDuty(desk: string, at: Date = this.#clock(), q?: Executor): Promise<Duty> {
    const version = await this.#people.rosterVersion(q);
    const ms = at.getTime();
    let known = this.#duties.get(desk);
    if (!known || known.version !== version || ms < known.from || ms >= known.until) {
      known = await this.#readDuty(desk, at, version, q);
      this.#duties.set(desk, known);
    }
    const t = at.toISOString();
    const { onDuty, next, reason } = known;
    return {
      desk,
      at: t,
      onDuty,
      next,
      ...(reason ? { reason } : onDuty ? {} : { reason: `no shift at "${desk}" covers ${t}` }),
    };
  }

  /**
   * Who is on duty at `desk` from `at` until the next shift starts or the one found ends, while
   * the roster stays at `version`: no shift starts in between (`next` is the first), so the first
   * shift covering `at` still covers every moment until then, and is still the first.
   */
  async #readDuty(desk: string, at: Date, version: string, q?: Executor): Promise<KnownDuty> {
    await this.#desk(desk, q);
    const justAfter = new Date(at.getTime() + 1).toISOString();
    const [shift] = await this.#people.shifts(desk, at.toISOString(), justAfter, q);
    const next = await this.#people.nextShift(desk, justAfter, q);
    const known: KnownDuty = {
      version,
      from: at.getTime(),
      until: Math.min(
        shift ? Date.parse(shift.ends_at) : Number.POSITIVE_INFINITY,
        next ? Date.parse(next.starts_at) : Number.POSITIVE_INFINITY,
      ),
      onDuty: null,
      next: next ? { user: next.user_name, startsAt: next.starts_at, endsAt: next.ends_at } : null,
    };
    if (!shift) return known;
    const user = await this.#people.user(shift.user_name, q);
    if (!user || user.disabled_at)
      return { ...known, reason: `the rostered person, ${shift.user_name}, is disabled` };
    const staff = (await this.#people.staff(desk, q)).find((s) => s.user_name === user.name);
    // A shift kept from before unstaffing was refused while rostered: nobody, and why.
    if (!staff)
      return {
        ...known,
        reason: `the rostered person, ${shift.user_name}, no longer staffs "${desk}"`,
      };
    return {
      ...known,
      onDuty: {
        user: user.name,
        displayName: user.display_name,
        routes: staff.routes,
        shift: { id: shift.id, startsAt: shift.starts_at, endsAt: shift.ends_at },
      },
    };
  }

  // handover

  /**
   * The person on duty at `desk` hands its open items to the next person rostered there (or
   * `to`, who must staff the desk). Each message and alarm named must exist here.
   */
  async handOver(
    by: Actor,
    input: { desk: string; items: HandoverItem[]; note?: string; to?: string },
  ): Promise<HandoverView> {
    const now = this.#clock();
    const duty = await this.onDuty(input.desk, now);
    if (duty.onDuty?.user !== by.actor)
      throw new ProtocolError(
        'E_FORBIDDEN',
        `only the person on duty at "${input.desk}" (${duty.onDuty?.user ?? 'nobody'}) can hand it over`,
      );
    if (input.to === by.actor)
      throw new ProtocolError(
        'E_CONFLICT',
        `"${by.actor}" cannot hand "${input.desk}" over to themselves: name who takes over`,
      );
    const to = input.to ?? duty.next?.user;
    if (!to || to === by.actor)
      throw new ProtocolError(
        'E_CONFLICT',
        `nobody else is rostered next at "${input.desk}": roster the next shift, or name who takes over`,
      );
    await this.#user(to);
    if (!(await this.staffs(to, input.desk)))
      throw new ProtocolError('E_CONFLICT', `"${to}" does not staff the desk "${input.desk}"`);
    for (const item of input.items) await this.#checkItem(item);
    return this.#trail.change(async (tx, audit) => {
      const row = {
        desk: input.desk,
        from_user: by.actor as string,
        to_user: to,
        items: input.items,
        note: input.note ?? null,
        created_at: now.toISOString(),
        confirmed_at: null,
      };
      const id = await this.#people.addHandover(row, tx);
      await audit({
        ...by,
        action: 'handover.open',
        target: input.desk,
        detail: { handover: id, to, items: input.items.length },
      });
      return handoverView({ ...row, id });
    });
  }

  async #checkItem(item: HandoverItem): Promise<void> {
    if (item.kind === 'message') {
      const found = await this.#store.db
        .selectFrom('inbox')
        .select('id')
        .where('id', '=', item.id)
        .union(this.#store.db.selectFrom('outbox').select('id').where('id', '=', item.id))
        .executeTakeFirst();
      if (!found) throw new ProtocolError('E_NOT_FOUND', `there is no message ${item.id}`);
    } else if (item.kind === 'alarm') {
      const alarm = await this.#store.getAlarm(item.id);
      if (!alarm || alarm.cleared_at !== null)
        throw new ProtocolError('E_NOT_FOUND', `there is no open alarm ${item.id}`);
    }
  }

  /** The incoming person confirms receiving a handover; nobody else can. */
  async confirm(by: Actor, id: number): Promise<HandoverView> {
    const at = this.#clock().toISOString();
    return this.#trail.change(async (tx, audit) => {
      const row = await this.#people.handover(id, tx);
      if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no handover ${id}`);
      if (row.to_user !== by.actor)
        throw new ProtocolError(
          'E_FORBIDDEN',
          `handover ${id} is to ${row.to_user}: only they can confirm it`,
        );
      if (row.confirmed_at)
        throw new ProtocolError(
          'E_CONFLICT',
          `handover ${id} was confirmed at ${row.confirmed_at}`,
        );
      await this.#people.confirmHandover(id, at, tx);
      await audit({
        ...by,
        action: 'handover.confirm',
        target: row.desk,
        detail: { handover: id, from: row.from_user },
      });
      return handoverView({ ...row, confirmed_at: at });
    });
  }

  async handovers(desk?: string): Promise<HandoverView[]> {
    return (await this.#people.handovers(desk)).map(handoverView);
  }
}

function shiftView(row: ShiftRow): ShiftView {
  return {
    id: row.id,
    desk: row.desk,
    user: row.user_name,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
    createdBy: row.created_by,
  };
}

function handoverView(row: HandoverRow): HandoverView {
  return {
    id: row.id,
    desk: row.desk,
    from: row.from_user,
    to: row.to_user,
    items: row.items,
    note: row.note,
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
  };
}
