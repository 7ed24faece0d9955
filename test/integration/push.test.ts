/**
 * Web Push end to end, with the push service played on loopback: Olga, on duty at Beijing's ops
 * desk, subscribes her phone (Chinese) and an old laptop (English) as a browser would — a fresh
 * P-256 key pair and a 16-byte auth secret. Washington sends a flash exercise report; Beijing's
 * escalation pushes to both. The phone's push is decrypted with the subscription's own private key
 * (RFC 8291 `aes128gcm`, by `http_ece`, as a browser does) and its VAPID JWT (RFC 8292) is checked
 * against the node's public key; the laptop's push service answers 410 Gone, so that subscription
 * is removed. Tapping the notification opens the message, whose acknowledgement is the usual
 * audited action.
 */
import { createECDH, createPublicKey, randomBytes, verify } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as ece from 'http_ece';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { readToken } from '../../src/node/core/data.ts';
import { type PushPayload, pushPayload } from '../../src/node/incidents/push.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import { fromBase64url, toBase64url } from '../../src/protocol/encoding.ts';
import type { EscalationStep, PushSettings } from '../../src/protocol/views.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';

interface Pushed {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const SUBJECT = 'mailto:duty@cn.example';
/** A browser's side of a subscription: its key pair and auth secret never leave it. */
function browserKeys() {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  const auth = randomBytes(16);
  return {
    ecdh,
    auth: toBase64url(auth),
    p256dh: toBase64url(ecdh.getPublicKey()),
  };
}

/** Checks an RFC 8292 `vapid t=<JWT>, k=<key>` header; answers the JWT's claims. */
function vapidClaims(authorization: string, publicKey: string) {
  const match = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(authorization);
  if (!match) throw new Error(`not a VAPID authorization: ${authorization}`);
  const [, jwt, k] = match as unknown as [string, string, string];
  expect(k).toBe(publicKey);
  const [header, claims, signature] = jwt.split('.') as [string, string, string];
  expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({
    typ: 'JWT',
    alg: 'ES256',
  });
  const point = fromBase64url(k);
  const key = createPublicKey({
    format: 'jwk',
    key: {
      kty: 'EC',
      crv: 'P-256',
      x: toBase64url(point.subarray(1, 33)),
      y: toBase64url(point.subarray(33, 65)),
    },
  });
  const signed = Buffer.from(`${header}.${claims}`);
  const ok = verify(
    'sha256',
    signed,
    { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(signature, 'base64url'),
  );
  expect(ok).toBe(true);
  return JSON.parse(Buffer.from(claims, 'base64url').toString()) as {
    aud: string;
    exp: number;
    sub: string;
  };
}

describe('Web Push to a duty officer’s phone', () => {
  let pair: Pair;
  let service: Server;
  let serviceBase: string;
  const pushed: Pushed[] = [];
  const escalations: EscalationStep[] = [];
  const now = Date.parse('2026-12-06T02:00:00.000Z');
  const clock = () => new Date(now);
  let olga = '';
  const phone = browserKeys();
  const laptop = browserKeys();

  const us = () => pair.us.running as RunningNode;
  const cn = () => pair.cn.running as RunningNode;

  async function api(site: 'us' | 'cn', method: string, path: string, body?: unknown, token = '') {
    const response = await fetch(`http://${pair[site].operatorListen}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: test answers are read loosely
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    service = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        pushed.push({
          path: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks),
        });
        response.writeHead(request.url?.endsWith('/laptop') ? 410 : 201).end();
      });
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    serviceBase = `http://127.0.0.1:${(service.address() as AddressInfo).port}`;
    pair = await createPair({
      notify: { push: { services: [serviceBase], subject: SUBJECT } },
    } as never);
    await pair.start(pair.us, { clock });
    await pair.start(pair.cn, { clock });
    cn().events.on('escalation', (e) => escalations.push(e));
    const { accounts, roster } = cn().people;
    const by = dataFolderActor();
    await accounts.add(by, { name: 'olga', role: 'operator', password: 'olga-passphrase-1' });
    await roster.putStaff(by, 'ops', 'olga', [{ kind: 'console' }]);
    await roster.addShift(by, {
      desk: 'ops',
      user: 'olga',
      startsAt: new Date(now - 3_600_000).toISOString(),
      endsAt: new Date(now + 12 * 3_600_000).toISOString(),
    });
    olga = (await accounts.issueToken(by, 'olga')).token;
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    service.closeAllConnections();
    await new Promise<void>((resolve) => service.close(() => resolve()));
  });

  test('a browser subscribes with its keys; an address outside the push services is refused', async () => {
    const settings = (await api('cn', 'GET', '/api/v1/me/push', undefined, olga))
      .body as PushSettings;
    expect(fromBase64url(settings.publicKey ?? '')).toHaveLength(65);
    expect(settings.devices).toEqual([]);
    for (const [name, keys, lang] of [
      ['phone', phone, 'zh'],
      ['laptop', laptop, 'en'],
    ] as const) {
      const answer = await api(
        'cn',
        'POST',
        '/api/v1/me/push',
        {
          endpoint: `${serviceBase}/push/${name}`,
          expirationTime: null,
          keys: { p256dh: keys.p256dh, auth: keys.auth },
          lang,
          label: name,
        },
        olga,
      );
      expect(answer.status).toBe(201);
      expect(answer.body).toMatchObject({ label: name, lang, lastOkAt: null });
    }
    const elsewhere = await api(
      'cn',
      'POST',
      '/api/v1/me/push',
      {
        endpoint: 'https://collector.example/steal',
        keys: { p256dh: phone.p256dh, auth: phone.auth },
        lang: 'en',
      },
      olga,
    );
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.body.error.code).toBe('E_MALFORMED');
    expect(elsewhere.body.error.message).toContain('is not a push service');
    const badKey = await api(
      'cn',
      'POST',
      '/api/v1/me/push',
      {
        endpoint: `${serviceBase}/push/other`,
        keys: { p256dh: toBase64url(randomBytes(33)), auth: phone.auth },
        lang: 'en',
      },
      olga,
    );
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.message).toContain('P-256');
    const [audit] = await cn().people.trail.list({ action: 'push.subscribe', limit: 1 });
    expect(audit).toMatchObject({ actor: 'olga', action: 'push.subscribe' });
  });

  test('an expired subscription, a user name in its address, or another’s device is refused', async () => {
    const subscribe = (endpoint: string, token: string, expirationTime: number | null = null) =>
      api(
        'cn',
        'POST',
        '/api/v1/me/push',
        { endpoint, expirationTime, keys: { p256dh: phone.p256dh, auth: phone.auth }, lang: 'en' },
        token,
      );
    const devicesOf = async (token: string) =>
      ((await api('cn', 'GET', '/api/v1/me/push', undefined, token)).body as PushSettings).devices
        .map((d) => d.label)
        .sort();
    const before = await devicesOf(olga);

    const expired = await subscribe(`${serviceBase}/push/old`, olga, 1);
    expect(expired.status).toBe(400);
    expect(expired.body.error).toEqual({
      code: 'E_MALFORMED',
      message:
        'expirationTime 1970-01-01T00:00:00.001Z is in the past (it is 2026-12-06T02:00:00.000Z): the subscription has already expired; subscribe this browser again',
    });
    const withName = await subscribe(serviceBase.replace('//', '//olga:pw@'), olga);
    expect(withName.status).toBe(400);
    expect(withName.body.error.message).toBe(
      `the endpoint ${serviceBase}/ has a user name and password in it (before @): a push service never hands out such an endpoint, and each push would send them on; give the URL without them`,
    );

    const { accounts, roster } = cn().people;
    const by = dataFolderActor();
    await accounts.add(by, { name: 'pei', role: 'operator', password: 'pei-passphrase-1' });
    await roster.putStaff(by, 'ops', 'pei', [{ kind: 'console' }]);
    const pei = (await accounts.issueToken(by, 'pei')).token;
    const taken = await subscribe(`${serviceBase}/push/phone`, pei);
    expect(taken.status).toBe(409);
    expect(taken.body.error).toEqual({
      code: 'E_CONFLICT',
      message:
        'this browser or phone is subscribed by another person: "olga" must remove it (console, Duty page) before "pei" can subscribe it',
    });
    expect(await devicesOf(olga)).toEqual(before);
    expect(await devicesOf(pei)).toEqual([]);
  });

  test('escalation pushes a flash to her phone, encrypted for it and signed with VAPID', async () => {
    const sent = await api(
      'us',
      'POST',
      '/api/v1/messages',
      {
        to: ['cn'],
        message: draft({
          type: 'incident.report',
          incident: '01936b3c-0000-7000-8000-0000000000aa',
          precedence: 'flash',
          status: 'exercise',
          text: { lang: 'en', body: 'Autonomous agent spreading across grid operators.' },
          report: {
            nature: 'incident',
            category: 'category.loss-of-control',
            actionsTaken: [],
            actionsRequested: [],
          },
        }),
      },
      readToken(pair.us.dir),
    );
    expect(sent.status).toBe(201);
    const id: string = sent.body.id;
    const toPhone = await eventually(
      async () => pushed.find((p) => p.path === '/push/phone'),
      10_000,
      'the push to the phone',
    );
    expect(toPhone.headers['content-encoding']).toBe('aes128gcm');
    expect(toPhone.headers.urgency).toBe('high');
    expect(Number(toPhone.headers.ttl)).toBe(600);
    // The payload is unreadable on the wire: no id, no words.
    expect(toPhone.body.includes(Buffer.from(id))).toBe(false);

    const key = (await api('cn', 'GET', '/api/v1/me/push', undefined, olga)).body.publicKey;
    const claims = vapidClaims(String(toPhone.headers.authorization), key);
    expect(claims.aud).toBe(serviceBase);
    expect(claims.sub).toBe(SUBJECT);
    expect(claims.exp * 1000).toBeGreaterThan(Date.now());
    expect(claims.exp * 1000).toBeLessThanOrEqual(Date.now() + 24 * 3_600_000);

    const plain = ece.decrypt(toPhone.body, {
      version: 'aes128gcm',
      privateKey: phone.ecdh,
      authSecret: phone.auth,
    });
    const payload = JSON.parse(plain.toString('utf8')) as PushPayload;
    const category = cn().language.vocabulary.render('category.loss-of-control', 'zh').text;
    expect(payload.title).toBe(`【演习】特提 · ${category} · 来自华盛顿`);
    expect(payload.body).toContain(`us/…${id.slice(-8)}`);
    expect(payload.body).toContain('待确认');
    expect(payload.url).toBe(`/message/us/${id}`);
    expect(payload.lang).toBe('zh');

    // The laptop's subscription expired (410): tried once, then removed.
    await eventually(
      async () =>
        (await api('cn', 'GET', '/api/v1/me/push', undefined, olga)).body.devices.length === 1
          ? true
          : undefined,
      10_000,
      'the expired subscription removed',
    );
    expect(pushed.filter((p) => p.path === '/push/laptop')).toHaveLength(1);
    const devices = (await api('cn', 'GET', '/api/v1/me/push', undefined, olga)).body.devices;
    expect(devices[0]).toMatchObject({ label: 'phone', lastError: null });
    expect(devices[0].lastOkAt).not.toBeNull();
    const step = escalations.find((e) => e.id === id);
    expect(step?.channels).toContainEqual({ kind: 'push', ok: true, detail: '2 device(s)' });

    // Tapping opens /message/us/<id>; acknowledging there is the usual audited act.
    const [, , party, messageId] = payload.url.split('/');
    const ack = await api(
      'cn',
      'POST',
      `/api/v1/messages/${party}/${messageId}/ack`,
      { desk: 'ops' },
      olga,
    );
    expect(ack.status).toBe(201);
    expect(ack.body).toMatchObject({ by: 'olga', desk: 'ops', id });
    const [audit] = await cn().people.trail.list({ action: 'message.ack', limit: 1 });
    expect(audit).toMatchObject({ actor: 'olga', target: `us/${id}` });
    await eventually(async () =>
      (await us().escalation.followups.get('out', 'cn', id))?.acked_at ? true : undefined,
    );
  });

  test('an English subscription reads English; a drill is marked as one', async () => {
    const payload = pushPayload(
      {
        kind: 'escalation',
        node: 'cn',
        party: 'us',
        id: '01936b3c-0000-7000-8000-0000000000bb',
        incident: null,
        precedence: 'immediate',
        status: 'test',
        type: 'query',
        step: 1,
        desk: 'duty-officer',
        user: 'oscar',
        fired: 2,
        at: new Date(now).toISOString(),
      },
      'en',
      {
        vocabulary: cn().language.vocabulary,
        partyName: (party, lang) => (party === 'us' && lang === 'en' ? 'Washington' : party),
      },
      null,
    );
    expect(payload.title).toBe('[TEST] Immediate · query · from Washington');
    expect(payload.body).toBe(
      'Message us/…000000bb awaits acknowledgement (step 2, desk duty-officer). Tap to open and acknowledge.',
    );
  });
});
