/**
 * Who may call what on the operator listener, decided in one place: a table from route to the
 * roles (and, for bearer tokens, the scope) it needs, applied by one `onRequest` hook before any
 * body is read. A route registered without an entry here fails at startup, so no route is ever
 * open by omission.
 *
 * Credentials: `Authorization: Bearer hlt_…` (CLI, automation), or the console's session cookie.
 * A request on a session cookie that changes anything must carry the session's CSRF token in
 * `X-CSRF-Token`, and an `Origin`, when sent, must be this listener's own.
 */
import fastifyCookie from '@fastify/cookie';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Accounts, type Principal, type Role, type Scope } from '../node/people/accounts.ts';
import type { People } from '../node/people/people.ts';
import type { Roster } from '../node/people/roster.ts';
import type { Actor } from '../node/people/trail.ts';
import { ApiError } from './errors.ts';

/**
 * Anyone; any signed-in principal (reading, signing out); or these roles holding this scope (every
 * change: a read-only token changes nothing, its own account included).
 */
export type Rule = 'public' | 'signed-in' | { roles: readonly Role[]; scope: Scope };

const STAFF: readonly Role[] = ['operator', 'officer', 'admin'];
const OFFICERS: readonly Role[] = ['officer', 'admin'];
const ADMINS: readonly Role[] = ['admin'];
/** A change to one's own account (password, second factor, devices): a read-only token may not. */
const OWN_CHANGE: Rule = { roles: STAFF, scope: 'write' };

