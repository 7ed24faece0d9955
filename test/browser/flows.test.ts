/**
 * Presence checks and conference calls in Chromium, Washington in English (New York) and Beijing
 * in Chinese (Shanghai). Washington asks whether Beijing's principal is at the console; the
 * principal, alarmed in Beijing, answers 本人在岗 from the message; Washington reads the answer,
 * the desk, the person and both clocks. A second check nobody answers is escalated in Beijing.
 * Washington requests a call at two times, Beijing proposes a third, Washington accepts it: both
 * consoles show the same agreed time, a countdown and who joins.
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
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
import type { Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair(
    { us: [['walker', 'operator']], cn: [['wang', 'officer']] },
    // Each party's own time beside UTC.
    { timeZones: { us: 'America/New_York', cn: 'Asia/Shanghai' } },
    // Beijing names its people beside their desks.
    (party) => (party === 'cn' ? ({ access: { disclosePersons: true } } as never) : {}),
  ));
  const { roster } = (pair.cn.running as RunningNode).people;
  await roster.addDesk(dataFolderActor(), 'principal', 'Principal');
  await roster.putStaff(dataFolderActor(), 'principal', 'wang', [{ kind: 'console' }]);
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const washington = () =>
  openConsole(browser, pair.us, { locale: 'en-US', timezoneId: 'America/New_York' });
const beijing = () =>
  openConsole(browser, pair.cn, { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });

/** The id of the newest card of `kind` on the flows page. */
async function newest(page: Page, kind: 'presence' | 'conference'): Promise<string> {
  const card = page.getByTestId(`${kind}-list`).locator(':scope > li').first();
  await card.waitFor();
  return ((await card.getAttribute('data-testid')) as string).slice(kind.length + 1);
}

