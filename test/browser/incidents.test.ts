import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  PASSWORD,
  signIn,
  tabTo,
} from '../support/browser.ts';
import type { Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;
let incident = '';

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [
      ['walker', 'operator'],
      ['olga', 'officer'],
      ['ada', 'admin'],
    ],
    cn: [
      ['li', 'operator'],
      ['zhao', 'admin'],
    ],
  }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const REPORT_TEXT = 'Frontier model weights exfiltrated; copies running on unknown hosts.';
const REPLY_TEXT = '已收到。我方正在核查相关主机，一小时内通报结果。';

const us = () => openConsole(browser, pair.us, { locale: 'en-US', timezoneId: 'America/New_York' });

describe('a held flash report, approved, acknowledged and answered', () => {
  test('two officers in Washington, one operator in Beijing, keyboard only in Beijing', async () => {
    const walker = await us();
    const olga = await us();
    const li = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(li.page, li.base, 'li', PASSWORD, 'zh');
    await signIn(walker.page, walker.base, 'walker', PASSWORD, 'en');
    await signIn(olga.page, olga.base, 'olga', PASSWORD, 'en');
    const cn = li.page;
    const author = walker.page;
    const officer = olga.page;
    await expect.poll(() => cn.getByTestId('feed-state').getAttribute('class')).toContain('up');

    // Washington's operator composes a real flash report: Compose says it will wait.
    await author.getByRole('link', { name: 'Compose' }).click();
    await author.locator('select[name=category]').selectOption({ index: 1 });
    await author.locator('textarea[name=text]').fill(REPORT_TEXT);
    expect(await author.getByTestId('approval-hint').textContent()).toContain(
      'will not be sent until a second officer approves it',
    );
    await author.getByRole('button', { name: 'Send', exact: true }).click();
    await author.waitForURL(/\/approvals\/[0-9a-f-]{36}$/);
    const draftId = author.url().split('/').pop() as string;
    await author.getByTestId('held-notice').waitFor();
    expect(await author.getByTestId('held-notice').textContent()).toContain('NOT sent');
    expect(await author.getByTestId(`draft-${draftId}`).textContent()).toContain(REPORT_TEXT);
    // Nothing reached Beijing.
    expect(await cn.locator('[data-alarm-key^="msg:us/"]').count()).toBe(0);

    // The second officer sees it on the board and approves it from the queue.
    await officer.getByTestId('board-drafts').getByRole('link').first().waitFor();
    await officer.getByRole('link', { name: 'Approvals' }).click();
    const card = officer.getByTestId(`draft-${draftId}`);
    await card.getByTestId('draft-note').fill('Confirmed with the grid operator.');
    await card.getByRole('button', { name: 'Approve and send' }).click();
    await officer.getByTestId('approvals-done').waitFor();
    expect(await officer.getByTestId('approvals-done').textContent()).toBe(
      'Approved: the message has been sent.',
    );
    await card.waitFor({ state: 'detached' });

    // The author opens the incident from the board; the page then follows the feed alone.
    await author.getByRole('link', { name: 'Board' }).click();
    await author.getByTestId('board-incidents').getByRole('link').first().click();
    await author.waitForURL(/\/incident\/[0-9a-f-]{36}$/);
    const ours = author.getByTestId('entry-incident.report');
    await ours.waitFor();
    expect(await ours.getByTestId('acknowledged').textContent()).toContain('not yet');

    // Beijing's console raises the alarm: one item for the message, saying its escalation step.
    const alarm = cn.locator('[data-alarm-key^="msg:us/"]');
    await alarm.waitFor();
    expect(await alarm.textContent()).toContain('来自华盛顿的特提消息');
    await expect.poll(() => alarm.textContent()).toContain('升级通知');
    expect(await cn.locator('[data-testid="alarm-banner"] li').count()).toBe(1);
    expect(await cn.getByTestId('alarm-banner').getAttribute('data-sounding')).toBe('true');
    const notified = await cn.evaluate(
      () => (globalThis as unknown as { __notifications: Array<{ tag: string }> }).__notifications,
    );
    expect(notified.some((n) => n.tag.startsWith('msg:us/'))).toBe(true);

    // Keyboard alone: from the board's open incidents to the incident, acknowledge, answer.
    const link = cn.getByTestId('board-incidents').getByRole('link').first();
    await link.waitFor();
    expect(await cn.getByTestId('board-incidents').textContent()).toContain('剩余');
    await cn.screenshot({ path: join(ARTIFACTS, 'board-countdown-zh.png'), fullPage: true });
    await tabTo(cn, link);
    await cn.keyboard.press('Enter');
    await cn.waitForURL(/\/incident\/[0-9a-f-]{36}$/);
    incident = cn.url().split('/').pop() as string;
    const report = cn.getByTestId('entry-incident.report');
    expect(await report.locator('.entry-text').textContent()).toBe(REPORT_TEXT);
    expect(await cn.getByTestId('incident-state').textContent()).toBe('已报告');
    await tabTo(cn, cn.getByTestId('incident-ack'));
    await cn.keyboard.press('Enter');
    await alarm.waitFor({ state: 'detached' });
    await expect.poll(() => report.getByTestId('acknowledged').textContent()).toContain('ops');
    await tabTo(cn, report.getByTestId('incident-reply'));
    await cn.keyboard.type(REPLY_TEXT);
    await tabTo(cn, report.getByRole('button', { name: '发送答复' }));
    await cn.keyboard.press('Enter');
    await cn.getByTestId('entry-reply').waitFor();

    // Washington's incident page, without a reload: acknowledged when and by which desk,
    // answered, the reply.
    expect(author.url()).toBe(`${walker.base}/incident/${incident}`);
    await expect.poll(() => ours.getByTestId('acknowledged').textContent()).toMatch(/UTC.*by ops/);
    await expect.poll(() => ours.getByTestId('answered').textContent()).toContain('UTC');
    await author.getByTestId('entry-reply').waitFor();
    expect(await author.getByTestId('entry-reply').textContent()).toContain(REPLY_TEXT);
    await author.screenshot({ path: join(ARTIFACTS, 'incident-acked-en.png'), fullPage: true });

    // Beijing asks for "investigating"; Washington, the owner, accepts; both show the new state.
    await cn.locator('select[name=state]').selectOption('investigating');
    await cn.getByRole('button', { name: '提交申请' }).click();
    const requests = author.getByTestId('requests');
    await requests.waitFor();
    expect(await requests.textContent()).toContain('asks to change the state to Investigating');
    await requests.getByRole('button', { name: 'Accept' }).click();
    await expect
      .poll(() => author.getByTestId('incident-state').textContent())
      .toBe('Investigating');
    await expect.poll(() => cn.getByTestId('incident-state').textContent()).toBe('调查中');

    // The officer retracts it (with a confirmation); Beijing sees the retraction above it.
    await officer.goto(`${olga.base}/incident/${incident}`);
    await officer.getByRole('button', { name: 'Retract this incident' }).click();
    await officer.getByLabel('Reason, e.g. false alarm').fill('False alarm: a scheduled backup.');
    await officer.locator('dialog').getByRole('button', { name: 'Retract this incident' }).click();
    await officer.getByTestId('retracted-banner').waitFor();
    await cn.getByTestId('retracted-banner').waitFor();
    expect(await cn.getByTestId('retracted-banner').textContent()).toContain('已撤回');
    const order = await cn
      .locator('[data-testid="entry-incident.retract"], [data-testid="entry-incident.report"]')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')));
    expect(order).toEqual(['entry-incident.retract', 'entry-incident.report']);
    expect(await cn.getByTestId('entry-incident.retract').textContent()).toContain(
      'False alarm: a scheduled backup.',
    );
    await cn.screenshot({ path: join(ARTIFACTS, 'incident-retracted-zh.png'), fullPage: true });
    for (const c of [walker, olga, li]) await c.context.close();
  }, 180_000);
});

