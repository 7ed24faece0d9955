/**
 * Operator accounts: roles, Argon2id passwords, console sessions, scoped bearer tokens, and login
 * throttling with lockout. Every change and every login attempt goes to the audit trail.
 *
 * A request is checked against the database each time (no cache), so a disabled account, a revoked
 * token or an ended session stops working with the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { whenProblem } from '../../protocol/common.ts';
import { ProtocolError } from '../../protocol/errors.ts';
import type { UserView } from '../../protocol/views.ts';
import type { PeopleStore, UserRow } from '../../store/people.ts';
import type { Role } from '../../store/schema.ts';
import type { Executor } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
import type { FactorKind, FactorProof, SecondFactors } from './factors.ts';
import { ROLES, SCOPES } from './roles.ts';
import type { Actor, AuditTrail } from './trail.ts';

export type { Role };
export { ROLES, SCOPES };
export type Scope = (typeof SCOPES)[number];

/** The scopes a role can hold; a token gets at most these. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  operator: ['read', 'write'],
  officer: ['read', 'write'],
  admin: ['read', 'write', 'admin'],
};

export const USER_NAME = /^[a-z][a-z0-9._-]{1,31}$/;
export const PASSWORD_MIN = 12;
export const PASSWORD_MAX = 1024;

/** OWASP's Argon2id parameters: 19 MiB, 2 passes, 1 lane (about 0.1 s a hash). */
// `Algorithm.Argon2id` is 2; the package declares it as a const enum, which is types only here.
const ARGON2 = {
  algorithm: 2 as Algorithm.Argon2id,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};
/** Verified when the user does not exist, so a wrong name takes as long as a wrong password. */
let decoyHash: Promise<string> | undefined;

/** The window over which failed logins of one name from one address are counted. */
const THROTTLE_WINDOW_MS = 10 * 60_000;
/** (address, name) pairs remembered for throttling at most; the least recent are forgotten. */
const THROTTLE_KEYS = 10_000;
/** The longest wait between tries of one name from one address. */
const THROTTLE_MAX_MS = 5 * 60_000;

/**
 * When the next try may come, given the recent failures (oldest first): free below `free`
 * failures, then one second after the last, doubling with each further failure.
 */
export function throttledUntil(recent: readonly number[], free: number): number {
  if (recent.length < free) return 0;
  const last = recent[recent.length - 1] as number;
  return last + Math.min(1000 * 2 ** Math.min(recent.length - free, 30), THROTTLE_MAX_MS);
}
/** How long the second step of a sign-in may follow the password, and how many tries it has. */
const TICKET_MS = 5 * 60_000;
const TICKET_TRIES = 3;

/** Who a request acts as, from a session or a token. */
export interface Principal {
  user: string;
  role: Role;
  via: 'session' | 'token' | 'data-folder';
  scopes: readonly Scope[];
  /** For a session: the hashes of its id and of its CSRF token. */
  session?: { idHash: string; csrfHash: string };
  tokenId?: string;
  /** A session whose role must have a second factor and has none: it may only enrol one. */
  enrol?: boolean;
  /** Where it acts from, when not a network client (a command run on the data folder). */
  source?: string;
}

export interface NewUser {
  name: string;
  role: Role;
  password: string;
  displayName?: string;
}

