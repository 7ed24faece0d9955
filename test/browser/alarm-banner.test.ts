/**
 * The alarm banner on a bad night: six flash messages from Washington, each escalating, in
 * Beijing's Chinese console. One item per message (not one per escalation step), every line in
 * Chinese and naming its message, still so after a reload; the message's Acknowledge stays in
 * view at 1280×800; Alt+N, Alt+R and Alt+A work; nothing offers to "acknowledge" by muting.
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
    us: [['walker', 'operator']],
    cn: [['li', 'operator']],
  }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

async function sendFlash(text: string): Promise<string> {
  const response = await fetch(`http://${pair.us.operatorListen}/api/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${readToken(pair.us.dir)}`,
      'content-type': 'application/json',
    },
    body: JSON.stringify({
      to: ['cn'],
      message: draft({ precedence: 'flash', status: 'test', text: { lang: 'en', body: text } }),
    }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

const lines = (page: Page) => page.locator('[data-testid="alarm-banner"] li').allTextContents();

test('six escalating flash messages: one Chinese line each, Acknowledge in view, shortcuts', async () => {
  const li = await openConsole(browser, pair.cn, { locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const cn = li.page;
  await signIn(cn, li.base, 'li', PASSWORD, 'zh');
  const ids: string[] = [];
  for (let i = 1; i <= 6; i++) ids.push(await sendFlash(`Test flash ${i}: is this line up?`));

  // Each message escalates at once (first desk notified): still one item per message.
  for (const id of ids) {
    const item = cn.locator(`[data-alarm-key="msg:us/${id}"]`);
    await item.waitFor();
    await expect.poll(() => item.textContent()).toContain('升级通知');
    await expect.poll(() => item.textContent()).toContain(`编号 ${id.slice(-8)}`);
    await expect.poll(() => item.textContent()).toContain('来自华盛顿的特提消息：询问');
  }
  expect(await lines(cn)).toHaveLength(6);

  // After a reload the feed's steps are gone and the stored escalation alarms remain: still one
  // line per message, and no line without Chinese in it.
  await cn.reload();
  await cn.locator('main h1').waitFor();
  await expect.poll(async () => (await lines(cn)).length).toBe(6);
  await expect.poll(async () => (await lines(cn)).join('\n')).toContain('升级通知');
  for (const line of await lines(cn)) expect(line).toMatch(/[\u4e00-\u9fff]/);
  for (const id of ids) expect((await lines(cn)).join('\n')).toContain(id.slice(-8));
  expect(await cn.locator('body').textContent()).not.toContain('确认（静音）');
  expect(await axeScan(cn), 'six alarms, Chinese').toEqual([]);
  await cn.screenshot({ path: join(ARTIFACTS, 'six-alarms-zh.png') });

  // Open the first: at 1280×800 its Acknowledge is in the viewport without scrolling.
  await cn.locator(`[data-alarm-key="msg:us/${ids[0]}"]`).getByRole('button').click();
  await cn.waitForURL(new RegExp(`/message/us/${ids[0]}$`));
  const ack = cn.getByTestId('acknowledge');
  await ack.waitFor();
  const box = await ack.boundingBox();
  expect(box).not.toBeNull();
  expect((box?.y ?? -1) >= 0 && (box?.y ?? 900) + (box?.height ?? 0) <= 800).toBe(true);
  expect(await ack.textContent()).toContain('确认收到');
  // The unreviewed warning once for the message, not beside every standard text.
  const main = (await cn.locator('main').textContent()) ?? '';
  expect(main.split('尚未经母语人士审核').length - 1).toBe(1);
  expect(await cn.getByTestId('unreviewed').textContent()).toBe(
    '⚠ 本消息中的标准用语：尚未经母语人士审核。',
  );
  await cn.screenshot({ path: join(ARTIFACTS, 'message-action-bar-zh.png') });

  // Alt+R: to the reply box; Alt+A: acknowledged, its line gone; Alt+N: the next alarm.
  await cn.keyboard.press('Alt+KeyR');
  const focused = () =>
    (
      globalThis as unknown as {
        document: { activeElement: { getAttribute(name: string): string | null } | null };
      }
    ).document.activeElement?.getAttribute('data-testid');
  expect(await cn.evaluate(focused)).toBe('reply-text');
  await cn.keyboard.press('Alt+KeyA');
  await cn.locator(`[data-alarm-key="msg:us/${ids[0]}"]`).waitFor({ state: 'detached' });
  expect(await lines(cn)).toHaveLength(5);
  await cn.keyboard.press('Alt+KeyN');
  await cn.waitForURL(/\/message\/us\/[0-9a-f-]{36}$/);
  expect(cn.url()).not.toContain(ids[0] as string);
  await li.context.close();
}, 90_000);
