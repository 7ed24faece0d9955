/**
 * A real browser for the console's tests and bench: Debian's Chromium driven by playwright-core,
 * headless, with nothing of its own reaching the network. Each console opens in its own context
 * (cookies, storage, language, time zone) at 1280×800.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
} from 'playwright-core';
import { WEB_DIST } from '../../src/api/console.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import type { Role } from '../../src/store/schema.ts';
import { createPair, type Pair, type Site } from './pair.ts';

export const CHROMIUM = process.env.HOTLINE_CHROMIUM ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * (Page scripts are plain JavaScript text: a function compiled here may call helpers that exist
 * only in Node.)
 * Records every browser notification the page shows (the real Notification still runs) and
 * sets the flag an injected script would set, so a test can tell whether any script ran.
 */
const RECORD_NOTIFICATIONS = `(() => {
  window.__notifications = [];
  const Real = window.Notification;
  if (!Real) return;
  window.Notification = class extends Real {
    constructor(title, options) {
      super(title, options);
      window.__notifications.push({ title, body: options?.body, tag: options?.tag });
    }
    static get permission() { return Real.permission; }
    static requestPermission() { return Real.requestPermission(); }
  };
})();`;

export interface ConsoleOptions {
  locale: string;
  timezoneId: string;
}

export async function openConsole(
  browser: Browser,
  site: Site,
  options: ConsoleOptions,
): Promise<{ context: BrowserContext; page: Page; base: string }> {
  const base = `http://${site.operatorListen}`;
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    locale: options.locale,
    timezoneId: options.timezoneId,
  });
  await context.grantPermissions(['notifications'], { origin: base });
  await context.addInitScript({ content: RECORD_NOTIFICATIONS });
  const page = await context.newPage();
  return { context, page, base };
}

/** Signs in through the login page, in `lang`, and passes the sound check. */
export async function signIn(
  page: Page,
  base: string,
  user: string,
  password: string,
  lang?: 'en' | 'zh',
): Promise<void> {
  await page.goto(`${base}/board`);
  if (lang) await page.locator('main.login select').selectOption(lang);
  await page.locator('input[name=user]').fill(user);
  await page.locator('input[name=password]').fill(password);
  await page.locator('button[type=submit]').click();
  await page.locator('.sound-check button').first().click();
  await page.locator('.sound-check p button').first().click();
  await page.locator('main h1').waitFor();
}

/** Presses Tab until `target` has the focus (at most `limit` times): reachable by keyboard. */
export async function tabTo(page: Page, target: Locator, limit = 120): Promise<void> {
  const handle = await target.elementHandle();
  if (!handle) throw new Error('no such element to tab to');
  for (let i = 0; i < limit; i++) {
    if (
      await handle.evaluate(
        (el) =>
          el ===
          (globalThis as unknown as { document: { activeElement: unknown } }).document
            .activeElement,
      )
    )
      return;
    await page.keyboard.press('Tab');
  }
  throw new Error(`not reached with ${limit} presses of Tab`);
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: string[] }>;
}

/** axe-core's scan of the page as it stands (WCAG 2.1 A and AA and best practices). */
export async function axeScan(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const page = globalThis as unknown as {
      axe: { run: (...a: unknown[]) => Promise<unknown> };
      document: unknown;
    };
    const result = (await page.axe.run(page.document, { resultTypes: ['violations'] })) as {
      violations: AxeViolation[];
    };
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target })),
    }));
  });
}

/** Where the browser tests keep their screenshots (gitignored). */
export const ARTIFACTS = join(import.meta.dirname, '../../test-artifacts/console');
/** Every console account's password in the browser tests. */
export const PASSWORD = 'console-passphrase-1';

/**
 * Washington and Beijing started on loopback, each with console accounts (`[name, role]`)
 * staffing its `ops` desk, the first of them on duty there for the next 11 hours, and Chromium.
 * Fails at once when the console is not built.
 */
export async function consolePair(
  people: Record<'us' | 'cn', ReadonlyArray<readonly [string, Role]>>,
  settings: Parameters<typeof createPair>[0] = {},
  perSite?: Parameters<typeof createPair>[1],
): Promise<{ pair: Pair; browser: Browser }> {
  if (!existsSync(join(WEB_DIST, 'index.html')))
    throw new Error('the console is not built: run `npm run build` (npm test does it first)');
  mkdirSync(ARTIFACTS, { recursive: true });
  const pair = await createPair(settings, perSite);
  const by = dataFolderActor();
  const now = Date.now();
  for (const [site, accounts] of [
    [pair.us, people.us],
    [pair.cn, people.cn],
  ] as const) {
    const { people: p } = await pair.start(site);
    for (const [name, role] of accounts) {
      await p.accounts.add(by, { name, role, password: PASSWORD });
      await p.roster.putStaff(by, 'ops', name, [{ kind: 'console' }]);
    }
    const [first] = accounts;
    if (first)
      await p.roster.addShift(by, {
        desk: 'ops',
        user: first[0],
        startsAt: new Date(now - 3_600_000).toISOString(),
        endsAt: new Date(now + 11 * 3_600_000).toISOString(),
      });
  }
  return { pair, browser: await launchChromium() };
}

/** What sticks out past the phone's right edge (nothing, when the page fits). */
export const overflow = (page: Page): Promise<string[]> =>
  page.evaluate(() => {
    const d = (
      globalThis as unknown as {
        document: {
          documentElement: { scrollWidth: number };
          querySelectorAll(s: string): Iterable<{
            tagName: string;
            className: string;
            getBoundingClientRect(): { right: number };
          }>;
        };
      }
    ).document;
    if (d.documentElement.scrollWidth <= 390) return [];
    return [...d.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > 391)
      .slice(0, 8)
      .map((e) => `${e.tagName}.${e.className}`);
  });