describe('the new pages, in both languages', () => {
  test('pass axe-core with no violations, and are captured', async () => {
    const admin = await us();
    const page: Page = admin.page;
    await signIn(page, admin.base, 'ada', PASSWORD, 'en');
    // Ada's own flash report waits in the queue, so the queue is not empty.
    await page.goto(`${admin.base}/compose`);
    await page.locator('select[name=category]').selectOption({ index: 2 });
    await page.locator('textarea[name=text]').fill('Second report: the same hosts, new activity.');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    await page.waitForURL(/\/approvals\/[0-9a-f-]{36}$/);
    const draftId = page.url().split('/').pop() as string;
    const pages = ['board', `incident/${incident}`, 'approvals', 'drills'];
    for (const lang of ['en', 'zh'] as const) {
      await page.locator('header select').selectOption(lang);
      for (const path of pages) {
        await page.goto(`${admin.base}/${path}`);
        await page.locator('main h1').waitFor();
        await page.waitForLoadState('networkidle');
        const name = path.split('/')[0];
        expect(await axeScan(page), `${name} in ${lang}`).toEqual([]);
        const file = name === 'board' ? 'board-incidents' : name;
        await page.screenshot({ path: join(ARTIFACTS, `${file}-${lang}.png`), fullPage: true });
      }
    }

    // Her own draft: the node refuses, and the console says the node's sentence.
    await page.locator('header select').selectOption('en');
    await page.goto(`${admin.base}/approvals`);
    const card = page.getByTestId(`draft-${draftId}`);
    await card.getByRole('button', { name: 'Approve and send' }).click();
    await card.getByTestId('draft-error').waitFor();
    expect(await card.getByTestId('draft-error').textContent()).toMatch(/^E_SELF_APPROVAL: /);
    // Break-glass, with a reason, after a confirmation.
    await card.getByRole('button', { name: 'Break glass…' }).click();
    const dialog = card.locator('dialog');
    await dialog.locator('textarea').fill('No second officer reachable; the grid is at risk.');
    expect(await axeScan(page), 'break-glass dialog').toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'break-glass-en.png') });
    await dialog.getByRole('button', { name: 'Break glass and send now' }).click();
    await page.getByTestId('approvals-done').waitFor();
    expect(await page.getByTestId('approvals-done').textContent()).toContain('break-glass');
    await page.locator('[data-alarm-key^="alarm:"]', { hasText: 'break-glass' }).first().waitFor();

    // A drill from its template, counted at once in readiness.
    await page.getByRole('link', { name: 'Drills & readiness' }).click();
    const drill = page.getByTestId('template-exercise-flash');
    await drill.getByRole('button', { name: 'Send' }).click();
    await page.getByText('“Exercise flash report” sent.').waitFor();
    await expect
      .poll(() => page.getByTestId('readiness-cn').textContent())
      .toContain('0 tests, 1 drills');
    await admin.context.close();
  }, 180_000);
});
