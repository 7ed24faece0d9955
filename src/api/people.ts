/**
 * The people routes of the operator API: console sessions, accounts and tokens, desks and the duty
 * roster, handover, and the audit trail. Who may call each is in src/api/access.ts.
 */
import { Type } from '@sinclair/typebox';
import { ROLES, SCOPES } from '../node/people/accounts.ts';
import { DeskId, DeskName, UserName } from '../node/people/roster.ts';
import { auditActionProblem } from '../node/people/trail.ts';
import { Instant, OneOf, rangeProblem, Written, whenProblem } from '../protocol/common.ts';
import { ProtocolError } from '../protocol/errors.ts';
import { LIMITS } from '../protocol/limits.ts';
import { ContactRoute, HandoverItem } from '../protocol/roster.ts';
import { routesWithoutSecrets } from '../protocol/secret-url.ts';
import type { Me, SecondFactorAsked, SessionView } from '../protocol/views.ts';
import { actorOf, principalOf, SESSION_COOKIE, sessionCookie } from './access.ts';
import { QueryCount, RowId } from './query.ts';
import { routes } from './services.ts';

const Password = Type.String({ minLength: 1, maxLength: 1024 });
const strict = { additionalProperties: false } as const;
const DAY_MS = 86_400_000;
const WEEK_MS = 7 * DAY_MS;
const TokenId = Type.String({
  pattern: '^[0-9a-f]{16}$',
  description: 'a token id (16 lowercase hex digits, as `hotline token list` shows)',
});

const Login = Type.Object({ user: Type.String({ maxLength: 64 }), password: Password }, strict);
const NewUser = Type.Object(
  {
    name: UserName,
    role: OneOf(ROLES),
    password: Password,
    displayName: Type.Optional(Written(LIMITS.labelChars, 1, 'name')),
  },
  strict,
);
const NewPassword = Type.Object({ password: Password }, strict);
const OwnPassword = Type.Object({ current: Password, password: Password }, strict);
const NewToken = Type.Object(
  {
    scopes: Type.Optional(
      Type.Array(OneOf(SCOPES), { minItems: 1, maxItems: 3, uniqueItems: true }),
    ),
    label: Type.Optional(Written(100, 1, 'name')),
    expiresAt: Type.Optional(Instant),
  },
  strict,
);
const NewDesk = Type.Object({ id: DeskId, name: DeskName }, strict);
/** Routes left out keep those the person has at the desk (a newcomer: the console). */
const Staffing = Type.Object(
  { routes: Type.Optional(Type.Array(ContactRoute, { maxItems: 10, uniqueItems: true })) },
  strict,
);
const NewShift = Type.Object({ user: UserName, startsAt: Instant, endsAt: Instant }, strict);
const Handover = Type.Object(
  {
    items: Type.Array(HandoverItem, { maxItems: 200, uniqueItems: true }),
    note: Type.Optional(Written(LIMITS.textChars)),
    to: Type.Optional(UserName),
  },
  strict,
);
const ByName = Type.Object({ name: UserName }, strict);
const ById = Type.Object({ id: RowId }, strict);
const ByDesk = Type.Object({ desk: DeskId }, strict);
const ByStaff = Type.Object({ desk: DeskId, user: UserName }, strict);
const AtQuery = Type.Object({ at: Type.Optional(Instant) }, strict);
const RangeQuery = Type.Object(
  { from: Type.Optional(Instant), to: Type.Optional(Instant) },
  strict,
);
const DeskQuery = Type.Object({ desk: Type.Optional(DeskId) }, strict);
const TokenQuery = Type.Object({ user: Type.Optional(UserName) }, strict);
const AuditQuery = Type.Object(
  {
    actor: Type.Optional(Type.String({ maxLength: 100 })),
    action: Type.Optional(Type.String({ maxLength: 64 })),
    since: Type.Optional(Instant),
    before: Type.Optional(RowId),
    limit: Type.Optional(QueryCount(10_000)),
  },
  strict,
);

