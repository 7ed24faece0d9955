import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readToken } from '../../src/node/core/data.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';

let pair: Pair;
let base: string;
let auth: { authorization: string };

beforeAll(async () => {
  pair = await createPair();
  await pair.start(pair.us);
  await pair.start(pair.cn);
  base = `http://${pair.us.operatorListen}`;
  auth = { authorization: `Bearer ${readToken(pair.us.dir)}` };
});
afterAll(async () => {
  await pair.close();
});

async function api(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = auth,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json().catch(() => undefined)) as Record<string, never>,
  };
}

describe('the operator API', () => {
  test('refuses requests without the operator token', async () => {
    for (const path of ['/api/v1/status', '/api/v1/inbox', '/api/v1/outbox', '/api/v1/alarms']) {
      const { status, body } = await api('GET', path, undefined, {});
      expect(status).toBe(401);
      expect(body).toEqual({ error: { code: 'E_UNAUTHORIZED', message: expect.any(String) } });
    }
    const wrong = await api('GET', '/api/v1/status', undefined, { authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  test('sends a message, and shows it delivered in the outbox and status', async () => {
    const sent = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ precedence: 'flash' }),
    });
    expect(sent.status).toBe(201);
    const id = (sent.body as unknown as { id: string }).id;
    const row = await eventually(async () => {
      const { body } = await api('GET', '/api/v1/outbox');
      const found = (body as unknown as Array<{ id: string; status: string }>).find(
        (r) => r.id === id,
      );
      return found?.status === 'receipted' ? found : undefined;
    });
    expect(row).toMatchObject({ to: 'cn', seq: 1, status: 'receipted' });
    const status = await eventually(async () => {
      const { body } = await api('GET', '/api/v1/status');
      const s = body as unknown as { peers: Array<{ path: { state: string } }> };
      return s.peers[0]?.path.state === 'up' ? s : undefined;
    });
    expect(status).toMatchObject({
      party: 'us',
      peers: [
        {
          party: 'cn',
          outbox: { pending: 0, lastReceiptAt: expect.any(String) },
          path: { state: 'up' },
        },
      ],
      alarms: [],
    });
  });

  test('rejects a bad message with a code and releases nothing', async () => {
    const before = (await api('GET', '/api/v1/outbox')).body as unknown as unknown[];
    const unknownPeer = await api('POST', '/api/v1/messages', { to: ['eu'], message: draft() });
    expect(unknownPeer.status).toBe(403);
    expect(unknownPeer.body).toMatchObject({ error: { code: 'E_UNKNOWN_PARTY' } });
    const badBody = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: { ...draft(), precedence: 'urgent' },
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body).toMatchObject({ error: { code: 'E_MALFORMED' } });
    const missingSection = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ type: 'reply' }),
    });
    expect(missingSection.body).toMatchObject({
      error: { code: 'E_MALFORMED', message: expect.stringContaining('inReplyTo') },
    });
    const after = (await api('GET', '/api/v1/outbox')).body as unknown as unknown[];
    expect(after.length).toBe(before.length);
  });

  test('lists with a limit given in the query string, and refuses a bad one', async () => {
    const listed = await api('GET', '/api/v1/outbox?limit=1');
    expect(listed.status).toBe(200);
    expect((listed.body as unknown as unknown[]).length).toBeLessThanOrEqual(1);
    expect((await api('GET', '/api/v1/inbox?limit=5')).status).toBe(200);
    const bad = await api('GET', '/api/v1/inbox?limit=lots');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: { code: 'E_MALFORMED' } });
  });

  test('serves an OpenAPI document and Prometheus metrics', async () => {
    const openapi = await fetch(`${base}/openapi.json`).then(
      (r) => r.json() as Promise<{ openapi: string; paths: Record<string, unknown> }>,
    );
    expect(openapi.openapi).toMatch(/^3\./);
    expect(Object.keys(openapi.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/messages',
        '/api/v1/inbox',
        '/api/v1/outbox',
        '/api/v1/status',
        '/api/v1/alarms',
      ]),
    );
    const metrics = await fetch(`${base}/metrics`).then((r) => r.text());
    for (const name of [
      'hotline_outbox_depth',
      'hotline_outbox_oldest_unreceipted_seconds',
      'hotline_receipts_total',
      'hotline_rejections_total',
      'hotline_heartbeat_rtt_seconds',
    ])
      expect(metrics).toContain(name);
    expect(metrics).toMatch(/hotline_receipts_total\{[^}]*dir="in"[^}]*\} [1-9]/);
  });
});
