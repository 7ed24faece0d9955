/**
 * The night theme: chosen by the system (prefers-color-scheme) or the header's toggle; the alarm
 * banner stays red and the flash badge distinct; axe-core finds nothing in either language.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readToken } from '../../src/node/core/data.ts';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  PASSWORD,
  signIn,
} from '../support/browser.ts';
import { draft, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [['walker', 'officer']],
    cn: [['li', 'operator']],
  }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

/** The computed colour of `selector`'s `property`, as [r, g, b]. */
async function rgb(page: Page, selector: string, property: string): Promise<number[]> {
  const value = await page
    .locator(selector)
    .first()
    .evaluate(
      (el, p) =>
        (
          globalThis as unknown as {
            getComputedStyle(e: unknown): { getPropertyValue(p: string): string };
          }
        )
          .getComputedStyle(el)
          .getPropertyValue(p),
      property,
    );
  return (value.match(/\d+/g) ?? []).slice(0, 3).map(Number);
}

const dark = (c: number[]) => (c[0] ?? 255) + (c[1] ?? 255) + (c[2] ?? 255) < 150;

test('night theme: by the system and by the toggle, alarms red, axe-clean in both languages', async () => {
  const response = await fetch(`http://${pair.cn.operatorListen}/api/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${readToken(pair.cn.dir)}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      to: ['us'],
      message: draft({ precedence: 'flash', text: { lang: 'zh', body: '线路是否畅通？' } }),
    }),
  });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };

  const walker = await openConsole(browser, pair.us, {
    locale: 'en-US',
    timezoneId: 'America/New_York',
  });
  const page = walker.page;
  // Reduced motion stops the banner's blink, whose other half-second is a black border.
  await page.emulateMedia({ colorScheme: 'dark', reducedMotion: 'reduce' });
  await signIn(page, walker.base, 'walker', PASSWORD, 'en');
  await page.locator(`[data-alarm-key="msg:cn/${id}"]`).waitFor();
  // The system asks for dark: the page is dark, the banner's border red, its title light red.
  expect(dark(await rgb(page, 'body', 'background-color'))).toBe(true);
  const border = await rgb(page, 'section.alarms', 'border-top-color');
  expect((border[0] ?? 0) > 200 && (border[1] ?? 255) < 160).toBe(true);
  expect(await page.getByTestId('theme-toggle').getAttribute('aria-pressed')).toBe('true');
  await page.screenshot({ path: join(ARTIFACTS, 'night-board-en.png') });

  for (const lang of ['en', 'zh'] as const) {
    await page.locator('header select').selectOption(lang);
    for (const path of ['board', `message/cn/${id}`, 'compose', 'approvals']) {
      await page.goto(`${walker.base}/${path}`);
      await page.locator('main h1').waitFor();
      expect(await axeScan(page), `${path} at night in ${lang}`).toEqual([]);
    }
  }
  await page.screenshot({ path: join(ARTIFACTS, 'night-approvals-zh.png') });

  // The toggle overrides the system, and the choice stays after a reload.
  await page.getByTestId('theme-toggle').click();
  expect(dark(await rgb(page, 'body', 'background-color'))).toBe(false);
  await page.reload();
  await page.locator('main h1').waitFor();
  expect(dark(await rgb(page, 'body', 'background-color'))).toBe(false);
  expect(await page.getByTestId('theme-toggle').getAttribute('aria-pressed')).toBe('false');
  await walker.context.close();
}, 180_000);
