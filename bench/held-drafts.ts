/**
 * Held draft → officer alarm (issue 17): from an operator's send of a flash report that the
 * two-person rule holds, until the held-draft item is in an officer's alarm banner, in a real
 * browser (a MutationObserver's clock), beside its floors measured in the same run:
 *   - send → 202 answer: the POST until the node has stored the draft and answered;
 *   - bare WebSocket RTT: a frame from this process to a blank page and back (bench/console.ts).
 * One in-process node pair on loopback, default settings; Chromium headless at 1280×800.
 */
import { v7 as uuidv7 } from 'uuid';
import { readToken } from '../src/node/core/data.ts';
import { dataFolderActor } from '../src/node/people/people.ts';
import { launchChromium, openConsole, signIn } from '../test/support/browser.ts';
import { createPair, draft } from '../test/support/pair.ts';

const SAMPLES = 30;
const PASSWORD = 'bench-passphrase-1';

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return { n: s.length, p50: percentile(s, 50), p90: percentile(s, 90), max: s.at(-1) ?? 0 };
}

const RECORD = `(() => {
  window.__alarmAt = {};
  new MutationObserver(() => {
    const at = Date.now();
    for (const el of document.querySelectorAll('[data-alarm-key]'))
      window.__alarmAt[el.getAttribute('data-alarm-key')] ??= at;
  }).observe(document, { childList: true, subtree: true });
})();`;

export async function benchHeldDrafts() {
  const pair = await createPair();
  const browser = await launchChromium();
  try {
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    await us.people.accounts.add(dataFolderActor(), {
      name: 'olga',
      role: 'officer',
      password: PASSWORD,
    });
    await us.people.roster.putStaff(dataFolderActor(), 'ops', 'olga', [{ kind: 'console' }]);
    const officer = await openConsole(browser, pair.us, {
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
    await officer.context.addInitScript({ content: RECORD });
    await signIn(officer.page, officer.base, 'olga', PASSWORD, 'en');
    await officer.page.getByTestId('feed-state').and(officer.page.locator('.feed-up')).waitFor();
    const token = readToken(pair.us.dir);
    const answer: number[] = [];
    const alarm: number[] = [];
    for (let i = 0; i < SAMPLES + 3; i++) {
      const t0 = Date.now();
      const response = await fetch(`${us.operatorUrl}/api/v1/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          to: ['cn'],
          message: draft({
            type: 'incident.report',
            precedence: 'flash',
            status: 'actual',
            incident: uuidv7(),
            text: { lang: 'en', body: `Held flash ${i}` },
            report: {
              nature: 'hazard',
              category: 'category.other',
              actionsTaken: [],
              actionsRequested: [],
            },
          }),
        }),
      });
      const t1 = Date.now();
      const body = (await response.json()) as { state: string; draft: string };
      if (response.status !== 202 || body.state !== 'pending')
        throw new Error(`expected the draft held (202), got ${response.status}`);
      const key = `draft:${body.draft}`;
      const until = Date.now() + 10_000;
      let seen: number | undefined;
      while (seen === undefined) {
        seen = await officer.page.evaluate(
          (k) =>
            (globalThis as unknown as { __alarmAt: Record<string, number> }).__alarmAt[k] ??
            undefined,
          key,
        );
        if (seen === undefined) {
          if (Date.now() > until) throw new Error('the held draft did not alarm within 10 s');
          await new Promise((r) => setTimeout(r, 10));
        }
      }
      if (i < 3) continue; // warm-up
      answer.push(t1 - t0);
      alarm.push(seen - t0);
    }
    const { bareWebSocketRtt } = await import('./console.ts');
    const rtt = await bareWebSocketRtt(await browser.newPage());
    return {
      samples: SAMPLES,
      sendTo202Ms: summary(answer),
      heldToOfficerAlarmMs: summary(alarm),
      bareWebSocketRttMs: summary(rtt),
    };
  } finally {
    await browser.close();
    await pair.close();
  }
}

export function printHeldDrafts(figures: Awaited<ReturnType<typeof benchHeldDrafts>>): void {
  const ms = (s: { p50: number; p90: number; max: number }) =>
    `p50 ${s.p50.toFixed(1)} ms, p90 ${s.p90.toFixed(1)} ms, max ${s.max.toFixed(1)} ms`;
  console.log('\n## Held draft → officer alarm');
  console.log(`held draft → officer alarm    ${ms(figures.heldToOfficerAlarmMs)}`);
  console.log(`floor: send → 202 answer      ${ms(figures.sendTo202Ms)}`);
  console.log(`floor: bare WebSocket RTT     ${ms(figures.bareWebSocketRttMs)}`);
}
