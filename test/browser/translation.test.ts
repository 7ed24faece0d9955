/**
 * Translation in the console, in Chromium. Given Washington sent Beijing an immediate report,
 * when Beijing's operator replies in Chinese with her own English translation, Washington's
 * alarm banner shows the English, marked as the sender's translation. When a second reply comes
 * in Chinese only, Washington's banner shows the Chinese until an officer asks the configured
 * machine-translation endpoint (a LibreTranslate stand-in on loopback); then the message page
 * and the banner show the English, marked as a machine translation.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { ARTIFACTS, consolePair, openConsole, PASSWORD, signIn } from '../support/browser.ts';
import { draft, eventually, type Pair } from '../support/pair.ts';
import { startTranslateServer, type TranslateServer } from '../support/translate-server.ts';

let pair: Pair;
let browser: Browser;
let mt: TranslateServer;

beforeAll(async () => {
  mt = await startTranslateServer();
  ({ pair, browser } = await consolePair(
    { us: [['olga', 'officer']], cn: [['li', 'operator']] },
    {},
    (party) =>
      party === 'us'
        ? { machineTranslation: { url: mt.url, name: 'libre-test', timeoutMs: 5000 } }
        : {},
  ));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
  await mt?.close();
});

const REPLY_ZH = '已收到。我方已隔离相关主机。';
const REPLY_EN = 'Received. We have isolated the hosts concerned.';
const MACHINE_ZH = '我方正在调查该系统的异常行为。';
const MACHINE_EN = 'We are investigating the abnormal behaviour of the system.';

const running = (site: Pair['us']) => site.running as RunningNode;

describe('translation in the console', () => {
  test('a Chinese reply shows the English translation in Washington', async () => {
    const report = await running(pair.us).node.release(
      ['cn'],
      draft({
        type: 'query',
        precedence: 'immediate',
        status: 'exercise',
        text: { lang: 'en', body: 'Are the hosts in your network isolated?' },
      }),
    );
    await eventually(
      async () => (await running(pair.cn).store.getInbox('us', report.id)) ?? undefined,
    );

    const li = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    const olga = await openConsole(browser, pair.us, {
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
    await signIn(li.page, li.base, 'li', PASSWORD, 'zh');
    await signIn(olga.page, olga.base, 'olga', PASSWORD, 'en');

    // Beijing answers in Chinese and gives her own English translation.
    await li.page.goto(`${li.base}/message/us/${report.id}`);
    await li.page.getByTestId('reply-text').fill(REPLY_ZH);
    await li.page.getByTestId('reply-translation').fill(REPLY_EN);
    await li.page.screenshot({ path: join(ARTIFACTS, 'reply-translation-zh.png'), fullPage: true });
    await li.page.getByRole('button', { name: '发送答复' }).click();
    await li.page.getByText('答复已发出。').first().waitFor();

    const first = olga.page.locator('[data-alarm-key^="msg:cn/"]').first();
    await first.waitFor();
    await expect
      .poll(() => first.textContent())
      .toContain(`${REPLY_EN} (Translation by the sender)`);

    // A reply in Chinese only: the banner has nothing better than the Chinese …
    const second = await running(pair.cn).node.release(
      ['us'],
      draft({
        type: 'reply',
        inReplyTo: report.id,
        precedence: 'immediate',
        status: 'exercise',
        text: { lang: 'zh', body: MACHINE_ZH },
      }),
    );
    const item = olga.page.locator(`[data-alarm-key="msg:cn/${second.id}"]`);
    // The item may appear from the escalation notice a moment before the message's text is read.
    await expect.poll(() => item.textContent()).toContain(MACHINE_ZH);
    // … until Washington asks the machine, from the message page.
    await olga.page.goto(`${olga.base}/message/cn/${second.id}`);
    await olga.page.getByTestId('machine-translate').click();
    const machine = olga.page.getByTestId('local-translation-machine');
    await machine.waitFor();
    expect(await machine.textContent()).toContain(MACHINE_EN);
    expect(await machine.textContent()).toContain('libre-test');
    await expect
      .poll(() => item.textContent())
      .toContain(`${MACHINE_EN} (machine translation by libre-test)`);
    expect(mt.requests).toEqual([
      expect.objectContaining({ q: MACHINE_ZH, source: 'zh', target: 'en' }),
    ]);
    await olga.page.screenshot({ path: join(ARTIFACTS, 'translation-en.png'), fullPage: true });
    await li.context.close();
    await olga.context.close();
  }, 90_000);
});
