import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { type OneNode, openNode } from '../../test/support/node.ts';
import { flashReport } from '../../test/support/pair.ts';
import { readToken } from '../node/core/data.ts';
import { DEFAULT_ACCESS, dataFolderActor } from '../node/people/people.ts';
import { base32Decode, base32Encode, newTotpSecret, totp } from '../node/people/totp.ts';

let node: OneNode;
const HOST = '127.0.0.1:7101';
const PASSWORD = { olga: 'olga-passphrase-1', oscar: 'oscar-passphrase-1' };

beforeAll(async () => {
  node = await openNode({ access: DEFAULT_ACCESS });
  const { accounts, roster } = node.people;
  const by = dataFolderActor();
  await accounts.add(by, { name: 'olga', role: 'operator', password: PASSWORD.olga });
  await accounts.add(by, { name: 'oscar', role: 'officer', password: PASSWORD.oscar });
  for (const name of ['olga', 'oscar'])
    await roster.putStaff(by, 'ops', name, [{ kind: 'console' }]);
}, 60_000);
afterAll(async () => {
  await node?.close();
});

interface Answer {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: answers of many shapes, read field by field
  body: any;
  cookie?: string;
}

interface Session {
  cookie: string;
  csrf: string;
}

async function call(method: string, url: string, body?: unknown, session?: Session) {
  const headers: Record<string, string> = { host: HOST };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (session) {
    headers.cookie = session.cookie;
    headers['x-csrf-token'] = session.csrf;
  }
  const response = await node.operator.inject({
    method: method as 'GET',
    url,
    headers,
    ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
  });
  const setCookie = [response.headers['set-cookie'] ?? []].flat()[0];
  return {
    status: response.statusCode,
    body: JSON.parse(response.body),
    ...(setCookie ? { cookie: String(setCookie).split(';')[0] } : {}),
  } as Answer;
}

const sessionOf = (answer: Answer): Session => {
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return { cookie: answer.cookie as string, csrf: answer.body.csrfToken };
};

let secret: Uint8Array;
let recoveryCodes: string[];
/** The code the app shows `steps` steps of 30 s from now. */
const code = (steps = 0) => totp(secret, Date.now() / 1000 + steps * 30);

