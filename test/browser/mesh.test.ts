/**
 * The console with more than one recipient: Washington's party (p01) of a three-party mesh sends
 * one query to both others; p02's ops desk acknowledges it, p03's node only receives it. The
 * message page in p01's console shows each recipient on its own row: acknowledged by p02's desk,
 * received but not acknowledged by p03 — in English and in Chinese.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { OutboxItem, Released } from '../../src/protocol/views.ts';
import { axeScan, launchChromium, openConsole, signIn } from '../support/browser.ts';
import { createMesh, type Mesh, type Party } from '../support/mesh.ts';
import { draft, eventually } from '../support/pair.ts';

let mesh: Mesh;
let browser: Browser;

beforeAll(async () => {
  mesh = await createMesh(3);
  await mesh.startAll();
  browser = await launchChromium();
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await mesh?.close();
});

describe('per-recipient status of a message to two parties', () => {
  test('the sender sees who received and who acknowledged it', async () => {
    const [sender, acker, silent] = mesh.parties as [Party, Party, Party];
    const sent = await mesh.api<Released>(sender, 'POST', '/api/v1/messages', {
      to: [acker.party, silent.party],
      message: draft({ text: { lang: 'en', body: 'Can you confirm the outage on your side?' } }),
    });
    await eventually(
      async () => mesh.running(acker).store.getInbox(sender.party, sent.id),
      30_000,
      'the query at p02',
    );
    await mesh.api(acker, 'POST', `/api/v1/messages/${sender.party}/${sent.id}/ack`, {
      desk: 'ops',
    });
    await eventually(
      async () => {
        const rows = (
          await mesh.api<OutboxItem[]>(sender, 'GET', '/api/v1/outbox?limit=100')
        ).filter((r) => r.id === sent.id);
        const acked = rows.find((r) => r.to === acker.party)?.followup?.acknowledged;
        return rows.every((r) => r.status === 'receipted') && acked ? rows : undefined;
      },
      30_000,
      "p02's acknowledgement and both receipts at p01",
    );

    for (const [locale, lang, acked, received] of [
      ['en-US', 'en', 'acknowledged', 'received, not yet acknowledged'],
      ['zh-CN', 'zh', '已确认', '对方已接收，尚未确认'],
    ] as const) {
      const { context, page, base } = await openConsole(browser, sender, {
        locale,
        timezoneId: 'UTC',
      });
      await signIn(page, base, 'admin', sender.adminPassword, lang);
      await page.goto(`${base}/message/${sender.party}/${sent.id}`);
      const table = page.getByTestId('recipients');
      await table.waitFor();
      const row = (p: Party) => table.locator(`tr[data-party="${p.party}"]`);
      expect(await row(acker).getAttribute('data-state')).toBe('acknowledged');
      expect(await row(acker).textContent()).toContain(acked);
      expect(await row(acker).textContent()).toContain('ops');
      expect(await row(silent).getAttribute('data-state')).toBe('received');
      expect(await row(silent).textContent()).toContain(received);
      // Each recipient is named as its card names it, in the reader's language.
      expect(await row(silent).textContent()).toContain(lang === 'en' ? 'Party 3' : '第3方');
      if (lang === 'en') expect(await axeScan(page)).toEqual([]);
      await context.close();
    }
  }, 90_000);
});
