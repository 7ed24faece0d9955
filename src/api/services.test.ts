/**
 * A listener built without a service one of its routes uses fails when it boots, naming the
 * service, rather than at the first request that needs it.
 */
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { federationRoutes } from './federation.ts';
import { operatorRoutes } from './operator.ts';
import { services } from './services.ts';

let node: OneNode;
beforeAll(async () => {
  node = await openNode();
});
afterAll(async () => {
  await node?.close();
});

describe('the services a listener is given', () => {
  test('a route plugin whose service is missing fails at boot, naming it', async () => {
    const { heartbeats: _left, ...rest } = node;
    const app = Fastify();
    await app.register(services, rest);
    app.register(federationRoutes);
    await expect(app.ready()).rejects.toThrow(/heartbeats/);
    await app.close();
  });

  test('a route plugin on a listener given no services fails at boot', async () => {
    const app = Fastify();
    app.register(operatorRoutes);
    await expect(app.ready()).rejects.toThrow(/required by 'operator-routes' is not present/);
    await app.close();
  });

  test('given every service, the same plugin boots and serves', async () => {
    const answer = await node.federation.inject({ method: 'GET', url: '/federation/v1/card' });
    expect(answer.json()).toEqual(node.card);
  });
});
