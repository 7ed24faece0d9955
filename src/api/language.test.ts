/**
 * A reader's `?lang=` through inject(): a language the node offers (or a regional form of one)
 * is answered in it; one it has no text in is refused with the ones it has, on every route that
 * renders for a reader, rather than answered in English as if it had been asked for.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { readToken } from '../node/core/data.ts';

let node: OneNode;
let auth: { authorization: string };

beforeAll(async () => {
  node = await openNode();
  auth = { authorization: `Bearer ${readToken(node.dir)}` };
});
afterAll(async () => {
  await node?.close();
});

async function get(url: string) {
  const response = await node.operator.inject({ method: 'GET', url, headers: auth });
  // biome-ignore lint/suspicious/noExplicitAny: answers are checked field by field below
  return { status: response.statusCode, body: response.json() as any };
}

const ID = '01937a8e-4f00-7000-8000-00000000c0de';
const READER_ROUTES = [
  '/api/v1/vocabulary',
  `/api/v1/messages/cn/${ID}`,
  `/api/v1/messages/cn/${ID}/translations`,
  `/api/v1/incidents/${ID}/export?format=oecd`,
  '/api/v1/regimes',
  '/api/v1/compliance',
];
const join = (route: string, lang: string) =>
  `${route}${route.includes('?') ? '&' : '?'}lang=${lang}`;

describe('a reader asks for a language', () => {
  test.each(READER_ROUTES)('%s refuses a language the node has no text in', async (route) => {
    const { status, body } = await get(join(route, 'fr'));
    expect(status).toBe(400);
    expect(body.error).toEqual({
      code: 'E_MALFORMED',
      message: expect.stringMatching(
        /^lang=fr: .+ has no text in that language; give one of en, zh$/,
      ),
      languages: ['en', 'zh'],
    });
  });

  test('a regional form of an offered language is answered in it', async () => {
    const { status, body } = await get('/api/v1/vocabulary?lang=zh-Hans');
    expect(status).toBe(200);
    expect(body.entries[0].lang).toBe('zh');
  });

  test('no language asked for is English', async () => {
    const { status, body } = await get('/api/v1/regimes');
    expect(status).toBe(200);
    expect(body.types.length).toBeGreaterThan(0);
  });
});
