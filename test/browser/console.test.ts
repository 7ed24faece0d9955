import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readToken } from '../../src/node/core/data.ts';
import { makeAttachment } from '../../src/protocol/attachments.ts';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  PASSWORD,
  signIn,
  tabTo,
} from '../support/browser.ts';
import { draft, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;
let washington: { page: Page; base: string };
let beijing: { page: Page; base: string };
let reportId = '';

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [
      ['walker', 'operator'],
      ['ada', 'admin'],
    ],
    cn: [
      ['li', 'operator'],
      ['zhao', 'admin'],
    ],
  }));
  washington = await openConsole(browser, pair.us, {
    locale: 'en-US',
    timezoneId: 'America/New_York',
  });
  beijing = await openConsole(browser, pair.cn, { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const T = '2026-11-27T01:00:00.000Z';
/** A small STIX 2.1 bundle, as a CERT would attach: who, and an indicator of what. */
const STIX_BUNDLE = {
  type: 'bundle',
  id: 'bundle--5d0092c5-5f74-4287-9642-33f4c354e56d',
  objects: [
    {
      type: 'identity',
      spec_version: '2.1',
      id: 'identity--8f0ee5d5-6a2b-4ac3-a0a4-0ad0a6a93f8e',
      created: T,
      modified: T,
      name: 'US-CERT',
      identity_class: 'organization',
    },
    {
      type: 'indicator',
      spec_version: '2.1',
      id: 'indicator--2f3c0d14-9c8e-4d5c-a1a8-0c4c2a7d5e11',
      created: T,
      modified: T,
      name: 'C2 of the agent swarm',
      pattern: "[ipv4-addr:value = '198.51.100.7']",
      pattern_type: 'stix',
      valid_from: T,
    },
    {
      type: 'ipv4-addr',
      id: 'ipv4-addr--ff26c055-6336-5bc5-b98d-13d6226742dd',
      value: '198.51.100.7',
    },
  ],
};
const REPORT_TEXT = 'Autonomous agent issuing unexplained commands to grid control systems.';
const REPORT_ZH = '自主智能体正在向电网控制系统发出无法解释的指令。';
const REPLY_TEXT = '我方已收到，正在调查，相关系统已隔离。';

describe('a flash report, end to end', () => {
  test('Washington reports in English; Beijing, in Chinese, is alarmed, acknowledges and replies by keyboard; Washington sees both', async () => {
    await signIn(beijing.page, beijing.base, 'li', PASSWORD, 'zh');
    await signIn(washington.page, washington.base, 'walker', PASSWORD, 'en');
    const cn = beijing.page;
    const us = washington.page;
    await expect
      .poll(() => cn.getByTestId('feed-state').getAttribute('class'), { timeout: 10_000 })
      .toContain('up');
    expect(await cn.locator('main h1').textContent()).toBe('总览');

    // Washington composes a flash incident report (an exercise) in English, with a Chinese
    // translation of its own.
    await us.getByRole('link', { name: 'Compose' }).click();
    await us.locator('select[name=status]').selectOption('exercise');
    await us.locator('select[name=category]').selectOption({ index: 1 });
    await us.locator('fieldset').first().locator('input[type=checkbox]').first().check();
    await us.locator('textarea[name=text]').fill(REPORT_TEXT);
    await us.locator('textarea[name=translation]').fill(REPORT_ZH);
    await us.getByLabel('Files are STIX 2.1 bundles').check();
    await us.locator('input[type=file]').setInputFiles({
      name: 'iocs.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(STIX_BUNDLE)),
    });
    await us.getByText('iocs.json (application/stix+json)').waitFor();
    await expect
      .poll(() => us.getByTestId('preview').textContent(), { timeout: 10_000 })
      .toContain('特提');
    await us.getByRole('button', { name: 'Send', exact: true }).click();
    await us.waitForURL(/\/message\/us\/[0-9a-f-]{36}$/);
    reportId = us.url().split('/').pop() as string;

    // Beijing's console raises the alarm without a reload: banner, tone, notification.
    const item = cn.locator(`[data-alarm-key="msg:us/${reportId}"]`);
    await item.waitFor();
    // The item may appear from the escalation notice a moment before the message's text is read.
    await expect.poll(() => item.textContent()).toContain('来自华盛顿的特提消息');
    await expect.poll(() => item.textContent()).toContain(`${REPORT_ZH} (发送方提供的译文)`);
    expect(await cn.getByTestId('alarm-banner').getAttribute('data-sounding')).toBe('true');
    const notified = await cn.evaluate(
      () => (globalThis as unknown as { __notifications: Array<{ tag: string }> }).__notifications,
    );
    expect(notified.map((n) => n.tag)).toContain(`msg:us/${reportId}`);
    await cn.screenshot({ path: join(ARTIFACTS, 'beijing-alarm-zh.png') });

    // Keyboard alone: open it from the alarm, acknowledge, answer.
    await tabTo(cn, item.getByRole('button'));
    await cn.keyboard.press('Enter');
    await cn.waitForURL(new RegExp(`/message/us/${reportId}$`));
    expect(await cn.getByTestId('status-exercise').first().textContent()).toContain('演习');
    expect(await cn.getByTestId('original-text').textContent()).toBe(REPORT_TEXT);
    expect(await cn.locator('figure.original figcaption').textContent()).toContain('原文');
    expect(await cn.locator('figure.translation').textContent()).toContain(REPORT_ZH);
    expect(await cn.locator('main').textContent()).toContain('特提');
    const attachment = await cn.getByTestId('attachment').textContent();
    expect(attachment).toContain('iocs.json');
    expect(attachment).toContain('完整');
    expect(attachment).toContain('STIX 数据包，3 个对象');
    expect(attachment).toContain('indicator: C2 of the agent swarm');

    await tabTo(cn, cn.getByTestId('acknowledge'));
    await cn.keyboard.press('Enter');
    await item.waitFor({ state: 'detached' });
    await cn.getByLabel('标准用语（对方以其语言阅读）').selectOption('phrase.investigating');
    await tabTo(cn, cn.getByTestId('reply-text'));
    await cn.keyboard.type(REPLY_TEXT);
    await tabTo(cn, cn.getByRole('button', { name: '发送答复' }));
    await cn.keyboard.press('Enter');
    await cn.getByTestId('thread-reply').waitFor();
    await cn.screenshot({ path: join(ARTIFACTS, 'beijing-message-zh.png'), fullPage: true });

    // Washington's view of its report shows when it was acknowledged, and the reply.
    await us.getByTestId('thread-ack').waitFor();
    expect(await us.getByTestId('thread-ack').textContent()).toMatch(
      /Acknowledged by Beijing \/ ops.*UTC/,
    );
    await us.getByTestId('thread-reply').waitFor();
    expect(await us.getByTestId('thread-reply').textContent()).toContain(REPLY_TEXT);
    // The standard phrase Beijing chose reads in English here.
    expect(await us.getByTestId('thread-reply').textContent()).toContain('We are investigating.');
    await us.getByRole('link', { name: 'Board' }).click();
    expect(await us.locator('main').textContent()).toContain(
      'Every flash and immediate message we sent is acknowledged.',
    );
  }, 150_000);

  test('text from the other side renders as text: no script in it runs', async () => {
    const corpus = [
      '<script>window.__xss=1</script>',
      '<img src=x onerror="window.__xss=2">',
      '<svg onload="window.__xss=3"></svg>',
      'javascript:window.__xss=4',
      '"><iframe srcdoc="<script>parent.__xss=5</script>"></iframe>',
      '<a href="javascript:window.__xss=6">click</a>',
      '{{constructor.constructor("window.__xss=7")()}}',
    ];
    // Attachment names: the same markup without its slashes, which a release refuses in a name.
    const names = corpus.map((entry) => entry.replaceAll('/', ''));
    const response = await fetch(`${washington.base}/api/v1/messages`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${readToken(pair.us.dir)}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        to: ['cn'],
        message: draft({
          precedence: 'flash',
          status: 'test',
          text: { lang: 'en', body: corpus.join('\n') },
          attachments: names.map((name, i) =>
            makeAttachment(name, 'text/plain', new TextEncoder().encode(`attachment ${i}`)),
          ),
        }),
      }),
    });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };
    const cn = beijing.page;
    // In the alarm banner, the board, the message and its attachments.
    await cn.locator(`[data-alarm-key="msg:us/${id}"]`).waitFor();
    await cn.goto(`${beijing.base}/message/us/${id}`);
    await cn.getByTestId('original-text').waitFor();
    expect(await cn.getByTestId('original-text').textContent()).toBe(corpus.join('\n'));
    expect(await cn.locator('.attachment-name').allTextContents()).toEqual(names);
    expect(await cn.getByTestId('status-test').first().textContent()).toContain('测试');
    await cn.goto(`${beijing.base}/board`);
    await cn.locator('main table').nth(1).waitFor();
    expect(await cn.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBe(
      undefined,
    );
    expect(await cn.locator('main img, main iframe, main svg, main script').count()).toBe(0);
    await cn.screenshot({ path: join(ARTIFACTS, 'xss-zh.png') });
    // A second wall: the console's pages allow no script but the console's own files.
    const page = await fetch(`${beijing.base}/message/us/${id}`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self';");
    expect(page.headers.get('cache-control')).toBe('no-cache');
  }, 60_000);

  test('a dropped feed shows at once and loudly, and the console reconnects', async () => {
    const cn = beijing.page;
    await pair.stop(pair.cn);
    await cn.getByTestId('feed-down').waitFor({ timeout: 5000 });
    expect(await cn.getByTestId('feed-down').textContent()).toContain('实时推送已中断');
    await cn.screenshot({ path: join(ARTIFACTS, 'feed-down-zh.png') });
    await pair.start(pair.cn);
    await cn.getByTestId('feed-down').waitFor({ state: 'detached', timeout: 15_000 });
    expect(await cn.getByTestId('feed-state').getAttribute('class')).toContain('feed-up');
  }, 60_000);
});

