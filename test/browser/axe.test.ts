/**
 * axe-core on the main pages — board, message, incident, approvals, history, and duty (where a
 * phone is subscribed) — in both languages and both themes, each with something on it: a flash
 * escalating, a fault alarm, a draft held for approval, an incident. Every scan must be clean
 * (WCAG 2.1 A and AA and axe's best practices). Twenty-four scans: about a minute idle.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  PASSWORD,
  signIn,
} from '../support/browser.ts';
import { draft, eventually, flashReport, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair(
    {
      us: [['olga', 'officer']],
      cn: [
        ['li', 'officer'],
        ['wang', 'operator'],
      ],
    },
    { deskLabels: { ops: { en: 'Operations desk', zh: '值班台' } } } as never,
  ));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const running = (site: Pair['us']) => site.running as RunningNode;
const INCIDENT = '01937a8e-4f00-7000-8000-00000000a11e';

describe('accessibility of the main pages', () => {
  test('clean in English and Chinese, by day and by night', async () => {
    const cn = running(pair.cn);
    const report = await running(pair.us).node.release(
      ['cn'],
      draft({
        type: 'incident.report',
        incident: INCIDENT,
        precedence: 'flash',
        status: 'exercise',
        report: {
          nature: 'incident',
          category: 'category.ai-cyberattack',
          actionsTaken: [],
          actionsRequested: [],
        },
        text: { lang: 'en', body: 'Autonomous agent scanning grid operators.' },
      }),
    );
    await eventually(async () => (await cn.store.getInbox('us', report.id)) ?? undefined);
    await cn.alarms.raise('skew', 'us', 'clock skew of 93 s with us (policy 30 s)');
    // Wang (an operator) writes a flash report: held for Li, who may approve it.
    const wang = (await cn.people.accounts.issueToken(dataFolderActor(), 'wang')).token;
    const held = await fetch(`http://${pair.cn.operatorListen}/api/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${wang}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: ['us'], message: flashReport() }),
    });
    expect(held.status).toBe(202);
    await cn.pushSubscriptions.put({
      user_name: 'li',
      endpoint: 'https://fcm.googleapis.com/fcm/send/axe-test',
      p256dh: 'BAAA',
      auth: 'AAAA',
      lang: 'zh',
      label: 'Chrome Android',
      created_at: new Date().toISOString(),
    });

    const { context, page, base } = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(page, base, 'li', PASSWORD, 'zh');
    const pages = [
      'board',
      `message/us/${report.id}`,
      `incident/${INCIDENT}`,
      'approvals',
      'history',
      'duty',
    ];
    const found: Record<string, unknown> = {};
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme, reducedMotion: 'reduce' });
      for (const lang of ['en', 'zh'] as const) {
        await page.locator('header select').selectOption(lang);
        for (const path of pages) {
          await page.goto(`${base}/${path}`);
          await page.locator('main h1').waitFor();
          await page.waitForLoadState('networkidle');
          const violations = await axeScan(page);
          if (violations.length) found[`${path.split('/')[0]} ${lang} ${scheme}`] = violations;
        }
      }
    }
    await page.goto(`${base}/duty`);
    await page
      .locator('.push-devices')
      .screenshot({ path: join(ARTIFACTS, 'push-devices-zh.png') });
    await page.locator('header select').selectOption('en');
    await page
      .locator('.push-devices')
      .screenshot({ path: join(ARTIFACTS, 'push-devices-en.png') });
    expect(found).toEqual({});
    await context.close();
  }, 240_000);
});
