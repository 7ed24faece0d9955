/**
 * What people type into the operator API is held to what it means: a time names a real instant,
 * a name or a reason says something besides spaces. A refused request changes nothing: no
 * message leaves, no token, shift or translation is stored.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readToken } from '../../src/node/core/data.ts';
import { makeAttachment } from '../../src/protocol/attachments.ts';
import { createPair, draft, type Pair } from '../support/pair.ts';

let pair: Pair;
let base: string;
let auth: { authorization: string };
/** The account the operator token belongs to. */
let me: string;

beforeAll(async () => {
  pair = await createPair();
  await pair.start(pair.us);
  await pair.start(pair.cn);
  base = `http://${pair.us.operatorListen}`;
  auth = { authorization: `Bearer ${readToken(pair.us.dir)}` };
  me = ((await api('GET', '/api/v1/me')).body.user as { name: string }).name;
});
afterAll(async () => {
  await pair.close();
});

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    body: (await response.json().catch(() => undefined)) as {
      error?: { code: string; message: string };
    } & Record<string, unknown>,
  };
}

async function outboxSize(): Promise<number> {
  return ((await api('GET', '/api/v1/outbox')).body as unknown as unknown[]).length;
}

/** The request is refused as malformed, with a sentence matching `said`. */
async function refused(method: string, path: string, body: unknown, said: RegExp) {
  const answer = await api(method, path, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(400);
  expect(answer.body.error?.code).toBe('E_MALFORMED');
  expect(answer.body.error?.message).toMatch(said);
}

const NOT_A_DATE = /is not a calendar date(\/time)?: /;

describe('a time entered on the operator API', () => {
  test('30 February or 25:61 is refused before anything else, wherever a time is taken', async () => {
    const before = await outboxSize();
    await refused(
      'POST',
      '/api/v1/conferences',
      { desk: 'ops', to: 'cn', times: ['2027-02-30T14:00:00.000Z'] },
      /times\/0 is not a calendar date\/time: .*February 2027 has no day 30/,
    );
    await refused(
      'POST',
      `/api/v1/users/${me}/tokens`,
      { expiresAt: '2027-02-30T25:61:61.000Z' },
      /expiresAt is not a calendar date\/time/,
    );
    // Not "a shift must end after it starts": the date is what is wrong.
    await refused(
      'POST',
      '/api/v1/desks/ops/shifts',
      { user: me, startsAt: '2027-02-29T08:00:00.000Z', endsAt: '2027-03-01T08:00:00.000Z' },
      /startsAt is not a calendar date\/time.*February 2027 has no day 29/,
    );
    await refused(
      'GET',
      '/api/v1/desks/ops/duty?at=2027-02-30T14:00:00.000Z',
      undefined,
      NOT_A_DATE,
    );
    await refused('GET', '/api/v1/compliance?at=2027-04-31T00:00:00.000Z', undefined, NOT_A_DATE);
    await refused('GET', '/api/v1/search?from=2026-13-45', undefined, /there is no month 13/);
    await refused('GET', '/api/v1/search?to=2026-12-01T24:00Z', undefined, /hours run 00 to 23/);
    await refused(
      'POST',
      '/api/v1/messages',
      {
        to: ['cn'],
        message: draft({
          type: 'conference',
          conference: { action: 'request', at: '2027-02-30T14:00:00.000Z' },
        }),
      },
      /conference\.at: 2027-02-30T14:00:00\.000Z is not a calendar date\/time/,
    );
    expect(await outboxSize()).toBe(before);
    const tokens = (await api('GET', '/api/v1/tokens')).body as unknown as unknown[];
    expect(JSON.stringify(tokens)).not.toContain('2027-02-30');
  });

  test('a real day still passes: 29 February of a leap year, a day-only search', async () => {
    const leap = await api('GET', '/api/v1/desks/ops/duty?at=2028-02-29T23:59:59.999Z');
    expect(leap.status).toBe(200);
    expect((await api('GET', '/api/v1/search?from=2026-12-01&to=2026-12-31')).status).toBe(200);
  });

  test('a conference time already past is refused at release, and nothing is sent', async () => {
    const before = await outboxSize();
    await refused(
      'POST',
      '/api/v1/conferences',
      { desk: 'ops', to: 'cn', times: ['2030-01-01T09:00:00.000Z', '2020-12-20T14:00:00.000Z'] },
      /times\/1: 2020-12-20T14:00:00\.000Z is in the past/,
    );
    await refused(
      'POST',
      '/api/v1/messages',
      {
        to: ['cn'],
        message: draft({
          type: 'conference',
          conference: { action: 'request', at: '2020-12-20T14:00:00.000Z' },
        }),
      },
      /conference\.at: 2020-12-20T14:00:00\.000Z is in the past/,
    );
    const call = await api('POST', '/api/v1/conferences', {
      desk: 'ops',
      to: 'cn',
      times: ['2030-01-01T09:00:00.000Z'],
    });
    expect(call.status).toBe(201);
    await refused(
      'POST',
      '/api/v1/messages',
      {
        to: ['cn'],
        message: draft({
          type: 'conference',
          inReplyTo: call.body.id as string,
          conference: { action: 'propose', at: '2020-01-01T09:00:00.000Z' },
        }),
      },
      /is in the past/,
    );
    expect(await outboxSize()).toBe(before + 1);
  });
});

describe('a range entered on the operator API', () => {
  test('one that ends before it starts is refused naming both ends, and nothing is stored', async () => {
    const before = await outboxSize();
    await refused(
      'GET',
      '/api/v1/desks/ops/shifts?from=2030-01-07T00:00:00.000Z&to=2030-01-01T00:00:00.000Z',
      undefined,
      /^request querystring\/to 2030-01-01T00:00:00\.000Z is before querystring\/from 2030-01-07T00:00:00\.000Z: the range ends before it starts; give the earlier time as querystring\/from$/,
    );
    await refused(
      'GET',
      '/api/v1/search?from=2026-12-07&to=2026-12-06T23:00Z',
      undefined,
      /^request querystring\/to 2026-12-06T23:00Z is before querystring\/from 2026-12-07: the range ends before it starts/,
    );
    await refused(
      'POST',
      '/api/v1/desks/ops/shifts',
      { user: me, startsAt: '2030-01-02T08:00:00.000Z', endsAt: '2030-01-01T20:00:00.000Z' },
      /^endsAt 2030-01-01T20:00:00\.000Z is before startsAt 2030-01-02T08:00:00\.000Z: the range ends before it starts/,
    );
    await refused(
      'POST',
      '/api/v1/desks/ops/shifts',
      { user: me, startsAt: '2030-01-02T08:00:00.000Z', endsAt: '2030-01-02T08:00:00.000Z' },
      /^endsAt 2030-01-02T08:00:00\.000Z is the same time as startsAt 2030-01-02T08:00:00\.000Z: the range is empty/,
    );
    await refused(
      'POST',
      '/api/v1/messages',
      {
        to: ['cn'],
        message: draft({
          type: 'notice',
          notice: {
            subject: 'notice.exercise',
            from: '2030-01-07T00:00:00.000Z',
            until: '2030-01-01T00:00:00.000Z',
          },
        }),
      },
      /notice\.until 2030-01-01T00:00:00\.000Z is before notice\.from 2030-01-07T00:00:00\.000Z/,
    );
    expect(await outboxSize()).toBe(before);
    const shifts = await api('GET', '/api/v1/desks/ops/shifts?from=2030-01-01T00:00:00.000Z');
    expect(shifts.body).toEqual([]);
  });

  test('a day-only search of one day still passes: the day runs to its end', async () => {
    expect((await api('GET', '/api/v1/search?from=2026-12-07&to=2026-12-07')).status).toBe(200);
  });
});

describe('a time on the wrong side of now', () => {
  test('an audit listing since a time to come, a token already expired', async () => {
    await refused(
      'GET',
      '/api/v1/audit?since=2999-01-01T00:00:00.000Z',
      undefined,
      /^request querystring\/since 2999-01-01T00:00:00\.000Z is in the future \(it is .+\): no entry is recorded after now$/,
    );
    await refused(
      'POST',
      `/api/v1/users/${me}/tokens`,
      { label: 'born expired', expiresAt: '2020-01-01T00:00:00.000Z' },
      /^expiresAt 2020-01-01T00:00:00\.000Z is in the past \(it is .+\): a token must expire in the future$/,
    );
    const tokens = (await api('GET', '/api/v1/tokens')).body as unknown as unknown[];
    expect(JSON.stringify(tokens)).not.toContain('born expired');
  });
});

/** Three spaces, a tab and a line break: nothing a person can read. */
const BLANK = '   \t\n';

describe('text entered on the operator API', () => {
  test('a name, label, note or translation of only spaces is refused, and nothing is stored', async () => {
    const SAYS_NOTHING = /is not a text with at least one character besides spaces/;
    const message = `/api/v1/messages/cn/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`;
    await refused(
      'POST',
      `${message}/translations`,
      { lang: 'zh', text: BLANK, status: 'rough', translator: 'Li', desk: 'ops' },
      SAYS_NOTHING,
    );
    await refused(
      'POST',
      `${message}/translations`,
      { lang: 'zh', text: '测试。', status: 'rough', translator: BLANK, desk: 'ops' },
      SAYS_NOTHING,
    );
    await refused('POST', '/api/v1/desks', { id: 'blank', name: BLANK }, SAYS_NOTHING);
    await refused(
      'POST',
      '/api/v1/users',
      { name: 'blank.name', role: 'operator', password: 'four words will do', displayName: BLANK },
      SAYS_NOTHING,
    );
    await refused('POST', `/api/v1/users/${me}/tokens`, { label: BLANK }, SAYS_NOTHING);
    await refused('POST', '/api/v1/alarms/1/clear', { note: BLANK }, SAYS_NOTHING);
    await refused(
      'POST',
      '/api/v1/conferences',
      { desk: 'ops', to: 'cn', times: ['2030-01-01T09:00:00.000Z'], medium: BLANK },
      SAYS_NOTHING,
    );
    const desks = (await api('GET', '/api/v1/desks')).body as unknown as Array<{ id: string }>;
    expect(desks.map((d) => d.id)).not.toContain('blank');
    const users = (await api('GET', '/api/v1/users')).body as unknown as Array<{ name: string }>;
    expect(users.map((u) => u.name)).not.toContain('blank.name');
  });

  test('a reason counts its characters besides spaces', async () => {
    await refused(
      'POST',
      '/api/v1/exports/red',
      { desk: 'ops', reason: `a${BLANK}` },
      /reason is not a text with at least 3 characters besides spaces/,
    );
  });

  test('a conference medium of only spaces is refused at release too', async () => {
    const before = await outboxSize();
    await refused(
      'POST',
      '/api/v1/messages',
      {
        to: ['cn'],
        message: draft({
          type: 'conference',
          conference: { action: 'request', at: '2030-01-01T09:00:00.000Z', medium: BLANK },
        }),
      },
      /conference\.medium is blank/,
    );
    expect(await outboxSize()).toBe(before);
  });

  test('a password of twelve spaces, or one character twelve times, is refused', async () => {
    for (const password of [' '.repeat(12), 'a'.repeat(12)]) {
      await refused(
        'POST',
        '/api/v1/users',
        { name: 'weak.pass', role: 'operator', password },
        /a password of (only spaces|one character repeated)/,
      );
      await refused('POST', `/api/v1/users/${me}/password`, { password }, /a password of/);
    }
    const users = (await api('GET', '/api/v1/users')).body as unknown as Array<{ name: string }>;
    expect(users.map((u) => u.name)).not.toContain('weak.pass');
  });
});

describe('an attachment to release', () => {
  test('named as a path, a dot name or with control characters is refused, and nothing is sent', async () => {
    const before = await outboxSize();
    const data = Buffer.from('root:x:0:0');
    for (const name of ['../../etc/passwd', 'a\\b.txt', '..', 'report\r\n.txt']) {
      const answer = await api('POST', '/api/v1/messages', {
        to: ['cn'],
        message: draft({ attachments: [makeAttachment(name, 'text/plain', data)] }),
      });
      expect(answer.status, name).toBe(400);
      expect(answer.body.error?.code).toBe('E_BAD_ATTACHMENT');
      expect(answer.body.error?.message).toMatch(/a name (is a file name|cannot)/);
    }
    expect(await outboxSize()).toBe(before);
  });
});

describe('a handover', () => {
  test('with a note of only spaces, on the handover or an item, is refused', async () => {
    for (const body of [
      { items: [{ kind: 'note', note: BLANK }] },
      { items: [{ kind: 'alarm', id: 1, note: BLANK }] },
      { items: [], note: BLANK },
    ]) {
      const answer = await api('POST', '/api/v1/desks/ops/handovers', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.error?.code).toBe('E_MALFORMED');
    }
    const handovers = (await api('GET', '/api/v1/handovers')).body as unknown as unknown[];
    expect(JSON.stringify(handovers)).not.toContain(BLANK);
  });
});

describe('a message written through a route', () => {
  test('with a text of only spaces says nothing: a state change, a retraction, a presence check', async () => {
    const report = draft({
      type: 'incident.report',
      incident: '01954f7a-3c00-7a00-8000-00000000abcd',
      status: 'exercise',
      report: {
        nature: 'incident',
        category: 'category.weights-proliferation',
        actionsTaken: [],
        actionsRequested: [],
      },
    });
    const sent = await api('POST', '/api/v1/messages', { to: ['cn'], message: report });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const before = await outboxSize();
    const incident = report.incident as string;
    for (const [path, body] of [
      [`/api/v1/incidents/${incident}/state`, { desk: 'ops', to: 'investigating', text: BLANK }],
      [`/api/v1/incidents/${incident}/retract`, { desk: 'ops', text: BLANK }],
      ['/api/v1/presence', { desk: 'ops', to: ['cn'], asked: 'ops', text: BLANK }],
    ] as const) {
      const answer = await api('POST', path, body);
      expect(answer.status, path).toBe(400);
      expect(answer.body.error?.code, path).toBe('E_EMPTY_MESSAGE');
    }
    expect(await outboxSize()).toBe(before);
  });
});

describe('text that shows nothing, or hides what it is', () => {
  test('invisible characters alone are blank; a control character is refused, naming it', async () => {
    const before = await outboxSize();
    const invisible = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ text: { lang: 'en', body: '\u200b\u200f' } }),
    });
    expect(invisible.status).toBe(400);
    expect(invisible.body.error).toEqual({
      code: 'E_EMPTY_MESSAGE',
      message: 'the message says nothing: its text (en) is blank',
    });
    for (const body of ['\u0000', 'a\u0000b']) {
      const nul = await api('POST', '/api/v1/messages', {
        to: ['cn'],
        message: draft({ text: { lang: 'en', body } }),
      });
      expect(nul.body.error?.code).toBe(body === 'a\u0000b' ? 'E_MALFORMED' : 'E_EMPTY_MESSAGE');
    }
    const nul = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ text: { lang: 'en', body: 'a\u0000b' } }),
    });
    expect(nul.body.error?.message).toBe(
      'message text has U+0000 NULL, a control character: only tabs and line breaks are taken; write it without',
    );
    expect(await outboxSize()).toBe(before);
    // Tabs and line breaks are what a multi-line text is made of.
    const lines = await api('POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ text: { lang: 'en', body: 'Line one\r\n\tLine two' } }),
    });
    expect(lines.status, JSON.stringify(lines.body)).toBe(201);

    const SAYS_NOTHING = /is not a text with at least one character besides spaces/;
    await refused('POST', '/api/v1/desks', { id: 'zw', name: '\u200b\u2060' }, SAYS_NOTHING);
    await refused(
      'POST',
      '/api/v1/desks',
      { id: 'nul', name: 'Ops\u0000' },
      /^request body\/name has U\+0000 NULL, a control character: a name is one line/,
    );
    await refused(
      'POST',
      '/api/v1/alarms/1/clear',
      { note: 'done\u001b[2J' },
      /has U\+001B ESCAPE/,
    );
  });

  test('a bidi override in a name is refused, so a list cannot be made to lie', async () => {
    const RLO =
      'has U+202E RIGHT-TO-LEFT OVERRIDE, which reorders the characters after it, so a list could show a name that is not there; write the name without it';
    await refused(
      'POST',
      '/api/v1/desks',
      { id: 'evil', name: '\u202eevil' },
      new RegExp(`^request body/name ${RLO.replace(/[+()]/g, '\\$&')}$`),
    );
    await refused(
      'POST',
      '/api/v1/users',
      {
        name: 'evil.name',
        role: 'operator',
        password: 'four words will do',
        displayName: 'x\u2066y',
      },
      /^request body\/displayName has U\+2066 LEFT-TO-RIGHT ISOLATE, which reorders/,
    );
    const message = `/api/v1/messages/cn/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`;
    await refused(
      'POST',
      `${message}/translations`,
      { lang: 'zh', text: '测试。', status: 'rough', translator: 'Li\u202e', desk: 'ops' },
      /translator has U\+202E RIGHT-TO-LEFT OVERRIDE/,
    );
    const desks = (await api('GET', '/api/v1/desks')).body as unknown as Array<{ id: string }>;
    expect(desks.map((d) => d.id)).not.toEqual(expect.arrayContaining(['evil']));
    expect(desks.map((d) => d.id).filter((id) => ['zw', 'nul', 'evil'].includes(id))).toEqual([]);
    const users = (await api('GET', '/api/v1/users')).body as unknown as Array<{ name: string }>;
    expect(users.map((u) => u.name)).not.toContain('evil.name');
  });
});
