import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openSite, type Site, TestClock } from '../../../test/support/site.ts';
import { dataFolderActor } from './people.ts';

const clock = new TestClock('2026-03-01T08:00:00.000Z');
const by = dataFolderActor();
let site: Site;

beforeAll(async () => {
  site = await openSite({
    access: { lockoutAfter: 3, lockoutMinutes: 15, throttleFailures: 6 },
    clock: clock.now,
  });
  await site.accounts.add(by, { name: 'alice', role: 'operator', password: 'alice-passphrase-1' });
  await site.accounts.add(by, { name: 'bob', role: 'officer', password: 'bob-passphrase-22' });
}, 30_000);
afterAll(async () => {
  await site.close();
});

/** A login that opens a session at once (no second factor enrolled). */
async function session(name: string, password: string, source: string) {
  const login = await site.accounts.login(name, password, source);
  if ('ticket' in login) throw new Error(`${name} was asked for a second factor`);
  return login;
}

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: { code: string; message: string }) => ({ code: e.code, message: e.message }),
  );

describe('accounts', () => {
  test('stores an Argon2id hash, never the password', async () => {
    const row = await site.people.user('alice');
    expect(row?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.password_hash).not.toContain('alice-passphrase-1');
  });

  test('refuses a short password, a bad name and a duplicate, with a clear reason', async () => {
    expect(
      await refusal(site.accounts.add(by, { name: 'carol', role: 'operator', password: 'short' })),
    ).toMatchObject({ code: 'E_MALFORMED', message: expect.stringContaining('12 characters') });
    expect(
      await refusal(
        site.accounts.add(by, { name: 'Carol!', role: 'operator', password: 'long-enough-pass' }),
      ),
    ).toMatchObject({ code: 'E_MALFORMED' });
    expect(
      await refusal(
        site.accounts.add(by, { name: 'alice', role: 'admin', password: 'long-enough-pass' }),
      ),
    ).toMatchObject({ code: 'E_CONFLICT' });
  });

  test('a login opens a session whose cookie and CSRF token are kept only as hashes', async () => {
    const login = await session('alice', 'alice-passphrase-1', '10.0.0.1');
    const principal = await site.accounts.fromSession(login.sessionId);
    expect(principal).toMatchObject({ user: 'alice', role: 'operator', via: 'session' });
    const stored = JSON.stringify(await site.store.db.selectFrom('sessions').selectAll().execute());
    expect(stored).not.toContain(login.sessionId);
    expect(stored).not.toContain(login.csrfToken);
    expect(
      principal && (await import('./accounts.ts')).Accounts.csrfMatches(principal, login.csrfToken),
    ).toBe(true);
  });

  test('a session ends after the idle time, even if its absolute lifetime has not', async () => {
    const login = await session('bob', 'bob-passphrase-22', '10.0.0.1');
    clock.advance(29 * 60_000);
    expect(await site.accounts.fromSession(login.sessionId)).toBeDefined();
    clock.advance(29 * 60_000); // renewed by the use above
    expect(await site.accounts.fromSession(login.sessionId)).toBeDefined();
    clock.advance(31 * 60_000);
    expect(await site.accounts.fromSession(login.sessionId)).toBeUndefined();
  });

  const WRONG = { code: 'E_UNAUTHORIZED', message: 'wrong user name or password' };

  test('locks an account after repeated failures, and answers it as a wrong name is answered', async () => {
    for (let i = 0; i < 3; i++)
      expect(await refusal(site.accounts.login('bob', 'wrong password!', '10.0.0.2'))).toEqual(
        WRONG,
      );
    // Locked: even the right password gets the answer an unknown name gets.
    expect(await refusal(site.accounts.login('bob', 'bob-passphrase-22', '10.0.0.2'))).toEqual(
      WRONG,
    );
    expect(
      await refusal(site.accounts.login('nobody-here', 'bob-passphrase-22', '10.0.0.2')),
    ).toEqual(WRONG);
    expect((await site.accounts.get('bob')).lockedUntil).toBe(
      new Date(clock.now().getTime() + 60_000).toISOString(),
    );
    clock.advance(61_000);
    await expect(
      site.accounts.login('bob', 'bob-passphrase-22', '10.0.0.2'),
    ).resolves.toMatchObject({ user: { name: 'bob' } });
  });

  test('each further failure after a lock doubles it, up to lockoutMinutes', async () => {
    await site.accounts.add(by, { name: 'frank', role: 'operator', password: 'frank-passphrase' });
    const lockedFor = async () =>
      Date.parse((await site.accounts.get('frank')).lockedUntil ?? '') - clock.now().getTime();
    const minutes: number[] = [];
    for (let i = 0; i < 7; i++) {
      await refusal(site.accounts.login('frank', 'not his password', `10.7.0.${i}`));
      if (i >= 2) {
        minutes.push((await lockedFor()) / 60_000);
        clock.advance(await lockedFor());
      }
    }
    expect(minutes).toEqual([1, 2, 4, 8, 15]);
  });

  test('an admin’s password reset unlocks a locked account at once', async () => {
    for (let i = 0; i < 3; i++)
      await refusal(site.accounts.login('alice', 'nope nope nope', '10.0.0.3'));
    expect(await refusal(site.accounts.login('alice', 'alice-passphrase-1', '10.0.0.3'))).toEqual(
      WRONG,
    );
    await site.accounts.setPassword(by, 'alice', 'alice-passphrase-2');
    await expect(
      site.accounts.login('alice', 'alice-passphrase-2', '10.0.0.3'),
    ).resolves.toBeDefined();
  });

  test('another officer clears a lockout; nobody clears their own', async () => {
    await site.accounts.add(by, { name: 'gina', role: 'officer', password: 'gina-passphrase-1' });
    for (let i = 0; i < 3; i++)
      await refusal(site.accounts.login('gina', 'not the password', '10.0.0.5'));
    const bob = { actor: 'bob', role: 'officer', via: 'session', source: '10.0.0.6' } as const;
    const gina = { ...bob, actor: 'gina' };
    expect(await refusal(site.accounts.unlock(gina, 'gina'))).toMatchObject({
      code: 'E_FORBIDDEN',
    });
    expect((await site.accounts.unlock(bob, 'gina')).lockedUntil).toBeNull();
    await expect(
      site.accounts.login('gina', 'gina-passphrase-1', '10.0.0.5'),
    ).resolves.toMatchObject({ user: { name: 'gina' } });
    expect((await site.trail.list({ action: 'user.unlock', limit: 10 }))[0]).toMatchObject({
      actor: 'bob',
      target: 'gina',
    });
    // Signed in again, nothing is left to clear: said so, to her as to anyone.
    for (const who of [bob, gina])
      expect(await refusal(site.accounts.unlock(who, 'gina'))).toEqual({
        code: 'E_CONFLICT',
        message: '"gina" is not locked and has no failed logins to clear: it can sign in',
      });
  });

  test('throttles a name that keeps failing from one address — known or not — and no other name', async () => {
    clock.advance(60 * 60_000);
    await site.accounts.add(by, { name: 'erin', role: 'operator', password: 'erin-passphrase-1' });
    for (const name of ['erin', 'x1']) {
      for (let i = 0; i < 6; i++)
        expect(await refusal(site.accounts.login(name, 'whatever-it-is', '10.9.9.9'))).toEqual(
          WRONG,
        );
      const throttled = await refusal(site.accounts.login(name, 'whatever-it-is', '10.9.9.9'));
      expect(throttled?.code).toBe('E_THROTTLED');
      expect(throttled?.message).toMatch(/for this name from 10\.9\.9\.9: try again after 2026-/);
    }
    // Another name from the same address is not affected, and the wait passes.
    await expect(
      site.accounts.login('alice', 'alice-passphrase-2', '10.9.9.9'),
    ).resolves.toBeDefined();
    clock.advance(2_000);
    expect(await refusal(site.accounts.login('x1', 'whatever-it-is', '10.9.9.9'))).toEqual(WRONG);
    // The next wait is twice as long: 2 s.
    clock.advance(1_500);
    expect((await refusal(site.accounts.login('x1', 'whatever-it-is', '10.9.9.9')))?.code).toBe(
      'E_THROTTLED',
    );
  });

  test('tokens are scoped within the role, expire, and are refused once revoked', async () => {
    expect(
      await refusal(site.accounts.issueToken(by, 'alice', { scopes: ['read', 'admin'] })),
    ).toMatchObject({ code: 'E_MALFORMED', message: expect.stringContaining('not admin') });
    const { token, info } = await site.accounts.issueToken(by, 'alice', {
      scopes: ['read'],
      expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
    });
    expect(await site.accounts.fromToken(token)).toMatchObject({ user: 'alice', scopes: ['read'] });
    // One character changed (to another: a token may already end in "A").
    const altered = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect(await site.accounts.fromToken(altered)).toBeUndefined();
    clock.advance(3_600_000);
    expect(await site.accounts.fromToken(token)).toBeUndefined();
    const second = await site.accounts.issueToken(by, 'alice');
    expect((await site.accounts.fromToken(second.token))?.scopes).toEqual(['read', 'write']);
    expect(await refusal(site.accounts.revokeToken(by, second.info.id, 'bob'))).toEqual({
      code: 'E_NOT_FOUND',
      message: `"bob" has no token "${second.info.id}": it is "alice"'s (hotline user token alice --revoke ${second.info.id})`,
    });
    expect(await site.accounts.fromToken(second.token)).toBeDefined();
    await site.accounts.revokeToken(by, second.info.id, 'alice');
    expect(await site.accounts.fromToken(second.token)).toBeUndefined();
    expect(await refusal(site.accounts.revokeToken(by, second.info.id))).toEqual({
      code: 'E_CONFLICT',
      message: expect.stringMatching(/^token "[0-9a-f]{16}" of "alice" was already revoked at /),
    });
    expect(info.scopes).toEqual(['read']);
  });

  test('disabling a user ends its sessions and revokes its tokens at once; the last admin stays', async () => {
    await site.accounts.add(by, { name: 'dave', role: 'operator', password: 'dave-passphrase-1' });
    const login = await session('dave', 'dave-passphrase-1', '10.0.0.4');
    const { token } = await site.accounts.issueToken(by, 'dave');
    await site.accounts.disable(by, 'dave');
    expect(await site.accounts.fromSession(login.sessionId)).toBeUndefined();
    expect(await site.accounts.fromToken(token)).toBeUndefined();
    expect(await refusal(site.accounts.login('dave', 'dave-passphrase-1', '10.0.0.4'))).toEqual({
      code: 'E_UNAUTHORIZED',
      message: 'wrong user name or password',
    });
    expect(await refusal(site.accounts.disable(by, 'admin'))).toMatchObject({
      code: 'E_CONFLICT',
      message: expect.stringContaining('last enabled admin'),
    });
  });

  test('every login, success or failure, is in the audit trail with who, when and where', async () => {
    const logins = await site.trail.list({ action: 'login', limit: 1000 });
    expect(logins.find((e) => e.outcome === 'ok' && e.actor === 'alice')).toMatchObject({
      via: 'session',
      source: expect.stringMatching(/^10\.9\.9\./),
      at: expect.stringMatching(/^2026-03-01T/),
    });
    const bobFailures = logins.filter((e) => e.outcome === 'failed' && e.target === 'bob');
    expect(bobFailures.map((e) => e.detail.reason).reverse()).toEqual([
      'wrong password',
      'wrong password',
      'wrong password; account locked',
    ]);
    expect(bobFailures[0]).toMatchObject({ actor: null, via: 'anonymous', source: '10.0.0.2' });
    expect(logins.some((e) => e.outcome === 'denied' && e.detail.reason === 'locked')).toBe(true);
    expect(logins.some((e) => e.detail.reason === 'throttled')).toBe(true);
    // None of it carries a password.
    expect(JSON.stringify(await site.trail.list({ limit: 10_000 }))).not.toMatch(/passphrase/);
  });
});
