/**
 * The watchdog: a running node pings its monitor's URL on a schedule; a stopped one falls silent,
 * which is what makes the monitor page someone.
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { createPair, eventually, type Pair } from '../../../test/support/pair.ts';
import { readConfig, writeConfig } from '../core/config.ts';

describe('the watchdog', () => {
  let pair: Pair;
  afterEach(async () => pair?.close());

  test('pings the monitor while the node runs, and stops when it stops', async () => {
    const pings: string[] = [];
    let status = 200;
    const monitor = createServer((request, response) => {
      pings.push(request.url ?? '');
      response.statusCode = status;
      response.end('OK');
    });
    await new Promise<void>((resolve) => monitor.listen(0, '127.0.0.1', () => resolve()));
    const address = monitor.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      pair = await createPair();
      const url = `http://127.0.0.1:${port}/ping/b9f1`;
      writeConfig(pair.us.dir, {
        ...readConfig(pair.us.dir),
        watchdog: { url, intervalMs: 1000, timeoutMs: 1000 },
      });
      const us = await pair.start(pair.us);
      await eventually(async () => (pings.length >= 2 ? true : undefined), 10_000, 'two pings');
      expect(pings.every((p) => p === '/ping/b9f1')).toBe(true);
      // The ping URL is the monitor's secret: the status names its host only.
      expect(us.watchdog?.status()).toMatchObject({
        url: `http://127.0.0.1:${port}/…`,
        lastError: null,
      });

      // A monitor that answers with an error is a failed ping, shown to the operator.
      status = 503;
      const failing = await eventually(async () => {
        const s = us.watchdog?.status();
        return s?.lastError ? s : undefined;
      });
      expect(failing.lastError).toBe('HTTP 503');
      expect(await us.metrics.registry.metrics()).toMatch(
        /hotline_watchdog_pings_total\{[^}]*result="failed"[^}]*\} [1-9]/,
      );

      await pair.stop(pair.us);
      const after = pings.length;
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect(pings.length).toBe(after);
    } finally {
      monitor.closeAllConnections();
      await new Promise<void>((resolve) => monitor.close(() => resolve()));
    }
  });

  test('is off unless configured', async () => {
    pair = await createPair();
    const us = await pair.start(pair.us);
    expect(us.watchdog).toBeUndefined();
  });
});
