/**
 * The two-person rule, break-glass, templates and readiness, end to end across two nodes on
 * loopback (Washington and Beijing), through the operator API as the console and CLI use it.
 */
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { parseConfig } from '../../src/node/core/config.ts';
import { readToken } from '../../src/node/core/data.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import type { Draft } from '../../src/protocol/body.ts';
import { sha256, toHex, utf8 } from '../../src/protocol/encoding.ts';
import {
  createPair,
  draft,
  eventually,
  flashReport,
  type Pair,
  recordFailures,
  staffOps,
} from '../support/pair.ts';
import { dropSchemas, TEST_POSTGRES } from '../support/postgres.ts';
import { BACKENDS } from '../support/site.ts';

const run = randomBytes(4).toString('hex');
const schemaOf = (party: string) => `hotline_approvals_${run}_${party}`;

let pair: Pair;
const tokens: Record<string, string> = {};
const PASSWORD: Record<string, string> = { oscar: 'oscar-passphrase-1' };

const running = (site: 'us' | 'cn'): RunningNode => {
  const r = pair[site].running;
  if (!r) throw new Error(`${site} is not running`);
  return r;
};

/** A template not agreed in advance: the rules decide. */
const ACTUAL_FLASH = {
  id: 'actual-flash',
  title: { en: 'Flash report', zh: '特急报告' },
  preApproved: false,
  type: 'incident.report' as const,
  precedence: 'flash' as const,
  status: 'actual' as const,
  tlp: 'amber' as const,
  codes: [],
  translations: [],
  text: { lang: 'en', body: 'Flash: details follow.' },
  category: 'category.other',
};

