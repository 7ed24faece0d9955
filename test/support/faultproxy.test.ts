/**
 * The fault-injecting proxy the chaos test relies on: each fault does what it says, and a seed
 * replays the same choices.
 */
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { FaultProxy, type FaultRates } from './faultproxy.ts';

interface Echo {
  server: Server;
  port: number;
  /** Request bodies as the server received them. */
  bodies: string[];
}

async function echo(): Promise<Echo> {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
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
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0, bodies };
}

async function post(proxy: FaultProxy, i: number): Promise<string> {
  const response = await fetch(`${proxy.url}/thing`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ message: i, padding: 'x'.repeat(200) }),
    signal: AbortSignal.timeout(3000),
  });
  return response.text();
}

/** Sends `n` requests one after the other; answers how many came back unharmed. */
async function run(proxy: FaultProxy, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) {
    const expected = JSON.stringify({ message: i, padding: 'x'.repeat(200) });
    const answer = await post(proxy, i).catch(() => '');
    try {
      if ((JSON.parse(answer) as { echo: string }).echo === expected) ok++;
    } catch {
      // a corrupted or cut answer
    }
  }
  return ok;
}

describe('the fault-injecting proxy', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const done of cleanup.splice(0)) await done();
  });

  async function setup(rates: FaultRates, seed = 7): Promise<{ target: Echo; proxy: FaultProxy }> {
    const target = await echo();
    const proxy = await FaultProxy.start({
      targetPort: target.port,
      seed,
      rates,
      delayMs: [1, 5],
      reorderMs: [1, 5],
    });
    cleanup.push(async () => {
      await proxy.close();
      target.server.closeAllConnections();
      await new Promise<void>((resolve) => target.server.close(() => resolve()));
    });
    return { target, proxy };
  }

  test('without faults it forwards every request and answer untouched', async () => {
    const { target, proxy } = await setup({});
    expect(await run(proxy, 20)).toBe(20);
    expect(target.bodies).toHaveLength(20);
    expect(proxy.requests).toBe(20);
    expect(proxy.seen.get('POST /thing')).toBe(20);
  });

  test('duplicate sends each request to the target a second time', async () => {
    const { target, proxy } = await setup({ duplicate: 1 });
    expect(await run(proxy, 10)).toBe(10);
    await until(() => target.bodies.length === 20);
    expect(proxy.counts.duplicate).toBe(10);
  });

  test('drop loses the request or its answer', async () => {
    const { target, proxy } = await setup({ drop: 1 });
    expect(await run(proxy, 10)).toBe(0);
    expect(proxy.counts.drop).toBe(10);
    // Some requests were cut before the target saw them, others after.
    expect(target.bodies.length).toBeGreaterThan(0);
    expect(target.bodies.length).toBeLessThan(10);
  });

  test('corrupt flips a byte of the request or of the answer', async () => {
    const { proxy } = await setup({ corrupt: 1 });
    expect(await run(proxy, 10)).toBeLessThan(10);
    expect(proxy.counts.corrupt).toBe(10);
  });

  test('a partition cuts the path until it heals', async () => {
    const { proxy } = await setup({});
    proxy.partition(60_000);
    expect(await run(proxy, 3)).toBe(0);
    proxy.heal();
    expect(await run(proxy, 3)).toBe(3);
    expect(proxy.counts.partition).toBe(1);
  });

  test('the same seed makes the same choices', async () => {
    const rates = { drop: 0.1, delay: 0.1, duplicate: 0.1, reorder: 0.1, corrupt: 0.1 };
    const a = await setup(rates, 42);
    const b = await setup(rates, 42);
    await run(a.proxy, 40);
    await run(b.proxy, 40);
    expect(a.proxy.counts).toEqual(b.proxy.counts);
    expect(Object.values(a.proxy.counts).reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
  });
});

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}
