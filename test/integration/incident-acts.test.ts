/**
 * An act on an incident is checked the same way whichever route it takes (its own route or a plain
 * message), and held by the two-person rule the same way: Washington owns actual incidents,
 * Beijing asks for changes, and what would contradict the incident is refused with nothing sent.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { readToken } from '../../src/node/core/data.ts';
import type { Draft } from '../../src/protocol/body.ts';
import {
  createPair,
  draft,
  eventually,
  flashReport,
  type Pair,
  staffOps,
} from '../support/pair.ts';

let pair: Pair;
const tokens: Record<string, string> = {};

const running = (site: 'us' | 'cn'): RunningNode => {
  const r = pair[site].running;
  if (!r) throw new Error(`${site} is not running`);
  return r;
};

interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; message: string } };
}

async function call(site: 'us' | 'cn', who: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`http://${pair[site].operatorListen}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${tokens[who]}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}
const us = (who: string, method: string, path: string, body?: unknown) =>
  call('us', who, method, path, body);
const cn = (method: string, path: string, body?: unknown) =>
  call('cn', 'cnAdmin', method, path, body);

const send = (who: string, message: Draft) =>
  us(who, 'POST', '/api/v1/messages', { to: ['cn'], message });

/** An actual incident Washington reports (routine: released at once) and Beijing holds. */
async function reported(): Promise<{ incident: string; report: string }> {
  const message = flashReport({ precedence: 'routine' });
  const sent = await send('olga', message);
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  const report = sent.body.id as string;
  await eventually(() => running('cn').store.getInbox('us', report), 10_000, 'the report at cn');
  return { incident: message.incident as string, report };
}

const stateAt = async (site: 'us' | 'cn', incident: string) =>
  (await call(site, site === 'us' ? 'olga' : 'cnAdmin', 'GET', `/api/v1/incidents/${incident}`))
    .body.state;

/** How many messages Washington has released to Beijing. */
const sentCount = async () => (await running('us').store.lastSeq('cn')) ?? 0;

beforeAll(async () => {
  pair = await createPair();
  const node = await pair.start(pair.us);
  await pair.start(pair.cn);
  Object.assign(tokens, await staffOps(node));
  tokens.cnAdmin = readToken(pair.cn.dir);
}, 60_000);

afterAll(async () => {
  await pair?.close();
});

describe('closing an actual incident by a state change', () => {
  test('waits for a second officer, as an incident.close does, and closes once approved', async () => {
    const { incident } = await reported();
    const before = await sentCount();
    const held = await us('olga', 'POST', `/api/v1/incidents/${incident}/state`, {
      desk: 'ops',
      to: 'closed',
    });
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    expect(held.body).toMatchObject({ state: 'pending', rules: [1], incident });
    expect(await sentCount()).toBe(before);
    expect(await stateAt('us', incident)).toBe('reported');

    const approved = await us('oscar', 'POST', `/api/v1/drafts/${held.body.draft}/approve`, {});
    expect(approved.status, JSON.stringify(approved.body)).toBe(201);
    expect(await stateAt('us', incident)).toBe('closed');
    await eventually(
      async () => ((await stateAt('cn', incident)) === 'closed' ? true : undefined),
      10_000,
      'the closure at cn',
    );
  });

  test("accepting Beijing's request to close waits for a second officer too", async () => {
    const { incident } = await reported();
    const asked = await cn('POST', `/api/v1/incidents/${incident}/requests`, {
      desk: 'ops',
      to: 'closed',
    });
    expect(asked.status, JSON.stringify(asked.body)).toBe(201);
    await eventually(
      () => running('us').store.getInbox('cn', asked.body.id as string),
      10_000,
      'the request at us',
    );
    const before = await sentCount();
    const accepted = await us(
      'olga',
      'POST',
      `/api/v1/incidents/${incident}/requests/${asked.body.id}/decision`,
      { desk: 'ops', decision: 'accepted' },
    );
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    expect(accepted.body).toMatchObject({ state: 'pending', rules: [1] });
    expect(await sentCount()).toBe(before);
    expect(await stateAt('us', incident)).toBe('reported');
  });
});

