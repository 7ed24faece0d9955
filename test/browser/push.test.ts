/**
 * Web Push from the console, in Chromium. Headless Chromium has no push service to reach, so
 * the real `PushManager.subscribe` fails: the console must then say why in the reader's language.
 * With `subscribe` played by the page (a subscription made of real P-256 keys, its endpoint a
 * push service on loopback), Li subscribes her phone from the Duty page in Chinese; Washington's
 * flash then reaches that push service, the push decrypts with the subscription's keys, and the
 * console address it carries opens the message, where Li acknowledges it and Washington sees the
 * acknowledgement.
 */
import { createECDH, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import * as ece from 'http_ece';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import type { PushPayload } from '../../src/node/incidents/push.ts';
import { toBase64url } from '../../src/protocol/encoding.ts';
import { ARTIFACTS, consolePair, openConsole, PASSWORD, signIn } from '../support/browser.ts';
import { draft, eventually, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;
let service: Server;
let serviceBase = '';
const pushed: Array<{ path: string; body: Buffer }> = [];

beforeAll(async () => {
  service = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      pushed.push({ path: request.url ?? '', body: Buffer.concat(chunks) });
      response.writeHead(201).end();
    });
  });
  await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
  serviceBase = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
  ({ pair, browser } = await consolePair({ us: [['olga', 'officer']], cn: [['li', 'operator']] }, {
    notify: { push: { services: [serviceBase] } },
  } as never));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
  service?.closeAllConnections();
  await new Promise<void>((resolve) => service?.close(() => resolve()));
});

const running = (site: Pair['us']) => site.running as RunningNode;

describe('notifications on this phone', () => {
  test('without a reachable push service, the console says why', async () => {
    const { context, page, base } = await openConsole(browser, pair.cn, {
      locale: 'en-US',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(page, base, 'li', PASSWORD, 'en');
    await page.goto(`${base}/duty`);
    await page.getByRole('button', { name: 'Notify this device' }).click();
    const alert = page.locator('.push-devices [role=alert]');
    await alert.waitFor();
    expect(await alert.textContent()).toMatch(/^This browser could not subscribe/);
    expect((await running(pair.cn).pushSubscriptions.ofUser('li')).length).toBe(0);
    await context.close();
  });

  test('Li subscribes her phone in Chinese; a flash is pushed to it and acknowledged from it', async () => {
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    const auth = toBase64url(randomBytes(16));
    const subscription = {
      endpoint: `${serviceBase}/push/li-phone`,
      expirationTime: null,
      keys: { p256dh: toBase64url(ecdh.getPublicKey()), auth },
    };
    const { context, page, base } = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    // The browser's push service, played by the page: what PushManager.subscribe would give.
    await context.addInitScript({
      content: `(() => {
        const s = ${JSON.stringify(subscription)};
        const made = { endpoint: s.endpoint, expirationTime: null, toJSON: () => s };
        PushManager.prototype.getSubscription = async () => null;
        PushManager.prototype.subscribe = async (options) => {
          if (!(options.applicationServerKey instanceof Uint8Array) || options.applicationServerKey.length !== 65)
            throw new Error('no VAPID key given');
          return made;
        };
      })();`,
    });
    await signIn(page, base, 'li', PASSWORD, 'zh');
    await page.goto(`${base}/duty`);
    await page.getByRole('button', { name: '通知本设备' }).click();
    await page.locator('.push-devices [role=status]').getByText('本设备将收到通知。').waitFor();
    const row = page.locator('.push-devices tbody tr');
    await row.waitFor();
    expect(await row.textContent()).toContain(new URL(serviceBase).host);
    await page
      .locator('.push-devices')
      .screenshot({ path: join(ARTIFACTS, 'push-devices-zh.png') });
    const [device] = await running(pair.cn).pushSubscriptions.ofUser('li');
    expect(device).toMatchObject({ lang: 'zh', endpoint: subscription.endpoint });

    const report = await running(pair.us).node.release(
      ['cn'],
      draft({
        type: 'incident.report',
        incident: '01937a8e-4f00-7000-8000-00000000beef',
        precedence: 'flash',
        status: 'exercise',
        report: {
          nature: 'incident',
          category: 'category.ai-cyberattack',
          actionsTaken: [],
          actionsRequested: [],
        },
      }),
    );
    const push = await eventually(
      async () => pushed.find((p) => p.path === '/push/li-phone'),
      10_000,
      'the push to Li’s phone',
    );
    const payload = JSON.parse(
      ece
        .decrypt(push.body, { version: 'aes128gcm', privateKey: ecdh, authSecret: auth })
        .toString(),
    ) as PushPayload;
    expect(payload.title).toContain('特提');
    expect(payload.url).toBe(`/message/us/${report.id}`);

    // The tap opens the message; acknowledging there is the usual audited act.
    await page.goto(`${base}${payload.url}`);
    await page.getByTestId('acknowledge').click();
    const acked = await eventually(async () => {
      const rows = await running(pair.us).followups.ofMessages([report.id]);
      return rows.find((f) => f.acked_at)?.acked_desk ?? undefined;
    });
    expect(acked).toBe('ops');
    const [audit] = await running(pair.cn).people.trail.list({ action: 'message.ack', limit: 1 });
    expect(audit).toMatchObject({ actor: 'li', target: `us/${report.id}` });
    await context.close();
  }, 60_000);
});
