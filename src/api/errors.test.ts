import { Type } from '@sinclair/typebox';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { draft } from '../../test/support/pair.ts';
import { readToken } from '../node/core/data.ts';
import { FencedError } from '../node/core/leadership.ts';
import { Lang, PartyId, Uuid7 } from '../protocol/common.ts';
import { isStoreFailure } from '../store/damage.ts';
import { installErrorHandler } from './errors.ts';
import { QueryCount } from './query.ts';
import { listenerApp } from './server.ts';

test('a change refused by a replica’s fencing check is a conflict to send again, not a 500', async () => {
  const app = Fastify();
  installErrorHandler(app);
  app.post('/api/v1/messages', async () => {
    throw new FencedError('fencing token 4 is stale: another replica holds the lease');
  });
  const answer = await app.inject({ method: 'POST', url: '/api/v1/messages' });
  expect(answer.statusCode).toBe(409);
  expect(answer.json()).toEqual({
    error: {
      code: 'E_CONFLICT',
      message: expect.stringMatching(/nothing of it was kept; send it again/),
    },
  });
  await app.close();
});

test('the store failing under an operator request is 503 E_STORE, as a probe or a script can tell; a bug stays 500', async () => {
  const node = await openNode();
  try {
    const auth = { authorization: `Bearer ${readToken(node.dir)}` };
    const inbox = () =>
      node.operator.inject({ method: 'GET', url: '/api/v1/inbox', headers: auth });
    const fail = vi.spyOn(node.store, 'listInbox');
    fail.mockRejectedValueOnce(new Database.SqliteError('disk I/O error', 'SQLITE_IOERR'));
    const failed = await inbox();
    expect(failed.statusCode).toBe(503);
    expect(failed.json()).toEqual({
      error: {
        code: 'E_STORE',
        message: "this node's store failed under this request; the node log says why",
      },
    });
    // A constraint the change broke, or a SyntaxError, is the node's own bug: not the store's.
    fail.mockRejectedValueOnce(
      new Database.SqliteError('UNIQUE constraint failed', 'SQLITE_CONSTRAINT_UNIQUE'),
    );
    expect((await inbox()).json().error.code).toBe('E_INTERNAL');
    fail.mockRejectedValueOnce(new SyntaxError('Unexpected token'));
    expect((await inbox()).statusCode).toBe(500);
    expect((await inbox()).statusCode).toBe(200);
  } finally {
    vi.restoreAllMocks();
    await node.close();
  }
});

test('a request in flight when the store closes (the node stopping) is 503 E_STORE, not a 500', async () => {
  const node = await openNode();
  try {
    const auth = { authorization: `Bearer ${readToken(node.dir)}` };
    await node.operator.inject({ method: 'GET', url: '/api/v1/inbox', headers: auth });
    await node.store.close();
    // A statement prepared before the close (better-sqlite3) and a query built after it (Kysely).
    for (const url of ['/api/v1/inbox', '/api/v1/status', '/api/v1/alarms']) {
      const answer = await node.operator.inject({ method: 'GET', url, headers: auth });
      expect([url, answer.statusCode]).toEqual([url, 503]);
      expect(answer.json()).toEqual({
        error: {
          code: 'E_STORE',
          message:
            "this node's store is closed (the node is stopping or restarting): send it again once the node is back",
        },
      });
    }
  } finally {
    await node.close();
  }
});

test('a PostgreSQL pool ended under a query is the store failing', async () => {
  const pool = new pg.Pool({ connectionString: 'postgres://127.0.0.1:9/none' });
  await pool.end();
  const error = await pool.query('select 1').catch((e: unknown) => e);
  expect(isStoreFailure(error)).toBe(true);
});

