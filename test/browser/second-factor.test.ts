/**
 * A passkey in Chromium, with the DevTools protocol's virtual authenticator standing in for the
 * officer's security key: with the default policy an officer signing in with a password alone
 * may only enrol; enrols a passkey and gets recovery codes; signs in again with password and
 * passkey; approving a held flash report asks for the passkey again (step-up), and so does
 * making new recovery codes once one is enrolled.
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DEFAULT_ACCESS } from '../../src/node/people/people.ts';
import { consolePair, PASSWORD } from '../support/browser.ts';
import { flashReport, type Pair } from '../support/pair.ts';

let pair: Pair;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
/** WebAuthn needs a host name (an IP address is no RP ID): the console on `localhost`. */
let base: string;

beforeAll(async () => {
  ({ pair, browser } = await consolePair(
    {
      us: [
        ['walker', 'operator'],
        ['oscar', 'officer'],
      ],
      cn: [['li', 'operator']],
    },
    { access: DEFAULT_ACCESS },
  ));
  base = `http://localhost:${pair.us.operatorListen.split(':')[1]}`;
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

async function password(user: string) {
  await page.goto(`${base}/board`);
  await page.locator('input[name=user]').fill(user);
  await page.locator('input[name=password]').fill(PASSWORD);
  await page.locator('button[type=submit]').click();
}

/** The audit entries of second factors used by `user`, as the node recorded them. */
async function verifications(user: string) {
  const trail = pair.us.running?.people.trail;
  const entries = (await trail?.list({ action: 'factor.verify', limit: 100 })) ?? [];
  return entries.filter((e) => e.target === user).map((e) => ({ ...e.detail, outcome: e.outcome }));
}

describe('a passkey in the console', () => {
  test('an officer without a second factor enrols a passkey before anything else', async () => {
    await password('oscar');
    await page.getByRole('heading', { name: 'Security: second factor' }).waitFor();
    expect(await page.getByRole('note').textContent()).toContain('must have a second factor');
    await page.locator('button[name=add-passkey]').click();
    const codes = page.getByTestId('recovery-codes').locator('li');
    await codes.first().waitFor();
    expect(await codes.count()).toBe(10);
    expect(await page.getByTestId('factors').locator('li').getAttribute('data-kind')).toBe(
      'passkey',
    );
    await page.locator('button[name=done]').click();
    await page.locator('main h1').filter({ hasText: 'Board' }).waitFor();
  });

  test('the next sign-in asks for the passkey after the password', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await password('oscar');
    await page.getByRole('heading', { name: 'Second factor' }).waitFor();
    await page.locator('button[name=passkey]').click();
    await page.locator('.sound-check button').first().click();
    await page.locator('.sound-check p button').first().click();
    await page.locator('main h1').filter({ hasText: 'Board' }).waitFor();
    expect(await verifications('oscar')).toContainEqual(
      expect.objectContaining({ kind: 'passkey', for: 'login', outcome: 'ok' }),
    );
  });

  test('approving a held flash report asks for the passkey again', async () => {
    const us = pair.us.running;
    if (!us) throw new Error('Washington is not running');
    const submitted = await us.approvals.submit(
      {
        user: 'walker',
        role: 'operator',
        actor: { actor: 'walker', role: 'operator', via: 'token', source: 'test' },
      },
      ['cn'],
      flashReport(),
    );
    if (submitted.state !== 'pending') throw new Error('the flash report was not held');
    await page.goto(`${base}/approvals`);
    const card = page.getByTestId(`draft-${submitted.draft}`);
    await card.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(async () => (await us.approvals.get(submitted.draft)).state).toBe('released');
    expect(await verifications('oscar')).toContainEqual(
      expect.objectContaining({ kind: 'passkey', for: 'approving a flash message', outcome: 'ok' }),
    );
  });

  test('making new recovery codes asks for the passkey, not the session alone', async () => {
    await page.goto(`${base}/security`);
    await page.getByRole('button', { name: 'Make new recovery codes' }).click();
    const codes = page.getByTestId('recovery-codes').locator('li');
    await codes.first().waitFor();
    expect(await codes.count()).toBe(10);
    expect(await verifications('oscar')).toContainEqual(
      expect.objectContaining({ kind: 'passkey', for: 'making new recovery codes', outcome: 'ok' }),
    );
  });
});