describe('traffic that contradicts the incident', () => {
  test('an update or closure of a closed incident, or another status, is refused', async () => {
    const { incident } = await reported();
    const exercise = await send(
      'olga',
      flashReport({ type: 'incident.update', incident, precedence: 'routine', status: 'exercise' }),
    );
    expect(exercise.status).toBe(409);
    expect(exercise.body.error?.message).toBe(
      `incident ${incident} has status "actual": a message about it has that status too, not "exercise"`,
    );

    // A closure held for a second officer, then the incident closed by a state change meanwhile.
    const close = await send(
      'olga',
      draft({ type: 'incident.close', incident, status: 'actual', text: undefined }),
    );
    expect(close.status, JSON.stringify(close.body)).toBe(202);
    const set = await us('olga', 'POST', `/api/v1/incidents/${incident}/state`, {
      desk: 'ops',
      to: 'closed',
    });
    const closed = await us('otto', 'POST', `/api/v1/drafts/${set.body.draft}/approve`, {});
    expect(closed.status, JSON.stringify(closed.body)).toBe(201);

    const before = await sentCount();
    const late = await us('oscar', 'POST', `/api/v1/drafts/${close.body.draft}/approve`, {});
    expect(late.status).toBe(409);
    expect(late.body.error?.message).toBe(
      `draft ${close.body.draft} can no longer be released: incident ${incident} is closed, and closed is final: no update, closure or state change follows; reject it`,
    );
    const update = await send(
      'olga',
      flashReport({ type: 'incident.update', incident, precedence: 'routine' }),
    );
    expect(update.body.error).toMatchObject({
      code: 'E_CONFLICT',
      message: expect.stringContaining('is closed, and closed is final'),
    });
    expect(await sentCount()).toBe(before);
    const rejected = await us('oscar', 'POST', `/api/v1/drafts/${close.body.draft}/reject`, {
      note: 'closed already',
    });
    expect(rejected.status).toBe(200);
  });

  test('a request for a state requested already and undecided, or the current one, is refused', async () => {
    const { incident } = await reported();
    const path = `/api/v1/incidents/${incident}/requests`;
    const first = await cn('POST', path, { desk: 'ops', to: 'investigating' });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await cn('POST', path, { desk: 'ops', to: 'investigating' });
    expect(again.status).toBe(409);
    expect(again.body.error?.message).toMatch(
      new RegExp(
        `^"cn" requested investigating already \\(request ${first.body.id} at \\S+\\) and "us" has not decided it yet$`,
      ),
    );
    const current = await cn('POST', path, { desk: 'ops', to: 'reported' });
    expect(current.body.error).toEqual({
      code: 'E_CONFLICT',
      message: 'the incident is already reported',
    });
  });
});

describe('a plain message (POST /api/v1/messages) is checked as its own route checks it', () => {
  test('an operator cannot retract; a retraction twice is refused; nothing is sent', async () => {
    const { incident, report } = await reported();
    const retract = draft({
      type: 'incident.retract',
      incident,
      status: 'actual',
      inReplyTo: report,
      codes: ['phrase.false-alarm'],
    });
    const before = await sentCount();
    const byOperator = await send('olga', retract);
    expect(byOperator.status).toBe(403);
    expect(byOperator.body.error).toEqual({
      code: 'E_FORBIDDEN',
      message: 'operator "olga" may not retract an incident: it needs the role officer or admin',
    });
    expect(await sentCount()).toBe(before);
    expect((await send('oscar', retract)).status).toBe(201);
    const twice = await us('oscar', 'POST', `/api/v1/incidents/${incident}/retract`, {
      desk: 'ops',
    });
    expect(twice.body.error).toMatchObject({
      code: 'E_CONFLICT',
      message: expect.stringMatching(new RegExp(`^incident ${incident} was retracted at `)),
    });
  });

  test('an ack or a reminder is refused, naming the route that checks what it answers', async () => {
    const { incident, report } = await reported();
    const before = await sentCount();
    const ack = await send('olga', draft({ type: 'ack', incident, inReplyTo: report }));
    expect(ack.status).toBe(400);
    expect(ack.body.error).toEqual({
      code: 'E_MALFORMED',
      message:
        'an ack goes by POST /api/v1/messages/:party/:id/ack (hotline ack PARTY ID), which checks the message it answers: it is not sent as a plain message',
    });
    const reminder = await send('olga', draft({ type: 'reminder', incident, inReplyTo: report }));
    expect(reminder.body.error).toMatchObject({
      code: 'E_MALFORMED',
      message: expect.stringMatching(
        /^a reminder goes by POST \/api\/v1\/messages\/:party\/:id\/remind/,
      ),
    });
    expect(await sentCount()).toBe(before);
  });
});
