/**
 * The operator routes on one node, through Fastify's inject(): what a release, a bad request and
 * the status and record routes answer. Delivery to a running peer is test/integration's.
 */

import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { draft } from '../../test/support/pair.ts';
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

async function api(method: 'GET' | 'POST', url: string, body?: unknown) {
  const response = await node.operator.inject({
    method,
    url,
    headers: auth,
    ...(body === undefined ? {} : { payload: body as object }),
  });
  return { status: response.statusCode, body: response.json() };
}

describe('the operator routes', () => {
  test('a release answers 201 with the seq, and waits in the outbox with its deadline', async () => {
    const sent = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ precedence: 'immediate' }),
    });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ state: 'released', seq: { cn: 1 } });
    const outbox = await api('GET', '/api/v1/outbox');
    expect(outbox.body).toEqual([
      expect.objectContaining({
        to: 'cn',
        id: sent.body.id,
        seq: 1,
        status: 'pending',
        followup: expect.objectContaining({ dir: 'out', precedence: 'immediate' }),
      }),
    ]);
  });

  test('bad requests get their code and release nothing', async () => {
    const before = (await api('GET', '/api/v1/outbox')).body.length;
    const unknownPeer = await api('POST', '/api/v1/messages', { to: ['eu'], message: draft() });
    expect(unknownPeer.status).toBe(403);
    expect(unknownPeer.body.error.code).toBe('E_UNKNOWN_PARTY');
    const badBody = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: { ...draft(), precedence: 'urgent' },
    });
    expect(badBody.status).toBe(400);
    expect(badBody.body.error.code).toBe('E_MALFORMED');
    const notJson = await node.operator.inject({
      method: 'POST',
      url: '/api/v1/messages',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"to":',
    });
    expect(notJson.statusCode).toBe(400);
    const badParam = await api('POST', '/api/v1/alarms/0/clear', {});
    expect(badParam.status).toBe(400);
    expect(badParam.body.error.code).toBe('E_MALFORMED');
    expect((await api('GET', '/api/v1/outbox')).body.length).toBe(before);
  });

  test('status names the peer, its paths and the ledger; an officer clears an alarm', async () => {
    const status = await api('GET', '/api/v1/status');
    expect(status.body).toMatchObject({
      party: 'us',
      ledger: { size: expect.any(Number) },
      // The peer is not running: its path is degraded after one failed try, down after more.
      peers: [
        {
          party: 'cn',
          paths: [{ path: 'direct', state: expect.stringMatching(/^(degraded|down)$/) }],
          received: 0,
        },
      ],
    });
    await node.alarms.raise('skew', 'cn', 'a test alarm');
    const [alarm] = (await api('GET', '/api/v1/alarms')).body;
    const cleared = await api('POST', `/api/v1/alarms/${alarm.id}/clear`, { note: 'seen' });
    expect(cleared.body).toMatchObject({ id: alarm.id, cleared_note: 'seen' });
    expect((await api('GET', '/api/v1/alarms')).body).toEqual([]);
  });

  test('serves its OpenAPI document and Prometheus metrics without credentials', async () => {
    const openapi = await node.operator.inject({ method: 'GET', url: '/openapi.json' });
    expect(Object.keys(openapi.json().paths)).toEqual(
      expect.arrayContaining(['/api/v1/messages', '/api/v1/inbox', '/api/v1/status']),
    );
    const metrics = await node.operator.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/hotline_outbox_depth\{[^}]*peer="cn"[^}]*\} 1/);
  });
});

describe('what a message refers to must be here', () => {
  const report = (incident: string, system = {}) =>
    draft({
      type: 'incident.report',
      incident,
      report: {
        nature: 'incident',
        category: 'category.weights-proliferation',
        system,
        actionsTaken: [],
        actionsRequested: [],
      },
    });

  test('an answer to a message never sent or received is refused, naming the id', async () => {
    const before = (await api('GET', '/api/v1/outbox')).body.length;
    const nowhere = uuidv7();
    const reply = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ type: 'reply', inReplyTo: nowhere }),
    });
    expect(reply.status).toBe(404);
    expect(reply.body.error).toEqual({
      code: 'E_NOT_FOUND',
      message: expect.stringContaining(`there is no message ${nowhere} sent or received here`),
    });
    expect((await api('GET', '/api/v1/outbox')).body.length).toBe(before);
    // An answer to a message this node sent is taken.
    const sent = await api('POST', '/api/v1/messages', { to: ['cn'], message: draft() });
    const answer = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ type: 'reply', inReplyTo: sent.body.id }),
    });
    expect(answer.status).toBe(201);
  });

  test('a message about an incident nobody reported is refused', async () => {
    const incident = uuidv7();
    const update = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: { ...report(incident), type: 'incident.update' },
    });
    expect(update.status).toBe(404);
    expect(update.body.error.message).toBe(
      `there is no incident ${incident} here: a message about an incident follows its report (type incident.report)`,
    );
  });

  test('a state change following a message its incident does not have is refused', async () => {
    const incident = uuidv7();
    await api('POST', '/api/v1/messages', { to: ['cn'], message: report(incident) });
    const elsewhere = await api('POST', '/api/v1/messages', { to: ['cn'], message: draft() });
    const change = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({
        type: 'state',
        incident,
        state: { to: 'investigating', previous: elsewhere.body.id, request: false },
      }),
    });
    expect(change.status).toBe(404);
    expect(change.body.error.message).toBe(
      `there is no message ${elsewhere.body.id} in incident ${incident} for this state change to follow (state.previous)`,
    );
  });

  test("a report under a message's id, or a reported incident's, is refused", async () => {
    const sent = await api('POST', '/api/v1/messages', { to: ['cn'], message: draft() });
    const reuse = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: report(sent.body.id),
    });
    expect(reuse.status).toBe(409);
    expect(reuse.body.error).toEqual({
      code: 'E_CONFLICT',
      message: `${sent.body.id} is the id of a message already: a new incident needs an id of its own (a fresh UUIDv7)`,
    });
    const incident = uuidv7();
    expect(
      (await api('POST', '/api/v1/messages', { to: ['cn'], message: report(incident) })).status,
    ).toBe(201);
    const again = await api('POST', '/api/v1/messages', { to: ['cn'], message: report(incident) });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toContain(`incident ${incident} was reported already`);
  });

  test('a report naming its system with a bidi override is refused, naming the character', async () => {
    const refused = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: report(uuidv7(), { model: 'safe\u202Eledom-live' }),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('E_MALFORMED');
    expect(refused.body.error.message).toMatch(
      /^message report\.system\.model has U\+202E RIGHT-TO-LEFT OVERRIDE/,
    );
  });
});
