/**
 * A flash report held by the two-person rule waits for a person like a received message does:
 * Washington's clock is the test's. Olga (operator, on duty at ops) writes a flash report; it is
 * held, and the ops desk is told at once. Nobody decides: at the flash deadline (5 minutes) the
 * draft climbs to the next desk of the ladder, duty-officer, where Oscar is on duty and is reached
 * by his signed webhook. Oscar approves: the draft is released, its alarm cleared, and the clock
 * moving on notifies nobody else.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { webhookSignature } from '../../src/node/incidents/notifiers.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import { createPair, eventually, flashReport, type Pair } from '../support/pair.ts';

const SECRET = 'webhook-secret-for-tests-0123456789';
const MINUTE = 60_000;

describe('a held flash report escalates through the roster', () => {
  let pair: Pair;
  let hooks: Server;
  let hookBase = '';
  const calls: Array<{ url: string; body: string; ok: boolean }> = [];
  let now = Date.parse('2026-12-06T02:30:00.000Z');
  const clock = () => new Date(now);
  const tokens: Record<string, string> = {};
  const us = () => pair.us.running as RunningNode;

  async function api(method: string, path: string, body: unknown, token: string) {
    const response = await fetch(`http://${pair.us.operatorListen}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test answers are read loosely
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    hooks = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const timestamp = Number(request.headers['x-hotline-timestamp']);
        calls.push({
          url: request.url ?? '',
          body,
          ok: request.headers['x-hotline-signature'] === webhookSignature(SECRET, timestamp, body),
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;
    pair = await createPair({ notify: { webhook: { secret: SECRET } } } as never);
    await pair.start(pair.us, { clock });
    const { accounts, roster } = us().people;
    const by = dataFolderActor();
    await roster.addDesk(by, 'duty-officer', 'Duty officer');
    for (const [name, role, desk] of [
      ['olga', 'operator', 'ops'],
      ['oscar', 'officer', 'duty-officer'],
    ] as const) {
      await accounts.add(by, { name, role, password: `${name}-passphrase-1` });
      await roster.putStaff(by, desk, name, [
        { kind: 'console' },
        { kind: 'webhook', url: `${hookBase}/${name}` },
      ]);
      await roster.addShift(by, {
        desk,
        user: name,
        startsAt: new Date(now - 3_600_000).toISOString(),
        endsAt: new Date(now + 12 * 3_600_000).toISOString(),
      });
      tokens[name] = (await accounts.issueToken(by, name)).token;
    }
    // Oscar also staffs ops, the desk approvals are recorded under by default.
    await roster.putStaff(by, 'ops', 'oscar', [{ kind: 'console' }]);
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    hooks.closeAllConnections();
    await new Promise<void>((resolve) => hooks.close(() => resolve()));
  });

  const stepsOf = (draft: string) => us().followups.escalations('us', draft);

  test('unapproved past its deadline, it reaches the duty officer; approving stops it', async () => {
    const held = await api(
      'POST',
      '/api/v1/messages',
      { to: ['cn'], message: flashReport() },
      tokens.olga as string,
    );
    expect(held.status).toBe(202);
    const draft: string = held.body.draft;
    const t0 = now;

    // At once: the ops desk, where Olga is on duty, is told; an alarm names the draft.
    await us().escalation.runDue();
    expect(await stepsOf(draft)).toMatchObject([
      { dir: 'held', step: 0, desk: 'ops', user_name: 'olga' },
    ]);
    const alarm = (await us().store.openAlarmsAbout(`draft/${draft}`))[0];
    expect(alarm).toMatchObject({ type: 'held-escalation', category: 'waiting' });
    await eventually(async () => calls.find((c) => c.url === '/olga'));

    // Before the deadline it repeats at ops; past it, it climbs to duty-officer and Oscar.
    for (const minutes of [2, 4, 6]) {
      now = t0 + minutes * MINUTE;
      await us().escalation.runDue();
    }
    const steps = await stepsOf(draft);
    expect(steps.map((s) => s.desk)).toEqual(['ops', 'ops', 'ops', 'duty-officer']);
    expect(steps.at(-1)).toMatchObject({ step: 1, user_name: 'oscar' });
    const toOscar = await eventually(async () => calls.find((c) => c.url === '/oscar'));
    expect(toOscar.ok).toBe(true);
    expect(JSON.parse(toOscar.body)).toMatchObject({
      event: 'hotline.held',
      id: draft,
      precedence: 'flash',
      desk: 'duty-officer',
      step: 1,
    });
    const types = (await us().store.openAlarmsAbout(`draft/${draft}`)).map((a) => a.type);
    expect(types).toContain('held-escalation');

    // Oscar approves from his desk: released, the timer stopped, the alarms cleared.
    const approved = await api(
      'POST',
      `/api/v1/drafts/${draft}/approve`,
      { desk: 'ops' },
      tokens.oscar as string,
    );
    expect(approved.status).toBe(201);
    const followup = await us().followups.get('held', 'us', draft);
    expect(followup).toMatchObject({ next_at: null, acked_desk: 'ops', acked_person: 'oscar' });
    expect(await us().store.openAlarmsAbout(`draft/${draft}`)).toEqual([]);
    now = t0 + 30 * MINUTE;
    await us().escalation.runDue();
    expect(await stepsOf(draft)).toHaveLength(4);
  });

  test('a rejected draft stops escalating too', async () => {
    const held = await api(
      'POST',
      '/api/v1/messages',
      { to: ['cn'], message: flashReport() },
      tokens.olga as string,
    );
    const draft: string = held.body.draft;
    await us().escalation.runDue();
    expect(await stepsOf(draft)).toHaveLength(1);
    const rejected = await api(
      'POST',
      `/api/v1/drafts/${draft}/reject`,
      { note: 'Not confirmed yet.' },
      tokens.oscar as string,
    );
    expect(rejected.status).toBe(200);
    expect(await us().store.openAlarmsAbout(`draft/${draft}`)).toEqual([]);
    now += 60 * MINUTE;
    await us().escalation.runDue();
    expect(await stepsOf(draft)).toHaveLength(1);
  });
});
