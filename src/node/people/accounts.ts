/**
 * Operator accounts: roles, Argon2id passwords, console sessions, scoped bearer tokens, and login
 * throttling with lockout. Every change and every login attempt goes to the audit trail.
 *
 * A request is checked against the database each time (no cache), so a disabled account, a revoked
 * token or an ended session stops working with the next request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';
import { ProtocolError } from '../../protocol/errors.ts';
import type { UserView } from '../../protocol/views.ts';
import type { PeopleStore, UserRow } from '../../store/people.ts';
import type { Role } from '../../store/schema.ts';
import type { Executor } from '../../store/store.ts';
import type { Config } from '../core/config.ts';
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

/** The window over which failed logins from one address are counted. */
const THROTTLE_WINDOW_MS = 10 * 60_000;

/** Who a request acts as, from a session or a token. */
export interface Principal {
  user: string;
  role: Role;
  via: 'session' | 'token' | 'data-folder';
  scopes: readonly Scope[];
  /** For a session: the hashes of its id and of its CSRF token. */
  session?: { idHash: string; csrfHash: string };
  tokenId?: string;
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
  readonly #clock: () => Date;
  /** Recent failed logins per client address, for throttling. */
  readonly #failures = new Map<string, number[]>();

  constructor(
    people: PeopleStore,
    trail: AuditTrail,
    policy: Config['access'],
    clock: () => Date = () => new Date(),
  ) {
    this.#people = people;
    this.#trail = trail;
    this.#policy = policy;
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

  // logins

  /**
   * Checks a password and opens a console session. Refusals, in order: an address with too many
   * recent failures (E_THROTTLED), a locked account (E_LOCKED), a wrong name or password, or a
   * disabled account (E_UNAUTHORIZED, one message for all three).
   */
  async login(name: string, password: string, source: string): Promise<Login> {
    const now = this.#clock();
    const anonymous: Actor = { actor: null, role: null, via: 'anonymous', source };
    const recent = this.#recentFailures(source, now.getTime());
    if (recent.length >= this.#policy.throttleFailures) {
      const retry = new Date((recent[0] as number) + THROTTLE_WINDOW_MS).toISOString();
      await this.#trail.record({
        ...anonymous,
        action: 'login',
        target: name,
        outcome: 'denied',
        detail: { reason: 'throttled' },
      });
      throw new ProtocolError(
        'E_THROTTLED',
        `too many failed logins from ${source}: try again after ${retry}`,
      );
    }
    const user = USER_NAME.test(name) ? await this.#people.user(name) : undefined;
    if (user?.locked_until && user.locked_until > now.toISOString()) {
      await this.#trail.record({
        ...anonymous,
        action: 'login',
        target: name,
        outcome: 'denied',
        detail: { reason: 'locked' },
      });
      throw new ProtocolError(
        'E_LOCKED',
        `the account "${name}" is locked after ${this.#policy.lockoutAfter} failed logins until ${user.locked_until}; an admin can unlock it now by setting a new password`,
      );
    }
    decoyHash ??= hash(generatePassword(), ARGON2);
    const good =
      typeof password === 'string' &&
      password.length <= PASSWORD_MAX &&
      (await verify(user?.password_hash ?? (await decoyHash), password));
    if (!user || !good || user.disabled_at) {
      recent.push(now.getTime());
      this.#failures.set(source, recent);
      let reason = user ? (good ? 'disabled' : 'wrong password') : 'unknown user';
      await this.#trail.change(async (tx, audit) => {
        if (user && !good) {
          const failed = user.failed_logins + 1;
          const lock = failed >= this.#policy.lockoutAfter;
          if (lock) reason = 'wrong password; account locked';
          await this.#people.updateUser(
            name,
            lock
              ? {
                  failed_logins: 0,
                  locked_until: new Date(
                    now.getTime() + this.#policy.lockoutMinutes * 60_000,
                  ).toISOString(),
                }
              : { failed_logins: failed },
            tx,
          );
        }
        await audit({
          ...anonymous,
          action: 'login',
          target: name,
          outcome: 'failed',
          detail: { reason },
        });
      });
      throw new ProtocolError('E_UNAUTHORIZED', 'wrong user name or password');
    }
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
    return { user: view(user), sessionId, csrfToken, expiresAt: expiresAt.toISOString() };
  }

  #recentFailures(source: string, now: number): number[] {
    const recent = (this.#failures.get(source) ?? []).filter((t) => t > now - THROTTLE_WINDOW_MS);
    if (recent.length) this.#failures.set(source, recent);
    else this.#failures.delete(source);
    return recent;
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
    if (options.expiresAt !== undefined && !(options.expiresAt > this.#now()))
      throw new ProtocolError('E_MALFORMED', 'a token must expire in the future');
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

  async revokeToken(by: Actor, id: string): Promise<TokenView> {
    const at = this.#now();
    return this.#trail.change(async (tx, audit) => {
      const row = await this.#people.token(id, tx);
      if (!row) throw new ProtocolError('E_NOT_FOUND', `there is no token "${id}"`);
      if (!row.revoked_at) {
        await this.#people.revokeTokens({ id }, at, tx);
        await audit({
          ...by,
          action: 'token.revoke',
          target: row.user_name,
          detail: { token: id },
        });
      }
      return tokenView({ ...row, revoked_at: row.revoked_at ?? at });
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
