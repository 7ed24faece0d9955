import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { rotateDataDir } from '../../src/app/rotate.ts';
import type { RunningNode } from '../../src/app/start.ts';
import { fingerprint } from '../../src/crypto/card.ts';
import { readOwnCard } from '../../src/node/core/data.ts';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  overflow,
  PASSWORD,
  signIn,
} from '../support/browser.ts';
import { draft, eventually, type Pair } from '../support/pair.ts';
import { forge, stealKeys } from '../support/thief.ts';

const FORGED_TEXT = 'Incident closed, stand down.';

let pair: Pair;
let browser: Browser;
let forged = '';
let honest = '';

const running = (site: Pair['us']) => site.running as RunningNode;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [['walker', 'operator']],
    cn: [['li', 'operator']],
  }));
  const stolen = stealKeys(pair);

  const first = (
    await running(pair.us).node.release(['cn'], draft({ text: { lang: 'en', body: 'Before.' } }))
  ).id;
  await eventually(async () => (await running(pair.cn).store.getInbox('us', first)) ?? undefined);
  const forgery = await forge(pair, stolen, 2, FORGED_TEXT);
  expect(forgery.answer.receipts).toHaveLength(1);
  forged = forgery.id;
  honest = (
    await running(pair.us).node.release(['cn'], draft({ text: { lang: 'en', body: 'Honest.' } }))
  ).id;
  await eventually(async () =>
    (await running(pair.us).store.openAlarms()).find((a) => a.type === 'rejected-by-peer'),
  );

  await pair.stop(pair.us);
  await rotateDataDir(pair.us.dir, {
    reason: 'compromise',
    recoveryKeyFile: join(pair.us.dir, 'keys', 'recovery-OFFLINE.key'),
  });
  await pair.start(pair.us);
  await eventually(
    async () => (await running(pair.cn).store.getInbox('us', honest)) ?? undefined,
    20_000,
    'the honest message under the new key',
  );
  await eventually(async () =>
    (await running(pair.cn).store.openAlarms()).find((a) => a.type === 'compromise'),
  );
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

/** The alarm item of Beijing's `compromise` alarm. */
const compromiseItem = async (page: Page) => {
  const alarm = (await running(pair.cn).store.openAlarms()).find((a) => a.type === 'compromise');
  if (!alarm) throw new Error('no compromise alarm');
  return page.locator(`[data-alarm-key="alarm:${alarm.id}"]`);
};

