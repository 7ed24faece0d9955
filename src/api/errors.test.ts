import Fastify from 'fastify';
import { expect, test } from 'vitest';
import { FencedError } from '../node/core/leadership.ts';
import { installErrorHandler } from './errors.ts';

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
