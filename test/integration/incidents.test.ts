/**
 * Incidents and escalation end to end, across two nodes (Washington reports, Beijing receives)
 * sharing one injected clock that only the test moves: a flash report escalates desk by desk
 * through Beijing's duty roster at the configured minutes — console alarm, signed webhook (retried
 * after a failure), e-mail to a real SMTP server — until the ladder's standing alarm; Washington
 * marks it unanswered at its deadline; a reminder restarts the ladder; the timers survive a
 * restart; a person's ack stops them and Washington sees who acknowledged it. Then the incident's
 * state (both sides' views agree), a retraction that stops escalation, and the flash text limit.
 *
 * The whole run is made once on SQLite and once on PostgreSQL (127.0.0.1:5432, db `test`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { readToken } from '../../src/node/core/data.ts';
import { webhookSignature } from '../../src/node/incidents/notifiers.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import type { AckInfo, EscalationStep } from '../../src/protocol/views.ts';
import type { AlarmRow } from '../../src/store/store.ts';
import { createPair, draft, eventually, flashReport, type Pair } from '../support/pair.ts';
import { freePort } from '../support/ports.ts';
import { dropSchemas, TEST_POSTGRES } from '../support/postgres.ts';

const SECRET = 'webhook-secret-for-tests-0123456789';
const MINUTE = 60_000;

interface Mail {
  to: string[];
  raw: string;
}
interface Hook {
  url: string;
  body: string;
  signature: string | undefined;
  timestamp: string | undefined;
}

describe.each(['sqlite', 'postgres'] as const)('incidents and escalation on %s', (backend) => {
  const run = randomBytes(4).toString('hex');
  const schemaOf = (party: string) => `hotline_inc_${run}_${party}`;
  let pair: Pair;
  let smtp: SMTPServer;
  let hooks: Server;
  let hookBase: string;
  const mails: Mail[] = [];
  const calls: Hook[] = [];
  /** The first call to each webhook path fails, so every webhook shows a retry. */
  const failedOnce = new Set<string>();
  let now = Date.parse('2026-11-27T08:00:00.000Z');
  const clock = () => new Date(now);
  const at = (minutes: number, start: number) => start + minutes * MINUTE;
  const tokens: Record<string, string> = {};
  const events = {
    escalation: [] as EscalationStep[],
    alarm: [] as AlarmRow[],
    acknowledged: [] as Array<[string, string, AckInfo]>,
    incident: [] as string[],
  };

  const us = () => pair.us.running as RunningNode;
  const cn = () => pair.cn.running as RunningNode;

  async function api(
    site: 'us' | 'cn',
    method: string,
    path: string,
    body?: unknown,
    token = readToken(pair[site].dir),
  ) {
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

  async function startCn(): Promise<RunningNode> {
    const running = await pair.start(pair.cn, { clock });
    running.events.on('escalation', (e) => events.escalation.push(e));
    running.events.on('alarm', (a) => events.alarm.push(a));
    return running;
  }

  beforeAll(async () => {
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      onData(stream, session, done) {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          mails.push({
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          done();
        });
      },
    });
    const smtpPort = await freePort();
    await new Promise<void>((resolve) => smtp.listen(smtpPort, '127.0.0.1', resolve));
    hooks = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (c: Buffer) => chunks.push(c));
      request.on('end', () => {
        const url = request.url ?? '/';
        if (!failedOnce.has(url)) {
          failedOnce.add(url);
          response.writeHead(503).end();
          return;
        }
        calls.push({
          url,
          body: Buffer.concat(chunks).toString('utf8'),
          signature: request.headers['x-hotline-signature'] as string | undefined,
          timestamp: request.headers['x-hotline-timestamp'] as string | undefined,
        });
        response.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    hookBase = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}`;

    const settings = {
      notify: {
        webhook: { secret: SECRET, backoffBaseMs: 20, backoffMaxMs: 100 },
        smtp: { host: '127.0.0.1', port: smtpPort, from: 'hotline@cn.example' },
      },
    } as never;
    pair = await createPair(settings, (party) =>
      backend === 'postgres'
        ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
        : {},
    );
    const running = await pair.start(pair.us, { clock });
    running.events.on('acknowledged', (...a) => events.acknowledged.push(a));
    running.events.on('incident', (i) => events.incident.push(i));
    await startCn();

    // Washington's ops desk: its admin is on duty, reached by webhook when ours go unanswered.
    const usBy = dataFolderActor();
    await running.people.roster.putStaff(usBy, 'ops', 'admin', [
      { kind: 'console' },
      { kind: 'webhook', url: `${hookBase}/us-ops` },
    ]);
    await running.people.roster.addShift(usBy, {
      desk: 'ops',
      user: 'admin',
      startsAt: new Date(now - 3_600_000).toISOString(),
      endsAt: new Date(now + 24 * 3_600_000).toISOString(),
    });
    // Beijing's ladder: ops (Olga, webhook), duty-officer (Oscar, e-mail), principal (Pei, both).
    const { accounts, roster } = cn().people;
    const by = dataFolderActor();
    await roster.addDesk(by, 'duty-officer', 'Duty officer');
    await roster.addDesk(by, 'principal', 'Principal');
    const staff = [
      [
        'olga',
        'operator',
        'ops',
        [{ kind: 'console' }, { kind: 'webhook', url: `${hookBase}/olga` }],
      ],
      [
        'oscar',
        'officer',
        'duty-officer',
        [{ kind: 'console' }, { kind: 'email', address: 'oscar@cn.example' }],
      ],
      [
        'pei',
        'officer',
        'principal',
        [
          { kind: 'email', address: 'pei@cn.example' },
          { kind: 'webhook', url: `${hookBase}/pei` },
        ],
      ],
    ] as const;
    for (const [name, role, desk, routes] of staff) {
      await accounts.add(by, { name, role, password: `${name}-passphrase-1` });
      await roster.putStaff(by, desk, name, [...routes]);
      tokens[name] = (await accounts.issueToken(by, name)).token;
      await roster.addShift(by, {
        desk,
        user: name,
        startsAt: new Date(now - 3_600_000).toISOString(),
        endsAt: new Date(now + 24 * 3_600_000).toISOString(),
      });
    }
  }, 60_000);

  afterAll(async () => {
    await pair?.close();
    await new Promise<void>((resolve) => smtp.close(() => resolve()));
    hooks.closeAllConnections();
    await new Promise<void>((resolve) => hooks.close(() => resolve()));
    if (backend === 'postgres') {
      await dropSchemas(...['us', 'cn'].map(schemaOf));
    }
  });

  const incident = uuidv7();
  let report = '';
  let t0 = 0;

  async function escalationsOf(id: string) {
    return cn().escalation.followups.escalations('us', id);
  }

  /** Moves the shared clock to `to` and lets Beijing look at its timers. */
  async function advance(to: number, site: () => RunningNode = cn) {
    now = to;
    await site().escalation.runDue();
  }

  test('a flash report notifies the ops desk at once: console alarm and signed webhook, retried', async () => {
    const sent = await api('us', 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({
        type: 'incident.report',
        incident,
        precedence: 'flash',
        status: 'exercise',
        text: { lang: 'en', body: 'Autonomous agent spreading across our grid operators.' },
        report: {
          nature: 'incident',
          category: 'category.loss-of-control',
          actionsTaken: [],
          actionsRequested: [],
        },
      }),
    });
    expect(sent.status).toBe(201);
    report = sent.body.id;
    t0 = now;
    // The live feed's event comes after the notice's commit and its alarm's event.
    await eventually(async () => events.escalation.find((e) => e.id === report));
    const first = await escalationsOf(report);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({
      step: 0,
      desk: 'ops',
      user_name: 'olga',
      at: new Date(t0).toISOString(),
    });
    // The console: an escalation alarm about this message, and the live feed's event.
    const alarm = events.alarm.find((a) => a.type === 'escalation' && a.ref === `us/${report}`);
    expect(alarm?.message).toContain('desk "ops"');
    expect(events.escalation.at(-1)).toMatchObject({
      id: report,
      step: 0,
      desk: 'ops',
      user: 'olga',
    });
    // The webhook failed once (503) and was retried; the body is signed with the shared secret.
    const hook = await eventually(async () => calls.find((c) => c.url === '/olga'));
    expect(failedOnce.has('/olga')).toBe(true);
    expect(hook.signature).toBe(webhookSignature(SECRET, Number(hook.timestamp), hook.body));
    const payload = JSON.parse(hook.body);
    expect(payload).toMatchObject({
      event: 'hotline.escalation',
      party: 'us',
      id: report,
      desk: 'ops',
      step: 0,
    });
    // Only metadata leaves the node: never the message's text.
    expect(hook.body).not.toContain('grid operators');
  });

  test('it repeats at ops until the deadline, then climbs: officer by e-mail, principal, standing alarm', async () => {
    await advance(at(2, t0) - 1000);
    expect(await escalationsOf(report)).toHaveLength(1);
    await advance(at(2, t0));
    await advance(at(4, t0));
    // The deadline (5 minutes) passes on Washington's side: unanswered, a ledger event, an alarm.
    await advance(at(5, t0), us);
    const outbox = await api('us', 'GET', '/api/v1/outbox');
    const row = outbox.body.find((r: { id: string }) => r.id === report);
    expect(row.followup.unansweredAt).toBe(new Date(at(5, t0)).toISOString());
    expect(row.peerReceivedAt).not.toBeNull();
    expect(row.followup.acknowledged).toBeNull();
    const usAlarms = await us().store.openAlarmsAbout(`cn/${report}`);
    expect(usAlarms.map((a) => a.type)).toEqual(['unanswered']);
    const leaves = await us().store.readLeaves(0, us().ledger.size);
    expect(leaves.some((l) => l.includes('"type":"unanswered"') && l.includes(report))).toBe(true);
    // The sending desk's person on duty is told too.
    const told = await eventually(async () =>
      calls.find((c) => c.url === '/us-ops' && c.body.includes('hotline.unanswered')),
    );
    expect(JSON.parse(told.body)).toMatchObject({
      event: 'hotline.unanswered',
      party: 'cn',
      id: report,
      desk: 'ops',
      user: 'admin',
    });

    await advance(at(6, t0));
    await advance(at(8, t0));
    await advance(at(10, t0));
    await advance(at(14, t0));
    const steps = (await escalationsOf(report)).map((e) => [e.desk, e.user_name, e.at]);
    const iso = (m: number) => new Date(at(m, t0)).toISOString();
    expect(steps).toEqual([
      ['ops', 'olga', iso(0)],
      ['ops', 'olga', iso(2)],
      ['ops', 'olga', iso(4)],
      ['duty-officer', 'oscar', iso(6)],
      ['principal', 'pei', iso(8)],
      ['principal', null, iso(10)],
    ]);
    // The officer and the principal were e-mailed through the real SMTP server.
    const mail = await eventually(async () => (mails.length >= 2 ? mails : undefined));
    expect(mail.map((m) => m.to)).toEqual([['oscar@cn.example'], ['pei@cn.example']]);
    expect(mail[0]?.raw).toContain('FLASH');
    expect(mail[0]?.raw).toContain(report);
    expect(mail[0]?.raw).not.toContain('grid operators');
    await eventually(async () => calls.find((c) => c.url === '/pei'));
    // The end of the ladder is a standing alarm; nothing more is due. The three steps are one
    // open escalation alarm for this message, counted three times.
    const open = await cn().store.openAlarmsAbout(`us/${report}`);
    expect(open.map((a) => [a.type, a.count]).sort()).toEqual([
      ['escalation', 3],
      ['unacknowledged', 1],
    ]);
    expect((await cn().escalation.followups.get('in', 'us', report))?.next_at).toBeNull();
  });

  test('a reminder restarts the ladder, and its timers survive a restart of the receiving node', async () => {
    // Counted before the reminder leaves: it can reach Beijing and fire before the call returns.
    const before = (await escalationsOf(report)).length;
    const reminded = await api('us', 'POST', `/api/v1/messages/cn/${report}/remind`, {
      desk: 'ops',
    });
    expect(reminded.status).toBe(201);
    expect(reminded.body.number).toBe(1);
    // Sent again at once, it would page Beijing's duty officer twice: refused, saying when.
    const again = await api('us', 'POST', `/api/v1/messages/cn/${report}/remind`, { desk: 'ops' });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('E_THROTTLED');
    expect(again.body.error.message).toMatch(
      new RegExp(
        `^reminder 1 of message ${report} was sent at \\S+: the next is allowed from \\S+Z,`,
      ),
    );
    await eventually(async () =>
      (await escalationsOf(report)).length > before ? true : undefined,
    );
    expect((await escalationsOf(report)).at(-1)).toMatchObject({ desk: 'ops', step: 0 });
    // Beijing stops; two minutes pass; it starts again and fires what fell due meanwhile.
    await pair.stop(pair.cn);
    now = at(16, t0);
    await startCn();
    await eventually(async () =>
      (await escalationsOf(report)).length === before + 2 ? true : undefined,
    );
    expect((await escalationsOf(report)).at(-1)).toMatchObject({
      desk: 'ops',
      at: new Date(at(16, t0)).toISOString(),
    });
  });

  test('a person’s ack stops escalation, clears its alarms, and Washington sees who and when', async () => {
    // The incident's timeline calls the last one the standing alarm, not a desk with nobody on duty.
    const view = await api('cn', 'GET', `/api/v1/incidents/${incident}`, undefined, tokens.olga);
    const entry = view.body.timeline.find((t: { id: string }) => t.id === report);
    expect(
      entry.escalations
        .slice(0, 6)
        .map((e: { desk: string; user: string | null; final: boolean }) => [
          e.desk,
          e.user,
          e.final,
        ]),
    ).toEqual([
      ['ops', 'olga', false],
      ['ops', 'olga', false],
      ['ops', 'olga', false],
      ['duty-officer', 'oscar', false],
      ['principal', 'pei', false],
      ['principal', null, true],
    ]);
    // Olga staffs ops only: she cannot acknowledge as the principal's desk.
    const wrong = await api(
      'cn',
      'POST',
      `/api/v1/messages/us/${report}/ack`,
      { desk: 'principal' },
      tokens.olga,
    );
    expect(wrong.status).toBe(403);
    now = at(17, t0);
    const acked = await api(
      'cn',
      'POST',
      `/api/v1/messages/us/${report}/ack`,
      { desk: 'ops' },
      tokens.olga,
    );
    expect(acked.status).toBe(201);
    expect(acked.body).toMatchObject({ id: report, desk: 'ops', by: 'olga' });
    const again = await api(
      'cn',
      'POST',
      `/api/v1/messages/us/${report}/ack`,
      { desk: 'ops' },
      tokens.olga,
    );
    expect(again.body.error.code).toBe('E_CONFLICT');
    const count = (await escalationsOf(report)).length;
    await advance(at(40, t0));
    expect(await escalationsOf(report)).toHaveLength(count);
    const followup = await cn().escalation.followups.get('in', 'us', report);
    expect(followup).toMatchObject({ acked_desk: 'ops', acked_person: 'olga', next_at: null });
    await eventually(async () =>
      (await cn().store.openAlarmsAbout(`us/${report}`)).length === 0 ? true : undefined,
    );
    // Washington: acknowledged by Beijing's ops desk (a desk, not a name), at the ack's time.
    const seen = await eventually(async () => events.acknowledged.find(([, id]) => id === report));
    expect(seen[2]).toMatchObject({ dir: 'out', desk: 'ops', person: null });
    const outbox = await api('us', 'GET', '/api/v1/outbox');
    const row = outbox.body.find((r: { id: string }) => r.id === report);
    expect(row.followup.acknowledged).toMatchObject({ desk: 'ops', ack: acked.body.ack });
    expect(row.followup.reminders).toBe(1);
    const reminderAgain = await api('us', 'POST', `/api/v1/messages/cn/${report}/remind`, {
      desk: 'ops',
    });
    expect(reminderAgain.body.error.code).toBe('E_CONFLICT');
  });

  test('state changes by the owner, a request from the other side, and both views agree', async () => {
    const notOwner = await api(
      'cn',
      'POST',
      `/api/v1/incidents/${incident}/state`,
      { desk: 'ops', to: 'resolved' },
      tokens.olga,
    );
    expect(notOwner.status).toBe(409);
    expect(notOwner.body.error.code).toBe('E_CONFLICT');
    // The same acts sent as plain messages are refused alike: both nodes would ignore them.
    const closedByOther = await api(
      'cn',
      'POST',
      '/api/v1/messages',
      { to: ['us'], message: draft({ type: 'incident.close', incident, text: undefined }) },
      tokens.olga,
    );
    expect(closedByOther.status).toBe(409);
    expect(closedByOther.body.error.message).toContain(`"us" reported incident ${incident}`);
    const reportedAgain = await api('us', 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: flashReport({ incident }),
    });
    expect(reportedAgain.status).toBe(409);
    expect(reportedAgain.body.error.message).toContain('was reported already');
    const changed = await api('us', 'POST', `/api/v1/incidents/${incident}/state`, {
      desk: 'ops',
      to: 'investigating',
    });
    expect(changed.status).toBe(201);
    await eventually(async () => {
      const view = await api('cn', 'GET', `/api/v1/incidents/${incident}`, undefined, tokens.olga);
      return view.body.state === 'investigating' ? true : undefined;
    });
    const asked = await api(
      'cn',
      'POST',
      `/api/v1/incidents/${incident}/requests`,
      { desk: 'ops', to: 'mitigating', text: 'We have isolated the agent.' },
      tokens.olga,
    );
    expect(asked.status).toBe(201);
    const pending = await eventually(async () => {
      const view = await api('us', 'GET', `/api/v1/incidents/${incident}`);
      return view.body.pendingRequests.length ? view.body.pendingRequests : undefined;
    });
    expect(pending[0]).toMatchObject({ id: asked.body.id, to: 'mitigating', from: 'cn' });
    const decided = await api(
      'us',
      'POST',
      `/api/v1/incidents/${incident}/requests/${asked.body.id}/decision`,
      { desk: 'ops', decision: 'accepted' },
    );
    expect(decided.status).toBe(201);
    const views = await eventually(async () => {
      const a = (await api('us', 'GET', `/api/v1/incidents/${incident}`)).body;
      const b = (await api('cn', 'GET', `/api/v1/incidents/${incident}`, undefined, tokens.olga))
        .body;
      return a.state === 'mitigating' && b.state === 'mitigating' ? [a, b] : undefined;
    });
    const [a, b] = views;
    const shared = (v: typeof a) => ({
      owner: v.owner,
      state: v.state,
      head: v.head,
      history: v.history.map((h: { id: string; kind: string; to: string; applied: boolean }) => [
        h.id,
        h.kind,
        h.to,
        h.applied,
      ]),
      pending: v.pendingRequests.length,
    });
    expect(shared(a)).toEqual(shared(b));
    expect(a.ours).toBe(true);
    expect(b.ours).toBe(false);
    // The timeline shows each message with sent, received, acknowledged and who.
    const report0 = a.timeline.find((t: { id: string }) => t.id === report);
    expect(report0.followup.acknowledged.desk).toBe('ops');
    expect(report0.received).not.toBeNull();
    // A request of the owner's own, or a change that is no change, is refused.
    const same = await api('us', 'POST', `/api/v1/incidents/${incident}/state`, {
      desk: 'ops',
      to: 'mitigating',
    });
    expect(same.body.error.code).toBe('E_CONFLICT');
    const list = await api('cn', 'GET', '/api/v1/incidents', undefined, tokens.olga);
    expect(list.body.find((i: { incident: string }) => i.incident === incident)).toMatchObject({
      state: 'mitigating',
      owner: 'us',
      precedence: 'flash',
    });
  });

  test('a retraction is shown first and stops escalation', async () => {
    const second = uuidv7();
    const sent = await api('us', 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({
        type: 'incident.report',
        incident: second,
        precedence: 'immediate',
        status: 'exercise',
        report: {
          nature: 'hazard',
          category: 'category.loss-of-control',
          actionsTaken: [],
          actionsRequested: [],
        },
      }),
    });
    const start = now;
    await eventually(async () => ((await escalationsOf(sent.body.id)).length ? true : undefined));
    const retracted = await api('us', 'POST', `/api/v1/incidents/${second}/retract`, {
      desk: 'ops',
      text: 'False alarm: a test harness.',
    });
    expect(retracted.status).toBe(201);
    await eventually(async () =>
      (await cn().escalation.followups.get('in', 'us', sent.body.id))?.retracted_at
        ? true
        : undefined,
    );
    await advance(at(30, start));
    expect(await escalationsOf(sent.body.id)).toHaveLength(1);
    // Its alarms are cleared just after the retraction's commit.
    await eventually(async () =>
      (await cn().store.openAlarmsAbout(`us/${sent.body.id}`)).length === 0 ? true : undefined,
    );
    const view = (await api('cn', 'GET', `/api/v1/incidents/${second}`, undefined, tokens.olga))
      .body;
    expect(view.retracted).toMatchObject({
      id: retracted.body.id,
      text: 'False alarm: a test harness.',
    });
    expect(view.timeline[0].type).toBe('incident.retract');
    // Washington's own deadline for it stops too: no unanswered mark for a withdrawn report.
    await advance(at(30, start), us);
    const out = await us().escalation.followups.get('out', 'cn', sent.body.id);
    expect(out).toMatchObject({ unanswered_at: null, next_at: null });
    // Closed and retracted incidents leave the open list.
    const list = await api('cn', 'GET', '/api/v1/incidents', undefined, tokens.olga);
    expect(list.body.some((i: { incident: string }) => i.incident === second)).toBe(false);
  });

  test('neither node logged the webhook secret, a contact route, or a message text', () => {
    for (const site of [pair.us, pair.cn]) {
      const logs = site.logs.join('');
      expect(logs).toContain('escalation');
      for (const secret of [SECRET, hookBase, 'oscar@cn.example', 'grid operators'])
        expect(logs).not.toContain(secret);
    }
  });

  test('a message that says nothing is refused at release with E_EMPTY_MESSAGE, nothing numbered', async () => {
    const before = (await api('us', 'GET', '/api/v1/outbox?limit=1000')).body.length;
    const empty = [
      // The console's compose form sent as it is opened: no text, no phrase, no attachment.
      [draft({ text: undefined }), 'a query needs text, a vocabulary code or an attachment'],
      [draft({ type: 'test', text: undefined }), 'a test needs text'],
      [draft({ text: { lang: 'zh', body: ' \n\u3000' } }), 'its text (zh) is blank'],
      [
        draft({ codes: ['phrase.investigating'], text: { lang: 'en', body: '\t' } }),
        'its text (en) is blank',
      ],
      [draft({ translations: [{ lang: 'zh', body: ' ' }] }), 'its translation (zh) is blank'],
    ] as const;
    for (const [message, words] of empty) {
      const refused = await api('us', 'POST', '/api/v1/messages', { to: ['cn'], message });
      expect(refused.status).toBe(400);
      expect(refused.body.error.code).toBe('E_EMPTY_MESSAGE');
      expect(refused.body.error.message).toContain(words);
    }
    expect((await api('us', 'GET', '/api/v1/outbox?limit=1000')).body.length).toBe(before);
    // A code alone says something (the peer renders it in its language); so does an ack.
    const coded = await api('us', 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ text: undefined, codes: ['phrase.investigating'] }),
    });
    expect(coded.status).toBe(201);
  });

  test('flash free text over the limit is refused at release with E_FLASH_TOO_LONG', async () => {
    const long = await api('us', 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ precedence: 'flash', text: { lang: 'en', body: 'x'.repeat(501) } }),
    });
    expect(long.status).toBe(400);
    expect(long.body.error.code).toBe('E_FLASH_TOO_LONG');
    expect(long.body.error.message).toContain('501 characters; the limit is 500');
    const ok = await api('us', 'POST', '/api/v1/messages', {
      to: ['cn'],
      message: draft({ precedence: 'routine', text: { lang: 'en', body: 'x'.repeat(501) } }),
    });
    expect(ok.status).toBe(201);
  });
});
