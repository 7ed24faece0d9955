import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postJson } from './transport.ts';

/**
 * A peer's connections stay open between messages, also after the peer has closed some: a
 * restart or an error answer must not leave the node opening a connection (over pinned TLS, a
 * handshake) for every message from then on.
 */
describe('the connection to a peer', () => {
  let server: Server;
  let url: string;
  let connections = 0;
  /** Requests answered with `connection: close`, as a node closing down or refusing does. */
  const closing = new Set<number>();
  let requests = 0;

  beforeAll(async () => {
    server = createServer((request, response) => {
      const n = requests++;
      request.resume();
      request.on('end', () => {
        if (closing.has(n)) response.setHeader('connection', 'close');
        response.setHeader('content-type', 'application/json');
        response.end('{"ok":true}');
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/federation/v1/heartbeat`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  test('is kept open after the peer closed two in a row', async () => {
    for (const n of [5, 6]) closing.add(n);
    for (let i = 0; i < 10; i++) await postJson(url, '{}', 5_000);
    const before = connections;
    for (let i = 0; i < 30; i++) await postJson(url, '{}', 5_000);
    // One new connection after the closed ones, then reused (it was 30 with undici's Agent).
    expect(connections - before).toBeLessThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(4);
  });
});
