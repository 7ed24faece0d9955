/**
 * History, search and the printable incident report in Chromium. Given Beijing reported an
 * incident in Chinese and closed it, Washington's officer finds it by a Chinese term on the
 * history page (the closed incident has left the board), opens its printable report (both
 * sides' timeline, the Chinese text, the closing state, the ledger checkpoint), and the print
 * stylesheet drops the console's frame. Beijing searches in Chinese for Washington's reply.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import {
  ARTIFACTS,
  axeScan,
  consolePair,
  openConsole,
  PASSWORD,
  signIn,
} from '../support/browser.ts';
import { draft, eventually, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [['olga', 'officer']],
    cn: [['li', 'operator']],
  }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const REPORT_TEXT = '前沿模型权重外泄，副本在未知主机上运行。';
const REPLY_TEXT = 'Received. We are blocking the hosts named in your report.';

const running = (site: Pair['us']) => site.running as RunningNode;

async function received(site: Pair['us'], from: string, id: string) {
  await eventually(async () => (await running(site).store.getInbox(from, id)) ?? undefined);
}

describe('history and search', () => {
  test('a closed incident is found by a Chinese term, and its report prints', async () => {
    const cn = running(pair.cn);
    const us = running(pair.us);
    const incident = uuidv7();
    const report = await cn.node.release(
      ['us'],
      draft({
        type: 'incident.report',
        incident,
        precedence: 'priority',
        status: 'exercise',
        text: { lang: 'zh', body: REPORT_TEXT },
        report: {
          nature: 'incident',
          category: 'category.weights-proliferation',
          actionsTaken: [],
          actionsRequested: [],
        },
      }),
    );
    await received(pair.us, 'cn', report.id);
    const reply = await us.node.release(
      ['cn'],
      draft({
        type: 'reply',
        incident,
        precedence: 'priority',
        status: 'exercise',
        inReplyTo: report.id,
        text: { lang: 'en', body: REPLY_TEXT },
        translations: [{ lang: 'zh', body: '已收到。我方正在封锁报告中列出的主机。' }],
      }),
    );
    const closed = await cn.node.release(
      ['us'],
      draft({
        type: 'state',
        incident,
        precedence: 'priority',
        status: 'exercise',
        inReplyTo: report.id,
        state: { to: 'closed', previous: null, request: false },
      }),
    );
    await received(pair.us, 'cn', closed.id);
    await received(pair.cn, 'us', reply.id);

    const olga = await openConsole(browser, pair.us, {
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
    const page = olga.page;
    await signIn(page, olga.base, 'olga', PASSWORD, 'en');
    // Closed: no longer among the board's open incidents.
    expect(await page.getByTestId('board-incidents').textContent()).not.toContain(incident);

    await page.getByRole('link', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'History and search' }).waitFor();
    await page.locator('input[name=q]').fill('主机');
    await page.locator('select[name=status]').selectOption('exercise');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = page.getByTestId(`hit-${report.id}`);
    await hit.waitFor();
    expect(await hit.textContent()).toContain(REPORT_TEXT);
    expect(await hit.getByTestId('hit-incident-state').textContent()).toBe('Closed');
    // Our reply is found by its sender's Chinese translation too.
    await page.getByTestId(`hit-${reply.id}`).waitFor();
    // A filter that excludes it: nothing.
    await page.locator('select[name=status]').selectOption('actual');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('Nothing found.').waitFor();
    await page.locator('select[name=status]').selectOption('exercise');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await hit.waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'history-en.png'), fullPage: true });
    expect(
      (await axeScan(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical'),
    ).toEqual([]);

    await hit.getByRole('link', { name: 'Printable report' }).click();
    await page.waitForURL(new RegExp(`/incident/${incident}/report$`));
    const printed = page.getByTestId('incident-report');
    await printed.waitFor();
    expect(await page.getByTestId('report-state').textContent()).toBe('Closed');
    expect(await page.getByTestId(`report-${report.id}`).textContent()).toContain(REPORT_TEXT);
    const ours = await page.getByTestId(`report-${reply.id}`).textContent();
    expect(ours).toContain(REPLY_TEXT);
    expect(ours).toContain('已收到。我方正在封锁报告中列出的主机。');
    expect(await page.getByTestId('report-covers').textContent()).toContain('covers every message');
    const note = (await page.getByTestId('report-checkpoint').textContent()) ?? '';
    expect(note.split('\n')[0]).toBe(us.ledger.origin);
    // Printed, the console's frame is gone and the report stays.
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('header.top').isVisible()).toBe(false);
    expect(await page.locator('.report-actions').isVisible()).toBe(false);
    expect(await printed.isVisible()).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'report-en.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
    // The JSON download is the report itself.
    const [file] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download JSON' }).click(),
    ]);
    expect(file.suggestedFilename()).toBe(`incident-${incident}.json`);

    // Beijing, in Chinese, finds Washington's reply by a Chinese term of its translation.
    const li = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(li.page, li.base, 'li', PASSWORD, 'zh');
    await li.page.getByRole('link', { name: '历史' }).click();
    await li.page.locator('input[name=q]').fill('封锁');
    await li.page.getByRole('button', { name: '搜索', exact: true }).click();
    const theirs = li.page.getByTestId(`hit-${reply.id}`);
    await theirs.waitFor();
    expect(await theirs.getByTestId('hit-translation').textContent()).toContain('发送方译文');
    expect(await theirs.getByTestId('hit-incident-state').textContent()).toBe('已关闭');
    await li.page.screenshot({ path: join(ARTIFACTS, 'history-zh.png'), fullPage: true });
    await theirs.getByRole('link', { name: '可打印报告' }).click();
    await li.page.getByTestId('incident-report').waitFor();
    await li.page.screenshot({ path: join(ARTIFACTS, 'report-zh.png'), fullPage: true });
    await olga.context.close();
    await li.context.close();
  }, 90_000);
});
