/**
 * Dates nobody misreads: a New York reader sees `2026-12-05 12:04 EST`, never `05/12/2026`, with
 * UTC and Beijing's local time beside it, on a message and on the board clock.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { readToken } from '../../src/node/core/data.ts';
import { ARTIFACTS, consolePair, openConsole, PASSWORD, signIn } from '../support/browser.ts';
import { draft, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair(
    { us: [['walker', 'operator']], cn: [['li', 'operator']] },
    { timeZones: { us: 'America/New_York', cn: 'Asia/Shanghai' } },
  ));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const DAY = /\d{4}-\d\d-\d\d \d\d:\d\d/;

/** `iso` shifted by `hours`, as `YYYY-MM-DD HH:MM` (New York is UTC−5 and Beijing UTC+8 in December). */
function shifted(iso: string, hours: number): string {
  const d = new Date(Date.parse(iso) + hours * 3_600_000).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)}`;
}

test('a New York reader: ISO dates with zone names, both sides and UTC', async () => {
  const walker = await openConsole(browser, pair.us, {
    locale: 'en-US',
    timezoneId: 'America/New_York',
  });
  const page = walker.page;
  await signIn(page, walker.base, 'walker', PASSWORD, 'en');
  const clock = page.getByTestId('board-clock');
  await expect.poll(() => clock.textContent()).toContain('Beijing');
  expect(await clock.textContent()).toMatch(
    new RegExp(
      `^${DAY.source} UTC · Washington ${DAY.source} E[SD]T · Beijing ${DAY.source} GMT\\+8$`,
    ),
  );

  const response = await fetch(`${walker.base}/api/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${readToken(pair.us.dir)}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({ to: ['cn'], message: draft({ precedence: 'priority' }) }),
  });
  expect(response.status).toBe(201);
  const { id } = (await response.json()) as { id: string };
  await page.goto(`${walker.base}/message/us/${id}`);
  const sent = page.locator('main time').first();
  await sent.waitFor();
  // Read in one go: a later render may put another time (the deadline) first.
  const [iso, utc, local] = await sent.evaluate(
    (el) =>
      [
        el.getAttribute('datetime') as string,
        el.querySelector('.utc')?.textContent,
        [...el.querySelectorAll('.local')].map((l) => l.textContent),
      ] as const,
  );
  expect(utc).toBe(`${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`);
  expect(local).toEqual([`Washington ${shifted(iso, -5)} EST`, `Beijing ${shifted(iso, 8)} GMT+8`]);
  expect(await page.locator('main').textContent()).not.toMatch(/\d\d\/\d\d\/\d{4}/);
  await page.screenshot({ path: join(ARTIFACTS, 'dates-en.png') });
  await walker.context.close();
}, 90_000);
