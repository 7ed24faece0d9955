import { Type } from '@sinclair/typebox';
import Fastify from 'fastify';
import pino from 'pino';
import { expect, test } from 'vitest';
import { FencedError } from '../node/core/leadership.ts';
import { Lang, PartyId, Uuid7 } from '../protocol/common.ts';
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
    message: 'request params/id is not a message or incident id (a lowercase UUIDv7)',
  });
  expect((await ask(`/api/v1/messages/CN/${id}`, good)).message).toBe(
    'request params/party is not a party id (2 to 32 of a-z, 0-9 and -, e.g. us, cn)',
  );
  expect((await ask(`/api/v1/messages/cn/${id}?limit=abc`, good)).message).toBe(
    'request querystring/limit is not a whole number from 1 to 10000',
  );
  expect((await ask(`/api/v1/messages/cn/${id}`, { lang: 'chinese', count: 1 })).message).toBe(
    'request body/lang is not a language tag (e.g. en, zh, zh-Hans)',
  );
  // A type with no words for it is said as the validator says it.
  expect((await ask(`/api/v1/messages/cn/${id}`, { lang: 'en', count: 'one' })).message).toBe(
    'request body/count must be integer',
  );
  const fine = await app.inject({
    method: 'POST',
    url: `/api/v1/messages/cn/${id}`,
    payload: good,
  });
  expect(fine.statusCode).toBe(200);
  await app.close();
});