/** Every route of the operator listener, `METHOD /path`, and who may call it. */
export const ACCESS: Record<string, Rule> = {
  'GET /openapi.json': 'public',
  // The console's files (web/dist): public, as a login page must be; the data is behind the API.
  'GET /*': 'public',
  'GET /metrics': 'public',
  // For load balancers and monitors: says only whether the node and its store answer.
  'GET /healthz': 'public',
  'POST /api/v1/session': 'public',
  'DELETE /api/v1/session': 'signed-in',
  'GET /api/v1/me': 'signed-in',
  'POST /api/v1/me/password': OWN_CHANGE,
  'POST /api/v1/session/second-factor': 'public',
  'GET /api/v1/me/second-factor': 'signed-in',
  'POST /api/v1/me/second-factor/totp': OWN_CHANGE,
  'POST /api/v1/me/second-factor/totp/:id/confirm': OWN_CHANGE,
  'POST /api/v1/me/second-factor/passkey/options': OWN_CHANGE,
  'POST /api/v1/me/second-factor/passkey': OWN_CHANGE,
  'POST /api/v1/me/second-factor/recovery-codes': OWN_CHANGE,
  'DELETE /api/v1/me/second-factor/:id': OWN_CHANGE,
  'POST /api/v1/me/step-up': OWN_CHANGE,
  'GET /api/v1/me/push': 'signed-in',
  'POST /api/v1/me/push': OWN_CHANGE,
  'DELETE /api/v1/me/push/:id': OWN_CHANGE,

  'POST /api/v1/messages': { roles: STAFF, scope: 'write' },
  'GET /api/v1/inbox': { roles: STAFF, scope: 'read' },
  'GET /api/v1/outbox': { roles: STAFF, scope: 'read' },
  'GET /api/v1/status': { roles: STAFF, scope: 'read' },
  'GET /api/v1/alarms': { roles: STAFF, scope: 'read' },
  'GET /api/v1/rotations': { roles: STAFF, scope: 'read' },
  'GET /api/v1/feed': { roles: STAFF, scope: 'read' },
  'POST /api/v1/alarms/:id/clear': { roles: OFFICERS, scope: 'write' },

  'GET /api/v1/drafts': { roles: STAFF, scope: 'read' },
  'GET /api/v1/drafts/:id': { roles: STAFF, scope: 'read' },
  'POST /api/v1/drafts/:id/approve': { roles: OFFICERS, scope: 'write' },
  'POST /api/v1/drafts/:id/reject': { roles: OFFICERS, scope: 'write' },
  'POST /api/v1/drafts/:id/break-glass': { roles: OFFICERS, scope: 'write' },
  'GET /api/v1/templates': { roles: STAFF, scope: 'read' },
  'POST /api/v1/templates/:id/send': { roles: STAFF, scope: 'write' },
  'GET /api/v1/readiness': { roles: STAFF, scope: 'read' },

  'GET /api/v1/vocabulary': { roles: STAFF, scope: 'read' },
  'GET /api/v1/regimes': { roles: STAFF, scope: 'read' },
  'GET /api/v1/compliance': { roles: STAFF, scope: 'read' },
  'POST /api/v1/notifications': { roles: STAFF, scope: 'write' },
  'GET /api/v1/messages/:party/:id': { roles: STAFF, scope: 'read' },
  'GET /api/v1/messages/:party/:id/translations': { roles: STAFF, scope: 'read' },
  'POST /api/v1/messages/:party/:id/translations': { roles: STAFF, scope: 'write' },
  'POST /api/v1/messages/:party/:id/translations/machine': { roles: STAFF, scope: 'write' },
  'POST /api/v1/incidents/:incident/cap': { roles: OFFICERS, scope: 'write' },
  'POST /api/v1/exports/red': { roles: ADMINS, scope: 'admin' },

  'GET /api/v1/incidents': { roles: STAFF, scope: 'read' },
  'GET /api/v1/incidents/:incident': { roles: STAFF, scope: 'read' },
  'GET /api/v1/incidents/:incident/report': { roles: STAFF, scope: 'read' },
  'GET /api/v1/incidents/:incident/export': { roles: OFFICERS, scope: 'read' },
  'GET /api/v1/search': { roles: STAFF, scope: 'read' },
  'POST /api/v1/incidents/:incident/state': { roles: STAFF, scope: 'write' },
  'POST /api/v1/incidents/:incident/requests': { roles: STAFF, scope: 'write' },
  'POST /api/v1/incidents/:incident/requests/:request/decision': { roles: STAFF, scope: 'write' },
  'POST /api/v1/incidents/:incident/retract': { roles: OFFICERS, scope: 'write' },
  'POST /api/v1/messages/:party/:id/ack': { roles: STAFF, scope: 'write' },
  'POST /api/v1/messages/:party/:id/remind': { roles: STAFF, scope: 'write' },
  'GET /api/v1/presence': { roles: STAFF, scope: 'read' },
  'POST /api/v1/presence': { roles: STAFF, scope: 'write' },
  'POST /api/v1/messages/:party/:id/presence': { roles: STAFF, scope: 'write' },
  'GET /api/v1/conferences': { roles: STAFF, scope: 'read' },
  'POST /api/v1/conferences': { roles: STAFF, scope: 'write' },
  'POST /api/v1/conferences/:party/:id/answer': { roles: STAFF, scope: 'write' },

  'GET /api/v1/desks': { roles: STAFF, scope: 'read' },
  'POST /api/v1/desks': { roles: ADMINS, scope: 'admin' },
  'PUT /api/v1/desks/:desk/staff/:user': { roles: ADMINS, scope: 'admin' },
  'DELETE /api/v1/desks/:desk/staff/:user': { roles: ADMINS, scope: 'admin' },
  'GET /api/v1/desks/:desk/duty': { roles: STAFF, scope: 'read' },
  'GET /api/v1/desks/:desk/shifts': { roles: STAFF, scope: 'read' },
  'POST /api/v1/desks/:desk/shifts': { roles: OFFICERS, scope: 'write' },
  'DELETE /api/v1/shifts/:id': { roles: OFFICERS, scope: 'write' },
  'GET /api/v1/handovers': { roles: STAFF, scope: 'read' },
  'POST /api/v1/desks/:desk/handovers': { roles: STAFF, scope: 'write' },
  'POST /api/v1/handovers/:id/confirm': { roles: STAFF, scope: 'write' },

  'GET /api/v1/users': { roles: ADMINS, scope: 'admin' },
  'POST /api/v1/users': { roles: ADMINS, scope: 'admin' },
  'POST /api/v1/users/:name/disable': { roles: ADMINS, scope: 'admin' },
  'POST /api/v1/users/:name/enable': { roles: ADMINS, scope: 'admin' },
  'POST /api/v1/users/:name/password': { roles: ADMINS, scope: 'admin' },
  // A locked officer is unlocked by another officer or an admin (the two-person rule needs two).
  'POST /api/v1/users/:name/unlock': { roles: OFFICERS, scope: 'write' },
  'GET /api/v1/tokens': { roles: ADMINS, scope: 'admin' },
  'POST /api/v1/users/:name/tokens': { roles: ADMINS, scope: 'admin' },
  'DELETE /api/v1/tokens/:id': { roles: ADMINS, scope: 'admin' },
  'DELETE /api/v1/users/:name/second-factor': { roles: ADMINS, scope: 'admin' },
  'GET /api/v1/audit': { roles: ADMINS, scope: 'admin' },
  'GET /api/v1/audit/verify': { roles: ADMINS, scope: 'admin' },
};

/** The console's session cookie. `__Host-`: Secure, Path=/, no Domain — set by this host only. */
export const SESSION_COOKIE = '__Host-hotline-session';
export const CSRF_HEADER = 'x-csrf-token';

/**
 * What a session whose role must have a second factor, and has none, may do: enrol one, see who
 * it is, change its password, sign out.
 */
const ENROLMENT = new Set([
  'DELETE /api/v1/session',
  'GET /api/v1/me',
  'POST /api/v1/me/password',
  'GET /api/v1/me/second-factor',
  'POST /api/v1/me/second-factor/totp',
  'POST /api/v1/me/second-factor/totp/:id/confirm',
  'POST /api/v1/me/second-factor/passkey/options',
  'POST /api/v1/me/second-factor/passkey',
]);