describe('second factor, officers required by default', () => {
  test('an officer without one may only enrol; an operator is not asked', async () => {
    const login = await call('POST', '/api/v1/session', {
      user: 'oscar',
      password: PASSWORD.oscar,
    });
    expect(login.body.enrol).toBe(true);
    const session = sessionOf(login);
    const drafts = await call('GET', '/api/v1/drafts', undefined, session);
    expect(drafts.status).toBe(403);
    expect(drafts.body.error.code).toBe('E_ENROL_SECOND_FACTOR');
    expect((await call('GET', '/api/v1/me', undefined, session)).body.enrol).toBe(true);

    const operator = await call('POST', '/api/v1/session', {
      user: 'olga',
      password: PASSWORD.olga,
    });
    expect(operator.body.enrol).toBe(false);
    expect((await call('GET', '/api/v1/drafts', undefined, sessionOf(operator))).status).toBe(200);
  });

  test('enrolling an authenticator app needs a code made from its secret, then opens the console', async () => {
    const session = sessionOf(
      await call('POST', '/api/v1/session', { user: 'oscar', password: PASSWORD.oscar }),
    );
    const begun = await call('POST', '/api/v1/me/second-factor/totp', {}, session);
    expect(begun.body.uri).toMatch(/^otpauth:\/\/totp\/Hotline:oscar\?secret=[A-Z2-7]{32}&/);
    secret = base32Decode(begun.body.secret);
    expect(
      (await call('POST', '/api/v1/me/second-factor/passkey/options', {}, session)).status,
    ).toBe(200);
    const wrong = await call(
      'POST',
      `/api/v1/me/second-factor/totp/${begun.body.id}/confirm`,
      { code: code() === '000000' ? '111111' : '000000' },
      session,
    );
    expect(wrong.body.error.code).toBe('E_SECOND_FACTOR');
    const confirmed = await call(
      'POST',
      `/api/v1/me/second-factor/totp/${begun.body.id}/confirm`,
      { code: code() },
      session,
    );
    expect(confirmed.status).toBe(200);
    // A passkey begun without proof while oscar had no factor is not added after the app is.
    const late = await call(
      'POST',
      '/api/v1/me/second-factor/passkey',
      {
        response: {
          id: 'AAAA',
          rawId: 'AAAA',
          type: 'public-key',
          clientExtensionResults: {},
          response: { clientDataJSON: 'AAAA', attestationObject: 'AAAA' },
        },
      },
      session,
    );
    expect(late.body.error).toEqual({
      code: 'E_SECOND_FACTOR',
      message: 'the passkey challenge has expired or was never asked: try again',
    });
    recoveryCodes = confirmed.body.recoveryCodes;
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect((await call('GET', '/api/v1/drafts', undefined, session)).status).toBe(200);
    const status = await call('GET', '/api/v1/me/second-factor', undefined, session);
    expect(status.body).toMatchObject({ required: true, recoveryCodesLeft: 10 });
    expect(status.body.factors.map((f: { kind: string }) => f.kind)).toEqual(['totp']);
  });

  test('recovery codes are kept only as hashes', async () => {
    const stored = JSON.stringify(
      await node.store.db.selectFrom('recovery_codes').selectAll().execute(),
    );
    for (const c of recoveryCodes) {
      expect(stored).not.toContain(c);
      expect(stored).not.toContain(c.replace(/-/g, ''));
    }
  });

  test('the TOTP secret is sealed in the database: its row makes no code', async () => {
    const rows = await node.store.db.selectFrom('second_factors').selectAll().execute();
    const stored = rows.find((r) => r.user_name === 'oscar')?.totp_secret ?? '';
    expect(stored).toMatch(/^v1\./);
    const hex = Buffer.from(secret).toString('hex');
    expect(JSON.stringify(rows)).not.toContain(base32Encode(secret));
    for (const encoding of ['hex', 'base64', 'base64url'] as const)
      expect(Buffer.from(stored.slice(3), 'base64url').toString(encoding)).not.toContain(
        Buffer.from(hex, 'hex').toString(encoding),
      );
  });

  test('a password alone no longer opens a session: the code does, once', async () => {
    const first = await call('POST', '/api/v1/session', {
      user: 'oscar',
      password: PASSWORD.oscar,
    });
    expect(first.cookie).toBeUndefined();
    expect(first.body.secondFactor.methods.sort()).toEqual(['recovery', 'totp']);
    const ticket = first.body.secondFactor.ticket;
    const bad = await call('POST', '/api/v1/session/second-factor', {
      ticket,
      proof: { totp: code() === '123456' ? '654321' : '123456' },
    });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('E_SECOND_FACTOR');
    // The next step's code: the one of this step was spent by the enrolment.
    const good = await call('POST', '/api/v1/session/second-factor', {
      ticket,
      proof: { totp: code(1) },
    });
    expect((await call('GET', '/api/v1/me', undefined, sessionOf(good))).body.user.name).toBe(
      'oscar',
    );
    // The same code on another sign-in is refused: a code seen once is spent.
    const again = await call('POST', '/api/v1/session', {
      user: 'oscar',
      password: PASSWORD.oscar,
    });
    const replay = await call('POST', '/api/v1/session/second-factor', {
      ticket: again.body.secondFactor.ticket,
      proof: { totp: code(1) },
    });
    expect(replay.body.error).toMatchObject({
      code: 'E_SECOND_FACTOR',
      message: expect.stringContaining('used already'),
    });
    // A used ticket is gone.
    const reused = await call('POST', '/api/v1/session/second-factor', {
      ticket,
      proof: { totp: code(1) },
    });
    expect(reused.body.error.message).toContain('expired');
  });

  test('a recovery code signs in once, typed with or without its dashes', async () => {
    const signIn = async (recoveryCode: string) => {
      const first = await call('POST', '/api/v1/session', {
        user: 'oscar',
        password: PASSWORD.oscar,
      });
      return call('POST', '/api/v1/session/second-factor', {
        ticket: first.body.secondFactor.ticket,
        proof: { recoveryCode },
      });
    };
    const plain = (recoveryCodes[0] as string).replace(/-/g, '').toUpperCase();
    expect((await signIn(plain)).status).toBe(200);
    const twice = await signIn(recoveryCodes[0] as string);
    expect(twice.body.error.code).toBe('E_SECOND_FACTOR');
    const session = sessionOf(await signIn(recoveryCodes[1] as string));
    expect(
      (await call('GET', '/api/v1/me/second-factor', undefined, session)).body.recoveryCodesLeft,
    ).toBe(8);
  });

  test('approving a held flash report and breaking glass ask for the factor again', async () => {
    const olga = sessionOf(
      await call('POST', '/api/v1/session', { user: 'olga', password: PASSWORD.olga }),
    );
    const flash = () => flashReport();
    const held = await call('POST', '/api/v1/messages', { to: ['cn'], message: flash() }, olga);
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    const first = await call('POST', '/api/v1/session', {
      user: 'oscar',
      password: PASSWORD.oscar,
    });
    const oscar = sessionOf(
      await call('POST', '/api/v1/session/second-factor', {
        ticket: first.body.secondFactor.ticket,
        proof: { recoveryCode: recoveryCodes[2] },
      }),
    );
    const approve = (body: unknown) =>
      call('POST', `/api/v1/drafts/${held.body.draft}/approve`, body, oscar);
    const bare = await approve({ note: 'checked' });
    expect(bare.status).toBe(401);
    expect(bare.body.error).toMatchObject({
      code: 'E_SECOND_FACTOR',
      message: 'approving a flash message needs your second factor',
    });
    expect((await approve({ stepUp: { totp: '000000' } })).body.error.code).toBe('E_SECOND_FACTOR');
    expect(
      (await call('GET', `/api/v1/drafts/${held.body.draft}`, undefined, oscar)).body.state,
    ).toBe('pending');
    // Refused for another reason (a desk oscar does not staff), the one-time code is not spent.
    const wrongDesk = await approve({ desk: 'nodesk', stepUp: { recoveryCode: recoveryCodes[3] } });
    expect(wrongDesk.body.error.code).toBe('E_FORBIDDEN');
    const released = await approve({ note: 'checked', stepUp: { recoveryCode: recoveryCodes[3] } });
    expect(released.status, JSON.stringify(released.body)).toBe(201);

    // Breaking glass on the draft just released is a conflict, and spends no code either.
    const late = await call(
      'POST',
      `/api/v1/drafts/${held.body.draft}/break-glass`,
      { reason: 'no second officer tonight', stepUp: { recoveryCode: recoveryCodes[4] } },
      oscar,
    );
    expect(late.status).toBe(409);
    const other = await call('POST', '/api/v1/messages', { to: ['cn'], message: flash() }, olga);
    const glass = (body: unknown) =>
      call('POST', `/api/v1/drafts/${other.body.draft}/break-glass`, body, oscar);
    expect((await glass({ reason: 'no second officer tonight' })).body.error.code).toBe(
      'E_SECOND_FACTOR',
    );
    const broken = await glass({
      reason: 'no second officer tonight',
      stepUp: { recoveryCode: recoveryCodes[4] },
    });
    expect(broken.status, JSON.stringify(broken.body)).toBe(201);
    const trail = await node.people.trail.list({ action: 'factor.verify', limit: 100 });
    expect(trail.map((e) => e.detail.for)).toContain('breaking glass');
  });

  test("with a factor enrolled, a token alone changes none of the account's factors", async () => {
    const { token } = await node.people.accounts.issueToken(dataFolderActor(), 'oscar');
    const asOscar = async (method: string, url: string, body?: unknown) => {
      const response = await node.operator.inject({
        method: method as 'POST',
        url,
        headers: {
          host: HOST,
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
      });
      return { status: response.statusCode, body: JSON.parse(response.body) } as Answer;
    };
    const before = (await asOscar('GET', '/api/v1/me/second-factor')).body;
    const [app] = before.factors;
    for (const [method, url, why] of [
      ['POST', '/api/v1/me/second-factor/recovery-codes', 'making new recovery codes'],
      ['POST', '/api/v1/me/second-factor/totp', 'adding a second factor'],
      ['POST', '/api/v1/me/second-factor/passkey/options', 'adding a second factor'],
      ['DELETE', `/api/v1/me/second-factor/${app.id}`, 'removing a second factor'],
    ] as const) {
      const refused = await asOscar(method, url, {});
      expect(refused.status, url).toBe(401);
      expect(refused.body.error).toEqual({
        code: 'E_SECOND_FACTOR',
        message: `${why} needs your second factor`,
      });
    }
    expect((await asOscar('GET', '/api/v1/me/second-factor')).body).toEqual(before);

    const made = await asOscar('POST', '/api/v1/me/second-factor/recovery-codes', {
      stepUp: { recoveryCode: recoveryCodes[5] },
    });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    expect(made.body.recoveryCodes).toHaveLength(10);
    recoveryCodes = made.body.recoveryCodes;
  });

  test('an admin with a factor resets no one else’s with a token alone', async () => {
    await node.people.accounts.add(dataFolderActor(), {
      name: 'ada',
      role: 'admin',
      password: 'ada-passphrase-1',
    });
    const ada = sessionOf(
      await call('POST', '/api/v1/session', { user: 'ada', password: 'ada-passphrase-1' }),
    );
    const begun = await call('POST', '/api/v1/me/second-factor/totp', {}, ada);
    const adaApp = base32Decode(begun.body.secret);
    const confirm = `/api/v1/me/second-factor/totp/${begun.body.id}/confirm`;
    const now = Date.now() / 1000;
    expect((await call('POST', confirm, { code: totp(adaApp, now) }, ada)).status).toBe(200);
    const { token } = await node.people.accounts.issueToken(dataFolderActor(), 'ada');
    const reset = (body?: unknown) =>
      node.operator.inject({
        method: 'DELETE',
        url: '/api/v1/users/oscar/second-factor',
        headers: {
          host: HOST,
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        ...(body ? { payload: JSON.stringify(body) } : {}),
      });
    expect(JSON.parse((await reset()).body).error).toEqual({
      code: 'E_SECOND_FACTOR',
      message: 'resetting the second factor of "oscar" needs your second factor',
    });
    const wrong = await reset({ stepUp: { totp: totp(adaApp, now) } });
    expect(JSON.parse(wrong.body).error.code).toBe('E_SECOND_FACTOR');
    expect(await node.people.factors.enrolled('oscar')).toBe(true);
  });

  test('an admin resets a lost factor: the officer must enrol again', async () => {
    const reset = await node.operator.inject({
      method: 'DELETE',
      url: '/api/v1/users/oscar/second-factor',
      headers: { host: HOST, authorization: `Bearer ${readToken(node.dir)}` },
    });
    expect(JSON.parse(reset.body)).toEqual({ removed: 1 });
    const login = await call('POST', '/api/v1/session', {
      user: 'oscar',
      password: PASSWORD.oscar,
    });
    expect(login.body.enrol).toBe(true);
  });
});

describe('a TOTP secret stored in the clear by an older node', () => {
  test('is sealed at start, and its codes still sign in', async () => {
    const legacy = newTotpSecret();
    const at = new Date().toISOString();
    await node.store.db
      .insertInto('second_factors')
      .values({
        id: 'legacy0000000001',
        user_name: 'olga',
        kind: 'totp',
        label: 'old phone',
        created_at: at,
        confirmed_at: at,
        last_used_at: null,
        totp_secret: base32Encode(legacy),
        totp_last_step: null,
        credential_id: null,
        public_key: null,
        counter: null,
        rp_id: null,
        transports: null,
      })
      .execute();
    expect(await node.people.factors.sealStored()).toBe(1);
    expect(await node.people.factors.sealStored()).toBe(0);
    const row = await node.store.db
      .selectFrom('second_factors')
      .select('totp_secret')
      .where('id', '=', 'legacy0000000001')
      .executeTakeFirstOrThrow();
    expect(row.totp_secret).toMatch(/^v1\./);
    expect(row.totp_secret).not.toContain(base32Encode(legacy));
    const first = await call('POST', '/api/v1/session', { user: 'olga', password: PASSWORD.olga });
    expect(first.body.secondFactor.methods).toContain('totp');
    const signedIn = await call('POST', '/api/v1/session/second-factor', {
      ticket: first.body.secondFactor.ticket,
      proof: { totp: totp(legacy, Date.now() / 1000) },
    });
    expect(signedIn.status, JSON.stringify(signedIn.body)).toBe(200);
  });
});