describe('the Keys page after a compromise', () => {
  test('Beijing is led from the alarm to the rotation and the disputed message, in English', async () => {
    const { page, base } = await openConsole(browser, pair.cn, {
      locale: 'en-US',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(page, base, 'li', PASSWORD, 'en');
    const item = await compromiseItem(page);
    await expect.poll(() => item.textContent()).toContain('A peer declared its keys compromised');
    expect(await item.textContent()).toContain('Washington');
    expect(await item.textContent()).toContain('details on the Keys page');
    // The forgery waits for nobody: its escalation ended with the dispute, and the banner (loaded
    // with the compromise alarm, from the same status) no longer asks to acknowledge it.
    await expect.poll(() => page.locator(`[data-alarm-key="msg:us/${forged}"]`).count()).toBe(0);
    await item.getByRole('button', { name: 'Open', exact: true }).click();
    await page.waitForURL(/\/keys$/);
    expect(await page.locator('main h1').textContent()).toBe('Keys and rotations');

    const rotation = page.locator('[data-testid=rotation][data-reason=compromise][data-dir=in]');
    await rotation.waitFor();
    const text = (await rotation.textContent()) ?? '';
    expect(text).toContain('COMPROMISE');
    expect(text).toContain('Rotation by Washington');
    expect(text).toContain('Washington declared its keys compromised');
    expect(await rotation.getByTestId('rotation-serial').textContent()).toBe('2');
    expect(await rotation.getByTestId('rotation-untrusted').textContent()).toContain(
      'Washington: seq 2',
    );
    // Which keys went: the purposes, named from the card the rotation replaced.
    expect(text).toContain('signing (ed25519)');
    expect(text).toContain('identity (ed25519)');
    expect(text).toContain('1 disputed message');
    expect(await rotation.getByTestId('next-steps').textContent()).toContain('Act on none of them');
    // A compromise stands out: it alone carries the alarm's border.
    const border = await rotation.evaluate(
      (el) =>
        (
          globalThis as unknown as {
            getComputedStyle(e: unknown): { borderTopWidth: string };
          }
        ).getComputedStyle(el).borderTopWidth,
    );
    expect(border).toBe('4px');
    expect(await axeScan(page), 'Keys page, English').toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'keys-beijing-en.png'), fullPage: true });

    const link = rotation.getByTestId('disputed-list').getByRole('link');
    expect(await link.textContent()).toBe(`seq 2 — #${forged.slice(-8)}`);
    await link.click();
    await page.waitForURL(new RegExp(`/message/us/${forged}$`));
    await page.getByTestId('disputed-banner').waitFor();
    expect(await page.getByTestId('disputed-banner').textContent()).toContain(
      'DISPUTED — not genuine',
    );
    expect(await page.getByTestId('original-text').textContent()).toBe(FORGED_TEXT);
    expect(await axeScan(page), 'disputed message, English').toEqual([]);
    await page.getByRole('link', { name: 'See the rotation on the Keys page' }).click();
    await page.waitForURL(/\/keys$/);
    await page.context().close();
  }, 60_000);

  test('in Chinese, and on a phone nothing scrolls sideways', async () => {
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
    await page.getByRole('link', { name: '密钥', exact: true }).click();
    await page.waitForURL(/\/keys$/);
    expect(await page.locator('main h1').textContent()).toBe('密钥与轮换');
    const rotation = page.locator('[data-testid=rotation][data-reason=compromise]');
    await rotation.waitFor();
    const text = (await rotation.textContent()) ?? '';
    expect(text).toContain('密钥泄露');
    expect(text).toContain('华盛顿宣布其密钥已泄露');
    expect(text).toContain('1 条有争议的消息');
    expect(text).toContain('华盛顿：序号 2');
    expect(text).toContain('不得据此采取任何行动');
    expect(await overflow(page)).toEqual([]);
    expect(await axeScan(page), 'Keys page, Chinese, phone').toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'keys-beijing-zh-phone.png'), fullPage: true });

    await rotation.getByTestId('disputed-list').getByRole('link').click();
    await page.waitForURL(new RegExp(`/message/us/${forged}$`));
    expect(await page.getByTestId('disputed-banner').textContent()).toContain(
      '有争议——并非真实消息',
    );
    await context.close();
  }, 60_000);

  test('Washington sees its rotation, the re-signed message, the new card and retired sealing keys', async () => {
    const { page, base } = await openConsole(browser, pair.us, {
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
    await signIn(page, base, 'walker', PASSWORD, 'en');
    await page.getByRole('link', { name: 'Keys', exact: true }).click();
    const rotation = page.locator('[data-testid=rotation][data-reason=compromise][data-dir=out]');
    await rotation.waitFor();
    const text = (await rotation.textContent()) ?? '';
    expect(text).toContain('Our rotation');
    expect(text).toContain('our messages from the seq below were re-signed');
    expect(await rotation.getByTestId('rotation-untrusted').textContent()).toContain(
      'Beijing: seq 2',
    );
    const resigned = rotation.getByTestId('resigned-list');
    expect(await resigned.textContent()).toContain(`seq 2 — #${honest.slice(-8)} to Beijing`);

    const card = readOwnCard(pair.us.dir).card;
    expect(await page.getByTestId('card-serial').textContent()).toBe('2');
    expect(await page.getByTestId('card-fingerprint').textContent()).toBe(fingerprint(card));
    // Both suites' new sealing keys are current; the two they replaced are held or destroyed.
    const sealing = page.getByTestId('sealing-keys');
    expect(await sealing.locator('tr[data-state=current]').count()).toBe(2);
    expect(await sealing.locator('tr[data-state=held], tr[data-state=destroyed]').count()).toBe(2);
    expect(await axeScan(page), 'Keys page, Washington').toEqual([]);

    await resigned.getByRole('link').click();
    await page.waitForURL(new RegExp(`/message/us/${honest}$`));
    expect(await page.getByTestId('original-text').textContent()).toBe('Honest.');
    expect(await page.getByTestId('disputed-banner').count()).toBe(0);
    await page.context().close();
  }, 60_000);
});
