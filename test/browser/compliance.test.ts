/**
 * The compliance board in both languages: Washington's operator sends, from the console, an
 * advance notice of a training run only ten days ahead (the regime asks thirty), and sees it late
 * on the board; Beijing's operator, reading in Chinese, sees the same obligation late, named in
 * Chinese, beside the annual obligations both sides still owe.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  PASSWORD,
  signIn,
} from '../support/browser.ts';
import type { Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [['walker', 'operator']],
    cn: [['li', 'operator']],
  }));
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

test('a late advance notice shows as late on both boards, in English and in Chinese', async () => {
  const us = await openConsole(browser, pair.us, { locale: 'en-US', timezoneId: 'UTC' });
  await signIn(us.page, us.base, 'walker', PASSWORD, 'en');
  const walker = us.page;
  await walker.getByRole('link', { name: 'Compliance' }).click();
  await walker.getByRole('heading', { name: 'Notifications and compliance' }).waitFor();
  // Nothing sent yet: each side owes the annual exchange and the affirmation, not yet due.
  await expect
    .poll(() => walker.getByTestId('compliance-us').locator('td').allTextContents())
    .toEqual(['2', '0', '0', '0']);

  const form = walker.getByTestId('notify-form');
  await form.getByLabel('Type').selectOption('regime.training-run');
  await form.getByLabel('Planned start').fill(day(10));
  await form.getByLabel('Developer').fill('Lab A');
  await form.getByLabel('Training compute (FLOP)').fill('3e26');
  await form.getByLabel('Agreed threshold (FLOP)').fill('1e26');
  await form.getByRole('button', { name: 'Send notification' }).click();
  await walker
    .getByRole('status')
    .filter({ hasText: 'Sent: Advance notice of a training run' })
    .waitFor();
  const late = walker.locator('[data-testid=obligation][data-state=late]');
  await late.waitFor();
  expect(await late.textContent()).toContain('Advance notice of a training run');
  expect(await late.textContent()).toContain('Late');
  expect(await walker.getByTestId('compliance-us').locator('td').allTextContents()).toEqual([
    '2',
    '0',
    '1',
    '0',
  ]);
  expect(await axeScan(walker)).toEqual([]);
  await walker.screenshot({ path: join(ARTIFACTS, 'compliance-en.png'), fullPage: true });

  const cn = await openConsole(browser, pair.cn, { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  await signIn(cn.page, cn.base, 'li', PASSWORD, 'zh');
  const li = cn.page;
  await li.getByRole('link', { name: '通报合规' }).click();
  await li.getByRole('heading', { name: '通报与合规情况' }).waitFor();
  const theirs = li.locator('[data-testid=obligation][data-state=late]');
  await theirs.waitFor({ timeout: 10_000 });
  expect(await theirs.textContent()).toContain('超过算力阈值的训练任务事先通报');
  expect(await theirs.textContent()).toContain('逾期');
  // The same table on both sides: the same obligations in the same states.
  const states = async (page: typeof li) =>
    page
      .locator('[data-testid=obligation]')
      .evaluateAll((rows) =>
        rows.map((r) => (r as unknown as { dataset: { state: string } }).dataset.state),
      );
  expect(await states(li)).toEqual(await states(walker));
  expect(await li.getByTestId('compliance-us').locator('td').allTextContents()).toEqual([
    '2',
    '0',
    '1',
    '0',
  ]);
  expect(await li.getByRole('columnheader').allTextContents()).toContain('已获确认');
  expect(await axeScan(li)).toEqual([]);
  await li.screenshot({ path: join(ARTIFACTS, 'compliance-zh.png'), fullPage: true });
  // On a phone the board and the form stay within the screen (wide tables scroll in their box).
  await li.setViewportSize({ width: 390, height: 844 });
  const width = () =>
    li.evaluate(
      () =>
        (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
          .document.documentElement.scrollWidth,
    );
  expect(await width()).toBeLessThanOrEqual(390);
  await li.setViewportSize({ width: 1280, height: 800 });
  // The notice itself, on the Message page: its fields labelled in Chinese.
  await theirs.getByRole('link', { name: '查看' }).click();
  const fields = li.getByTestId('notification');
  await fields.waitFor();
  expect(await fields.textContent()).toContain('训练算力（FLOP）');
  expect(await fields.textContent()).toContain('3e+26');
}, 120_000);
