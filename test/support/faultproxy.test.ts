/**
 * The fault-injecting proxy the chaos test relies on: each fault does what it says, on plain HTTP
 * and inside pinned mutual TLS alike, and a seed replays the same choices. In TLS mode the client
 * sees the target's own certificate, the target sees the client's, and a client presenting a
 * certificate the proxy was not given is refused.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, type TLSSocket } from 'node:tls';
import { Agent, request } from 'undici';
import { afterEach, beforeAll, describe, expect, test } from 'vitest';
import { makeTlsIdentity, spkiPin, type TlsIdentity } from '../../src/crypto/tls.ts';
import { FaultProxy, type FaultRates } from './faultproxy.ts';

interface Echo {
  server: Server;
  port: number;
  /** Request bodies as the server received them. */
  bodies: string[];
  /** TLS: the pin of the certificate each connection presented. */
  clientPins: string[];
}

/** Identities made once: the target's, a client's the proxy is given, and a stranger's. */
let target: TlsIdentity;
let client: TlsIdentity;
let stranger: TlsIdentity;
beforeAll(async () => {
  [target, client, stranger] = await Promise.all([
    makeTlsIdentity('target'),
    makeTlsIdentity('client'),
    makeTlsIdentity('stranger'),
  ]);
});

async function echo(tls: boolean): Promise<Echo> {
  const bodies: string[] = [];
  const clientPins: string[] = [];
  const handler = (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    request.setEncoding('latin1');
    request.on('data', (d: string) => {
      body += d;
    });
    request.on('end', () => {
      bodies.push(body);
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ echo: body }));
    });
  };
  const server = tls
    ? createHttpsServer(
        { key: target.key, cert: target.cert, requestCert: true, rejectUnauthorized: false },
        handler,
      )
    : createHttpServer(handler);
  server.on('secureConnection', (socket: TLSSocket) => {
    const raw = socket.getPeerCertificate()?.raw;
    clientPins.push(raw ? spkiPin(raw) : 'none');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : 0,
    bodies,
    clientPins,
  };
}

/** A client presenting `identity` (TLS mode), keeping its connections open between requests. */
function caller(identity: TlsIdentity | undefined): Agent {
  return new Agent({
    connect: {
      rejectUnauthorized: false,
      ...(identity ? { key: identity.key, cert: identity.cert } : {}),
    },
  });
}

async function post(proxy: FaultProxy, from: Agent, i: number): Promise<string> {
  const response = await request(`${proxy.url}/thing`, {
    dispatcher: from,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: i, padding: 'x'.repeat(200) }),
    signal: AbortSignal.timeout(3000),
  });
  return response.body.text();
}

/** Sends `n` requests one after the other; answers how many came back unharmed. */
async function run(proxy: FaultProxy, from: Agent, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const expected = JSON.stringify({ message: i, padding: 'x'.repeat(200) });
    const answer = await post(proxy, from, i).catch(() => '');
    try {
      if ((JSON.parse(answer) as { echo: string }).echo === expected) ok++;
    } catch {
      // a corrupted or cut answer
    }
  }
  return ok;
}

describe.each(['plain', 'tls'] as const)('the fault-injecting proxy (%s)', (mode) => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const done of cleanup.splice(0)) await done();
  });

  async function setup(
    rates: FaultRates,
    seed = 7,
  ): Promise<{ target: Echo; proxy: FaultProxy; from: Agent }> {
    const echoed = await echo(mode === 'tls');
    const proxy = await FaultProxy.start({
      targetPort: echoed.port,
      seed,
      rates,
      delayMs: [1, 5],
      reorderMs: [1, 5],
      ...(mode === 'tls' ? { tls: { target, clients: [client] } } : {}),
    });
    const from = caller(mode === 'tls' ? client : undefined);
    cleanup.push(async () => {
      await from.close();
      await proxy.close();
      echoed.server.closeAllConnections();
      await new Promise<void>((resolve) => echoed.server.close(() => resolve()));
    });
    return { target: echoed, proxy, from };
  }

  test('without faults it forwards every request and answer untouched', async () => {
    const { target, proxy, from } = await setup({});
    expect(await run(proxy, from, 20)).toBe(20);
    expect(target.bodies).toHaveLength(20);
    expect(proxy.requests).toBe(20);
    expect(proxy.seen.get('POST /thing')).toBe(20);
  });

  test('duplicate sends each request to the target a second time', async () => {
    const { target, proxy, from } = await setup({ duplicate: 1 });
    expect(await run(proxy, from, 10)).toBe(10);
    await until(() => target.bodies.length === 20);
    expect(proxy.counts.duplicate).toBe(10);
  });

  test('drop loses the request or its answer', async () => {
    const { target, proxy, from } = await setup({ drop: 1 });
    expect(await run(proxy, from, 10)).toBe(0);
    expect(proxy.counts.drop).toBe(10);
    // Some requests were cut before the target saw them, others after.
    expect(target.bodies.length).toBeGreaterThan(0);
    expect(target.bodies.length).toBeLessThan(10);
  });

  test('corrupt flips a byte of the request or of the answer', async () => {
    const { proxy, from } = await setup({ corrupt: 1 });
    expect(await run(proxy, from, 10)).toBeLessThan(10);
    expect(proxy.counts.corrupt).toBe(10);
  });

  test('a partition cuts the path until it heals', async () => {
    const { proxy, from } = await setup({});
    expect(await run(proxy, from, 1)).toBe(1);
    proxy.partition(60_000);
    expect(await run(proxy, from, 3)).toBe(0);
    proxy.heal();
    expect(await run(proxy, from, 3)).toBe(3);
    expect(proxy.counts.partition).toBe(1);
  });

  test('the same seed makes the same choices', async () => {
    const rates = { drop: 0.1, delay: 0.1, duplicate: 0.1, reorder: 0.1, corrupt: 0.1 };
    const a = await setup(rates, 42);
    const b = await setup(rates, 42);
    await run(a.proxy, a.from, 40);
    await run(b.proxy, b.from, 40);
    expect(a.proxy.counts).toEqual(b.proxy.counts);
    expect(Object.values(a.proxy.counts).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });

  if (mode === 'tls')
    test("each side sees the other's own certificate; a stranger's or none is refused", async () => {
      const { target: echoed, proxy, from } = await setup({});
      expect(proxy.url).toMatch(/^https:/);
      expect(await run(proxy, from, 2)).toBe(2);
      // The target saw the client's certificate on every connection.
      expect(new Set(echoed.clientPins)).toEqual(new Set([client.pin]));
      // The client saw the target's.
      expect(await serverPin(proxy.port, client)).toBe(target.pin);

      for (const identity of [stranger, undefined]) {
        const other = caller(identity);
        expect(await run(proxy, other, 1)).toBe(0);
        await other.close();
      }
      expect(proxy.refused).toBe(2);
      expect(echoed.bodies).toHaveLength(2);
      expect(new Set(echoed.clientPins)).toEqual(new Set([client.pin]));
    });
});

/** The pin of the certificate served on `port` to a client presenting `identity`. */
function serverPin(port: number, identity: TlsIdentity): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port,
      key: identity.key,
      cert: identity.cert,
      rejectUnauthorized: false,
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate()?.raw;
      socket.destroy();
      if (raw) resolve(spkiPin(raw));
      else reject(new Error('no server certificate'));
    });
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