test('a malformed id in a route’s path is 400 E_MALFORMED on every route, never 404, 414 or 500', async () => {
  const node = await openNode();
  try {
    const auth = { authorization: `Bearer ${readToken(node.dir)}` };
    const routes = [
      ['GET', '/api/v1/drafts/ID'],
      ['GET', '/api/v1/incidents/ID/report'],
      ['GET', '/api/v1/messages/cn/ID'],
      ['GET', '/api/v1/desks/ID/duty'],
      ['POST', '/api/v1/drafts/ID/approve'],
      ['POST', '/api/v1/users/ID/disable'],
      ['DELETE', '/api/v1/tokens/ID'],
    ] as const;
    const ids = {
      'longer than its schema allows': 'a'.repeat(300),
      'longer than the router reads': 'a'.repeat(1100),
      'with a control character': 'ab%01cd',
      'not percent-encoding': 'ab%zzcd',
    };
    for (const [method, route] of routes)
      for (const [what, id] of Object.entries(ids)) {
        const answer = await node.operator.inject({
          method,
          url: route.replace('ID', id),
          headers: auth,
          ...(method === 'POST' ? { payload: {} } : {}),
        });
        expect([method, route, what, answer.statusCode]).toEqual([method, route, what, 400]);
        const { error } = answer.json();
        expect(error.code).toBe('E_MALFORMED');
        expect(error.message.length).toBeLessThan(200);
      }
  } finally {
    await node.close();
  }
});

test('a request breaking its schema names the field in words where its type has them, not a pattern', async () => {
  const app = listenerApp(pino({ level: 'silent' }));
  app.post(
    '/api/v1/messages/:party/:id',
    {
      schema: {
        params: Type.Object({ party: PartyId, id: Uuid7 }),
        querystring: Type.Object({ limit: Type.Optional(QueryCount(10_000)) }),
        body: Type.Object({ lang: Lang, count: Type.Integer() }),
      },
    },
    async () => ({ ok: true }),
  );
  const ask = async (path: string, body: unknown) => {
    const answer = await app.inject({ method: 'POST', url: path, payload: body as object });
    expect(answer.statusCode, path).toBe(400);
    return answer.json().error as { code: string; message: string };
  };
  const id = '019afd3e-0000-7000-8000-000000000000';
  const good = { lang: 'zh-Hans', count: 1 };
  expect(await ask('/api/v1/messages/cn/not-an-id', good)).toEqual({
    code: 'E_MALFORMED',
    message: 'request params/id "not-an-id" is not a message or incident id (a lowercase UUIDv7)',
  });
  expect((await ask(`/api/v1/messages/CN/${id}`, good)).message).toBe(
    'request params/party "CN" is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
  );
  expect((await ask(`/api/v1/messages/cn/${id}?limit=abc`, good)).message).toBe(
    'request querystring/limit is not a whole number from 1 to 10000',
  );
  expect((await ask(`/api/v1/messages/cn/${id}`, { lang: 'chinese', count: 1 })).message).toBe(
    'request body/lang is not a language tag (e.g. en, zh, zh-Hans)',
  );
  // A type with no words of its own is said by its JSON type.
  expect((await ask(`/api/v1/messages/cn/${id}`, { lang: 'en', count: 'one' })).message).toBe(
    'request body/count is not a whole number',
  );
  const fine = await app.inject({
    method: 'POST',
    url: `/api/v1/messages/cn/${id}`,
    payload: good,
  });
  expect(fine.statusCode).toBe(200);
  await app.close();
});

