/**
 * Notifiers against real servers on loopback: a webhook that keeps failing is tried exactly the
 * configured number of times, each signed; one that answers is not tried again; without a secret
 * nothing is sent; and the e-mail of a notice is bilingual and carries no message text.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../core/config.ts';
import { mailOf, type Notice, Notifiers, webhookSignature } from './notifiers.ts';

const SECRET = 'a-shared-secret-of-32-characters';
const notice: Notice = {
  kind: 'escalation',
  node: 'cn',
  party: 'us',
  id: '01936b3c-0000-7000-8000-000000000001',
  incident: null,
  precedence: 'flash',
  status: 'exercise',
  type: 'incident.report',
  step: 1,
  desk: 'officer',
  user: 'oscar',
  fired: 4,
  at: '2026-11-27T08:06:00.000Z',
};

let server: Server;
let base: string;
const seen: Array<{ path: string; body: string; signature: string; timestamp: string }> = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      seen.push({
        path: request.url ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
        signature: String(request.headers['x-hotline-signature']),
        timestamp: String(request.headers['x-hotline-timestamp']),
      });
      response.writeHead(request.url === '/down' ? 500 : 200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const notifiers = (webhook: Record<string, unknown>) =>
  new Notifiers(
    parseConfig({ party: 'cn', notify: { webhook } }).notify,
    pino({ level: 'silent' }),
  );

describe('webhook notifier', () => {
  test('a failing webhook is tried exactly `attempts` times, each signed, then reported failed', async () => {
    const n = notifiers({ secret: SECRET, attempts: 3, backoffBaseMs: 10, backoffMaxMs: 20 });
    const result = await n.webhook(`${base}/down`, notice);
    expect(result).toMatchObject({ ok: false, attempts: 3, detail: 'HTTP 500' });
    const calls = seen.filter((c) => c.path === '/down');
    expect(calls).toHaveLength(3);
    for (const c of calls)
      expect(c.signature).toBe(webhookSignature(SECRET, Number(c.timestamp), c.body));
    // A signature made with another secret does not match.
    expect(calls[0]?.signature).not.toBe(
      webhookSignature(
        'another-secret-of-32-characters!',
        Number(calls[0]?.timestamp),
        calls[0]?.body ?? '',
      ),
    );
    await n.close();
  });

  test('an answering webhook is called once; without a secret nothing is sent', async () => {
    const n = notifiers({ secret: SECRET });
    expect(await n.webhook(`${base}/up`, notice)).toMatchObject({ ok: true, attempts: 1 });
    expect(JSON.parse(seen.find((c) => c.path === '/up')?.body ?? '{}')).toMatchObject({
      event: 'hotline.escalation',
      desk: 'officer',
      step: 1,
    });
    await n.close();
    const unsigned = notifiers({});
    expect(unsigned.unavailable('webhook')).toMatch(/secret/);
    expect(unsigned.unavailable('email')).toMatch(/smtp/);
    expect(await unsigned.webhook(`${base}/never`, notice)).toMatchObject({
      ok: false,
      attempts: 0,
    });
    expect(seen.some((c) => c.path === '/never')).toBe(false);
    await unsigned.close();
  });

  test('closing the node ends a webhook waiting to retry at once', async () => {
    const n = notifiers({
      secret: SECRET,
      attempts: 5,
      backoffBaseMs: 60_000,
      backoffMaxMs: 60_000,
    });
    n.dispatch('webhook', `${base}/down`, notice);
    const before = seen.length;
    for (let i = 0; i < 100 && seen.length === before; i++)
      await new Promise((r) => setTimeout(r, 10));
    await n.close(); // would wait a minute if the retry's wait were not cut short
    expect(seen.length).toBe(before + 1);
  });
});

describe('e-mail of a notice', () => {
  test('English and Chinese, marked as an exercise, with the message id and no text', () => {
    const { subject, text } = mailOf(notice);
    expect(subject).toBe(
      '[Hotline FLASH] [EXERCISE] message from us needs acknowledgement / 需要确认',
    );
    expect(text).toContain('message / 消息: us/01936b3c-0000-7000-8000-000000000001');
    expect(text).toContain('desk / 席位: officer (step / 级别 2, notice / 通知 4)');
    expect(text).toContain('hotline ack us 01936b3c-0000-7000-8000-000000000001 --desk officer');
  });
});