/** The session cookie's name, value and attributes, for `reply.setCookie`. */
export function sessionCookie(value: string, hours: number) {
  return [
    SESSION_COOKIE,
    value,
    {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
      maxAge: hours * 3600,
    },
  ] as const;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The audit trail's view of who makes a request. */
export function actorOf(request: FastifyRequest): Actor {
  const p = request.principal;
  return p
    ? { actor: p.user, role: p.role, via: p.via, source: p.source ?? request.ip }
    : { actor: null, role: null, via: 'anonymous', source: request.ip };
}

/** The signed-in principal of a request the hook let through to a non-public route. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new ApiError(401, 'E_UNAUTHORIZED', 'sign in first');
  return request.principal;
}

/**
 * The caller as the author of an act at `desk` (`'write as'` a message, `'act as'` on an
 * incident): `E_FORBIDDEN` unless they staff it.
 */
export async function staffing(
  roster: Roster,
  request: FastifyRequest,
  desk: string,
  act: 'write as' | 'act as',
): Promise<Actor & { actor: string }> {
  const principal = principalOf(request);
  const problem = await roster.staffingProblem(principal.user, desk, act);
  if (problem) throw new ApiError(403, 'E_FORBIDDEN', problem);
  return { ...actorOf(request), actor: principal.user };
}

export interface AccessOptions {
  people: People;
  /**
   * For a server that never listens (commands run on a stopped node's data folder): every request
   * acts as this principal, the owner of the folder.
   */
  local?: Principal;
}

/** Installs the cookie parser and the one authorization hook on the operator listener. */
export async function installAccess(app: FastifyInstance, options: AccessOptions): Promise<void> {
  const { accounts, trail } = options.people;
  await app.register(fastifyCookie);
  app.decorateRequest('principal', null);
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      if (method === 'HEAD') continue;
      if (!ACCESS[`${method} ${route.url}`])
        throw new Error(`${method} ${route.url} has no access rule in src/api/access.ts`);
    }
  });
  app.addHook('onRequest', async (request) => {
    const url = request.routeOptions.url;
    if (url === undefined) return; // no such route: the not-found handler answers
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const rule = ACCESS[`${method} ${url}`];
    if (!rule) throw new ApiError(403, 'E_FORBIDDEN', `no access rule for ${method} ${url}`);
    if (rule === 'public') {
      checkOrigin(request);
      return;
    }
    request.principal = options.local ?? (await authenticate(request, accounts)) ?? null;
    if (!request.principal)
      throw new ApiError(
        401,
        'E_UNAUTHORIZED',
        'sign in, or give a valid bearer token (Authorization: Bearer hlt_…)',
      );
    const principal = request.principal;
    if (principal.via === 'session' && !SAFE_METHODS.has(request.method)) {
      checkOrigin(request);
      if (!Accounts.csrfMatches(principal, headerOf(request, CSRF_HEADER)))
        throw new ApiError(
          403,
          'E_CSRF',
          `a change made with a console session needs its CSRF token in the ${CSRF_HEADER} header`,
        );
    }
    if (principal.enrol && !ENROLMENT.has(`${method} ${url}`))
      throw new ApiError(
        403,
        'E_ENROL_SECOND_FACTOR',
        `a ${principal.role} must have a second factor: enrol an authenticator app or a passkey first (Security)`,
      );
    if (rule === 'signed-in') return;
    const why = !rule.roles.includes(principal.role)
      ? `needs the role ${rule.roles.join(' or ')}`
      : !principal.scopes.includes(rule.scope)
        ? `needs a token with the scope "${rule.scope}"`
        : undefined;
    if (why) {
      await trail.record({
        ...actorOf(request),
        action: 'access.denied',
        target: `${method} ${url}`,
        outcome: 'denied',
      });
      throw new ApiError(
        403,
        'E_FORBIDDEN',
        `${principal.role} "${principal.user}" may not ${method} ${url}: it ${why}`,
      );
    }
  });
}

function headerOf(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function authenticate(
  request: FastifyRequest,
  accounts: Accounts,
): Promise<Principal | undefined> {
  const authorization = request.headers.authorization;
  if (authorization !== undefined) {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    return token === undefined ? undefined : accounts.fromToken(token);
  }
  const session = request.cookies[SESSION_COOKIE];
  return session ? accounts.fromSession(session) : undefined;
}

/** A browser names the page a request comes from; a page of another site is refused. */
export function checkOrigin(request: FastifyRequest): void {
  const origin = headerOf(request, 'origin');
  if (origin === undefined) return;
  const host = headerOf(request, 'host');
  let ok = false;
  try {
    ok = host !== undefined && new URL(origin).host === host;
  } catch {
    ok = false;
  }
  if (!ok)
    throw new ApiError(
      403,
      'E_CSRF',
      `a request from ${origin.slice(0, 200)} is refused: the console must be served by this node`,
    );
}
