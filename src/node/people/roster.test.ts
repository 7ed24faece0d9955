import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BACKENDS, openSite, type Site, TestClock } from '../../../test/support/site.ts';
import { dataFolderActor } from './people.ts';
import type { Actor } from './trail.ts';

const clock = new TestClock('2026-03-01T07:00:00.000Z');
const by = dataFolderActor();
const as = (user: string, role = 'operator'): Actor => ({
  actor: user,
  role,
  via: 'token',
  source: '127.0.0.1',
});
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
  );

describe.each(BACKENDS)('the duty roster on %s', (backend) => {
  let site: Site;
  beforeAll(async () => {
    clock.set('2026-03-01T07:00:00.000Z');
    site = await openSite({ clock: clock.now, backend });
    for (const name of ['wang', 'li', 'zhao'])
      await site.accounts.add(by, { name, role: 'operator', password: `${name}-passphrase-1` });
    await site.roster.addDesk(by, 'duty-officer', 'Duty officer');
    for (const name of ['wang', 'li'])
      await site.roster.putStaff(by, 'duty-officer', name, [
        { kind: 'console' },
        { kind: 'email', address: `${name}@example.org` },
      ]);
    // Day shift 08:00–20:00 (Wang), night 20:00–08:00 (Li).
    await site.roster.addShift(by, {
      desk: 'duty-officer',
      user: 'wang',
      startsAt: '2026-03-01T08:00:00Z',
      endsAt: '2026-03-01T20:00:00Z',
    });
    await site.roster.addShift(by, {
      desk: 'duty-officer',
      user: 'li',
      startsAt: '2026-03-01T20:00:00Z',
      endsAt: '2026-03-02T08:00:00Z',
    });
  }, 30_000);
  afterAll(async () => {
    await site.close();
  });

  test('answers "who is on duty now" with one person, across shift boundaries', async () => {
    const onDuty = async (at: string) => {
      clock.set(at);
      return (await site.roster.onDuty('duty-officer')).onDuty?.user ?? null;
    };
    expect(await onDuty('2026-03-01T07:59:59.999Z')).toBeNull();
    expect(await onDuty('2026-03-01T08:00:00.000Z')).toBe('wang');
    expect(await onDuty('2026-03-01T19:59:59.999Z')).toBe('wang');
    expect(await onDuty('2026-03-01T20:00:00.000Z')).toBe('li');
    expect(await onDuty('2026-03-02T07:59:59.999Z')).toBe('li');
    expect(await onDuty('2026-03-02T08:00:00.000Z')).toBeNull();
  });

  test('says how to reach the person on duty, who is next, and why nobody is', async () => {
    clock.set('2026-03-01T12:00:00.000Z');
    expect(await site.roster.onDuty('duty-officer')).toEqual({
      desk: 'duty-officer',
      at: '2026-03-01T12:00:00.000Z',
      onDuty: {
        user: 'wang',
        displayName: null,
        routes: [{ kind: 'console' }, { kind: 'email', address: 'wang@example.org' }],
        shift: { id: 1, startsAt: '2026-03-01T08:00:00.000Z', endsAt: '2026-03-01T20:00:00.000Z' },
      },
      next: {
        user: 'li',
        startsAt: '2026-03-01T20:00:00.000Z',
        endsAt: '2026-03-02T08:00:00.000Z',
      },
    });
    const empty = await site.roster.onDuty('duty-officer', new Date('2026-03-03T00:00:00Z'));
    expect(empty).toMatchObject({
      onDuty: null,
      next: null,
      reason: expect.stringContaining('no shift'),
    });
  });

  test('refuses an overlapping shift, naming the one it overlaps, so the answer stays one', async () => {
    const overlap = await refusal(
      site.roster.addShift(by, {
        desk: 'duty-officer',
        user: 'li',
        startsAt: '2026-03-01T19:00:00Z',
        endsAt: '2026-03-01T21:00:00Z',
      }),
    );
    expect(overlap).toMatchObject({
      code: 'E_CONFLICT',
      message: expect.stringContaining('shift 1 of wang'),
    });
    expect(
      await refusal(
        site.roster.addShift(by, {
          desk: 'duty-officer',
          user: 'zhao',
          startsAt: '2026-03-05T08:00:00Z',
          endsAt: '2026-03-05T09:00:00Z',
        }),
      ),
    ).toMatchObject({ code: 'E_CONFLICT', message: expect.stringContaining('does not staff') });
    expect(
      await refusal(
        site.roster.addShift(by, {
          desk: 'duty-officer',
          user: 'li',
          startsAt: '2026-03-05T09:00:00Z',
          endsAt: '2026-03-05T08:00:00Z',
        }),
      ),
    ).toMatchObject({ code: 'E_MALFORMED' });
  });

  test('a disabled person on shift is not "on duty": escalation must look elsewhere', async () => {
    await site.accounts.add(by, { name: 'sun', role: 'operator', password: 'sun-passphrase-12' });
    await site.roster.putStaff(by, 'duty-officer', 'sun', [{ kind: 'console' }]);
    await site.roster.addShift(by, {
      desk: 'duty-officer',
      user: 'sun',
      startsAt: '2026-03-04T08:00:00Z',
      endsAt: '2026-03-04T20:00:00Z',
    });
    await site.accounts.disable(by, 'sun');
    const duty = await site.roster.onDuty('duty-officer', new Date('2026-03-04T09:00:00Z'));
    expect(duty).toMatchObject({
      onDuty: null,
      reason: expect.stringContaining('sun, is disabled'),
    });
  });

  test('the answer kept for a desk gives way to any roster change, whoever writes it', async () => {
    const at = new Date('2026-03-05T10:00:00Z');
    const duty = async () => (await site.roster.onDuty('duty-officer', at)).onDuty;
    await site.roster.addShift(by, {
      desk: 'duty-officer',
      user: 'wang',
      startsAt: '2026-03-05T08:00:00Z',
      endsAt: '2026-03-05T20:00:00Z',
    });
    expect(await duty()).toMatchObject({ user: 'wang', displayName: null });
    await site.roster.putStaff(by, 'duty-officer', 'wang', [{ kind: 'console' }]);
    expect((await duty())?.routes).toEqual([{ kind: 'console' }]);
    // Written beside the roster's own methods (a replica, a CLI): the database notices.
    await site.store.db
      .updateTable('users')
      .set({ display_name: 'Wang Wei' })
      .where('name', '=', 'wang')
      .execute();
    expect(await duty()).toMatchObject({ user: 'wang', displayName: 'Wang Wei' });
    // A change seen inside a transaction that then rolls back is not kept.
    const shift = site.store.db
      .updateTable('shifts')
      .where('starts_at', '=', '2026-03-05T08:00:00.000Z');
    await expect(
      site.store.db.transaction().execute(async (tx) => {
        await tx
          .updateTable('shifts')
          .set({ cancelled_at: at.toISOString() })
          .where('starts_at', '=', '2026-03-05T08:00:00.000Z')
          .execute();
        expect((await site.roster.onDuty('duty-officer', at, tx)).onDuty).toBeNull();
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await duty()).toMatchObject({ user: 'wang' });
    await shift.set({ cancelled_at: at.toISOString() }).execute();
    expect(await site.roster.onDuty('duty-officer', at)).toMatchObject({
      onDuty: null,
      reason: 'no shift at "duty-officer" covers 2026-03-05T10:00:00.000Z',
    });
  });

  test('handover: the outgoing person hands over open items, only the incoming one confirms', async () => {
    clock.set('2026-03-01T19:45:00.000Z');
    expect(
      await refusal(site.roster.handOver(as('li'), { desk: 'duty-officer', items: [] })),
    ).toMatchObject({ code: 'E_FORBIDDEN', message: expect.stringContaining('(wang)') });
    expect(
      await refusal(
        site.roster.handOver(as('wang'), { desk: 'duty-officer', items: [], to: 'wang' }),
      ),
    ).toMatchObject({
      code: 'E_CONFLICT',
      message: '"wang" cannot hand "duty-officer" over to themselves: name who takes over',
    });
    expect(
      await refusal(
        site.roster.handOver(as('wang'), { desk: 'duty-officer', items: [], to: 'nobody' }),
      ),
    ).toMatchObject({ code: 'E_NOT_FOUND', message: 'there is no user "nobody"' });
    expect(
      await refusal(
        site.roster.handOver(as('wang'), {
          desk: 'duty-officer',
          items: [{ kind: 'alarm', id: 99 }],
        }),
      ),
    ).toMatchObject({ code: 'E_NOT_FOUND' });
    const handover = await site.roster.handOver(as('wang'), {
      desk: 'duty-officer',
      items: [{ kind: 'note', note: 'Beijing asked for a call at 21:00 about the model weights.' }],
      note: 'Quiet otherwise.',
    });
    expect(handover).toMatchObject({ from: 'wang', to: 'li', confirmedAt: null });
    expect(await refusal(site.roster.confirm(as('zhao'), handover.id))).toMatchObject({
      code: 'E_FORBIDDEN',
      message: expect.stringContaining('only they'),
    });
    clock.set('2026-03-01T20:02:00.000Z');
    const confirmed = await site.roster.confirm(as('li'), handover.id);
    expect(confirmed.confirmedAt).toBe('2026-03-01T20:02:00.000Z');
    expect(await refusal(site.roster.confirm(as('li'), handover.id))).toMatchObject({
      code: 'E_CONFLICT',
    });
    const trail = await site.trail.list({ limit: 100 });
    expect(trail.find((e) => e.action === 'handover.open')).toMatchObject({
      actor: 'wang',
      target: 'duty-officer',
      detail: { handover: handover.id, to: 'li', items: 1 },
    });
    expect(trail.find((e) => e.action === 'handover.confirm')).toMatchObject({
      actor: 'li',
      at: '2026-03-01T20:02:00.000Z',
    });
  });

  test('re-staffing without routes keeps them; unstaffing a rostered or last person is refused', async () => {
    clock.set('2026-03-06T07:00:00.000Z');
    await site.roster.addDesk(by, 'liaison', 'Liaison');
    const email = { kind: 'email' as const, address: 'zhao@example.org' };
    expect(await site.roster.putStaff(by, 'liaison', 'zhao', [email])).toEqual({
      routes: [email],
      before: null,
    });
    expect(await site.roster.putStaff(by, 'liaison', 'zhao', undefined)).toEqual({
      routes: [email],
      before: [email],
    });
    expect(await refusal(site.roster.removeStaff(by, 'liaison', 'zhao'))).toEqual({
      code: 'E_CONFLICT',
      message: expect.stringContaining('"zhao" is the only person staffing "liaison"'),
    });
    await site.roster.putStaff(by, 'liaison', 'li', undefined);
    const shift = await site.roster.addShift(by, {
      desk: 'liaison',
      user: 'zhao',
      startsAt: '2026-03-06T06:00:00Z',
      endsAt: '2026-03-06T18:00:00Z',
    });
    expect(await refusal(site.roster.removeStaff(by, 'liaison', 'zhao'))).toEqual({
      code: 'E_CONFLICT',
      message: `"zhao" is rostered at "liaison" (shift ${shift.id}, 2026-03-06T06:00:00.000Z to 2026-03-06T18:00:00.000Z): cancel that shift first (hotline roster cancel <id>), then take them off the desk`,
    });
    expect((await site.roster.onDuty('liaison')).onDuty?.user).toBe('zhao');
    // A shift left from before the refusal (written beside the roster): nobody, and why.
    await site.store.db.deleteFrom('desk_staff').where('user_name', '=', 'zhao').execute();
    expect(await site.roster.onDuty('liaison')).toMatchObject({
      onDuty: null,
      reason: 'the rostered person, zhao, no longer staffs "liaison"',
    });
    await site.roster.cancelShift(by, shift.id);
  });

  test('roster changes are in the audit trail', async () => {
    const actions = (await site.trail.list({ limit: 1000 })).map((e) => e.action);
    for (const action of ['desk.add', 'desk.staff', 'shift.add', 'user.disable'])
      expect(actions).toContain(action);
    const shift = (await site.trail.list({ action: 'shift.add', limit: 10 })).at(-1);
    expect(shift).toMatchObject({
      actor: by.actor,
      via: 'data-folder',
      detail: { shift: 1, user: 'wang', startsAt: '2026-03-01T08:00:00.000Z' },
    });
  });
});