export const peopleRoutes = routes('people-routes', ['people'], async (app) => {
  const { accounts, roster, trail, clock, policy } = app.people;

  // sessions

  app.post(
    '/api/v1/session',
    { schema: { body: Login, tags: ['people'], security: [] } },
    async (request, reply): Promise<SessionView | SecondFactorAsked> => {
      const { user, password } = request.body;
      const login = await accounts.login(user, password, request.ip);
      if ('ticket' in login) {
        const passkey = login.methods.includes('passkey')
          ? await app.people.factors.passkeyChallenge(login.user)
          : undefined;
        const { ticket, methods, expiresAt } = login;
        return { secondFactor: { ticket, methods, expiresAt, ...(passkey ? { passkey } : {}) } };
      }
      reply.setCookie(...sessionCookie(login.sessionId, policy.sessionHours));
      return {
        user: login.user,
        csrfToken: login.csrfToken,
        expiresAt: login.expiresAt,
        enrol: login.enrol,
      };
    },
  );

  app.delete('/api/v1/session', { schema: { tags: ['people'] } }, async (request, reply) => {
    await accounts.logout(actorOf(request), principalOf(request));
    reply.clearCookie(SESSION_COOKIE, {
      path: '/',
      httpOnly: true,
      secure: true,
      sameSite: 'strict',
    });
    return { ok: true };
  });

  app.get('/api/v1/me', { schema: { tags: ['people'] } }, async (request): Promise<Me> => {
    const p = principalOf(request);
    const desks = (await roster.desks()).filter((d) => d.staff.some((s) => s.user === p.user));
    return {
      user: await accounts.get(p.user),
      via: p.via,
      scopes: p.scopes,
      desks: desks.map((d) => d.id),
      enrol: p.enrol === true,
    };
  });

  app.post(
    '/api/v1/me/password',
    { schema: { body: OwnPassword, tags: ['people'] } },
    async (request) => {
      const { current, password } = request.body;
      const p = principalOf(request);
      return accounts.setPassword(actorOf(request), p.user, password, current);
    },
  );

  // accounts and tokens

  app.get('/api/v1/users', { schema: { tags: ['people'] } }, async () => accounts.list());

  app.post(
    '/api/v1/users',
    { schema: { body: NewUser, tags: ['people'] } },
    async (request, reply) => {
      const body = request.body;
      const user = await accounts.add(actorOf(request), body);
      return reply.status(201).send(user);
    },
  );

  app.post(
    '/api/v1/users/:name/disable',
    { schema: { params: ByName, tags: ['people'] } },
    async (request) => {
      const { name } = request.params;
      // Disabling a compromised account is never refused: a ladder desk it leaves with nobody
      // reachable raises a standing alarm instead, and the answer names those desks.
      const duties = await roster.reachableDutiesOf(name);
      const user = await accounts.disable(actorOf(request), name);
      const unreachableDesks = await roster.alarmLadderGaps(duties, `"${name}" was disabled`);
      return { ...user, unreachableDesks };
    },
  );

  app.post(
    '/api/v1/users/:name/enable',
    { schema: { params: ByName, tags: ['people'] } },
    async (request) => {
      const user = await accounts.enable(actorOf(request), request.params.name);
      await roster.clearLadderAlarms();
      return user;
    },
  );

  app.post(
    '/api/v1/users/:name/unlock',
    { schema: { params: ByName, tags: ['people'] } },
    async (request) => accounts.unlock(actorOf(request), request.params.name),
  );

  app.post(
    '/api/v1/users/:name/password',
    { schema: { params: ByName, body: NewPassword, tags: ['people'] } },
    async (request) =>
      accounts.setPassword(actorOf(request), request.params.name, request.body.password),
  );

  app.get(
    '/api/v1/tokens',
    { schema: { querystring: TokenQuery, tags: ['people'] } },
    async (request) => accounts.tokens(request.query.user),
  );

  app.post(
    '/api/v1/users/:name/tokens',
    { schema: { params: ByName, body: NewToken, tags: ['people'] } },
    async (request, reply) => {
      const body = request.body;
      const issued = await accounts.issueToken(actorOf(request), request.params.name, body);
      return reply.status(201).send(issued);
    },
  );

  app.delete(
    '/api/v1/tokens/:id',
    {
      schema: {
        params: Type.Object({ id: TokenId }, strict),
        querystring: TokenQuery,
        tags: ['people'],
      },
    },
    async (request) =>
      accounts.revokeToken(actorOf(request), request.params.id, request.query.user),
  );

  // desks and roster

  // A webhook's URL is its secret (a token in its path, query or user info): shown to nobody, the
  // admin who set it included (answers reach logs, screens and shoulders); it says where it goes.
  app.get('/api/v1/desks', { schema: { tags: ['roster'] } }, async () =>
    (await roster.desks()).map((desk) => ({
      ...desk,
      staff: desk.staff.map((s) => ({ ...s, routes: routesWithoutSecrets(s.routes) })),
    })),
  );

  app.post(
    '/api/v1/desks',
    { schema: { body: NewDesk, tags: ['roster'] } },
    async (request, reply) => {
      const { id, name } = request.body;
      await roster.addDesk(actorOf(request), id, name);
      return reply.status(201).send({ id, name, staff: [] });
    },
  );

  app.put(
    '/api/v1/desks/:desk/staff/:user',
    { schema: { params: ByStaff, body: Type.Optional(Staffing), tags: ['roster'] } },
    async (request) => {
      const { desk, user } = request.params;
      const staffed = await roster.putStaff(actorOf(request), desk, user, request.body?.routes);
      return {
        desk,
        user,
        routes: routesWithoutSecrets(staffed.routes),
        before: staffed.before && routesWithoutSecrets(staffed.before),
      };
    },
  );

  app.delete(
    '/api/v1/desks/:desk/staff/:user',
    { schema: { params: ByStaff, tags: ['roster'] } },
    async (request) => {
      const { desk, user } = request.params;
      await roster.removeStaff(actorOf(request), desk, user);
      return { ok: true };
    },
  );

  app.get(
    '/api/v1/desks/:desk/duty',
    { schema: { params: ByDesk, querystring: AtQuery, tags: ['roster'] } },
    async (request) => {
      const { at } = request.query;
      return roster.onDuty(request.params.desk, at ? new Date(at) : clock());
    },
  );

  app.get(
    '/api/v1/desks/:desk/shifts',
    { schema: { params: ByDesk, querystring: RangeQuery, tags: ['roster'] } },
    async (request) => {
      const { from, to } = request.query;
      if (from && to) {
        const reversed = rangeProblem(
          { name: 'querystring/from', given: from, at: from },
          { name: 'querystring/to', given: to, at: to },
        );
        if (reversed) throw new ProtocolError('E_MALFORMED', `request ${reversed}`);
      }
      // One end alone: the week from or up to it, so a given end never falls outside the window.
      const start = from
        ? Date.parse(from)
        : to
          ? Date.parse(to) - WEEK_MS
          : clock().getTime() - DAY_MS;
      const end = to ? Date.parse(to) : start + (from ? WEEK_MS : DAY_MS + WEEK_MS);
      return roster.shifts(
        request.params.desk,
        new Date(start).toISOString(),
        new Date(end).toISOString(),
      );
    },
  );

  app.post(
    '/api/v1/desks/:desk/shifts',
    { schema: { params: ByDesk, body: NewShift, tags: ['roster'] } },
    async (request, reply) => {
      const shift = await roster.addShift(actorOf(request), {
        desk: request.params.desk,
        ...request.body,
      });
      await roster.clearLadderAlarms();
      return reply.status(201).send(shift);
    },
  );

  app.delete(
    '/api/v1/shifts/:id',
    { schema: { params: ById, tags: ['roster'] } },
    async (request) => {
      await roster.cancelShift(actorOf(request), Number(request.params.id));
      return { ok: true };
    },
  );

  app.get(
    '/api/v1/handovers',
    { schema: { querystring: DeskQuery, tags: ['roster'] } },
    async (request) => roster.handovers(request.query.desk),
  );

  app.post(
    '/api/v1/desks/:desk/handovers',
    { schema: { params: ByDesk, body: Handover, tags: ['roster'] } },
    async (request, reply) => {
      const body = request.body;
      const handover = await roster.handOver(actorOf(request), {
        desk: request.params.desk,
        items: body.items,
        ...(body.note === undefined ? {} : { note: body.note }),
        ...(body.to === undefined ? {} : { to: body.to }),
      });
      return reply.status(201).send(handover);
    },
  );

  app.post(
    '/api/v1/handovers/:id/confirm',
    { schema: { params: ById, tags: ['roster'] } },
    async (request) => roster.confirm(actorOf(request), Number(request.params.id)),
  );

  // the audit trail

  app.get(
    '/api/v1/audit',
    { schema: { querystring: AuditQuery, tags: ['audit'] } },
    async (request) => {
      const q = request.query;
      const future =
        q.since &&
        whenProblem(
          { name: 'querystring/since', given: q.since, at: q.since },
          clock(),
          'past',
          'no entry is recorded after now',
        );
      if (future) throw new ProtocolError('E_MALFORMED', `request ${future}`);
      const action = q.action === undefined ? undefined : auditActionProblem(q.action);
      if (action) throw new ProtocolError('E_MALFORMED', `request querystring/action: ${action}`);
      if (q.actor !== undefined) await knownActor(q.actor);
      const entries = await trail.list({
        ...(q.actor === undefined ? {} : { actor: q.actor }),
        ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.since === undefined ? {} : { since: q.since }),
        ...(q.before === undefined ? {} : { before: Number(q.before) }),
        limit: Number(q.limit ?? 100),
      });
      await trail.record({
        ...actorOf(request),
        action: 'audit.read',
        detail: { entries: entries.length },
      });
      return entries;
    },
  );

  /**
   * `E_NOT_FOUND` unless `actor` is a user or has entries (`os:<user>` on the data folder): a
   * filter on nobody answers "no entries" for a typing mistake.
   */
  async function knownActor(actor: string): Promise<void> {
    const users = await accounts.list();
    if (users.some((u) => u.name === actor)) return;
    if ((await trail.list({ actor, limit: 1 })).length) return;
    const meant = users.find((u) => u.name === actor.toLowerCase());
    throw new ProtocolError(
      'E_NOT_FOUND',
      `there is no user "${actor}" and no entry by that actor${
        meant
          ? `: user names are lowercase and told apart by case (did you mean "${meant.name}"?)`
          : ' (hotline user list shows the users)'
      }`,
    );
  }

  app.get('/api/v1/audit/verify', { schema: { tags: ['audit'] } }, async (request) => {
    const report = await trail.verify();
    await trail.record({ ...actorOf(request), action: 'audit.verify', detail: { ok: report.ok } });
    return report;
  });
});