describe('a mistake sent to a real operator route is answered in a sentence, E_MALFORMED', () => {
  let node: OneNode;
  let auth: { authorization: string };
  beforeAll(async () => {
    node = await openNode();
    auth = { authorization: `Bearer ${readToken(node.dir)}` };
  });
  afterAll(async () => {
    await node?.close();
  });

  const id = '019afd3e-0000-7000-8000-000000000000';
  type Method = 'GET' | 'POST' | 'PUT';
  async function refusal(
    method: Method,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ) {
    const answer = await node.operator.inject({
      method,
      url,
      headers: { ...auth, ...headers },
      ...(payload === undefined ? {} : { payload: payload as string }),
    });
    return {
      status: answer.statusCode,
      ...(answer.json().error as { code: string; message: string }),
    };
  }
  const said = (message: string, status = 400) => ({ status, code: 'E_MALFORMED', message });

  test('a value not in its list names the values it may take', async () => {
    const cases: [Method, string, unknown, string][] = [
      [
        'POST',
        `/api/v1/incidents/${id}/requests/${id}/decision`,
        { desk: 'ops', decision: 'maybe' },
        'request body/decision is not one of: accepted, declined',
      ],
      [
        'POST',
        '/api/v1/messages',
        { to: ['cn'], message: { ...draft(), precedence: 'urgent' } },
        'request body/message/precedence is not one of: flash, immediate, priority, routine',
      ],
      [
        'POST',
        '/api/v1/users',
        { name: 'bob', role: 'king', password: 'correct horse battery' },
        'request body/role is not one of: operator, officer, admin',
      ],
      [
        'POST',
        '/api/v1/me/push',
        { endpoint: 'https://push.example/1', keys: { p256dh: 'AA', auth: 'AA' }, lang: 'fr' },
        'request body/lang is not one of: en, zh',
      ],
      [
        'PUT',
        '/api/v1/desks/ops/staff/bob',
        { routes: [{ kind: 'fax' }] },
        'request body/routes/0/kind is not one of: console, email, webhook',
      ],
      [
        'GET',
        '/api/v1/alarms?category=x',
        undefined,
        'request querystring/category is not one of: fault, waiting',
      ],
      ['GET', '/api/v1/search?dir=up', undefined, 'request querystring/dir is not one of: in, out'],
      [
        'GET',
        '/api/v1/incidents?all=yes',
        undefined,
        'request querystring/all is not one of: 1, true',
      ],
    ];
    for (const [method, url, body, message] of cases)
      expect(await refusal(method, url, body), url).toEqual(said(message));
    const type = await refusal('POST', '/api/v1/messages', {
      to: ['cn'],
      message: { ...draft(), type: 'memo' },
    });
    expect(type.message).toMatch(
      /^request body\/message\/type is not one of: incident\.report, .*, rotation$/,
    );
  });

  test('a member missing, extra, of the wrong type or out of its bounds is named with what is wrong', async () => {
    const cases: [Method, string, unknown, string][] = [
      ['POST', '/api/v1/desks', { name: 'Ops' }, 'request body has no "id"'],
      [
        'POST',
        '/api/v1/messages',
        { to: ['cn'], message: draft(), foo: 1 },
        'request body has "foo", which this route does not take',
      ],
      ['POST', '/api/v1/messages', { to: 'cn', message: draft() }, 'request body/to is not a list'],
      [
        'POST',
        '/api/v1/messages',
        { to: [], message: draft() },
        'request body/to is an empty list',
      ],
      [
        'POST',
        '/api/v1/messages',
        { to: ['cn'], message: { ...draft(), text: { lang: 'en', body: '' } } },
        'request body/message/text/body is empty',
      ],
      [
        'POST',
        '/api/v1/messages',
        { to: ['cn'], message: { ...draft(), inReplyTo: 5 } },
        'request body/message/inReplyTo is not a message or incident id (a lowercase UUIDv7)',
      ],
      [
        'POST',
        '/api/v1/conferences',
        { desk: 'ops', to: 'cn', times: ['2026-12-07T09:30:00.000Z'], minutes: 0 },
        'request body/minutes is not a whole number from 1 to 1440',
      ],
      [
        'POST',
        '/api/v1/conferences',
        { desk: 'ops', to: 'cn', times: Array(5).fill('2026-12-07T09:30:00.000Z') },
        'request body/times has more than 4 items',
      ],
      [
        'PUT',
        '/api/v1/desks/ops/staff/bob',
        { routes: [{ kind: 'email' }] },
        'request body/routes/0 has no "address"',
      ],
      [
        'POST',
        '/api/v1/me/push',
        {
          endpoint: 'https://push.example/1',
          keys: { p256dh: 'AA', auth: 'AA' },
          lang: 'en',
          expirationTime: 'soon',
        },
        'request body/expirationTime is not null or a number',
      ],
      [
        'POST',
        '/api/v1/users',
        { name: 'B', role: 'admin', password: 'correct horse battery' },
        'request body/name is not a user name (2 to 32 of a-z, 0-9, ., _ and -, starting with a letter)',
      ],
      [
        'PUT',
        '/api/v1/desks/ops/staff/bob',
        { routes: [{ kind: 'email', address: 'nope' }] },
        'request body/routes/0/address is not an e-mail address (name@example.org)',
      ],
      [
        'GET',
        '/api/v1/alarms?before=0',
        undefined,
        'request querystring/before is not a row number (1 to 16 digits, no leading 0)',
      ],
      [
        'GET',
        '/api/v1/inbox?foo=1',
        undefined,
        'request querystring has "foo", which this route does not take',
      ],
      [
        'POST',
        '/api/v1/messages',
        undefined,
        'the request has no body; this route takes a JSON object',
      ],
    ];
    for (const [method, url, body, message] of cases)
      expect(await refusal(method, url, body), message).toEqual(said(message));
  });

  test('a query parameter given twice is said to be given twice, not to be of the wrong type', async () => {
    expect(await refusal('GET', '/api/v1/inbox?limit=10&limit=20')).toEqual(
      said('request querystring/limit is given more than once; give it once'),
    );
    expect(await refusal('GET', '/api/v1/alarms?category=fault&category=waiting')).toEqual(
      said('request querystring/category is given more than once; give it once'),
    );
  });

  test('a body that is not UTF-8 JSON text is refused, saying why; nothing is released', async () => {
    const outbox = async () =>
      (await node.operator.inject({ method: 'GET', url: '/api/v1/outbox', headers: auth })).json();
    const before = await outbox();
    const json = { 'content-type': 'application/json' };
    const message = JSON.stringify({ to: ['cn'], message: draft() });
    expect(await refusal('POST', '/api/v1/messages', `\ufeff${message}`, json)).toEqual(
      said('the body starts with a byte-order mark (EF BB BF); send the JSON without it'),
    );
    const notUtf8 = Buffer.concat([
      Buffer.from(message.slice(0, -2)),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('}}'),
    ]);
    expect(await refusal('POST', '/api/v1/messages', notUtf8, json)).toEqual(
      said('the body is not UTF-8 text'),
    );
    const lone = message.replace(
      '"text":{"lang":"en","body":"',
      '"text":{"lang":"en","body":"\\ud800',
    );
    expect(lone).toContain('\\ud800');
    expect(await refusal('POST', '/api/v1/messages', lone, json)).toEqual(
      said(
        'the body has a lone surrogate (a \\ud800 to \\udfff escape without its pair), which is not text',
      ),
    );
    expect(await refusal('POST', '/api/v1/messages', '{"to":["cn"],', json)).toEqual(
      said(
        'the body is not valid JSON: Expected double-quoted property name in JSON at position 13',
      ),
    );
    expect(await outbox()).toEqual(before);
  });

  test('a body in another form than JSON is refused 415 in a sentence', async () => {
    expect(
      await refusal('POST', '/api/v1/messages', 'to=cn', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    ).toEqual(
      said(
        'the body must be JSON (content-type application/json), not application/x-www-form-urlencoded',
        415,
      ),
    );
    expect(
      await refusal('POST', '/api/v1/messages', 'cn', { 'content-type': 'text/plain' }),
    ).toEqual(said('the body must be JSON (content-type application/json), not text/plain', 415));
  });
});

test('every listener refuses a body that is not UTF-8 text, as the protocol says a decoder must', async () => {
  const app = listenerApp(pino({ level: 'silent' }));
  app.post('/echo', async (request) => ({ got: request.body }));
  const post = (payload: string | Buffer) =>
    app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'content-type': 'application/json' },
      payload,
    });
  for (const payload of [
    '{"s":"\\ud800"}',
    Buffer.from([0x7b, 0x22, 0x73, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]),
  ]) {
    const answer = await post(payload);
    expect(answer.statusCode).toBe(400);
    expect(answer.json().error.code).toBe('E_MALFORMED');
  }
  expect((await post('{"s":"\\ud83d\\ude00 ok"}')).json()).toEqual({ got: { s: '😀 ok' } });
  await app.close();
});
