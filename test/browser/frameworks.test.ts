/**
 * Reporting frameworks and evaluation results in the console: Washington's officer composes an
 * exercise report and watches the OECD and Article 73 criteria still empty shrink as she fills
 * the AI system; she attaches an evaluation result, checked in the browser. Beijing's officer,
 * in Chinese, reads the evaluation and cites it in her reply; her compose form lists the empty
 * criteria in Chinese. Washington downloads the incident as OECD JSON that validates.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ARTIFACTS, consolePair, openConsole, PASSWORD, signIn } from '../support/browser.ts';
import type { Pair } from '../support/pair.ts';

const REPO = join(import.meta.dirname, '../..');
const EVALUATION = readFileSync(join(REPO, 'test/vectors/evaluation/cyber-offence.json'));

let pair: Pair;
let browser: Browser;

beforeAll(async () => {
  ({ pair, browser } = await consolePair({
    us: [['olga', 'officer']],
    cn: [['zhao', 'officer']],
  }));
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await pair?.close();
});

/** The criteria a framework's panel lists as still empty. */
const empty = (page: Page, framework: string) =>
  page
    .getByTestId(`criteria-${framework}-empty`)
    .locator('li')
    .evaluateAll((items) => items.map((li) => li.getAttribute('data-criterion')));

describe('framework criteria, evaluation results and exports in the console', () => {
  test('compose lists empty criteria in both languages; an evaluation is read, cited and exported', async () => {
    const washington = await openConsole(browser, pair.us, {
      locale: 'en-US',
      timezoneId: 'America/New_York',
    });
    const beijing = await openConsole(browser, pair.cn, {
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    await signIn(washington.page, washington.base, 'olga', PASSWORD, 'en');
    await signIn(beijing.page, beijing.base, 'zhao', PASSWORD, 'zh');
    const us = washington.page;
    const cn = beijing.page;

    // Washington composes an exercise report: the system criteria are empty until filled.
    await us.getByRole('link', { name: 'Compose' }).click();
    await us.locator('select[name=precedence]').selectOption('priority');
    await us.locator('select[name=status]').selectOption('exercise');
    await us.locator('select[name=category]').selectOption('category.ai-cyberattack');
    await us.locator('textarea[name=text]').fill('An agent swarm is probing the eastern grid.');
    expect(await empty(us, 'oecd')).toEqual(
      expect.arrayContaining(['aiSystemName', 'developer', 'severity', 'harmTypes']),
    );
    expect(await empty(us, 'oecd')).not.toContain('title');
    expect(await us.getByTestId('criteria-oecd').textContent()).toContain('AI system');
    expect(await empty(us, 'eu-ai-act-73')).toContain('provider.name');
    await us.locator('input[name=developer]').fill('Example AI Lab');
    await us.locator('input[name=model]').fill('Frontier-7');
    await us.locator('select[name=severity]').selectOption('severity.severe');
    await us.getByLabel('Disruption of critical services').check();
    await expect.poll(() => empty(us, 'oecd')).not.toContain('developer');
    expect(await empty(us, 'oecd')).not.toEqual(
      expect.arrayContaining(['aiSystemName', 'severity', 'harmTypes']),
    );
    expect(await empty(us, 'eu-ai-act-73')).not.toContain('provider.name');
    expect(await us.getByTestId('criteria-oecd').textContent()).toContain(
      'Not carried by a Hotline report',
    );

    // An evaluation result, checked in the browser before it is sent.
    await us.getByLabel('Files are evaluation results (JSON)').check();
    await us.locator('input[type=file]').setInputFiles({
      name: 'eval.json',
      mimeType: 'application/json',
      buffer: EVALUATION,
    });
    expect(await us.getByTestId('attachment-check').textContent()).toContain(
      'eval.json: a valid evaluation result',
    );
    await us.screenshot({
      path: join(ARTIFACTS, 'washington-compose-criteria-en.png'),
      fullPage: true,
    });
    await us.getByRole('button', { name: 'Send', exact: true }).click();
    await us.waitForURL(/\/message\/us\/[0-9a-f-]{36}$/);
    const reportId = us.url().split('/').pop() as string;

    // Beijing reads the evaluation in Chinese and cites it in a reply.
    await cn.goto(`${beijing.base}/message/us/${reportId}`);
    const card = cn.getByTestId('evaluation');
    await card.waitFor();
    const shown = await card.textContent();
    expect(shown).toContain('评估结果');
    expect(shown).toContain('网络攻击能力');
    expect(shown).toContain('已越过阈值');
    expect(shown).toContain('结果 0.62，阈值 0.5');
    expect(shown).toContain('Frontier-7 2026-11-rc2 · Example AI Lab');
    await cn.getByTestId('cite-evaluation').check();
    await cn.getByTestId('reply-text').fill('请说明这200次尝试是否均在断网条件下进行。');
    await cn.getByRole('button', { name: '发送答复' }).click();
    await cn.getByTestId('thread-reply').waitFor();
    await cn.screenshot({ path: join(ARTIFACTS, 'beijing-evaluation-zh.png'), fullPage: true });

    // Washington's view of the reply shows which evaluation it cites.
    await us.getByTestId('thread-reply').waitFor();
    await us.getByTestId('thread-reply').getByRole('link').first().click();
    await us.getByTestId('citations').waitFor();
    expect(await us.getByTestId('citations').textContent()).toContain('Crossed the threshold');

    // Beijing's compose form lists the same criteria in Chinese.
    await cn.getByRole('link', { name: '撰写' }).click();
    await cn.locator('select[name=category]').selectOption('category.ai-cyberattack');
    const panel = await cn.getByTestId('criteria').textContent();
    expect(panel).toContain('报告框架中尚未填写的项目');
    expect(panel).toContain('经合组织人工智能事件通用报告框架');
    expect(panel).toContain('人工智能系统');
    expect(panel).toContain('欧盟数据库注册号');

    // Washington downloads the two-sided incident as OECD JSON, which validates.
    await us.goto(`${washington.base}/message/us/${reportId}`);
    const incidentLink = us.locator('a[href^="/incident/"]').first();
    await incidentLink.click();
    await us.getByTestId('incident-export').waitFor();
    const [download] = await Promise.all([
      us.waitForEvent('download'),
      us.getByTestId('export-oecd').click(),
    ]);
    const path = await download.path();
    const exported = JSON.parse(readFileSync(path, 'utf8'));
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const valid = ajv.compile(
      JSON.parse(
        readFileSync(join(REPO, 'test/vectors/frameworks/oecd-ai-incident.schema.json'), 'utf8'),
      ),
    );
    expect(valid(exported), JSON.stringify(valid.errors)).toBe(true);
    expect(exported.criteria.developer).toBe('Example AI Lab');
    expect(exported.source.messages.map((m: { from: string }) => m.from)).toEqual(['us', 'cn']);
    expect(await us.getByRole('status').last().textContent()).toMatch(
      /Downloaded incident-.*-oecd\.json: \d+ criteria empty\./,
    );
  }, 120_000);
});
