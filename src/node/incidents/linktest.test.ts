/**
 * The routine link test across two nodes on loopback, on an injected clock: due an interval after
 * the last, its phrase from the joint vocabulary in both languages, remembered across a restart.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createPair, eventually, type Pair } from '../../../test/support/pair.ts';
import type { RunningNode } from '../../app/start.ts';
import { LinkTests } from './linktest.ts';

const HOUR = 3_600_000;
let pair: Pair;
/**
 * The test's clock starts at the real time and only moves ahead of it, so the nodes' own
 * schedulers (on the real clock) never find a test due while this one runs.
 */
let now = Date.now();
const clock = () => new Date(now);

const running = (site: 'us' | 'cn'): RunningNode => {
  const r = pair[site].running;
  if (!r) throw new Error(`${site} is not running`);
  return r;
};

beforeAll(async () => {
  pair = await createPair({
    linkTest: { enabled: true, intervalMs: HOUR, precedence: 'immediate', desk: 'ops' },
  });
  await pair.start(pair.us);
  await pair.start(pair.cn);
}, 60_000);
afterAll(async () => {
  await pair.close();
});

async function testsAtCn(): Promise<
  Array<{ codes: string[]; text?: unknown; translations: unknown }>
> {
  const rows = await running('cn').store.listInbox(1000);
  return rows
    .map((r) => r.body)
    .filter((b) => b.type === 'test')
    .reverse();
}

describe('the routine link test', () => {
  test('goes an interval after the last one, with a numbered bilingual phrase, and survives a restart', async () => {
    // The node's own scheduler looked once at start and found nothing due: let it finish, then
    // start the test's scheduler from a last test at the test clock's start.
    expect(await running('us').linkTests.tick()).toEqual([]);
    await running('us').store.setMeta('linktest.last', new Date(now).toISOString());
    const tests = new LinkTests({ ...running('us'), clock });
    expect(await tests.tick()).toEqual([]);
    now += HOUR - 1000;
    expect(await tests.tick()).toEqual([]);
    now += 1000;
    const [first, ...more] = await tests.tick();
    expect(more).toEqual([]);
    expect(first).toMatchObject({ party: 'cn', code: 'linktest.01' });
    expect(await tests.tick()).toEqual([]);
    const arrived = await eventually(
      () => running('cn').store.getInbox('us', first?.released.id as string),
      10_000,
      'the link test at cn',
    );
    expect(arrived.body).toMatchObject({
      type: 'test',
      status: 'test',
      precedence: 'immediate',
      tlp: 'clear',
      codes: ['linktest.01'],
      text: {
        lang: 'en',
        body: 'Link test 1: Water boils at one hundred degrees Celsius at sea level.',
      },
      translations: [{ lang: 'zh', body: '线路测试 1：在海平面，水在摄氏一百度沸腾。' }],
      author: { desk: 'ops' },
    });

    // Half an hour later the node restarts: the next test is still due at the hour, not at once.
    now += HOUR / 2;
    await pair.stop(pair.us);
    await pair.start(pair.us);
    const after = new LinkTests({ ...running('us'), clock });
    expect(await after.tick()).toEqual([]);
    now += HOUR / 2;
    const [second] = await after.tick();
    expect(second).toMatchObject({ party: 'cn', code: 'linktest.02' });
    await eventually(
      () => running('cn').store.getInbox('us', second?.released.id as string),
      10_000,
      'the second link test at cn',
    );
    expect((await testsAtCn()).map((b) => b.codes)).toEqual([['linktest.01'], ['linktest.02']]);
  });

  test('a node that was down for hours sends one test on return, not one per missed hour', async () => {
    now += 5 * HOUR;
    const tests = new LinkTests({ ...running('us'), clock });
    expect((await tests.tick()).length).toBe(1);
    expect(await tests.tick()).toEqual([]);
    expect((await tests.due()).getTime()).toBe(now + HOUR);
  });

  test('a new node sends its first test an interval after it first serves', async () => {
    const { store, linkTests } = running('cn');
    expect(await linkTests.tick()).toEqual([]);
    const first = await store.getMeta('linktest.last');
    expect(first).toBeDefined();
    expect((await linkTests.due()).getTime()).toBe(Date.parse(first as string) + HOUR);
  });
});