describe('every page, in both languages', () => {
  test('passes axe-core with no violations, and is captured', async () => {
    const admin = await openConsole(browser, pair.us, {
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
    const page = admin.page;
    await page.goto(`${admin.base}/`);
    for (const lang of ['en', 'zh'] as const) {
      await page.locator('main.login select').selectOption(lang);
      await expect
        .poll(() => page.locator('main h1').textContent())
        .toBe(lang === 'en' ? 'Hotline console' : '热线控制台');
      expect(await axeScan(page), `login in ${lang}`).toEqual([]);
      await page.screenshot({ path: join(ARTIFACTS, `login-${lang}.png`) });
    }
    await signIn(page, admin.base, 'ada', PASSWORD, 'en');
    const pages = ['board', `message/us/${reportId}`, 'compose', 'duty', 'record', 'admin'];
    for (const lang of ['en', 'zh'] as const) {
      await page.locator('header select').selectOption(lang);
      for (const path of pages) {
        await page.goto(`${admin.base}/${path}`);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        const name = path.split('/')[0];
        expect(await page.locator('html').getAttribute('lang')).toBe(
          lang === 'zh' ? 'zh-CN' : 'en',
        );
        expect(await axeScan(page), `${name} in ${lang}`).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, `${name}-${lang}.png`), fullPage: true });
      }
    }
    await admin.context.close();
    // Fourteen axe-core scans: about 40 s on an idle 2-core machine, twice that under load.
  }, 180_000);
});
