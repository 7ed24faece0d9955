/**
 * The live feed over a real WebSocket: who may open it, what it pushes, and that it ends when the
 * session does. The feed is mounted here with a short ping so a logout is seen quickly; the node's
 * own operator listener mounts the same plugin.
 */
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import { installAccess, SESSION_COOKIE } from '../../src/api/access.ts';
import { liveRoutes, SESSION_ENDED } from '../../src/api/live.ts';
import { peopleRoutes } from '../../src/api/people.ts';
import { listenerApp } from '../../src/api/server.ts';
import { services } from '../../src/api/services.ts';
import type { RunningNode } from '../../src/app/start.ts';
import { readToken } from '../../src/node/core/data.ts';
import { DOWN_AFTER } from '../../src/node/delivery/paths.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import { createPair, draft, type Pair } from '../support/pair.ts';

let pair: Pair;
let us: RunningNode;
let app: FastifyInstance;
let base: string;
const PASSWORD = 'feed-passphrase-1';

beforeAll(async () => {
  pair = await createPair();
  us = await pair.start(pair.us);
  await pair.start(pair.cn);
  await us.people.accounts.add(dataFolderActor(), {
    name: 'olga',
    role: 'operator',
    password: PASSWORD,
  });
  // The operator listener's Fastify (its validator, bounds and error shape), with the feed alone.
  app = listenerApp(pino({ level: 'silent' }));
  await installAccess(app, { people: us.people });
  await app.register(services, us);
  await app.register(peopleRoutes);
  await app.register(liveRoutes, { pingMs: 100 });
  base = await app.listen({ host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await pair?.close();
});

interface Feed {
  socket: WebSocket;
  frames: Array<Record<string, unknown>>;
  closed: Promise<number>;
  next(
    type: string,
    where?: (frame: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
}

function open(headers: Record<string, string>): Feed {
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/v1/feed`, { headers });
  const frames: Array<Record<string, unknown>> = [];
  const waiters: Array<() => void> = [];
  socket.on('message', (data) => {
    frames.push(JSON.parse(String(data)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<number>((resolve) => {
    socket.on('close', (code) => resolve(code));
    socket.on('error', () => resolve(-1));
  });
  const next = async (type: string, where = (_: Record<string, unknown>) => true) => {
    for (let i = 0; i < 200; i++) {
      const found = frames.find((f) => f.type === type && where(f));
      if (found) return found;
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 50);
      });
    }
    throw new Error(`no ${type} frame`);
  };
  return { socket, frames, closed, next };
}

async function login(): Promise<string> {
  const answer = await fetch(`${base}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: 'olga', password: PASSWORD }),
  });
  return (answer.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

describe('the live feed', () => {
  test('pushes messages received, alarms raised and links changing state, to a signed-in console', async () => {
    const feed = open({ cookie: await login(), origin: base });
    expect(await feed.next('hello')).toMatchObject({ party: 'us' });
    const sent = await pair.cn.running?.node.release(['us'], draft({ precedence: 'flash' }));
    expect(await feed.next('received')).toMatchObject({ party: 'cn', ids: [sent?.id] });
    // The flash needs a person: escalation alarms the operations desk at once.
    expect(await feed.next('alarm')).toMatchObject({
      alarm: { type: 'escalation', party: 'cn', ref: `cn/${sent?.id}` },
    });
    await us.alarms.raise('skew', 'cn', 'a test alarm');
    const ofType = (type: string) => (f: Record<string, unknown>) =>
      (f.alarm as { type: string }).type === type;
    expect(await feed.next('alarm', ofType('skew'))).toMatchObject({
      alarm: { type: 'skew', party: 'cn', message: 'a test alarm' },
    });
    const alarm = (await us.store.openAlarms()).find((a) => a.type === 'skew');
    await us.alarms.clear(alarm?.id as number, 'olga', null);
    expect(await feed.next('alarm-cleared')).toMatchObject({ id: alarm?.id });
    // Down whatever state the path was in (a loaded machine's round trips may already have
    // made it degraded, which a single failure would leave unchanged, so unannounced).
    for (let i = 0; i < DOWN_AFTER; i++) us.paths.failed('cn', 'direct', 'a test failure');
    expect(await feed.next('link', (f) => f.state === 'down')).toMatchObject({
      party: 'cn',
      path: 'direct',
      state: 'down',
    });
    expect(await feed.next('ping')).toBeDefined();
    feed.socket.close();
  });

  test('pushes the skew alarm a message with a far-off clock raises', async () => {
    const feed = open({ authorization: `Bearer ${readToken(pair.us.dir)}` });
    await feed.next('hello');
    const sent = await pair.cn.running?.node.release(
      ['us'],
      draft(),
      new Date(Date.now() - 3_600_000),
    );
    expect(await feed.next('alarm')).toMatchObject({
      alarm: { type: 'skew', party: 'cn', message: expect.stringContaining(sent?.id ?? '?') },
    });
    feed.socket.close();
  });

  test('is refused without credentials, and to a page of another site; a refusal leaves no socket behind', async () => {
    expect(await open({}).closed).toBe(-1);
    const cookie = await login();
    const foreign = open({ cookie, origin: 'https://evil.example' });
    expect(await foreign.closed).toBe(1008);
    expect(foreign.frames).toEqual([]);
  });

  test('opens with a bearer token, for the CLI and automation', async () => {
    const feed = open({ authorization: `Bearer ${readToken(pair.us.dir)}` });
    expect(await feed.next('hello')).toBeDefined();
    feed.socket.close();
  });

  test('closes with "session ended" once the account is disabled', async () => {
    const cookie = await login();
    expect(cookie.startsWith(`${SESSION_COOKIE}=`)).toBe(true);
    const feed = open({ cookie });
    await feed.next('hello');
    await us.people.accounts.disable(dataFolderActor(), 'olga');
    expect(await feed.closed).toBe(SESSION_ENDED);
  });
});