describe.each(BACKENDS)('on %s', (backend) => {
  beforeAll(async () => {
    const defaults = parseConfig({ party: 'xx' }).approvals;
    pair = await createPair(
      { approvals: { rules: defaults.rules, templates: [...defaults.templates, ACTUAL_FLASH] } },
      (party) =>
        backend === 'postgres'
          ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
          : {},
    );
    const us = await pair.start(pair.us);
    await pair.start(pair.cn);
    Object.assign(tokens, await staffOps(us));
    tokens.cnAdmin = readToken(pair.cn.dir);
  }, 60_000);
  afterAll(async () => {
    await pair?.close();
    if (backend !== 'postgres') return;
    await dropSchemas(...['us', 'cn'].map(schemaOf));
  });

  interface Answer {
    status: number;
    body: Record<string, unknown> & { error?: { code: string; message: string } };
  }

  async function call(
    site: 'us' | 'cn',
    who: string,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = { authorization: `Bearer ${tokens[who]}` },
  ): Promise<Answer> {
    const response = await fetch(`http://${pair[site].operatorListen}${path}`, {
      method,
      headers: {
        ...headers,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Answer['body'] };
  }

  const us = (who: string, method: string, path: string, body?: unknown) =>
    call('us', who, method, path, body);

  async function submit(who: string, message: Draft = flashReport()): Promise<string> {
    const held = await us(who, 'POST', '/api/v1/messages', { to: ['cn'], message });
    expect(held.status, JSON.stringify(held.body)).toBe(202);
    expect(held.body).toMatchObject({ state: 'pending', draft: expect.any(String) });
    return held.body.draft as string;
  }

  /** What Beijing received from Washington, by message id. */
  const receivedAtCn = (id: string) =>
    eventually(() => running('cn').store.getInbox('us', id), 10_000, `message ${id} at cn`);

  async function ledgerSince(size: number) {
    const node = running('us');
    return (await node.store.readLeaves(size, node.ledger.size - size)).map((l) => JSON.parse(l));
  }

  describe('the two-person rule', () => {
    test('a flash report waits as a draft: nothing sent, no seq used, listed in the queue', async () => {
      const node = running('us');
      const lastSeq = await node.store.lastSeq('cn');
      const leaves = node.ledger.size;
      const id = await submit('olga');
      expect(await node.store.lastSeq('cn')).toBe(lastSeq);
      // No envelope: only the audit anchor and the held draft's first escalation step (an event).
      const added = await ledgerSince(leaves);
      expect(added.filter((l) => l.leaf !== 'event')).toEqual([]);
      const queue = await us('olga', 'GET', '/api/v1/drafts');
      const listed = (queue.body as unknown as Array<Record<string, unknown>>).find(
        (d) => d.id === id,
      );
      expect(listed).toMatchObject({
        state: 'pending',
        author: 'olga',
        desk: 'ops',
        to: ['cn'],
        rules: [0],
        messageId: null,
        seq: null,
      });
      const outbox = await node.store.listOutbox(10_000);
      expect(outbox.map((r) => r.body.text?.body)).not.toContain(
        'A model is exfiltrating its weights.',
      );
    });

    test('a closure with status actual waits too; an exercise report does not', async () => {
      const incident = uuidv7();
      const exercise = await us('olga', 'POST', '/api/v1/messages', {
        to: ['cn'],
        message: flashReport({ status: 'exercise' }),
      });
      expect(exercise.status).toBe(201);
      const report = await us('olga', 'POST', '/api/v1/messages', {
        to: ['cn'],
        message: flashReport({ incident, precedence: 'routine' }),
      });
      expect(report.status).toBe(201);
      await submit(
        'olga',
        draft({ type: 'incident.close', incident, precedence: 'routine', status: 'actual' }),
      );
      // A held draft is checked when submitted, not when approved: a report without its report
      // section never reaches the queue.
      const queued = ((await us('olga', 'GET', '/api/v1/drafts')).body as unknown as unknown[])
        .length;
      const broken = await us('olga', 'POST', '/api/v1/messages', {
        to: ['cn'],
        message: flashReport({ report: undefined }),
      });
      expect(broken.body.error).toMatchObject({
        code: 'E_MALFORMED',
        message: 'an incident.report body needs "report"',
      });
      const after = (await us('olga', 'GET', '/api/v1/drafts')).body as unknown as unknown[];
      expect(after.length).toBe(queued);
      expect(exercise.body).toMatchObject({ state: 'released', id: expect.any(String) });
    });

    test('the author cannot approve or reject their own draft: not by token, second token, or session', async () => {
      const id = await submit('oscar');
      const denied = [
        await us('oscar', 'POST', `/api/v1/drafts/${id}/approve`, {}),
        await us('oscar', 'POST', `/api/v1/drafts/${id}/reject`, { note: 'never mind' }),
      ];
      const { token } = await running('us').people.accounts.issueToken(dataFolderActor(), 'oscar', {
        label: 'a second token',
      });
      denied.push(
        await call(
          'us',
          'oscar',
          'POST',
          `/api/v1/drafts/${id}/approve`,
          {},
          {
            authorization: `Bearer ${token}`,
          },
        ),
      );
      const login = await call(
        'us',
        'oscar',
        'POST',
        '/api/v1/session',
        {
          user: 'oscar',
          password: PASSWORD.oscar,
        },
        {},
      );
      expect(login.status).toBe(200);
      const session = await fetch(`http://${pair.us.operatorListen}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'oscar', password: PASSWORD.oscar }),
      });
      const cookie = (session.headers.get('set-cookie') ?? '').split(';')[0] as string;
      const csrf = ((await session.json()) as { csrfToken: string }).csrfToken;
      denied.push(
        await call(
          'us',
          'oscar',
          'POST',
          `/api/v1/drafts/${id}/approve`,
          {},
          {
            cookie,
            'x-csrf-token': csrf,
          },
        ),
      );
      for (const answer of denied) {
        expect(answer.status).toBe(403);
        expect(answer.body.error?.code).toBe('E_SELF_APPROVAL');
      }
      const draftNow = await us('oscar', 'GET', `/api/v1/drafts/${id}`);
      expect(draftNow.body).toMatchObject({ state: 'pending', decidedBy: null });
      const attempts = await running('us').people.trail.list({
        action: 'draft.approve',
        limit: 10,
      });
      expect(attempts.filter((e) => e.target === id && e.outcome === 'denied').length).toBe(3);
      // An operator cannot decide at all.
      const byOperator = await us('olga', 'POST', `/api/v1/drafts/${id}/approve`, {});
      expect(byOperator.status).toBe(403);
      expect(byOperator.body.error?.code).toBe('E_FORBIDDEN');
    });

    test('an officer who staffs no desk can neither approve nor reject; each try is audited', async () => {
      const { accounts } = running('us').people;
      await accounts.add(dataFolderActor(), {
        name: 'zhao',
        role: 'officer',
        password: 'zhao-passphrase-1',
      });
      tokens.zhao = (await accounts.issueToken(dataFolderActor(), 'zhao')).token;
      const id = await submit('olga');
      const approve = await us('zhao', 'POST', `/api/v1/drafts/${id}/approve`, {});
      const reject = await us('zhao', 'POST', `/api/v1/drafts/${id}/reject`, { note: 'no' });
      expect([approve.status, approve.body.error]).toEqual([
        403,
        {
          code: 'E_FORBIDDEN',
          message: '"zhao" staffs no desk: to approve, a person acts as a desk they staff',
        },
      ]);
      expect([reject.status, reject.body.error]).toEqual([
        403,
        {
          code: 'E_FORBIDDEN',
          message: '"zhao" staffs no desk: to reject, a person acts as a desk they staff',
        },
      ]);
      const draftNow = await us('olga', 'GET', `/api/v1/drafts/${id}`);
      expect(draftNow.body).toMatchObject({ state: 'pending', decidedBy: null });
      const { trail } = running('us').people;
      for (const action of ['draft.approve', 'draft.reject'] as const)
        expect((await trail.list({ action, actor: 'zhao', limit: 5 }))[0]).toMatchObject({
          target: id,
          outcome: 'denied',
          detail: { code: 'E_FORBIDDEN', reason: expect.stringContaining('staffs no desk') },
        });
      await us('otto', 'POST', `/api/v1/drafts/${id}/reject`, { note: 'cleared by test' });
    });

    test('rejecting leaves no seq gap; approving releases and numbers the draft', async () => {
      const send = async (text: string) => {
        const sent = await us('olga', 'POST', '/api/v1/messages', {
          to: ['cn'],
          message: draft({ text: { lang: 'en', body: text } }),
        });
        expect(sent.status).toBe(201);
        return sent.body as { id: string; seq: { cn: number } };
      };
      const before = await send('before');
      const rejected = await submit('olga');
      const approved = await submit('olga');
      const between = await send('between');
      expect(between.seq.cn).toBe(before.seq.cn + 1);

      const noNote = await us('otto', 'POST', `/api/v1/drafts/${rejected}/reject`, {});
      expect(noNote.body.error?.code).toBe('E_MALFORMED');
      const rejection = await us('otto', 'POST', `/api/v1/drafts/${rejected}/reject`, {
        note: 'not confirmed by the lab',
      });
      expect(rejection.body).toMatchObject({
        state: 'rejected',
        decidedBy: 'otto',
        messageId: null,
      });

      const size = running('us').ledger.size;
      const release = await us('otto', 'POST', `/api/v1/drafts/${approved}/approve`, {
        note: 'confirmed',
      });
      expect(release.status).toBe(201);
      const { id, seq } = release.body as { id: string; seq: { cn: number } };
      expect(seq.cn).toBe(between.seq.cn + 1);
      const after = await send('after');
      expect(after.seq.cn).toBe(seq.cn + 1);

      const arrived = await receivedAtCn(id);
      const body = arrived.body;
      expect(body).toMatchObject({
        type: 'incident.report',
        precedence: 'flash',
        status: 'actual',
        author: { desk: 'ops' },
        approvals: [{ desk: 'ops', at: expect.any(String) }],
      });
      expect(body.approvals[0]?.breakGlass).toBeUndefined();
      // Beijing holds every seq from before to after: no gap where the rejected draft was.
      await receivedAtCn(after.id);
      const seqs = await running('cn').store.inboxSeqs('us');
      for (let n = before.seq.cn; n <= after.seq.cn; n++) expect(seqs).toContain(n);

      expect(await ledgerSince(size)).toContainEqual(
        expect.objectContaining({
          leaf: 'event',
          type: 'approval',
          detail: expect.objectContaining({ draft: approved, message: id, desk: 'ops' }),
        }),
      );
      const draftNow = await us('olga', 'GET', `/api/v1/drafts/${approved}`);
      expect(draftNow.body).toMatchObject({ state: 'released', decidedBy: 'otto', messageId: id });
      const again = await us('oscar', 'POST', `/api/v1/drafts/${approved}/approve`, {});
      expect(again.body.error?.code).toBe('E_CONFLICT');
      const { trail } = running('us').people;
      expect((await trail.list({ action: 'draft.approve', limit: 5 }))[0]).toMatchObject({
        actor: 'otto',
        target: approved,
        outcome: 'ok',
        detail: { message: id, author: 'olga', note: 'confirmed' },
      });
      expect((await trail.list({ action: 'draft.reject', limit: 5 }))[0]).toMatchObject({
        actor: 'otto',
        target: rejected,
        detail: { note: 'not confirmed by the lab' },
      });
    });

    test('two officers approving at once: one release, one conflict', async () => {
      const id = await submit('olga');
      const answers = await Promise.all([
        us('oscar', 'POST', `/api/v1/drafts/${id}/approve`, {}),
        us('otto', 'POST', `/api/v1/drafts/${id}/approve`, {}),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
    });

    test('a node stopped mid-release gives the draft back to the queue: released once, later', async () => {
      const id = await submit('olga');
      const lastSeq = await running('us').store.lastSeq('cn');
      // As if the node died after an officer claimed the draft and before the release committed.
      await running('us')
        .store.db.updateTable('drafts')
        .set({ state: 'releasing', decided_by: 'otto', decided_at: new Date().toISOString() })
        .where('id', '=', id)
        .execute();
      await pair.stop(pair.us);
      await pair.start(pair.us);
      // The first call may meet a kept-alive socket of the stopped server: ask again.
      const after = await eventually(
        () => us('olga', 'GET', `/api/v1/drafts/${id}`).catch(() => undefined),
        10_000,
        'the restarted node',
      );
      expect(after.body).toMatchObject({ state: 'pending', decidedBy: null, messageId: null });
      expect(await running('us').store.lastSeq('cn')).toBe(lastSeq);
      const approved = await us('otto', 'POST', `/api/v1/drafts/${id}/approve`, {});
      expect(approved.body).toMatchObject({ seq: { cn: lastSeq + 1 } });
    });
  });

  describe('break-glass', () => {
    test('the author releases their own draft on a stated reason: alarm, ledger leaf, audit', async () => {
      const id = await submit('oscar');
      const byOperator = await us('olga', 'POST', `/api/v1/drafts/${id}/break-glass`, {
        reason: 'no officer reachable',
      });
      expect(byOperator.status).toBe(403);
      const noReason = await us('oscar', 'POST', `/api/v1/drafts/${id}/break-glass`, {});
      expect(noReason.body.error?.code).toBe('E_MALFORMED');

      const size = running('us').ledger.size;
      const reason = 'second officer unreachable; the lab reports spread in progress';
      const answer = await us('oscar', 'POST', `/api/v1/drafts/${id}/break-glass`, { reason });
      expect(answer.status).toBe(201);
      const message = answer.body.id as string;

      const alarms = await us('olga', 'GET', '/api/v1/alarms');
      expect(alarms.body as unknown as Array<{ type: string; message: string }>).toContainEqual(
        expect.objectContaining({ type: 'break-glass', message: expect.stringContaining(reason) }),
      );
      const status = await us('olga', 'GET', '/api/v1/status');
      expect(JSON.stringify(status.body.alarms)).toContain('break-glass');

      const leaves = await ledgerSince(size);
      const leaf = leaves.find((l) => l.leaf === 'event' && l.type === 'break-glass');
      expect(leaf?.detail).toMatchObject({
        draft: id,
        message,
        desk: 'ops',
        reasonSha256: toHex(sha256(utf8(reason))),
      });
      expect(JSON.stringify(leaves)).not.toContain('oscar');

      const [entry] = await running('us').people.trail.list({
        action: 'draft.break-glass',
        limit: 1,
      });
      expect(entry).toMatchObject({ actor: 'oscar', target: id, detail: { message, reason } });

      const body = (await receivedAtCn(message)).body;
      expect(body.approvals).toEqual([{ desk: 'ops', at: expect.any(String), breakGlass: true }]);
    });

    test('sending directly with break-glass: officers only, and only when an approval is needed', async () => {
      const byOperator = await us('olga', 'POST', '/api/v1/messages', {
        to: ['cn'],
        message: flashReport(),
        breakGlass: { reason: 'it cannot wait' },
      });
      expect(byOperator.status).toBe(403);
      expect(byOperator.body.error?.code).toBe('E_FORBIDDEN');
      const needless = await us('oscar', 'POST', '/api/v1/messages', {
        to: ['cn'],
        message: draft(),
        breakGlass: { reason: 'it cannot wait' },
      });
      expect(needless.body.error?.code).toBe('E_MALFORMED');
      const direct = await us('oscar', 'POST', '/api/v1/messages', {
        to: ['cn'],
        message: flashReport(),
        breakGlass: { reason: 'it cannot wait' },
      });
      expect(direct.status).toBe(201);
      expect(direct.body).toMatchObject({ state: 'released', draft: expect.any(String) });
      const body = (await receivedAtCn(direct.body.id as string)).body;
      expect(body.approvals[0]?.breakGlass).toBe(true);
    });
  });

  describe('the record', () => {
    test('both ledgers, with approval and break-glass leaves, verify offline and agree', async () => {
      for (const [site, peer] of [
        ['us', 'cn'],
        ['cn', 'us'],
      ] as const)
        await eventually(
          async () =>
            (await running(site).store.outboxStats(peer)).pending === 0 ? true : undefined,
          20_000,
          `${site}'s outbox to empty`,
        );
      expect(await recordFailures(pair)).toEqual({ us: [], cn: [], between: [] });
    }, 60_000);
  });

  describe('templates', () => {
    test('lists the templates, and which need a second officer', async () => {
      const answer = await us('olga', 'GET', '/api/v1/templates');
      const list = answer.body as unknown as Array<{ id: string; needsApproval: boolean }>;
      expect(list.map((t) => [t.id, t.needsApproval])).toEqual([
        ['exercise-flash', false],
        ['link-test', false],
        ['maintenance-notice', false],
        ['actual-flash', true],
      ]);
    });

    test('a pre-approved template releases at once; another waits for a second officer', async () => {
      const exercise = await us('olga', 'POST', '/api/v1/templates/exercise-flash/send', {
        to: ['cn'],
      });
      expect(exercise.status).toBe(201);
      const body = (await receivedAtCn(exercise.body.id as string)).body;
      expect(body).toMatchObject({
        type: 'incident.report',
        precedence: 'flash',
        status: 'exercise',
        codes: ['phrase.this-is-exercise'],
        approvals: [],
      });
      const notice = await us('olga', 'POST', '/api/v1/templates/maintenance-notice/send', {});
      expect(notice.status).toBe(201);
      const actual = await us('olga', 'POST', '/api/v1/templates/actual-flash/send', {});
      expect(actual.status).toBe(202);
      expect(actual.body).toMatchObject({ state: 'pending' });
      const [entry] = await running('us').people.trail.list({ action: 'draft.submit', limit: 1 });
      expect(entry).toMatchObject({ actor: 'olga', target: actual.body.draft });
      const unknown = await us('olga', 'POST', '/api/v1/templates/no-such/send', {});
      expect(unknown.body.error?.code).toBe('E_NOT_FOUND');
      const notMyDesk = await us('olga', 'POST', '/api/v1/templates/exercise-flash/send', {
        desk: 'principal',
      });
      expect(notMyDesk.status).toBe(403);
    });
  });

  describe('readiness', () => {
    test('time to acknowledge, both sides, from the messages exchanged', async () => {
      // Washington sends a link test and a drill; Beijing's person acknowledges the link test only.
      const test1 = await us('olga', 'POST', '/api/v1/templates/link-test/send', { to: ['cn'] });
      const drill = await us('olga', 'POST', '/api/v1/templates/exercise-flash/send', {
        to: ['cn'],
      });
      await receivedAtCn(test1.body.id as string);
      await receivedAtCn(drill.body.id as string);
      const ack = await call('cn', 'cnAdmin', 'POST', `/api/v1/messages/us/${test1.body.id}/ack`, {
        desk: 'ops',
      });
      expect(ack.status).toBe(201);
      // Beijing drills Washington, and Washington acknowledges.
      const theirs = await call(
        'cn',
        'cnAdmin',
        'POST',
        '/api/v1/templates/exercise-flash/send',
        {},
      );
      const theirId = theirs.body.id as string;
      const inUs = await eventually(
        () => running('us').store.getInbox('cn', theirId),
        10_000,
        'the drill at us',
      );
      const ourAck = await us('olga', 'POST', `/api/v1/messages/cn/${theirId}/ack`, {
        desk: 'ops',
      });
      const ackAtUs = await eventually(
        () => running('us').store.getInbox('cn', ack.body.ack as string),
        10_000,
        'the ack at us',
      );

      const report = await us('olga', 'GET', '/api/v1/readiness?last=100');
      const peer = (
        report.body.peers as Array<Record<string, Record<string, Record<string, unknown>>>>
      )[0];
      const sentTest = (await running('us').store.getOutbox('cn', test1.body.id as string))
        ?.created_at as string;
      expect(peer?.sent?.immediate).toMatchObject({
        tests: 1,
        acknowledged: 1,
        unacknowledged: 0,
        medianMs: Date.parse(ackAtUs.received_at) - Date.parse(sentTest),
      });
      // Our drills so far: none acknowledged by Beijing.
      expect(peer?.sent?.flash).toMatchObject({ acknowledged: 0 });
      expect((peer?.sent?.flash?.drills as number) > 0).toBe(true);
      const ourAckRow = await running('us').store.getOutbox('cn', ourAck.body.ack as string);
      expect(peer?.received?.flash).toMatchObject({
        drills: 1,
        acknowledged: 1,
        medianMs: Date.parse(ourAckRow?.created_at as string) - Date.parse(inUs.received_at),
      });
      // Beijing's view mirrors it.
      const mirror = await call('cn', 'cnAdmin', 'GET', '/api/v1/readiness?last=100');
      const cnPeer = (
        mirror.body.peers as Array<Record<string, Record<string, Record<string, unknown>>>>
      )[0];
      expect(cnPeer?.received?.immediate).toMatchObject({ tests: 1, acknowledged: 1 });
      expect(cnPeer?.sent?.flash).toMatchObject({ drills: 1, acknowledged: 1 });
      const bad = await us('olga', 'GET', '/api/v1/readiness?last=0');
      expect(bad.body.error?.code).toBe('E_MALFORMED');
    });
  });
});

describe('with access.disclosePersons', () => {
  let named: Pair;
  afterAll(async () => {
    await named?.close();
  });

  test('the peer sees the author’s and the approver’s names beside their desks', async () => {
    named = await createPair({ access: { disclosePersons: true } as never });
    const us = await named.start(named.us);
    await named.start(named.cn);
    const by = dataFolderActor();
    await us.people.accounts.add(by, {
      name: 'otto',
      role: 'officer',
      password: 'otto-passphrase-1',
    });
    await us.people.roster.putStaff(by, 'ops', 'otto', [{ kind: 'console' }]);
    const otto = (await us.people.accounts.issueToken(by, 'otto')).token;
    const admin = readToken(named.us.dir);
    const post = async (token: string, path: string, body: unknown) => {
      const response = await fetch(`http://${named.us.operatorListen}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      return (await response.json()) as Record<string, unknown>;
    };
    const held = await post(admin, '/api/v1/messages', { to: ['cn'], message: flashReport() });
    const released = await post(otto, `/api/v1/drafts/${held.draft}/approve`, {});
    const cn = named.cn.running as RunningNode;
    const row = await eventually(
      () => cn.store.getInbox('us', released.id as string),
      10_000,
      'the report at cn',
    );
    expect(row.body).toMatchObject({
      author: { desk: 'ops', person: 'admin' },
      approvals: [{ desk: 'ops', person: 'otto', at: expect.any(String) }],
    });
  });
});
