/**
 * Presence checks and conference requests as flows, across two nodes sharing one injected clock
 * that only the test moves: Washington asks whether Beijing's principal is at the console and
 * reads who answered, from which desk and when on both clocks; a check nobody answers climbs
 * Beijing's ladder and is unanswered in Washington at its deadline; a conference request at two
 * times, countered by Beijing and accepted by Washington, shows the same agreed call on both sides.
 *
 * The whole run is made once on SQLite and once on PostgreSQL (127.0.0.1:5432, db `test`).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, onTestFinished, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { readToken } from '../../src/node/core/data.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import type { ConferenceItem, PresenceItem } from '../../src/protocol/flows.ts';
import { createPair, eventually, type Pair } from '../support/pair.ts';
import { dropSchemas, TEST_POSTGRES } from '../support/postgres.ts';
import { hotline, hotlineOk } from './nodes.ts';

const MINUTE = 60_000;

describe.each(['sqlite', 'postgres'] as const)('presence and conference flows on %s', (backend) => {
  const run = randomBytes(4).toString('hex');
  const schemaOf = (party: string) => `hotline_flows_${run}_${party}`;
  let pair: Pair;
  let now = Date.parse('2026-12-06T02:00:00.000Z');
  const clock = () => new Date(now);
  const iso = (ms: number) => new Date(ms).toISOString();
  const tokens: Record<string, string> = {};

  const us = () => pair.us.running as RunningNode;
  const cn = () => pair.cn.running as RunningNode;

  async function api(site: 'us' | 'cn', method: string, path: string, body?: unknown, as?: string) {
    const token = as ? tokens[as] : readToken(pair[site].dir);
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

  /** Moves the shared clock to `to` and lets the node look at its timers. */
  async function advance(to: number, site: () => RunningNode) {
    now = to;
    await site().escalation.runDue();
  }

  const presence = async (site: 'us' | 'cn', id: string): Promise<PresenceItem | undefined> =>
    ((await api(site, 'GET', '/api/v1/presence')).body as PresenceItem[]).find((c) => c.id === id);
  const conference = async (site: 'us' | 'cn', id: string): Promise<ConferenceItem | undefined> =>
    ((await api(site, 'GET', '/api/v1/conferences')).body as ConferenceItem[]).find(
      (c) => c.id === id,
    );

  beforeAll(async () => {
    pair = await createPair({}, (party) => ({
      ...(backend === 'postgres'
        ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
        : {}),
      // Beijing names the person beside the desk, so Washington reads who answered.
      ...(party === 'cn' ? ({ access: { disclosePersons: true } } as never) : {}),
    }));
    await pair.start(pair.us, { clock });
    await pair.start(pair.cn, { clock });
    const by = dataFolderActor();
    const { accounts, roster } = cn().people;
    await roster.addDesk(by, 'duty-officer', 'Duty officer');
    await roster.addDesk(by, 'principal', 'Principal');
    for (const [name, role, desk] of [
      ['olga', 'operator', 'ops'],
      ['oscar', 'officer', 'duty-officer'],
      ['wang', 'officer', 'principal'],
    ] as const) {
      await accounts.add(by, { name, role, password: `${name}-passphrase-1` });
      await roster.putStaff(by, desk, name, [{ kind: 'console' }]);
      tokens[name] = (await accounts.issueToken(by, name)).token;
      await roster.addShift(by, {
        desk,
        user: name,
        startsAt: iso(now - 3_600_000),
        endsAt: iso(now + 24 * 3_600_000),
      });
    }
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    if (backend === 'postgres') {
      await dropSchemas(...['us', 'cn'].map(schemaOf));
    }
  });

  const ask = (text: string) =>
    api('us', 'POST', '/api/v1/presence', {
      to: ['cn'],
      desk: 'ops',
      asked: 'principal',
      precedence: 'immediate',
      status: 'exercise',
      text,
    });

  test('a presence check answered in Beijing shows desk, person and both clocks in Washington', async () => {
    const t0 = now;
    const sent = await ask('Is your principal at the console?');
    expect(sent.status).toBe(201);
    const id: string = sent.body.id;
    // Beijing: a check for its principal, due by the immediate deadline (15 minutes).
    const there = await eventually(() => presence('cn', id), 10_000, 'the check in Beijing');
    expect(there).toMatchObject({ dir: 'in', party: 'us', desk: 'principal', answer: null });
    expect(there.followup?.deadline).toBe(iso(t0 + 15 * MINUTE));
    // A check is answered, not acknowledged; and only by a person on the desk asked for.
    const acked = await api('cn', 'POST', `/api/v1/messages/us/${id}/ack`, { desk: 'ops' }, 'olga');
    expect([acked.status, acked.body.error.code]).toEqual([409, 'E_CONFLICT']);
    const wrongDesk = await api(
      'cn',
      'POST',
      `/api/v1/messages/us/${id}/presence`,
      { answer: 'present' },
      'olga',
    );
    expect([wrongDesk.status, wrongDesk.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    expect(wrongDesk.body.error.message).toContain('"principal"');

    await advance(t0 + 3 * MINUTE, cn);
    const answered = await api(
      'cn',
      'POST',
      `/api/v1/messages/us/${id}/presence`,
      { answer: 'present' },
      'wang',
    );
    expect(answered.status).toBe(201);
    expect(answered.body).toMatchObject({ answer: 'present', desk: 'principal', by: 'wang' });
    const again = await api(
      'cn',
      'POST',
      `/api/v1/messages/us/${id}/presence`,
      { answer: 'unavailable' },
      'wang',
    );
    expect([again.status, again.body.error.code]).toEqual([409, 'E_CONFLICT']);

    // Washington reads who answered, from which desk, Beijing's time and its own.
    const here = await eventually(
      async () => {
        const c = await presence('us', id);
        return c?.answer && c.followup?.acknowledged ? c : undefined;
      },
      10_000,
      'the answer in Washington',
    );
    expect(here.answer).toMatchObject({
      answer: 'present',
      party: 'cn',
      desk: 'principal',
      person: 'wang',
      sent: iso(t0 + 3 * MINUTE),
      received: iso(t0 + 3 * MINUTE),
    });
    expect(here.followup?.acknowledged).toMatchObject({ desk: 'principal', person: 'wang' });
    // Answered in time: past the deadline it is not unanswered here, and Beijing stops notifying.
    const before = (await cn().escalation.followups.escalations('us', id)).length;
    await advance(t0 + 20 * MINUTE, us);
    await advance(t0 + 20 * MINUTE, cn);
    expect((await presence('us', id))?.followup?.unansweredAt).toBeNull();
    expect(await cn().escalation.followups.escalations('us', id)).toHaveLength(before);
    expect(await us().store.openAlarmsAbout(`cn/${id}`)).toEqual([]);
  });

  test('a presence check left unanswered climbs Beijing’s ladder and is unanswered in Washington', async () => {
    const t0 = now;
    // One clock serves both nodes: while Beijing's moves past the deadline, Washington's own loop
    // (a look a second) would fire the unanswered timer at whatever time it then reads. Washington
    // looks only when the test moves its clock.
    await us().escalation.pause();
    onTestFinished(() => us().escalation.start());
    const sent = await ask('Principal, please confirm you are at the console.');
    const id: string = sent.body.id;
    await eventually(() => presence('cn', id), 10_000, 'the check in Beijing');
    await eventually(
      async () =>
        (await cn().escalation.followups.escalations('us', id)).length ? true : undefined,
      10_000,
      'the first notice',
    );
    // Immediate: every 5 minutes, at ops until the 15-minute deadline, then one desk a time.
    for (const m of [5, 10, 15, 20, 25]) await advance(t0 + m * MINUTE, cn);
    const steps = (await cn().escalation.followups.escalations('us', id)).map((e) => [
      e.desk,
      e.user_name,
    ]);
    expect(steps).toEqual([
      ['ops', 'olga'],
      ['ops', 'olga'],
      ['ops', 'olga'],
      ['duty-officer', 'oscar'],
      ['principal', 'wang'],
      // The end of the ladder: a standing alarm.
      ['principal', null],
    ]);
    expect((await cn().store.openAlarmsAbout(`us/${id}`)).map((a) => a.type)).toContain(
      'unacknowledged',
    );
    // Washington: past the deadline, unanswered, alarmed; no answer shown.
    await advance(t0 + 30 * MINUTE, us);
    const here = await presence('us', id);
    expect(here?.answer).toBeNull();
    expect(here?.followup?.unansweredAt).toBe(iso(t0 + 30 * MINUTE));
    expect((await us().store.openAlarmsAbout(`cn/${id}`)).map((a) => a.type)).toEqual([
      'unanswered',
    ]);
  });

  test('a check for a desk Beijing does not have is answered "unavailable" by an officer there', async () => {
    // Washington cannot know Beijing's desks; Beijing's people can see it has none such.
    const sent = await api('us', 'POST', '/api/v1/presence', {
      to: ['cn'],
      desk: 'ops',
      asked: 'nosuchdesk',
      precedence: 'immediate',
      status: 'exercise',
      text: 'Is your night desk staffed?',
    });
    expect(sent.status).toBe(201);
    const id: string = sent.body.id;
    await eventually(() => presence('cn', id), 10_000, 'the check in Beijing');
    const path = `/api/v1/messages/us/${id}/presence`;
    const operator = await api('cn', 'POST', path, { answer: 'unavailable' }, 'olga');
    expect([operator.status, operator.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    expect(operator.body.error.message).toBe(
      'there is no desk "nosuchdesk" on this node: an officer or an admin answers the check "unavailable"',
    );
    const present = await api('cn', 'POST', path, { answer: 'present' }, 'oscar');
    expect([present.status, present.body.error.code]).toEqual([409, 'E_CONFLICT']);
    expect(present.body.error.message).toMatch(/nobody can be present at it/);
    const answered = await api('cn', 'POST', path, { answer: 'unavailable' }, 'oscar');
    expect(answered.status).toBe(201);
    expect(answered.body).toMatchObject({ answer: 'unavailable', desk: 'nosuchdesk', by: 'oscar' });
    const here = await eventually(
      async () => (await presence('us', id))?.answer ?? undefined,
      10_000,
      'the answer in Washington',
    );
    expect(here).toMatchObject({ answer: 'unavailable', party: 'cn', desk: 'nosuchdesk' });
    // Writing as a desk the node does not have says so, rather than "does not staff".
    const asNobody = await api('cn', 'POST', '/api/v1/presence', {
      to: ['us'],
      desk: 'nosuchdesk',
      asked: 'ops',
    });
    expect([asNobody.status, asNobody.body.error.code]).toEqual([403, 'E_FORBIDDEN']);
    expect(asNobody.body.error.message).toMatch(/^there is no desk "nosuchdesk" on this node/);
  });

  test('a conference request at two times, countered and accepted: the same agreed call on both sides', async () => {
    const T1 = iso(now + 2 * 3_600_000);
    const T2 = iso(now + 3 * 3_600_000);
    const T3 = iso(now + 4 * 3_600_000);
    const requested = await api('us', 'POST', '/api/v1/conferences', {
      to: 'cn',
      desk: 'ops',
      times: [T1, T2],
      minutes: 30,
      medium: 'Secure video link',
      precedence: 'immediate',
      status: 'exercise',
      text: 'Joint call on the agent spreading across grid operators.',
    });
    expect(requested.status).toBe(201);
    const id: string = requested.body.id;
    expect(requested.body.proposals).toHaveLength(1);
    const offered = await eventually(
      async () => {
        const c = await conference('cn', id);
        return c?.proposals.length === 2 ? c : undefined;
      },
      10_000,
      'both times in Beijing',
    );
    expect(offered.proposals.map((p) => [p.at, p.minutes, p.medium, p.state])).toEqual([
      [T1, 30, 'Secure video link', 'open'],
      [T2, 30, 'Secure video link', 'open'],
    ]);
    // Washington cannot accept its own time.
    const own = await api('us', 'POST', `/api/v1/conferences/cn/${id}/answer`, {
      desk: 'ops',
      action: 'accept',
    });
    expect([own.status, own.body.error.code]).toEqual([409, 'E_CONFLICT']);
    // Nor answer its own request in any way while Beijing has said nothing in it.
    for (const answer of [{ action: 'decline' }, { action: 'propose', at: T3 }]) {
      const self = await api('us', 'POST', `/api/v1/conferences/cn/${id}/answer`, {
        desk: 'ops',
        ...answer,
      });
      expect([self.status, self.body.error]).toEqual([
        409,
        {
          code: 'E_CONFLICT',
          message: `the conference ${id} is this node's own request and "cn" has sent nothing in it yet: there is nothing of theirs to answer`,
        },
      ]);
    }
    expect((await conference('us', id))?.entries).toHaveLength(2);

    // Beijing's principal proposes another time; Washington accepts it.
    const countered = await api(
      'cn',
      'POST',
      `/api/v1/conferences/us/${id}/answer`,
      { desk: 'principal', action: 'propose', at: T3 },
      'wang',
    );
    expect(countered.status).toBe(201);
    // It answers Washington's latest time; the other, seen too, is acknowledged with it.
    expect(countered.body.cites).toBe(offered.proposals[1]?.id);
    expect([countered.body.acknowledged, countered.body.unacknowledged]).toEqual([
      [expect.any(String)],
      [],
    ]);
    await eventually(
      async () => ((await conference('us', id))?.proposals.length === 3 ? true : undefined),
      10_000,
      'the counter-proposal in Washington',
    );
    const accepted = await api('us', 'POST', `/api/v1/conferences/cn/${id}/answer`, {
      desk: 'ops',
      action: 'accept',
    });
    expect(accepted.status).toBe(201);
    expect(accepted.body.cites).toBe(countered.body.id);

    const shared = (c: ConferenceItem | undefined) =>
      c && { state: c.state, agreed: c.agreed, joining: c.joining, proposals: c.proposals };
    const both = await eventually(
      async () => {
        const [a, b] = [shared(await conference('us', id)), shared(await conference('cn', id))];
        return a?.state === 'agreed' &&
          b?.state === 'agreed' &&
          JSON.stringify(a) === JSON.stringify(b)
          ? a
          : undefined;
      },
      10_000,
      'the same agreement on both sides',
    );
    expect(both.agreed).toMatchObject({ at: T3, minutes: 30, medium: 'Secure video link' });
    expect(both.agreed?.acceptedBy).toMatchObject({ party: 'us', desk: 'ops' });
    expect(both.joining).toEqual([
      { party: 'cn', desk: 'principal', person: 'wang' },
      { party: 'us', desk: 'ops', person: null },
    ]);
    expect(both.proposals.map((p) => p.state)).toEqual(['superseded', 'superseded', 'accepted']);
    // Nothing of the thread goes on escalating in Beijing: each time it was offered was seen.
    const there = await conference('cn', id);
    expect(there?.followups.filter((f) => f.dir === 'in' && !f.acknowledged)).toEqual([]);
    // A decline now cancels the agreed call, on both sides.
    const cancelled = await api(
      'cn',
      'POST',
      `/api/v1/conferences/us/${id}/answer`,
      { desk: 'principal', action: 'decline', text: 'The principal is called away.' },
      'wang',
    );
    expect(cancelled.status).toBe(201);
    const gone = await eventually(
      async () => {
        const c = await conference('us', id);
        return c?.state === 'declined' ? c : undefined;
      },
      10_000,
      'the cancellation in Washington',
    );
    expect(gone.declined).toMatchObject({ party: 'cn', desk: 'principal', cancelled: true });
  });
  test('the CLI lists who answered, requests a call and accepts it from the other side', async () => {
    const listed = await hotlineOk(['presence', '--data', pair.us.dir]);
    expect(listed.stdout).toMatch(/PRESENT from cn\/principal \(wang\) at \S+Z \(received \S+Z\)/);
    const at = iso(now + 5 * 3_600_000);
    const requested = await hotlineOk([
      'conference',
      'request',
      '--data',
      pair.us.dir,
      '--to',
      'cn',
      '--at',
      at,
      '--minutes',
      '20',
      '--medium',
      'phone',
      '--status',
      'exercise',
    ]);
    const id = (requested.stdout.match(/^requested: (\S+)$/m) as RegExpMatchArray)[1] as string;
    await eventually(() => conference('cn', id), 10_000, 'the request in Beijing');
    const there = await hotlineOk(['conference', '--data', pair.cn.dir]);
    expect(there.stdout).toContain(`${at}  by us/ops  open (you may accept)`);
    await hotlineOk(['conference', 'answer', 'us', id, 'accept', '--data', pair.cn.dir]);
    const agreed = await eventually(
      async () => ((await conference('us', id))?.state === 'agreed' ? true : undefined),
      10_000,
      'the agreement in Washington',
    );
    expect(agreed).toBe(true);
    const here = await hotlineOk(['conference', '--data', pair.us.dir]);
    expect(here.stdout).toContain(`agreed: ${at}, 20 min, phone; joining us/ops, cn/ops`);
    // Declining the agreed call cancels it, and the CLI says so.
    const cancelled = await hotlineOk([
      'conference',
      'answer',
      'cn',
      id,
      'decline',
      '--data',
      pair.us.dir,
    ]);
    expect(cancelled.stdout).toMatch(new RegExp(`^cancelled the call agreed for ${at}: \\S+\n$`));
  });
  test('accepting among several times takes the one named; a call agreed is not accepted again', async () => {
    const [T1, T2] = [iso(now + 6 * 3_600_000), iso(now + 7 * 3_600_000)];
    const requested = await api('us', 'POST', '/api/v1/conferences', {
      to: 'cn',
      desk: 'ops',
      times: [T1, T2],
      precedence: 'immediate',
      status: 'exercise',
    });
    const id: string = requested.body.id;
    const offered = await eventually(
      async () => {
        const c = await conference('cn', id);
        return c?.proposals.length === 2 ? c : undefined;
      },
      10_000,
      'both times in Beijing',
    );
    const [first, second] = offered.proposals.map((p) => p.id);
    const answer = (...more: string[]) =>
      hotline(['conference', 'answer', 'us', id, 'accept', '--data', pair.cn.dir, ...more]);
    const unnamed = await answer();
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toBe(
      `hotline: E_MALFORMED: --proposal is not given: "us" proposed 2 times still open; accept one by its id: ${first} (${T1}, preferred), ${second} (${T2})\n`,
    );
    expect((await conference('cn', id))?.state).toBe('proposed');
    await hotlineOk([
      'conference',
      'answer',
      'us',
      id,
      'accept',
      '--data',
      pair.cn.dir,
      '--proposal',
      first as string,
    ]);
    const agreed = await conference('cn', id);
    expect([agreed?.state, agreed?.agreed?.at]).toEqual(['agreed', T1]);
    const again = await answer();
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(
      `hotline: E_CONFLICT: the conference ${id} is already agreed, for ${T1}: "cn" accepted it at ${agreed?.agreed?.acceptedBy.sent}; to move the call, propose another time\n`,
    );
    expect((await conference('cn', id))?.agreed).toEqual(agreed?.agreed);
  });
  test("a message of this node's own party is not acknowledged or answered as a peer's", async () => {
    const [call] = (await api('us', 'GET', '/api/v1/conferences')).body as ConferenceItem[];
    for (const [args, act] of [
      [['ack', 'us', call?.id as string], 'acknowledge'],
      [['presence', 'answer', 'us', call?.id as string, 'present'], 'answer'],
      [['conference', 'answer', 'us', call?.id as string, 'decline'], 'answer'],
    ] as const) {
      const r = await hotline([...args, '--data', pair.us.dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(
        `hotline: E_NOT_FOUND: "us" is this node's own party: you ${act} a message received from a peer, named by the peer's party\n`,
      );
    }
  });
  test('bad input gets a stable code and a sentence that says what is wrong', async () => {
    const [call] = (await api('us', 'GET', '/api/v1/conferences')).body as ConferenceItem[];
    const cases: Array<[ReturnType<typeof api>, number, string, string]> = [
      [
        api('cn', 'POST', `/api/v1/messages/us/${call?.id}/presence`, { answer: 'present' }),
        409,
        'E_CONFLICT',
        'is not a presence check',
      ],
      [
        api('us', 'POST', '/api/v1/conferences/cn/01937a8e-4f00-7000-8000-00000000beef/answer', {
          desk: 'ops',
          action: 'accept',
        }),
        404,
        'E_NOT_FOUND',
        'there is no conference',
      ],
      [
        api('cn', 'POST', `/api/v1/conferences/us/${call?.id}/answer`, {
          desk: 'ops',
          action: 'propose',
        }),
        400,
        'E_MALFORMED',
        'a proposal needs "at"',
      ],
      [
        api('us', 'POST', '/api/v1/conferences', { to: 'cn', desk: 'ops', times: [] }),
        400,
        'E_MALFORMED',
        'times',
      ],
    ];
    // Listing the flows shows messages: the audit trail says who saw which.
    const audit = (await api('us', 'GET', '/api/v1/audit?limit=50')).body as Array<{
      action: string;
      target: string;
      detail: { messages?: string[] };
    }>;
    const seen = audit.find((e) => e.action === 'message.view' && e.target === 'conferences');
    expect(seen?.detail.messages).toContain(`cn/${call?.id}`);
    for (const [answer, status, code, words] of cases) {
      const { status: got, body } = await answer;
      expect([got, body.error.code]).toEqual([status, code]);
      expect(body.error.message).toContain(words);
    }
  });
});