/** A `datetime-local` value `hours` from now, on the hour, in the page's own zone. */
const inHours = (page: Page, hours: number) =>
  page.evaluate((h) => {
    const d = new Date(Date.now() + h * 3_600_000);
    d.setMinutes(0, 0, 0);
    const p = (n: number) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:00`;
  }, hours);

test('a presence check answered in Beijing shows desk, person and both clocks in Washington', async () => {
  const w = await washington();
  const b = await beijing();
  await signIn(w.page, w.base, 'walker', PASSWORD, 'en');
  await signIn(b.page, b.base, 'wang', PASSWORD, 'zh');

  await w.page.getByRole('link', { name: 'Presence and calls', exact: true }).click();
  const ask = w.page.getByTestId('ask-presence');
  await ask.getByLabel('Desk asked for').fill('principal');
  await ask.getByLabel('Words (optional)').fill('Is your principal at the console?');
  await ask.getByRole('button', { name: 'Ask' }).click();
  await ask.getByText('Presence check sent.').waitFor();
  const id = await newest(w.page, 'presence');
  const card = w.page.getByTestId(`presence-${id}`);
  expect(await card.getByTestId('presence-waiting').textContent()).toContain(
    'Waiting for an answer.',
  );

  // Beijing: an immediate message waiting for a person sounds in the banner; its page offers the
  // two answers instead of Acknowledge.
  const item = b.page.locator(`[data-alarm-key="msg:us/${id}"]`);
  await item.waitFor({ timeout: 10_000 });
  await item.getByRole('button', { name: '打开' }).click();
  await b.page.waitForURL(`${b.base}/message/us/${id}`);
  expect(await b.page.getByTestId('acknowledge').count()).toBe(0);
  await b.page.getByTestId('presence-here').click();
  await b.page.getByTestId('presence-answered').getByText('答复已发出：在岗。').waitFor();
  await item.waitFor({ state: 'detached', timeout: 10_000 });

  // Washington reads who answered, from which desk, Beijing's time and its own.
  await expect.poll(() => card.getAttribute('data-state'), { timeout: 10_000 }).toBe('present');
  expect(await card.getByTestId('presence-answer').textContent()).toBe(
    'Present — answered by wang at the “principal” desk of Beijing',
  );
  const theirs = await card.getByTestId('answer-sent').locator('time').getAttribute('datetime');
  const ours = await card.getByTestId('answer-received').locator('time').getAttribute('datetime');
  expect(Date.parse(theirs as string)).toBeGreaterThan(0);
  expect(Date.parse(ours as string)).toBeGreaterThanOrEqual(Date.parse(theirs as string) - 5000);
  expect(await card.textContent()).toContain('Answered (their clock)');
  expect(await card.textContent()).toContain('Received here');
  // Each time in UTC, Washington's and Beijing's.
  for (const time of ['answer-sent', 'answer-received'])
    expect(await card.getByTestId(time).textContent()).toMatch(
      /UTC.*Washington \d{4}-\d\d-\d\d \d\d:\d\d E[SD]T.*Beijing \d{4}-\d\d-\d\d \d\d:\d\d GMT\+8/,
    );
  expect(await axeScan(w.page), 'flows page, English').toEqual([]);
  await w.page.screenshot({ path: join(ARTIFACTS, 'flows-presence-en.png'), fullPage: true });

  // In Beijing the check reads as answered by ourselves, in Chinese.
  await b.page.getByRole('link', { name: '在岗与会商', exact: true }).click();
  const there = b.page.getByTestId(`presence-${id}`);
  expect(await there.getByTestId('presence-answer').textContent()).toBe(
    '在岗——由北京“principal”席位的wang答复',
  );

  // A second check nobody answers: Beijing's ladder notifies its first desk at once.
  await ask.getByRole('button', { name: 'Ask' }).click();
  await expect.poll(() => newest(w.page, 'presence')).not.toBe(id);
  const second = await newest(w.page, 'presence');
  const escalated = b.page.locator(`[data-alarm-key="msg:us/${second}"]`);
  await escalated.waitFor({ timeout: 10_000 });
  await expect
    .poll(() => escalated.textContent(), { timeout: 10_000 })
    .toContain('升级通知：已通知 ops 席位');
  await expect
    .poll(
      () => b.page.getByTestId(`presence-${second}`).getByTestId('presence-waiting').textContent(),
      {
        timeout: 10_000,
      },
    )
    .toContain('我方已通知：“ops”席位（第 1 级）');
  expect(await axeScan(b.page), 'flows page, Chinese').toEqual([]);
  await b.page.screenshot({ path: join(ARTIFACTS, 'flows-presence-zh.png'), fullPage: true });

  // The boards: the unanswered check waits in Beijing, the answered one nowhere.
  await b.page.getByRole('link', { name: '总览', exact: true }).click();
  await b.page.locator(`main a[href="/message/us/${second}"]`).first().waitFor();
  expect(await b.page.locator(`main a[href="/message/us/${id}"]`).count()).toBe(0);
  await w.page.getByRole('link', { name: 'Board', exact: true }).click();
  await w.page.locator(`main a[href="/message/us/${second}"]`).first().waitFor();
  expect(await w.page.locator(`main a[href="/message/us/${id}"]`).count()).toBe(0);
  for (const c of [w, b]) await c.context.close();
}, 120_000);

test('a conference accepted after a counter-proposal shows the same agreed time on both sides', async () => {
  const w = await washington();
  const b = await beijing();
  await signIn(w.page, w.base, 'walker', PASSWORD, 'en');
  await signIn(b.page, b.base, 'wang', PASSWORD, 'zh');
  await w.page.goto(`${w.base}/flows`);
  await b.page.goto(`${b.base}/flows`);

  const form = w.page.getByTestId('request-conference');
  await form.getByLabel('Time 1').fill(await inHours(w.page, 3));
  await form.getByLabel('Time 2').fill(await inHours(w.page, 4));
  await form.getByLabel('Length (minutes)').fill('45');
  await form.getByLabel('Medium (e.g. secure video link)').fill('Secure video link');
  await form.getByRole('button', { name: 'Request' }).click();
  await form.getByText('Conference request sent.').waitFor();
  const id = await newest(w.page, 'conference');
  // Washington has nothing of Beijing's to answer yet: no answer is offered on its own request.
  const mine = w.page.getByTestId(`conference-${id}`);
  await mine.waitFor();
  expect(await mine.getByTestId('decline').count()).toBe(0);
  expect(await mine.getByTestId('propose').count()).toBe(0);

  // Beijing sees both times and proposes a third.
  const there = b.page.getByTestId(`conference-${id}`);
  await expect
    .poll(() => there.locator('[data-testid^="proposal-"][data-state="open"]').count(), {
      timeout: 10_000,
    })
    .toBe(2);
  expect(await there.getByTestId('conference-state').textContent()).toBe('待商定');
  await there.getByLabel('另提时间').fill(await inHours(b.page, 6));
  await there.getByTestId('propose').click();

  // Washington accepts Beijing's time.
  const here = w.page.getByTestId(`conference-${id}`);
  const counter = here.locator('.proposals > li').nth(2);
  await counter.getByTestId('accept').click({ timeout: 10_000 });
  await expect.poll(() => here.getAttribute('data-state'), { timeout: 10_000 }).toBe('agreed');
  await expect.poll(() => there.getAttribute('data-state'), { timeout: 10_000 }).toBe('agreed');

  const agreedAt = (card: typeof here) =>
    card.getByTestId('agreed-at').locator('time').getAttribute('datetime');
  const at = await agreedAt(here);
  expect(await agreedAt(there)).toBe(at);
  expect(await counter.getByTestId('proposal-at').locator('time').getAttribute('datetime')).toBe(
    at,
  );
  expect(await here.getByTestId('countdown').textContent()).toMatch(
    /^Starts in \d+ h \d\d min \d\d s$/,
  );
  expect(await there.getByTestId('countdown').textContent()).toMatch(
    /^距开始还有 \d+ h \d\d min \d\d s$/,
  );
  expect(await here.getByTestId('joining').locator('li').allTextContents()).toEqual([
    'Beijing / ops (wang)',
    'Washington / ops',
  ]);
  expect(await there.getByTestId('joining').locator('li').allTextContents()).toEqual([
    '北京 / ops（wang）',
    '华盛顿 / ops',
  ]);
  expect(await here.textContent()).toContain('45 minutes · Secure video link');
  // Beijing answered: none of Washington's times waits in its banner any more.
  for (const p of await there.locator('.proposals > li').all()) {
    const proposal = ((await p.getAttribute('data-testid')) as string).slice('proposal-'.length);
    await b.page
      .locator(`[data-alarm-key="msg:us/${proposal}"]`)
      .waitFor({ state: 'detached', timeout: 10_000 });
  }
  expect(await axeScan(w.page), 'agreed call, English').toEqual([]);
  expect(await axeScan(b.page), 'agreed call, Chinese').toEqual([]);
  await w.page.screenshot({ path: join(ARTIFACTS, 'flows-conference-en.png'), fullPage: true });
  await b.page.screenshot({ path: join(ARTIFACTS, 'flows-conference-zh.png'), fullPage: true });
  // On a phone (390 px) the page fits: nothing scrolls sideways.
  await b.page.setViewportSize({ width: 390, height: 844 });
  const wide = await b.page.evaluate(() => {
    const d = (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } })
      .document;
    return d.documentElement.scrollWidth;
  });
  expect(wide).toBeLessThanOrEqual(390);
  await b.page.screenshot({ path: join(ARTIFACTS, 'flows-phone-zh.png'), fullPage: true });
  for (const c of [w, b]) await c.context.close();
}, 120_000);
