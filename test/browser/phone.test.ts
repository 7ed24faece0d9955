/**
 * The console on a phone (390×844, touch, Chromium): the board, the alarm, a message, the
 * approvals queue and history fit the width (no horizontal scrolling), and acknowledging from the
 * phone is the same audited action as from a desk: the ack reaches the sender.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { ARTIFACTS, consolePair, overflow, PASSWORD, signIn } from '../support/browser.ts';
import { draft, eventually, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({ us: [['olga', 'officer']], cn: [['li', 'operator']] }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const running = (site: Pair['us']) => site.running as RunningNode;

describe('the console on a phone', () => {
  test('at 390×844 nothing scrolls sideways, and acknowledge works', async () => {
    const report = await running(pair.us).node.release(
      ['cn'],
      draft({
        type: 'incident.report',
        incident: '01937a8e-4f00-7000-8000-00000000f00d',
        precedence: 'immediate',
        status: 'exercise',
        report: {
          nature: 'incident',
          category: 'category.ai-cyberattack',
          actionsTaken: [],
          actionsRequested: [],
        },
        text: {
          lang: 'en',
          body: 'Autonomous agent scanning grid operators; indicators attached: 203.0.113.77, agent-7f3a9c2e1b4d5f6a8e9c0b1d2e3f4a5b.',
        },
      }),
    );
    await eventually(
      async () => (await running(pair.cn).store.getInbox('us', report.id)) ?? undefined,
    );

    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      deviceScaleFactor: 3,
      isMobile: true,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const page = await context.newPage();
    const base = `http://${pair.cn.operatorListen}`;
    await signIn(page, base, 'li', PASSWORD, 'zh');
    await page.locator(`[data-alarm-key="msg:us/${report.id}"]`).waitFor();
    expect(await overflow(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'phone-board-zh.png'), fullPage: true });

    for (const path of [
      '/approvals',
      '/history',
      '/compose',
      `/incident/01937a8e-4f00-7000-8000-00000000f00d`,
    ]) {
      await page.goto(`${base}${path}`);
      await page.locator('main h1').waitFor();
      expect({ path, overflow: await overflow(page) }).toEqual({ path, overflow: [] });
    }

    await page.goto(`${base}/message/us/${report.id}`);
    const ack = page.getByTestId('acknowledge');
    await ack.waitFor();
    expect(await overflow(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'phone-message-zh.png'), fullPage: true });
    await ack.tap();
    // The ack reaches Washington with Beijing's desk, as from any console.
    const acked = await eventually(async () => {
      const rows = await running(pair.us).followups.ofMessages([report.id]);
      return rows.find((f) => f.acked_at)?.acked_desk ?? undefined;
    });
    expect(acked).toBe('ops');

    // Installable: a manifest with icons that load, and a service worker in control …
    const manifest = await page.evaluate(async () => {
      const f = (globalThis as unknown as { fetch: typeof fetch }).fetch;
      const m = (await (await f('/manifest.webmanifest')).json()) as {
        name: string;
        display: string;
        start_url: string;
        icons: Array<{ src: string; sizes: string }>;
      };
      const icons = await Promise.all(m.icons.map(async (i) => (await f(i.src)).status));
      return { name: m.name, display: m.display, start: m.start_url, icons };
    });
    expect(manifest).toEqual({
      name: 'Hotline console',
      display: 'standalone',
      start: '/board',
      icons: [200, 200, 200],
    });
    const scope = await page.evaluate(async () => {
      const nav = (
        globalThis as unknown as {
          navigator: { serviceWorker: { ready: Promise<{ scope: string }> } };
        }
      ).navigator;
      return (await nav.serviceWorker.ready).scope;
    });
    expect(scope).toBe(`${base}/`);
    // … which, when the node cannot be reached, says so in both languages instead of failing.
    await page.reload();
    await page.locator('main h1').waitFor();
    await context.setOffline(true);
    await page.goto(`${base}/board`).catch(() => undefined);
    await page.getByRole('heading', { name: 'No connection to the Hotline node' }).waitFor();
    expect(await page.textContent('body')).toContain('无法连接热线节点');
    await context.close();
  }, 90_000);
});
