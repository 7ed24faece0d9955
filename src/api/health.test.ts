/**
 * `GET /healthz` as a load balancer or monitor sees it: no credentials, JSON from the node rather
 * than the console's page, and 503 E_STORE once the store stops answering.
 */
import { afterEach, describe, expect, test, vi } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { HEALTH_READ_MS } from './health.ts';
import type { App } from './services.ts';

let node: OneNode | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await node?.close();
  node = undefined;
});

const probe = (listener: App) => listener.inject({ method: 'GET', url: '/healthz' });

describe('GET /healthz', () => {
  test('a running node answers 200 {"status":"ok"} on both listeners, without credentials', async () => {
    node = await openNode();
    for (const listener of [node.operator, node.federation]) {
      const answer = await probe(listener);
      expect(answer.statusCode).toBe(200);
      // JSON from the node: the console's catch-all would answer text (unbuilt) or HTML (built).
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.json()).toEqual({ status: 'ok' });
    }
  });

  test('a closed store answers 503 E_STORE on both listeners', async () => {
    node = await openNode();
    await node.store.close();
    for (const listener of [node.operator, node.federation]) {
      const answer = await probe(listener);
      expect(answer.statusCode).toBe(503);
      expect(answer.json()).toEqual({
        error: {
          code: 'E_STORE',
          message:
            "this node's store does not answer a read: the node can neither take in nor show messages until it does; its log says why",
        },
      });
    }
  });

  test('a route written in another case is no route, not the console’s page', async () => {
    node = await openNode();
    for (const url of ['/HEALTHZ', '/API/V1/STATUS', '/Federation/v1/card']) {
      const answer = await node.operator.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json()).toEqual({
        error: {
          code: 'E_NOT_FOUND',
          message: `no route GET ${url} (routes are lowercase: ${url.toLowerCase()})`,
        },
      });
    }
    // A console page of any case still opens the console.
    expect((await node.operator.inject({ method: 'GET', url: '/Board' })).statusCode).not.toBe(404);
  });

  test(
    'a store that hangs answers 503 E_STORE within the bound, and 200 once it answers again',
    async () => {
      node = await openNode();
      const hang = vi.spyOn(node.store, 'getMeta').mockReturnValue(new Promise(() => {}));
      const started = Date.now();
      const answer = await probe(node.operator);
      expect(answer.statusCode).toBe(503);
      expect(answer.json().error.code).toBe('E_STORE');
      expect(Date.now() - started).toBeLessThan(HEALTH_READ_MS + 1000);
      hang.mockRestore();
      expect((await probe(node.operator)).statusCode).toBe(200);
    },
    HEALTH_READ_MS + 10_000,
  );
});
