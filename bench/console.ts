/**
 * The console's figure (issue 8): time from the sending node's send until the alarm is visible
 * in the peer's console, in a real browser, with what bounds it beside it:
 *   - send → stored:     the POST to Washington's API until Beijing's node has stored the message
 *                        (its `received` event, in this process): delivery, the console's floor;
 *   - send → feed frame: until the `received` frame reaches Beijing's page over /api/v1/feed;
 *   - send → alarm:      until the alarm item is in Beijing's DOM (a MutationObserver's clock);
 *   - bare WebSocket RTT: a frame from this process to a blank page and back, nothing else.
 * All clocks are this machine's wall clock (the browser runs here too). Two in-process nodes on
 * loopback, default settings; Chromium headless at 1280×800.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { readToken } from '../src/node/core/data.ts';
import { dataFolderActor } from '../src/node/people/people.ts';
import { launchChromium, openConsole, signIn } from '../test/support/browser.ts';
import { createPair, draft } from '../test/support/pair.ts';

const SAMPLES = 30;
const PASSWORD = 'bench-passphrase-1';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), max: s.at(-1) ?? 0 };
}

/** Records, in the page, when each alarm item appears and when each `received` frame arrives. */
const RECORD = `(() => {
  window.__alarmAt = {};
  window.__frameAt = {};
  const Real = window.WebSocket;
  window.WebSocket = class extends Real {
    constructor(url) {
      super(url);
      this.addEventListener('message', (e) => {
        const at = Date.now();
        const frame = JSON.parse(String(e.data));
        if (frame.type === 'received') for (const id of frame.ids ?? []) window.__frameAt[id] ??= at;
      });
    }
  };
  new MutationObserver(() => {
    const at = Date.now();
    for (const el of document.querySelectorAll('[data-alarm-key]'))
      window.__alarmAt[el.getAttribute('data-alarm-key')] ??= at;
  }).observe(document, { childList: true, subtree: true });
})();`;

export async function benchConsole() {
  const pair = await createPair();
  const browser = await launchChromium();
  try {
    const us = await pair.start(pair.us);
    const cn = await pair.start(pair.cn);
    await cn.people.accounts.add(dataFolderActor(), {
      name: 'li',
      role: 'operator',
      password: PASSWORD,
    });
    await cn.people.roster.putStaff(dataFolderActor(), 'ops', 'li', [{ kind: 'console' }]);
    const beijing = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    await beijing.context.addInitScript({ content: RECORD });
    await signIn(beijing.page, beijing.base, 'li', PASSWORD, 'zh');
    await beijing.page.waitForFunction(() =>
      (
        globalThis as unknown as {
          document: { querySelector(s: string): { className: string } | null };
        }
      ).document
        .querySelector('[data-testid=feed-state]')
        ?.className.includes('feed-up'),
    );
    const stored = new Map<string, number>();
    cn.events.on('received', (_party, ids) => {
      const at = Date.now();
      for (const id of ids) stored.set(id, at);
    });
    const token = readToken(pair.us.dir);
    const send = { stored: [] as number[], frame: [] as number[], alarm: [] as number[] };
    for (let i = 0; i < SAMPLES + 3; i++) {
      const t0 = Date.now();
      const answer = await fetch(`${us.operatorUrl}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          to: ['cn'],
          message: draft({ precedence: 'flash', text: { lang: 'en', body: `Flash ${i}` } }),
        }),
      });
      const { id } = (await answer.json()) as { id: string };
      const key = `msg:us/${id}`;
      const seen = await waitFor(
        async () =>
          beijing.page.evaluate(
            ([k, m]) => {
              const g = globalThis as unknown as {
                __alarmAt: Record<string, number>;
                __frameAt: Record<string, number>;
              };
              return g.__alarmAt[k as string] && g.__frameAt[m as string]
                ? {
                    alarm: g.__alarmAt[k as string] as number,
                    frame: g.__frameAt[m as string] as number,
                  }
                : undefined;
            },
            [key, id],
          ),
        () =>
          beijing.page.evaluate(() =>
            JSON.stringify(
              Object.fromEntries(
                ['__alarmAt', '__frameAt'].map((k) => [
                  k,
                  (globalThis as unknown as Record<string, unknown>)[k],
                ]),
              ),
            ),
          ),
      );
      if (i < 3) continue; // warm-up
      send.stored.push((stored.get(id) ?? Number.NaN) - t0);
      send.frame.push(seen.frame - t0);
      send.alarm.push(seen.alarm - t0);
    }
    const rtt = await bareWebSocketRtt(await browser.newPage());
    return {
      samples: SAMPLES,
      sendToStoredMs: summary(send.stored),
      sendToFeedFrameMs: summary(send.frame),
      sendToAlarmVisibleMs: summary(send.alarm),
      bareWebSocketRttMs: summary(rtt),
    };
  } finally {
    await browser.close();
    await pair.close();
  }
}

async function waitFor<T>(
  check: () => Promise<T | undefined>,
  debug?: () => Promise<unknown>,
  ms = 10_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > until)
      throw new Error(`the alarm did not show within 10 s: ${String(await debug?.())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Round trips of one small frame between this process and a blank page: the floor. */
export async function bareWebSocketRtt(page: import('playwright-core').Page): Promise<number[]> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => server.once('listening', r));
  const { port } = server.address() as AddressInfo;
  const connected = new Promise<import('ws').WebSocket>((r) => server.once('connection', r));
  await page.evaluate((url) => {
    const ws = new (
      globalThis as unknown as {
        WebSocket: new (
          u: string,
        ) => { onmessage: (e: { data: unknown }) => void; send(d: unknown): void };
      }
    ).WebSocket(url);
    ws.onmessage = (e) => ws.send(e.data);
  }, `ws://127.0.0.1:${port}`);
  const socket = await Promise.race([
    connected,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the blank page did not connect')), 10_000),
    ),
  ]);
  const out: number[] = [];
  for (let i = 0; i < SAMPLES + 3; i++) {
    const started = performance.now();
    await new Promise<void>((resolve) => {
      socket.once('message', () => resolve());
      socket.send(JSON.stringify({ type: 'ping', i }));
    });
    if (i >= 3) out.push(performance.now() - started);
  }
  socket.close();
  await new Promise((r) => server.close(r));
  return out;
}

export function printConsole(figures: Awaited<ReturnType<typeof benchConsole>>): void {
  const ms = (s: { p50: number; p90: number; max: number }) =>
    `p50 ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
  console.log('\n## Console');
  console.log(`send → peer node stored      ${ms(figures.sendToStoredMs)}`);
  console.log(`send → feed frame in browser ${ms(figures.sendToFeedFrameMs)}`);
  console.log(
    `send → alarm visible         ${ms(figures.sendToAlarmVisibleMs)}   (target ≤ 250 ms)`,
  );
  console.log(`bare WebSocket round trip    ${ms(figures.bareWebSocketRttMs)}   (floor)`);
}
