/**
 * History and search on one node through inject(): a released message is found by its own words,
 * by its sender's Chinese translation and by filters; its incident's report holds every text and
 * the checkpoint that covers it; bad queries get their code.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { draft } from '../../test/support/pair.ts';
import { readToken } from '../node/core/data.ts';
import type { IncidentReport, SearchHit } from '../protocol/views.ts';

let node: OneNode;
let auth: { authorization: string };

beforeAll(async () => {
  node = await openNode();
  auth = { authorization: `Bearer ${readToken(node.dir)}` };
});
afterAll(async () => {
  await node?.close();
});

async function api<T>(method: 'GET' | 'POST', url: string, body?: unknown) {
  const response = await node.operator.inject({
    method,
    url,
    headers: auth,
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() as T };
}

const INCIDENT = '01937a8e-4f00-7000-8000-00000000c0de';

describe('history and search', () => {
  test('a report is found by its words in either language, and its report prints both', async () => {
    const sent = await api<{ id: string }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({
        type: 'incident.report',
        incident: INCIDENT,
        precedence: 'immediate',
        status: 'exercise',
        report: {
          nature: 'incident',
          category: 'category.weights-proliferation',
          actionsTaken: [],
          actionsRequested: [],
        },
        text: { lang: 'en', body: 'Model weights copied to unknown hosts.' },
        translations: [{ lang: 'zh', body: '模型权重被复制到未知主机。' }],
      }),
    });
    expect(sent.status).toBe(201);

    const zh = await api<SearchHit[]>(
      'GET',
      `/api/v1/search?q=${encodeURIComponent('主机')}&lang=zh`,
    );
    expect(zh.body).toEqual([
      expect.objectContaining({
        id: sent.body.id,
        dir: 'out',
        party: 'cn',
        incident: INCIDENT,
        incidentState: 'reported',
        category: 'category.weights-proliferation',
        translation: { lang: 'zh', body: '模型权重被复制到未知主机。', by: 'sender' },
      }),
    ]);
    const filtered = await api<SearchHit[]>(
      'GET',
      '/api/v1/search?q=weights&status=exercise&precedence=immediate&party=cn&from=2000-01-01',
    );
    expect(filtered.body.map((h) => h.id)).toEqual([sent.body.id]);
    expect((await api<SearchHit[]>('GET', '/api/v1/search?q=weights&status=actual')).body).toEqual(
      [],
    );
    expect((await api<SearchHit[]>('GET', '/api/v1/search?to=2000-01-01')).body).toEqual([]);

    const report = await api<IncidentReport>('GET', `/api/v1/incidents/${INCIDENT}/report`);
    expect(report.status).toBe(200);
    const [entry] = report.body.entries;
    expect(entry?.texts.map((t) => [t.lang, t.by])).toEqual([
      ['en', 'author'],
      ['zh', 'sender'],
    ]);
    expect(report.body.checkpoint?.covers).toBe(true);
    expect(report.body.checkpoint?.note).toContain(`\n${report.body.checkpoint?.size}\n`);
  });

  test('limit caps the hits, from 1 to 200', async () => {
    for (let i = 0; i < 3; i++)
      await api('POST', '/api/v1/messages', {
        to: ['cn'],
        message: draft({ text: { lang: 'en', body: `Capped hit ${i}.` } }),
      });
    const hits = async (limit: string) =>
      (await api<SearchHit[]>('GET', `/api/v1/search?q=capped&limit=${limit}`)).body.length;
    expect(await hits('2')).toBe(2);
    expect(await hits('200')).toBe(3);
    const over = await api<{ error: { code: string; message: string } }>(
      'GET',
      '/api/v1/search?q=capped&limit=201',
    );
    expect(over.status).toBe(400);
    expect(over.body.error.message).toContain('a whole number from 1 to 200');
  });

  test('bad queries are refused with a code and a sentence', async () => {
    const badDate = await api<{ error: { code: string } }>('GET', '/api/v1/search?from=yesterday');
    expect(badDate.status).toBe(400);
    expect(badDate.body.error.code).toBe('E_MALFORMED');
    const badStatus = await api<{ error: { code: string } }>('GET', '/api/v1/search?status=real');
    expect(badStatus.body.error.code).toBe('E_MALFORMED');
    for (const q of ['-', '*', '(', '%', ' ']) {
      const wordless = await api<{ error: { code: string; message: string } }>(
        'GET',
        `/api/v1/search?q=${encodeURIComponent(q)}`,
      );
      expect(wordless.status, q).toBe(400);
      expect(wordless.body.error).toMatchObject({
        code: 'E_MALFORMED',
        message: 'q has no word to search for',
      });
    }
    const missing = await api<{ error: { code: string } }>(
      'GET',
      '/api/v1/incidents/01937a8e-4f00-7000-8000-00000000dead/report',
    );
    expect(missing.status).toBe(404);
  });
});
