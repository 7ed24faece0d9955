/**
 * A flash report held by the two-person rule is an alarm: the officer's console sounds, shows it
 * in the banner and counts it on the Approvals link within 2 seconds; its author reads what
 * became of it (held, approved by whom and released as which seq, or rejected with the note).
 */
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
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
    us: [
      ['walker', 'operator'],
      ['olga', 'officer'],
    ],
    cn: [['li', 'operator']],
  }));
}, 150_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

const us = () => openConsole(browser, pair.us, { locale: 'en-US', timezoneId: 'America/New_York' });

/** The author composes a flash report (held by the default rule); answers the draft's id. */
async function composeFlash(author: Page, text: string, full = false): Promise<string> {
  await author.getByRole('link', { name: 'Compose' }).click();
  await author.locator('select[name=category]').selectOption({ index: 1 });
  await author.locator('textarea[name=text]').fill(text);
  if (full) {
    await author.locator('select[name=severity]').selectOption('severity.severe');
    await author.locator('select[name=tlp]').selectOption('amber');
    await author.getByLabel('Share technical indicators').check();
    await author.locator('input[type=file]').setInputFiles({
      name: 'hosts.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('203.0.113.7\n203.0.113.8\n'),
    });
    await author.getByText('hosts.txt').first().waitFor();
  }
  await author.getByRole('button', { name: 'Send', exact: true }).click();
  await author.waitForURL(/\/approvals\/[0-9a-f-]{36}$/);
  return author.url().split('/').pop() as string;
}

const tones = (page: Page) =>
  page.evaluate(
    () => (globalThis as unknown as { __notifications: Array<{ tag: string }> }).__notifications,
  );

test('a held flash sounds at the officer’s console at once; the author sees its fate', async () => {
  const walker = await us();
  const olga = await us();
  await signIn(walker.page, walker.base, 'walker', PASSWORD, 'en');
  await signIn(olga.page, olga.base, 'olga', PASSWORD, 'en');
  const author = walker.page;
  const officer = olga.page;
  await expect.poll(() => officer.getByTestId('feed-state').getAttribute('class')).toContain('up');
  expect(await officer.getByTestId('approvals-count').count()).toBe(0);

  const first = await composeFlash(author, 'Model weights exfiltrated; hosts unknown.', true);
  const held = Date.now();
  // Within 2 s: the banner item, sounding, a notification and the count on the Approvals link.
  const item = officer.locator(`[data-alarm-key="draft:${first}"]`);
  await item.waitFor({ timeout: 2000 });
  expect(Date.now() - held).toBeLessThan(2000);
  expect(await item.textContent()).toContain(
    'Held for your approval: Flash incident report to Beijing, written by walker (ops)',
  );
  expect(await officer.getByTestId('alarm-banner').getAttribute('data-sounding')).toBe('true');
  expect((await tones(officer)).map((n) => n.tag)).toContain(`draft:${first}`);
  expect(await officer.getByTestId('approvals-count').textContent()).toContain('1');
  // The author is not alarmed by their own draft; they read that it is held.
  expect(await author.locator(`[data-alarm-key="draft:${first}"]`).count()).toBe(0);
  expect(
    await author.getByTestId(`my-draft-${first}`).getByTestId('draft-state').textContent(),
  ).toBe('Held: waiting for a second officer. Nothing has been sent.');
  await officer.screenshot({ path: join(ARTIFACTS, 'held-alarm-en.png') });
  expect(await axeScan(officer), 'officer with a held draft').toEqual([]);

  // A second held draft: two items, the count says 2.
  const second = await composeFlash(author, 'Second report: a false positive, we think.');
  await officer.locator(`[data-alarm-key="draft:${second}"]`).waitFor({ timeout: 2000 });
  expect(await officer.getByTestId('approvals-count').textContent()).toContain('2');

  // The officer opens the first from the banner and approves it; the author reads by whom and
  // as which seq it left.
  await item.getByRole('button', { name: 'Open' }).click();
  await officer.waitForURL(`${olga.base}/approvals/${first}`);
  expect(await officer.getByTestId('held-notice').count()).toBe(0);
  const card = officer.getByTestId(`draft-${first}`);
  // The whole message as it will leave: severity, requested actions, TLP, the attachment…
  const fields = card.getByTestId('draft-fields');
  expect(await fields.getByTestId('field-severity').textContent()).toBe('Severe');
  expect(await fields.getByTestId('field-requested').textContent()).toBe(
    'Share technical indicators',
  );
  expect(await fields.textContent()).toContain('TLP:AMBER');
  expect(await fields.getByTestId('field-attachments').textContent()).toBe(
    'hosts.txt · text/plain · 24 bytes',
  );
  // …and as Beijing will read it, in Chinese.
  const preview = card.getByTestId('draft-preview');
  expect(await preview.textContent()).toContain('特提');
  expect(await preview.getByTestId('field-severity').textContent()).toBe('严重');
  expect(await preview.getByTestId('field-requested').textContent()).toBe('共享技术指标');
  expect(await preview.textContent()).toContain('TLP:AMBER（琥珀色）');
  expect(await axeScan(officer), 'approval card').toEqual([]);
  await officer.screenshot({ path: join(ARTIFACTS, 'approval-card-en.png'), fullPage: true });
  await card.getByTestId('draft-note').fill('Confirmed with the grid operator.');
  await card.getByRole('button', { name: 'Approve and send' }).click();
  await item.waitFor({ state: 'detached' });
  const state = (id: string) =>
    author.getByTestId(`my-draft-${id}`).getByTestId('draft-state').textContent();
  await expect
    .poll(() => state(first), { timeout: 2000 })
    .toMatch(/^Approved by olga \(“Confirmed with the grid operator\.”\); released as seq \d+\.$/);

  // The second is rejected with a note: the author reads the note, the count is gone.
  const other = officer.getByTestId(`draft-${second}`);
  await other.getByTestId('draft-note').fill('Wait for the forensic check.');
  await other.getByRole('button', { name: 'Reject' }).click();
  await expect
    .poll(() => state(second), { timeout: 2000 })
    .toBe('Rejected by olga (“Wait for the forensic check.”): nothing was sent.');
  await officer.getByTestId('approvals-count').waitFor({ state: 'detached' });
  await author.screenshot({ path: join(ARTIFACTS, 'my-drafts-en.png'), fullPage: true });
  for (const c of [walker, olga]) await c.context.close();
}, 150_000);