export interface TokenView {
  id: string;
  user: string;
  label: string;
  scopes: Scope[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface Login {
  user: UserView;
  /** The session cookie's value and the CSRF token, given to the client once. */
  sessionId: string;
  csrfToken: string;
  expiresAt: string;
  /** The role must have a second factor and has none yet. */
  enrol: boolean;
}

/** The password was right; the sign-in waits for the second factor. */
export interface SecondFactorNeeded {
  user: string;
  ticket: string;
  methods: FactorKind[];
  expiresAt: string;
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

function equalHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export function checkPassword(password: unknown): string {
  if (typeof password !== 'string' || [...password].length < PASSWORD_MIN)
    throw new ProtocolError(
      'E_MALFORMED',
      `a password needs at least ${PASSWORD_MIN} characters (a passphrase of four words will do)`,
    );
  if (password.length > PASSWORD_MAX)
    throw new ProtocolError('E_MALFORMED', `a password has at most ${PASSWORD_MAX} characters`);
  // Long enough by count, guessed at once: only spaces, or one character over and over.
  if (!password.trim())
    throw new ProtocolError(
      'E_MALFORMED',
      'a password of only spaces is no password: choose one with words in it',
    );
  if (new Set(password).size === 1)
    throw new ProtocolError(
      'E_MALFORMED',
      'a password of one character repeated is guessed at once: choose one with words in it',
    );
  return password;
}

/** A random password of 20 characters from an unambiguous alphabet (about 115 bits). */
export function generatePassword(): string {
  const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const bytes = randomBytes(40);
  let out = '';
  for (const b of bytes) if (b < 224 && out.length < 20) out += alphabet[b % 56];
  return out.length === 20 ? out : generatePassword();
}

export function view(u: UserRow): UserView {
  return {
    name: u.name,
    displayName: u.display_name,
    role: u.role,
    createdAt: u.created_at,
    disabledAt: u.disabled_at,
    lockedUntil: u.locked_until,
    failedLogins: u.failed_logins,
  };
}

export class Accounts {
  readonly #people: PeopleStore;
  readonly #trail: AuditTrail;
  readonly #policy: Config['access'];
  readonly #factors: SecondFactors;
  readonly #clock: () => Date;
  /** Recent failed logins per (address, name), least recently failed first, for throttling. */
  readonly #failures = new Map<string, number[]>();
  /** Sign-ins waiting for their second factor, by the SHA-256 of their ticket. */
  readonly #tickets = new Map<string, { user: string; until: number; tries: number }>();

  constructor(
    people: PeopleStore,
    trail: AuditTrail,
    policy: Config['access'],
    factors: SecondFactors,
    clock: () => Date = () => new Date(),
  ) {
    this.#people = people;
    this.#trail = trail;
    this.#policy = policy;
    this.#factors = factors;
    this.#clock = clock;
  }

  get policy(): Config['access'] {
    return this.#policy;
  }

  #now(): string {
    return this.#clock().toISOString();
  }

  async #existing(name: string, q?: Executor): Promise<UserRow> {
    const user = await this.#people.user(name, q);
    if (!user) throw new ProtocolError('E_NOT_FOUND', `there is no user "${name}"`);
    return user;
  }

  // accounts

  async add(by: Actor, input: NewUser): Promise<UserView> {
    if (!USER_NAME.test(input.name))
      throw new ProtocolError(
        'E_MALFORMED',
        'a user name is 2 to 32 characters: a lowercase letter, then lowercase letters, digits, ".", "_" or "-"',
      );
    if (!ROLES.includes(input.role))
      throw new ProtocolError('E_MALFORMED', `a role is one of ${ROLES.join(', ')}`);
    const passwordHash = await hash(checkPassword(input.password), ARGON2);
    const at = this.#now();
    return this.#trail.change(async (tx, audit) => {
      if (await this.#people.user(input.name, tx))
        throw new ProtocolError('E_CONFLICT', `the user "${input.name}" already exists`);
      const row: UserRow = {
        name: input.name,
        display_name: input.displayName ?? null,
        role: input.role,
        password_hash: passwordHash,
        created_at: at,
        password_changed_at: at,
        disabled_at: null,
        failed_logins: 0,
        locked_until: null,
      };
      await this.#people.addUser(row, tx);
      await audit({ ...by, action: 'user.add', target: input.name, detail: { role: input.role } });
      return view(row);
    });
  }

  async list(): Promise<UserView[]> {
    return (await this.#people.users()).map(view);
  }

  async get(name: string): Promise<UserView> {
    return view(await this.#existing(name));
  }

  /** Disables an account: its sessions end and its tokens are revoked in the same commit. */
  async disable(by: Actor, name: string): Promise<UserView> {
    const at = this.#now();
    return this.#trail.change(async (tx, audit) => {
      const user = await this.#existing(name, tx);
      if (user.disabled_at) return view(user);
      if (user.role === 'admin') {
        const admins = (await this.#people.users(tx)).filter(
          (u) => u.role === 'admin' && !u.disabled_at,
        );
        if (admins.length <= 1)
          throw new ProtocolError(
            'E_CONFLICT',
            `"${name}" is the last enabled admin: add another admin first`,
          );
      }
      await this.#people.updateUser(name, { disabled_at: at }, tx);
      const sessions = await this.#people.endSessions({ user: name }, tx);
      const tokens = await this.#people.revokeTokens({ user: name }, at, tx);
      await audit({ ...by, action: 'user.disable', target: name, detail: { sessions, tokens } });
      return view({ ...user, disabled_at: at });
    });
  }

