/**
 * Alarm lines in the reader's language, from structured data, and Acknowledge on the incident
 * page. Beijing names its ops desk 值班台 / "Operations desk" (deskLabels). Li has the Chinese
 * console open when Washington's flash arrives: the banner says the desk by its Chinese name.
 * After a reload, the board's own alarm list — the escalation and a clock-skew fault — reads in
 * Chinese with none of the node's English sentences. On the incident page, Acknowledge stays in
 * the sticky action bar, in view, and acknowledging there reaches Washington.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { ARTIFACTS, consolePair, openConsole, PASSWORD, signIn } from '../support/browser.ts';
import { draft, eventually, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({ us: [['olga', 'officer']], cn: [['li', 'operator']] }, {
    deskLabels: { ops: { en: 'Operations desk', zh: '值班台' } },
  } as never));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const running = (site: Pair['us']) => site.running as RunningNode;
const INCIDENT = '01937a8e-4f00-7000-8000-00000000d35c';

describe('alarm lines and the incident’s action bar', () => {
  test('desk names and the board’s alarms in Chinese; Acknowledge in view on the incident', async () => {
    const { context, page, base } = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(page, base, 'li', PASSWORD, 'zh');
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
    // The banner's line names the desk in Chinese, not by its id.
    const item = page.locator(`[data-alarm-key="msg:us/${report.id}"]`);
    await item.getByText('值班台').waitFor();
    expect(await item.textContent()).not.toMatch(/\bops\b/);

    // A fault beside it; then a reload, when only stored alarms remain.
    await running(pair.cn).alarms.raise('skew', 'us', 'clock skew of 93 s with us (policy 30 s)');
    await page.reload();
    await page.locator('main h1').waitFor();
    const cards = page.locator('.alarm-card');
    await eventually(async () => ((await cards.count()) >= 2 ? true : undefined));
    const stored = await running(pair.cn).store.openAlarms({ limit: 50 });
    const lines = await cards.allTextContents();
    for (const line of lines) {
      expect(line).toMatch(/[\u4e00-\u9fff]/);
      for (const a of stored) expect(line).not.toContain(a.message);
    }
    expect(lines.join('\n')).toContain('华盛顿');
    expect(lines.some((l) => l.includes(report.id.slice(-8)))).toBe(true);
    await page.locator('.alarm-card').first().scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'board-alarms-zh.png') });

    // The incident page: Acknowledge sits in the sticky bar, in view at 1280×800.
    await page.goto(`${base}/incident/${INCIDENT}`);
    const ack = page.getByTestId('action-bar').getByTestId('acknowledge');
    await ack.waitFor();
    const box = await ack.boundingBox();
    expect(box).not.toBeNull();
    expect((box?.y ?? 0) + (box?.height ?? 0)).toBeLessThanOrEqual(800);
    expect(await ack.textContent()).toContain(report.id.slice(-8));
    await page.screenshot({ path: join(ARTIFACTS, 'incident-action-bar-zh.png') });
    await ack.click();
    const acked = await eventually(async () => {
      const rows = await running(pair.us).followups.ofMessages([report.id]);
      return rows.find((f) => f.acked_at)?.acked_desk ?? undefined;
    });
    expect(acked).toBe('ops');
    await page.getByTestId('action-bar').waitFor({ state: 'detached' });
    await context.close();

    // In English, the same desk reads as its English name on the incident's escalation list.
    const en = await openConsole(browser, pair.cn, {
      locale: 'en-US',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(en.page, en.base, 'li', PASSWORD, 'en');
    await en.page.goto(`${en.base}/incident/${INCIDENT}`);
    await en.page.locator('details').filter({ hasText: 'Operations desk' }).first().waitFor();
    await en.page.screenshot({ path: join(ARTIFACTS, 'incident-en.png') });
    await en.context.close();
  }, 90_000);
});
