/**
 * Authorization of the operator listener, on one node through Fastify's inject(): the full matrix
 * of route × role × anonymous, scopes, console sessions with CSRF protection, and a disabled
 * account stopping at once.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { draft } from '../../test/support/pair.ts';
import { readToken } from '../node/core/data.ts';
import { dataFolderActor } from '../node/people/people.ts';
import { ACCESS, SESSION_COOKIE } from './access.ts';

let node: OneNode;
/** The address the console is served from, as its pages name it in Origin. */
const HOST = '127.0.0.1:7101';
const base = `http://${HOST}`;
const us = () => node;
const tokens: Record<string, string> = {};
const PASSWORD: Record<string, string> = {
  olga: 'olga-passphrase-1',
  oscar: 'oscar-passphrase-1',
  ada: 'ada-passphrase-12',
};

beforeAll(async () => {
  node = await openNode();
  const { accounts, roster } = node.people;
  const by = dataFolderActor();
  for (const [name, role] of [
    ['olga', 'operator'],
    ['oscar', 'officer'],
    ['ada', 'admin'],
  ] as const) {
    await accounts.add(by, { name, role, password: PASSWORD[name] as string });
    await roster.putStaff(by, 'ops', name, [{ kind: 'console' }]);
    tokens[role] = (await accounts.issueToken(by, name)).token;
  }
}, 60_000);
afterAll(async () => {
  await node?.close();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: unknown; raw?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { host: HOST, ...options.headers };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await node.operator.inject({
    method: method as 'GET',
    url: path,
    headers,
    ...(options.raw !== undefined
      ? { payload: options.raw }
      : options.body !== undefined
        ? { payload: JSON.stringify(options.body) }
        : {}),
  });
  let body = {};
  try {
    body = JSON.parse(response.body);
  } catch {
    body = { text: response.body };
  }
  const answered = new Headers();
  for (const [name, value] of Object.entries(response.headers))
    for (const one of [value].flat()) if (one !== undefined) answered.append(name, String(one));
  return { status: response.statusCode, body: body as Answer['body'], headers: answered };
}

const bearer = (role: string) => ({ authorization: `Bearer ${tokens[role]}` });

/**
 * Who may call each route, written out here rather than read from the table: `-` anonymous,
 * `o` operator, `f` officer, `a` admin. A concrete path for each, and a body that the route refuses
 * after authorization (or a harmless one), so an allowed call never changes anything that matters.
 */
const MATRIX: Array<[route: string, allowed: string, path: string, body?: unknown]> = [
  ['GET /openapi.json', '-ofa', '/openapi.json'],
  ['GET /metrics', '-ofa', '/metrics'],
  ['GET /healthz', '-ofa', '/healthz'],
  // The console's files; a path under /api/ naming no route is its 404, built or not.
  ['GET /*', '-ofa', '/api/v1/no-such-route'],
  ['POST /api/v1/session', '-ofa', '/api/v1/session', {}],
  ['DELETE /api/v1/session', 'ofa', '/api/v1/session'],
  ['GET /api/v1/me', 'ofa', '/api/v1/me'],
  ['POST /api/v1/me/password', 'ofa', '/api/v1/me/password', {}],
  ['POST /api/v1/session/second-factor', '-ofa', '/api/v1/session/second-factor', {}],
  ['GET /api/v1/me/second-factor', 'ofa', '/api/v1/me/second-factor'],
  ['POST /api/v1/me/second-factor/totp', 'ofa', '/api/v1/me/second-factor/totp', { x: 1 }],
  [
    'POST /api/v1/me/second-factor/totp/:id/confirm',
    'ofa',
    '/api/v1/me/second-factor/totp/0000000000000000/confirm',
    {},
  ],
  [
    'POST /api/v1/me/second-factor/passkey/options',
    'ofa',
    '/api/v1/me/second-factor/passkey/options',
  ],
  ['POST /api/v1/me/second-factor/passkey', 'ofa', '/api/v1/me/second-factor/passkey', {}],
  [
    'POST /api/v1/me/second-factor/recovery-codes',
    'ofa',
    '/api/v1/me/second-factor/recovery-codes',
    { x: 1 },
  ],
  ['DELETE /api/v1/me/second-factor/:id', 'ofa', '/api/v1/me/second-factor/0000000000000000'],
  ['POST /api/v1/me/step-up', 'ofa', '/api/v1/me/step-up'],
  ['GET /api/v1/me/push', 'ofa', '/api/v1/me/push'],
  ['POST /api/v1/me/push', 'ofa', '/api/v1/me/push', {}],
  ['DELETE /api/v1/me/push/:id', 'ofa', '/api/v1/me/push/00000000000000000000000000000000'],
  ['POST /api/v1/messages', 'ofa', '/api/v1/messages', {}],
  ['GET /api/v1/inbox', 'ofa', '/api/v1/inbox'],
  ['GET /api/v1/outbox', 'ofa', '/api/v1/outbox'],
  ['GET /api/v1/status', 'ofa', '/api/v1/status'],
  ['GET /api/v1/alarms', 'ofa', '/api/v1/alarms'],
  ['GET /api/v1/rotations', 'ofa', '/api/v1/rotations'],
  ['GET /api/v1/feed', 'ofa', '/api/v1/feed'],
  ['POST /api/v1/alarms/:id/clear', 'fa', '/api/v1/alarms/999999/clear', {}],
  ['GET /api/v1/drafts', 'ofa', '/api/v1/drafts'],
  ['GET /api/v1/drafts/:id', 'ofa', '/api/v1/drafts/not-an-id'],
  ['POST /api/v1/drafts/:id/approve', 'fa', '/api/v1/drafts/not-an-id/approve', {}],
  ['POST /api/v1/drafts/:id/reject', 'fa', '/api/v1/drafts/not-an-id/reject', {}],
  ['POST /api/v1/drafts/:id/break-glass', 'fa', '/api/v1/drafts/not-an-id/break-glass', {}],
  ['GET /api/v1/templates', 'ofa', '/api/v1/templates'],
  ['POST /api/v1/templates/:id/send', 'ofa', '/api/v1/templates/no-such-template/send', {}],
  ['GET /api/v1/readiness', 'ofa', '/api/v1/readiness'],
  ['GET /api/v1/vocabulary', 'ofa', '/api/v1/vocabulary'],
  ['GET /api/v1/regimes', 'ofa', '/api/v1/regimes'],
  ['GET /api/v1/compliance', 'ofa', '/api/v1/compliance'],
  ['POST /api/v1/notifications', 'ofa', '/api/v1/notifications', {}],
  ['GET /api/v1/messages/:party/:id', 'ofa', '/api/v1/messages/cn/not-an-id'],
  [
    'GET /api/v1/messages/:party/:id/translations',
    'ofa',
    '/api/v1/messages/cn/not-an-id/translations',
  ],
  [
    'POST /api/v1/messages/:party/:id/translations',
    'ofa',
    '/api/v1/messages/cn/not-an-id/translations',
    {},
  ],
  [
    'POST /api/v1/messages/:party/:id/translations/machine',
    'ofa',
    '/api/v1/messages/cn/not-an-id/translations/machine',
    {},
  ],
  ['POST /api/v1/incidents/:incident/cap', 'fa', '/api/v1/incidents/not-an-id/cap', {}],
  ['POST /api/v1/exports/red', 'a', '/api/v1/exports/red', {}],
  ['GET /api/v1/incidents', 'ofa', '/api/v1/incidents'],
  ['GET /api/v1/incidents/:incident', 'ofa', '/api/v1/incidents/not-an-id'],
  ['GET /api/v1/incidents/:incident/report', 'ofa', '/api/v1/incidents/not-an-id/report'],
  [
    'GET /api/v1/incidents/:incident/export',
    'fa',
    '/api/v1/incidents/not-an-id/export?format=oecd',
  ],
  ['GET /api/v1/search', 'ofa', '/api/v1/search?status=not-a-status'],
  ['POST /api/v1/incidents/:incident/state', 'ofa', '/api/v1/incidents/not-an-id/state', {}],
  ['POST /api/v1/incidents/:incident/requests', 'ofa', '/api/v1/incidents/not-an-id/requests', {}],
  [
    'POST /api/v1/incidents/:incident/requests/:request/decision',
    'ofa',
    '/api/v1/incidents/not-an-id/requests/not-an-id/decision',
    {},
  ],
  ['POST /api/v1/incidents/:incident/retract', 'fa', '/api/v1/incidents/not-an-id/retract', {}],
  ['POST /api/v1/messages/:party/:id/ack', 'ofa', '/api/v1/messages/cn/not-an-id/ack', {}],
  ['POST /api/v1/messages/:party/:id/remind', 'ofa', '/api/v1/messages/cn/not-an-id/remind', {}],
  ['GET /api/v1/presence', 'ofa', '/api/v1/presence'],
  ['POST /api/v1/presence', 'ofa', '/api/v1/presence', {}],
  [
    'POST /api/v1/messages/:party/:id/presence',
    'ofa',
    '/api/v1/messages/cn/not-an-id/presence',
    {},
  ],
  ['GET /api/v1/conferences', 'ofa', '/api/v1/conferences'],
  ['POST /api/v1/conferences', 'ofa', '/api/v1/conferences', {}],
  [
    'POST /api/v1/conferences/:party/:id/answer',
    'ofa',
    '/api/v1/conferences/cn/not-an-id/answer',
    {},
  ],
  ['GET /api/v1/desks', 'ofa', '/api/v1/desks'],
  ['POST /api/v1/desks', 'a', '/api/v1/desks', {}],
  ['PUT /api/v1/desks/:desk/staff/:user', 'a', '/api/v1/desks/ops/staff/nobody', {}],
  ['DELETE /api/v1/desks/:desk/staff/:user', 'a', '/api/v1/desks/ops/staff/nobody'],
  ['GET /api/v1/desks/:desk/duty', 'ofa', '/api/v1/desks/ops/duty'],
  ['GET /api/v1/desks/:desk/shifts', 'ofa', '/api/v1/desks/ops/shifts'],
  ['POST /api/v1/desks/:desk/shifts', 'fa', '/api/v1/desks/ops/shifts', {}],
  ['DELETE /api/v1/shifts/:id', 'fa', '/api/v1/shifts/999999'],
  ['GET /api/v1/handovers', 'ofa', '/api/v1/handovers'],
  ['POST /api/v1/desks/:desk/handovers', 'ofa', '/api/v1/desks/ops/handovers', {}],
  ['POST /api/v1/handovers/:id/confirm', 'ofa', '/api/v1/handovers/999999/confirm'],
  ['GET /api/v1/users', 'a', '/api/v1/users'],
  ['POST /api/v1/users', 'a', '/api/v1/users', {}],
  ['POST /api/v1/users/:name/disable', 'a', '/api/v1/users/nobody/disable'],
  ['POST /api/v1/users/:name/enable', 'a', '/api/v1/users/nobody/enable'],
  ['POST /api/v1/users/:name/password', 'a', '/api/v1/users/nobody/password', {}],
  ['POST /api/v1/users/:name/unlock', 'fa', '/api/v1/users/nobody/unlock'],
  ['GET /api/v1/tokens', 'a', '/api/v1/tokens'],
  ['POST /api/v1/users/:name/tokens', 'a', '/api/v1/users/nobody/tokens', {}],
  ['DELETE /api/v1/tokens/:id', 'a', '/api/v1/tokens/0000000000000000'],
  ['DELETE /api/v1/users/:name/second-factor', 'a', '/api/v1/users/nobody/second-factor'],
  ['GET /api/v1/audit', 'a', '/api/v1/audit'],
  ['GET /api/v1/audit/verify', 'a', '/api/v1/audit/verify'],
];

const PRINCIPALS = [
  ['-', 'anonymous'],
  ['o', 'operator'],
  ['f', 'officer'],
  ['a', 'admin'],
] as const;

describe('authorization on the operator listener', () => {
  test('the matrix names every route of the access table, and no other', () => {
    expect(MATRIX.map(([route]) => route).sort()).toEqual(Object.keys(ACCESS).sort());
  });

  test.each(MATRIX)('%s: allowed to "%s"', async (route, allowed, path, body) => {
    const method = route.split(' ')[0] as string;
    for (const [letter, who] of PRINCIPALS) {
      const headers = who === 'anonymous' ? {} : bearer(who);
      const answer = await call(method, path, { headers, ...(body === undefined ? {} : { body }) });
      const cell = `${who} ${route} → ${answer.status} ${answer.body.error?.code ?? ''}`;
      if (allowed.includes(letter)) expect([200, 201, 400, 404], cell).toContain(answer.status);
      else if (who === 'anonymous') {
        expect(answer.status, cell).toBe(401);
        expect(answer.body.error?.code, cell).toBe('E_UNAUTHORIZED');
      } else {
        expect(answer.status, cell).toBe(403);
        expect(answer.body.error?.code, cell).toBe('E_FORBIDDEN');
        expect(answer.body.error?.message, cell).toContain(`${who} "`);
      }
    }
  });

  test('a forged, malformed or wrongly-schemed credential is anonymous', async () => {
    for (const authorization of [
      'Bearer hlt_0000000000000000_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      `Basic ${tokens.admin}`,
      `Bearer ${tokens.admin}x`,
      'Bearer',
    ])
      expect((await call('GET', '/api/v1/status', { headers: { authorization } })).status).toBe(
        401,
      );
  });

  test('a token acts only within its scopes', async () => {
    const { token } = await us().people.accounts.issueToken(dataFolderActor(), 'olga', {
      scopes: ['read'],
    });
    const headers = { authorization: `Bearer ${token}` };
    expect((await call('GET', '/api/v1/inbox', { headers })).status).toBe(200);
    const send = await call('POST', '/api/v1/messages', {
      headers,
      body: { to: ['cn'], message: draft() },
    });
    expect(send.status).toBe(403);
    expect(send.body.error?.message).toContain('scope "write"');
  });

  test('every change needs a token that may write: a read-only token changes nothing', async () => {
    const changes = Object.entries(ACCESS).filter(
      ([route, rule]) =>
        !route.startsWith('GET ') && rule !== 'public' && route !== 'DELETE /api/v1/session',
    );
    for (const [route, rule] of changes)
      expect(typeof rule === 'object' && rule.scope !== 'read', route).toBe(true);
    const { token } = await us().people.accounts.issueToken(dataFolderActor(), 'olga', {
      scopes: ['read'],
    });
    const headers = { authorization: `Bearer ${token}` };
    const password = await call('POST', '/api/v1/me/password', {
      headers,
      body: { current: PASSWORD.olga, password: 'correct horse battery 4' },
    });
    expect(password.status).toBe(403);
    expect(password.body.error?.message).toContain('scope "write"');
    expect((await call('POST', '/api/v1/me/second-factor/totp', { headers })).status).toBe(403);
    expect((await call('POST', '/api/v1/me/push', { headers, body: {} })).status).toBe(403);
    // The password is the one it was: the refused change changed nothing.
    expect((await login('olga')).csrf).toBeTruthy();
  });

  test('a webhook that names no host is refused, and nothing is stored', async () => {
    const before = await call('GET', '/api/v1/desks', { headers: bearer('admin') });
    for (const url of ['https://', 'https://?token=abc', 'http://:8443/hook']) {
      const refused = await call('PUT', '/api/v1/desks/ops/staff/oscar', {
        headers: bearer('admin'),
        body: { routes: [{ kind: 'webhook', url }] },
      });
      expect(refused.status, url).toBe(400);
      expect(refused.body).toMatchObject({
        error: {
          code: 'E_MALFORMED',
          message: expect.stringContaining(
            'must be an https address such as https://pager.example/hook',
          ),
        },
      });
    }
    expect((await call('GET', '/api/v1/desks', { headers: bearer('admin') })).body).toEqual(
      before.body,
    );
  });

  test('a webhook’s URL, its secret, is shown to nobody: not in answers, not in the trail', async () => {
    const secret = 'https://user:pass@hooks.example:8443/services/T0/B0/s3cr3t?token=abc';
    const other = 'https://bob:pw2@hooks.example:8443/services/T0/B0/other?token=xyz';
    await us().people.roster.putStaff(dataFolderActor(), 'ops', 'oscar', [
      { kind: 'console' },
      { kind: 'webhook', url: secret },
    ]);
    // The admin replaces the webhook: the answer names the old and new routes by host only.
    const staffed = await call('PUT', '/api/v1/desks/ops/staff/oscar', {
      headers: bearer('admin'),
      body: { routes: [{ kind: 'webhook', url: other }] },
    });
    expect(staffed.status).toBe(200);
    expect(staffed.body).toMatchObject({
      routes: [{ kind: 'webhook', url: 'https://hooks.example:8443/…' }],
      before: [{ kind: 'console' }, { kind: 'webhook', url: 'https://hooks.example:8443/…' }],
    });
    for (const role of ['admin', 'operator', 'officer']) {
      const desks = await call('GET', '/api/v1/desks', { headers: bearer(role) });
      expect(JSON.stringify(desks.body)).toContain('https://hooks.example:8443/…');
      expect(JSON.stringify(desks.body)).not.toMatch(/s3cr3t|other|pass|pw2|token/);
    }
    const trail = await us().people.trail.list({ action: 'desk.staff', limit: 10 });
    expect(trail.length).toBeGreaterThan(0);
    expect(JSON.stringify(trail)).not.toMatch(/s3cr3t|other|pass|pw2|token=|hooks\.example/);
  });

  test('a denied call is in the audit trail', async () => {
    await call('GET', '/api/v1/users', { headers: bearer('operator') });
    const [entry] = await us().people.trail.list({ action: 'access.denied', limit: 1 });
    expect(entry).toMatchObject({ actor: 'olga', target: 'GET /api/v1/users', outcome: 'denied' });
  });
});

async function login(user: string): Promise<{ cookie: string; csrf: string; setCookie: string }> {
  const answer = await call('POST', '/api/v1/session', {
    body: { user, password: PASSWORD[user] },
  });
  expect(answer.status).toBe(200);
  const setCookie = answer.headers.get('set-cookie') ?? '';
  return {
    cookie: setCookie.split(';')[0] as string,
    csrf: answer.body.csrfToken as string,
    setCookie,
  };
}

describe('console sessions', () => {
  test('the session cookie is Secure, HttpOnly, SameSite=Strict, host-only', async () => {
    const { setCookie } = await login('ada');
    expect(setCookie).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43};`));
    expect(setCookie).toContain('HttpOnly');
    expect(setCookie).toContain('Secure');
    expect(setCookie).toContain('SameSite=Strict');
    expect(setCookie).toContain('Path=/');
    expect(setCookie).not.toContain('Domain');
  });

  test('a cross-site form post is refused, and changes nothing', async () => {
    const { cookie } = await login('ada');
    const forged = await call('POST', '/api/v1/desks', {
      headers: {
        cookie,
        origin: 'https://evil.example',
        'content-type': 'application/x-www-form-urlencoded',
      },
      raw: 'id=evil&name=Evil+desk',
    });
    expect(forged.status).toBe(403);
    expect(forged.body.error?.code).toBe('E_CSRF');
    // Without an Origin (an old browser), the missing CSRF token refuses it just the same.
    const noOrigin = await call('POST', '/api/v1/desks', {
      headers: { cookie },
      body: { id: 'evil', name: 'Evil desk' },
    });
    expect(noOrigin.body.error?.code).toBe('E_CSRF');
    const desks = await call('GET', '/api/v1/desks', { headers: { cookie } });
    expect((desks.body as unknown as Array<{ id: string }>).map((d) => d.id)).not.toContain('evil');
  });

  test('the console’s own request, with its CSRF token, goes through', async () => {
    const { cookie, csrf } = await login('ada');
    const made = await call('POST', '/api/v1/desks', {
      headers: { cookie, 'x-csrf-token': csrf, origin: base },
      body: { id: 'principal', name: 'Principal' },
    });
    expect(made.status).toBe(201);
    const wrong = await call('POST', '/api/v1/desks', {
      headers: { cookie, 'x-csrf-token': `${csrf.slice(0, -1)}x` },
      body: { id: 'other', name: 'Other' },
    });
    expect(wrong.body.error?.code).toBe('E_CSRF');
  });

  test('a login from another site’s page is refused', async () => {
    const answer = await call('POST', '/api/v1/session', {
      headers: { origin: 'https://evil.example' },
      body: { user: 'ada', password: PASSWORD.ada },
    });
    expect(answer.body.error?.code).toBe('E_CSRF');
  });

  test('logout ends the session', async () => {
    const { cookie, csrf } = await login('oscar');
    expect((await call('GET', '/api/v1/me', { headers: { cookie } })).body).toMatchObject({
      user: { name: 'oscar', role: 'officer' },
      via: 'session',
      desks: ['ops'],
    });
    await call('DELETE', '/api/v1/session', { headers: { cookie, 'x-csrf-token': csrf } });
    expect((await call('GET', '/api/v1/me', { headers: { cookie } })).status).toBe(401);
  });
});

describe('a disabled account', () => {
  test('stops working at once: its session and its tokens', async () => {
    const { accounts } = us().people;
    await accounts.add(dataFolderActor(), {
      name: 'eve',
      role: 'operator',
      password: 'eve-passphrase-12',
    });
    PASSWORD.eve = 'eve-passphrase-12';
    const { cookie } = await login('eve');
    const { token } = await accounts.issueToken(dataFolderActor(), 'eve');
    const asToken = { authorization: `Bearer ${token}` };
    expect((await call('GET', '/api/v1/inbox', { headers: asToken })).status).toBe(200);
    expect((await call('GET', '/api/v1/inbox', { headers: { cookie } })).status).toBe(200);
    const disabled = await call('POST', '/api/v1/users/eve/disable', { headers: bearer('admin') });
    expect(disabled.body).toMatchObject({ name: 'eve', disabledAt: expect.any(String) });
    expect((await call('GET', '/api/v1/inbox', { headers: asToken })).status).toBe(401);
    expect((await call('GET', '/api/v1/inbox', { headers: { cookie } })).status).toBe(401);
    const again = await call('POST', '/api/v1/session', {
      body: { user: 'eve', password: 'eve-passphrase-12' },
    });
    expect(again.status).toBe(401);
  });
});

describe('toward the peer, people are desks', () => {
  test('a message goes out as its desk, without the author’s or approver’s name; the audit trail keeps who', async () => {
    const held = await call('POST', '/api/v1/messages', {
      headers: bearer('operator'),
      body: {
        to: ['cn'],
        message: draft({
          type: 'incident.report',
          incident: '019a0000-0000-7000-8000-000000000001',
          precedence: 'flash',
          status: 'actual',
          author: { desk: 'ops', person: 'Olga Petrova' },
          report: {
            nature: 'hazard',
            category: 'category.other',
            actionsTaken: [],
            actionsRequested: [],
          },
        }),
      },
    });
    expect(held.status).toBe(202);
    const sent = await call('POST', `/api/v1/drafts/${held.body.draft}/approve`, {
      headers: bearer('officer'),
      body: { note: 'checked with the duty principal' },
    });
    expect(sent.status).toBe(201);
    const id = sent.body.id as string;
    const row = await us().store.getOutbox('cn', id);
    const body = row?.body;
    expect(body?.author).toEqual({ desk: 'ops' });
    expect(body?.approvals).toEqual([{ desk: 'ops', at: expect.any(String) }]);
    expect(JSON.stringify(row?.body)).not.toContain('Olga');
    expect(JSON.stringify(row?.body)).not.toContain('oscar');
    const [entry] = await us().people.trail.list({
      action: 'message.release',
      limit: 1,
    });
    expect(entry).toMatchObject({
      actor: 'oscar',
      target: id,
      detail: { desk: 'ops', to: ['cn'], author: 'olga' },
    });
  });

  test('approvals come from the node, never from the author’s request', async () => {
    const forged = await call('POST', '/api/v1/messages', {
      headers: bearer('operator'),
      body: {
        to: ['cn'],
        message: draft({ approvals: [{ desk: 'ops', at: '2026-03-01T08:00:00.000Z' }] }),
      },
    });
    expect(forged.status).toBe(400);
    expect(forged.body.error?.code).toBe('E_MALFORMED');
  });

  test('nobody writes as a desk they do not staff', async () => {
    const answer = await call('POST', '/api/v1/messages', {
      headers: bearer('operator'),
      body: { to: ['cn'], message: draft({ author: { desk: 'principal' } }) },
    });
    expect(answer.status).toBe(403);
    expect(answer.body.error?.message).toContain('does not staff the desk "principal"');
  });
});

describe('alarms', () => {
  test('an officer clears a durable alarm: audited, and an event leaf in the ledger', async () => {
    const node = us();
    const { people } = node;
    await node.alarms.raise('skew', 'cn', 'a test alarm');
    const [alarm] = await node.store.openAlarms();
    const path = `/api/v1/alarms/${alarm?.id}/clear`;
    const byOperator = await call('POST', path, { headers: bearer('operator'), body: {} });
    expect(byOperator.status).toBe(403);
    const size = node.ledger.size;
    const cleared = await call('POST', path, {
      headers: bearer('officer'),
      body: { note: 'clock fixed on their side' },
    });
    expect(cleared.body).toMatchObject({ id: alarm?.id, cleared_by: 'oscar' });
    expect(await node.store.openAlarms()).toEqual([]);
    const leaves = (await node.store.readLeaves(size, node.ledger.size - size)).map((l) =>
      JSON.parse(l),
    );
    expect(leaves).toContainEqual(
      expect.objectContaining({
        leaf: 'event',
        type: 'alarm-cleared',
        detail: { alarm: alarm?.id, type: 'skew', party: 'cn' },
      }),
    );
    expect(JSON.stringify(leaves)).not.toContain('oscar');
    const [entry] = await people.trail.list({ action: 'alarm.clear', limit: 1 });
    expect(entry).toMatchObject({ actor: 'oscar', target: String(alarm?.id) });
    const twice = await call('POST', path, { headers: bearer('officer'), body: {} });
    expect(twice.body.error?.code).toBe('E_CONFLICT');
  });
});

describe('the audit trail over the API', () => {
  test('holds an entry for each audited action, and is intact', async () => {
    await call('GET', '/api/v1/inbox', { headers: bearer('officer') });
    await call('GET', '/api/v1/outbox', { headers: bearer('officer') });
    const answer = await call('GET', '/api/v1/audit?limit=10000', { headers: bearer('admin') });
    const entries = answer.body as unknown as Array<{ action: string; actor: string | null }>;
    const actions = new Set(entries.map((e) => e.action));
    for (const action of [
      'user.add',
      'token.issue',
      'desk.add',
      'desk.staff',
      'login',
      'logout',
      'message.view',
      'message.release',
      'draft.submit',
      'draft.approve',
      'alarm.clear',
      'access.denied',
      'user.disable',
    ])
      expect(actions, action).toContain(action);
    const view = entries.find((e) => e.action === 'message.view' && e.actor === 'oscar') as
      | { detail: { messages: string[] } }
      | undefined;
    expect(view?.detail.messages.length).toBeGreaterThan(0);
    const verify = await call('GET', '/api/v1/audit/verify', { headers: bearer('admin') });
    expect(verify.body).toMatchObject({ ok: true, pending: 0, problems: [] });
    expect(readToken(node.dir)).toMatch(/^hlt_/);
  });
});