  /**
   * Enables a disabled account again: it signs in with its password; its ended sessions and
   * revoked tokens stay so (issue new ones). Refused for an account that is not disabled.
   */
  async enable(by: Actor, name: string): Promise<UserView> {
    return this.#trail.change(async (tx, audit) => {
      const user = await this.#existing(name, tx);
      if (!user.disabled_at)
        throw new ProtocolError('E_CONFLICT', `"${name}" is not disabled: it can sign in`);
      await this.#people.updateUser(name, { disabled_at: null }, tx);
      await audit({
        ...by,
        action: 'user.enable',
        target: name,
        detail: { disabledAt: user.disabled_at },
      });
      return view({ ...user, disabled_at: null });
    });
  }

  /**
   * Sets a password (an admin's reset, or the user's own change with `current`). It unlocks the
   * account and ends its console sessions; tokens stay valid.
   */
  async setPassword(
    by: Actor,
    name: string,
    password: string,
    current?: string,
  ): Promise<UserView> {
    const user = await this.#existing(name);
    if (current !== undefined && !(await verify(user.password_hash, current)))
      throw new ProtocolError('E_UNAUTHORIZED', 'the current password is wrong');
    const passwordHash = await hash(checkPassword(password), ARGON2);
    const at = this.#now();
    return this.#trail.change(async (tx, audit) => {
      await this.#people.updateUser(
        name,
        {
          password_hash: passwordHash,
          password_changed_at: at,
          failed_logins: 0,
          locked_until: null,
        },
        tx,
      );
      const sessions = await this.#people.endSessions({ user: name }, tx);
      await audit({ ...by, action: 'user.password', target: name, detail: { sessions } });
      return view({ ...user, failed_logins: 0, locked_until: null });
    });
  }

  /**
   * Clears an account's lockout and the throttling of its name: another officer's or an admin's
   * act (a locked person cannot sign in to clear their own), recorded in the audit trail.
   */
  async unlock(by: Actor, name: string): Promise<UserView> {
    return this.#trail.change(async (tx, audit) => {
      const user = await this.#existing(name, tx);
      const throttled = [...this.#failures.keys()].some((key) => key.endsWith(`\n${name}`));
      if (!user.locked_until && user.failed_logins === 0 && !throttled)
        throw new ProtocolError(
          'E_CONFLICT',
          `"${name}" is not locked and has no failed logins to clear: it can sign in`,
        );
      if (by.actor === name)
        throw new ProtocolError(
          'E_FORBIDDEN',
          'another officer or an admin must clear your own lockout',
        );
      await this.#people.updateUser(name, { failed_logins: 0, locked_until: null }, tx);
      for (const key of this.#failures.keys())
        if (key.endsWith(`\n${name}`)) this.#failures.delete(key);
      await audit({
        ...by,
        action: 'user.unlock',
        target: name,
        detail: { failedLogins: user.failed_logins, lockedUntil: user.locked_until },
      });
      return view({ ...user, failed_logins: 0, locked_until: null });
    });
  }

  // logins

  /**
   * Checks a password and opens a console session. Two brakes, both doubling with each failure:
   * a name failing repeatedly from one address waits between tries (E_THROTTLED, which says so
   * for any name, existing or not), and an account failing repeatedly is locked for a while
   * (from any address). Other names and accounts are never affected: the operator listener is
   * local, so all its users share one address. A wrong name, a wrong password, a disabled account
   * and a locked one get one answer (E_UNAUTHORIZED) in the same time, so names cannot be
   * enumerated and a locked account cannot be guessed at.
   */
  async login(name: string, password: string, source: string): Promise<Login | SecondFactorNeeded> {
    const now = this.#clock();
    const at = now.getTime();
    const anonymous: Actor = { actor: null, role: null, via: 'anonymous', source };
    const key = `${source}\n${name}`;
    const recent = this.#recentFailures(key, at);
    const waitUntil = throttledUntil(recent, this.#policy.throttleFailures);
    if (waitUntil > at) {
      const retry = new Date(waitUntil).toISOString();
      await this.#trail.record({
        ...anonymous,
        action: 'login',
        target: name,
        outcome: 'denied',
        detail: { reason: 'throttled' },
      });
      throw new ProtocolError(
        'E_THROTTLED',
        `too many failed logins for this name from ${source}: try again after ${retry}`,
      );
    }
    const user = USER_NAME.test(name) ? await this.#people.user(name) : undefined;
    const locked = !!user?.locked_until && user.locked_until > now.toISOString();
    decoyHash ??= hash(generatePassword(), ARGON2);
    // A locked account is checked against the decoy: the same time, and a right guess tells nothing.
    const good =
      typeof password === 'string' &&
      password.length <= PASSWORD_MAX &&
      (await verify(user && !locked ? user.password_hash : await decoyHash, password));
    if (!user || !good || user.disabled_at || locked) {
      const reason = locked
        ? 'locked'
        : user
          ? good
            ? 'disabled'
            : 'wrong password'
          : 'unknown user';
      await this.#failed(name, user && !good && !locked ? user : undefined, source, reason, locked);
      throw new ProtocolError('E_UNAUTHORIZED', 'wrong user name or password');
    }
    this.#failures.delete(key);
    const methods = await this.#factors.methods(name);
    if (methods.length) {
      const ticket = randomBytes(32).toString('base64url');
      const until = at + TICKET_MS;
      for (const [k, t] of this.#tickets) if (t.until < at) this.#tickets.delete(k);
      this.#tickets.set(sha256Hex(ticket), { user: name, until, tries: 0 });
      return { user: name, ticket, methods, expiresAt: new Date(until).toISOString() };
    }
    return this.#open(user, source, now);
  }

  /**
   * The second step of a sign-in: the ticket the password step gave and a second factor. A wrong
   * factor counts as a failed login (toward lockout and throttling); after a few the ticket ends.
   * A disabled or locked account gets the one answer of a wrong password.
   */
  async completeLogin(ticket: string, proof: FactorProof, source: string): Promise<Login> {
    const now = this.#clock();
    const key = sha256Hex(ticket);
    const pending = this.#tickets.get(key);
    if (!pending || pending.until < now.getTime()) {
      this.#tickets.delete(key);
      throw new ProtocolError(
        'E_SECOND_FACTOR',
        'this sign-in has expired: give your user name and password again',
      );
    }
    const user = await this.#people.user(pending.user);
    if (
      !user ||
      user.disabled_at ||
      (user.locked_until !== null && user.locked_until > now.toISOString())
    ) {
      this.#tickets.delete(key);
      throw new ProtocolError('E_UNAUTHORIZED', 'wrong user name or password');
    }
    const anonymous: Actor = { actor: null, role: null, via: 'anonymous', source };
    try {
      await this.#factors.verify(anonymous, user.name, proof, 'login');
    } catch (e) {
      pending.tries += 1;
      if (pending.tries >= TICKET_TRIES) this.#tickets.delete(key);
      await this.#failed(user.name, user, source, 'wrong second factor', false);
      throw e;
    }
    this.#tickets.delete(key);
    return this.#open(user, source, now);
  }

  /**
   * Records a failed login: the (address, name) count, the account's count and lockout (when
   * `user` is given: its password or second factor was wrong), the trail.
   */
  async #failed(
    name: string,
    user: UserRow | undefined,
    source: string,
    why: string,
    locked: boolean,
  ) {
    const at = this.#clock().getTime();
    const anonymous: Actor = { actor: null, role: null, via: 'anonymous', source };
    const key = `${source}\n${name}`;
    const recent = this.#recentFailures(key, at);
    recent.push(at);
    this.#failures.delete(key);
    this.#failures.set(key, recent);
    this.#forgetOldest();
    let reason = why;
    await this.#trail.change(async (tx, audit) => {
      if (user) {
        const fresh = await this.#people.user(name, tx);
        if (fresh) {
          const failed = fresh.failed_logins + 1;
          const lock = failed >= this.#policy.lockoutAfter;
          if (lock) reason = `${why}; account locked`;
          await this.#people.updateUser(
            name,
            lock
              ? {
                  failed_logins: failed,
                  locked_until: new Date(at + this.#lockMs(failed)).toISOString(),
                }
              : { failed_logins: failed },
            tx,
          );
        }
      }
      await audit({
        ...anonymous,
        action: 'login',
        target: name,
        outcome: locked ? 'denied' : 'failed',
        detail: { reason },
      });
    });
  }

  async #open(user: UserRow, source: string, now: Date): Promise<Login> {
    const name = user.name;
    const sessionId = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.#policy.sessionHours * 3_600_000);
    await this.#trail.change(async (tx, audit) => {
      await this.#people.updateUser(name, { failed_logins: 0, locked_until: null }, tx);
      await this.#people.addSession(
        {
          id_hash: sha256Hex(sessionId),
          user_name: name,
          csrf_hash: sha256Hex(csrfToken),
          source,
          created_at: now.toISOString(),
          idle_until: this.#idleUntil(now),
          expires_at: expiresAt.toISOString(),
        },
        tx,
      );
      await audit({ actor: name, role: user.role, via: 'session', source, action: 'login' });
    });
    return {
      user: view(user),
      sessionId,
      csrfToken,
      expiresAt: expiresAt.toISOString(),
      enrol: await this.#mustEnrol(user),
    };
  }

  /** Whether the user's role must have a second factor and they have none. */
  async #mustEnrol(user: UserRow): Promise<boolean> {
    return this.#factors.required(user.role) && !(await this.#factors.enrolled(user.name));
  }

  /** The lock after `failed` failures in a row: one minute, doubling, at most `lockoutMinutes`. */
  #lockMs(failed: number): number {
    const doublings = Math.min(failed - this.#policy.lockoutAfter, 30);
    return Math.min(60_000 * 2 ** doublings, this.#policy.lockoutMinutes * 60_000);
  }

  #recentFailures(key: string, now: number): number[] {
    const recent = (this.#failures.get(key) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    if (recent.length) this.#failures.set(key, recent);
    else this.#failures.delete(key);
    return recent;
  }

  /** Keeps the throttling memory bounded whatever names a stranger makes up. */
  #forgetOldest(): void {
    while (this.#failures.size > THROTTLE_KEYS) {
      const oldest = this.#failures.keys().next().value as string;
      this.#failures.delete(oldest);
    }
  }

  #idleUntil(now: Date): string {
    return new Date(now.getTime() + this.#policy.sessionIdleMinutes * 60_000).toISOString();
  }

  async logout(by: Actor, principal: Principal): Promise<void> {
    const session = principal.session;
    if (!session) return;
    await this.#trail.change(async (tx, audit) => {
      await this.#people.endSessions({ idHash: session.idHash }, tx);
      await audit({ ...by, action: 'logout' });
    });
  }

  /** The principal of a live session cookie, renewing its idle time; undefined if none. */
  async fromSession(sessionId: string): Promise<Principal | undefined> {
    const now = this.#clock();
    const idHash = sha256Hex(sessionId);
    const session = await this.#people.session(idHash);
    if (!session) return undefined;
    const at = now.toISOString();
    if (session.idle_until <= at || session.expires_at <= at) {
      await this.#people.endSessions({ idHash });
      return undefined;
    }
    const user = await this.#people.user(session.user_name);
    if (!user || user.disabled_at) return undefined;
    await this.#people.renewSession(idHash, this.#idleUntil(now));
    return {
      user: user.name,
      role: user.role,
      via: 'session',
      scopes: ROLE_SCOPES[user.role],
      session: { idHash, csrfHash: session.csrf_hash },
      ...((await this.#mustEnrol(user)) ? { enrol: true } : {}),
    };
  }

  /** Whether `csrfToken` is the one given at this session's login. */
  static csrfMatches(principal: Principal, csrfToken: string | undefined): boolean {
    return (
      principal.session !== undefined &&
      typeof csrfToken === 'string' &&
      equalHex(sha256Hex(csrfToken), principal.session.csrfHash)
    );
  }

  // tokens

  /**
   * Issues a bearer token for `name` with `scopes` (at most its role's); returns the token, shown
   * once: `hlt_<id>_<secret>`. Only the secret's hash is kept.
   */
  async issueToken(
    by: Actor,
    name: string,
    options: { scopes?: readonly Scope[]; label?: string; expiresAt?: string } = {},
  ): Promise<{ token: string; info: TokenView }> {
    const user = await this.#existing(name);
    if (user.disabled_at)
      throw new ProtocolError('E_CONFLICT', `"${name}" is disabled: it can hold no token`);
    const allowed = ROLE_SCOPES[user.role];
    const scopes = [...new Set(options.scopes ?? allowed)];
    const beyond = scopes.filter((s) => !allowed.includes(s));
    if (!scopes.length || beyond.length)
      throw new ProtocolError(
        'E_MALFORMED',
        `a token of ${user.role} "${name}" may hold the scopes ${allowed.join(', ')}; not ${beyond.join(', ') || 'none'}`,
      );
    const { expiresAt } = options;
    const expired =
      expiresAt === undefined
        ? undefined
        : whenProblem(
            { name: 'expiresAt', given: expiresAt, at: expiresAt },
            this.#clock(),
            'future',
            'a token must expire in the future',
          );
    if (expired) throw new ProtocolError('E_MALFORMED', expired);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const row = {
      id,
      user_name: name,
      secret_hash: sha256Hex(secret),
      label: options.label ?? 'cli',
      scopes: scopes.join(','),
      created_at: this.#now(),
      expires_at: options.expiresAt ?? null,
      last_used_at: null,
      revoked_at: null,
    };
    await this.#trail.change(async (tx, audit) => {
      await this.#people.addToken(row, tx);
      await audit({
        ...by,
        action: 'token.issue',
        target: name,
        detail: { token: id, scopes, label: row.label },
      });
    });
    return { token: `hlt_${id}_${secret}`, info: tokenView(row) };
  }

  async tokens(user?: string): Promise<TokenView[]> {
    return (await this.#people.tokens(user)).map(tokenView);
  }

  /**
   * Revokes a token at once. With `user`, the token must be theirs: an id copied from another
   * person's list is refused rather than revoked in their name. Revoking twice is refused
   * (`E_CONFLICT`, saying when it was), as other acts done twice are.
   */
  async revokeToken(by: Actor, id: string, user?: string): Promise<TokenView> {
    const at = this.#now();
    return this.#trail.change(async (tx, audit) => {
      const row = await this.#people.token(id, tx);
      if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no token "${id}"`);
      if (user !== undefined && row.user_name !== user)
        throw new ProtocolError(
          'E_NOT_FOUND',
          `"${user}" has no token "${id}": it is "${row.user_name}"'s (hotline user token ${row.user_name} --revoke ${id})`,
        );
      if (row.revoked_at)
        throw new ProtocolError(
          'E_CONFLICT',
          `token "${id}" of "${row.user_name}" was already revoked at ${row.revoked_at}`,
        );
      await this.#people.revokeTokens({ id }, at, tx);
      await audit({ ...by, action: 'token.revoke', target: row.user_name, detail: { token: id } });
      return tokenView({ ...row, revoked_at: at });
    });
  }

  /** The principal of a live bearer token; undefined if none. */
  async fromToken(token: string): Promise<Principal | undefined> {
    const match = /^hlt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return undefined;
    const [, id, secret] = match as unknown as [string, string, string];
    const row = await this.#people.token(id);
    const now = this.#now();
    if (!row || !equalHex(sha256Hex(secret), row.secret_hash)) return undefined;
    if (row.revoked_at || (row.expires_at && row.expires_at <= now)) return undefined;
    const user = await this.#people.user(row.user_name);
    if (!user || user.disabled_at) return undefined;
    await this.#people.touchToken(id, now);
    const held = row.scopes.split(',') as Scope[];
    return {
      user: user.name,
      role: user.role,
      via: 'token',
      // A role lowered since the token was issued lowers the token with it.
      scopes: held.filter((s) => ROLE_SCOPES[user.role].includes(s)),
      tokenId: id,
    };
  }
}

function tokenView(row: {
  id: string;
  user_name: string;
  label: string;
  scopes: string;
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
}): TokenView {
  return {
    id: row.id,
    user: row.user_name,
    label: row.label,
    scopes: row.scopes.split(',') as Scope[],
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
