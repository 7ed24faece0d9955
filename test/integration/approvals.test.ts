/**
 * The two-person rule, break-glass, drills and readiness through the `hotline` command, between
 * two `hotline serve` processes: Washington's admin drafts, its officer decides, Beijing answers.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BEIJING,
  HotlineNode,
  hotline,
  hotlineOk,
  type InboxItem,
  killAll,
  removeUnlessKept,
  until,
  WASHINGTON,
} from './nodes.ts';

/** A failure is one line on stderr, and nothing else there. */
function oneLine(stderr: string): string {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0] as string;
}

let root: string;
let us: HotlineNode;
let cn: HotlineNode;
let oscarToken: string;

/** `hotline …` as the officer oscar (HOTLINE_TOKEN), not as the folder's admin. */
async function asOscar(args: string[]) {
  process.env.HOTLINE_TOKEN = oscarToken;
  try {
    return await hotline(args);
  } finally {
    delete process.env.HOTLINE_TOKEN;
  }
}

function flashReport(text: string) {
  return {
    to: ['cn'],
    message: {
      type: 'incident.report',
      incident: uuidv7(),
      precedence: 'flash',
      status: 'actual',
      tlp: 'amber',
      codes: [],
      text: { lang: 'en', body: text },
      translations: [],
      attachments: [],
      author: { desk: 'ops' },
      approvals: [],
      report: {
        nature: 'incident',
        category: 'category.loss-of-control',
        actionsTaken: [],
        actionsRequested: [],
      },
    },
  };
}

/** The admin (operator.token) writes a flash report; it waits as a draft. */
async function draftByAdmin(text: string): Promise<string> {
  const held = await us.api<{ state: string; draft: string }>(
    'POST',
    '/api/v1/messages',
    flashReport(text),
  );
  expect(held.state).toBe('pending');
  return held.draft;
}

const inboxOf = (node: HotlineNode) => node.api<InboxItem[]>('GET', '/api/v1/inbox?limit=1000');

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'hotline-approvals-'));
  [us, cn] = await Promise.all([
    HotlineNode.init(root, WASHINGTON, { heartbeatMs: 300 }),
    HotlineNode.init(root, BEIJING, { heartbeatMs: 300 }),
  ]);
  await Promise.all([us.exportCard(), cn.exportCard()]);
  await Promise.all([us.pin(cn), cn.pin(us)]);
  await Promise.all([us.start(), cn.start()]);
  await hotlineOk(['user', 'add', 'oscar', '--role', 'officer', '--data', us.dir]);
  await hotlineOk(['desk', 'staff', 'ops', 'oscar', '--data', us.dir]);
  const out = join(root, 'oscar.token');
  await hotlineOk(['user', 'token', 'oscar', '--out', out, '--data', us.dir]);
  oscarToken = readFileSync(out, 'utf8').trim();
}, 180_000);

afterAll(async () => {
  await killAll();
  removeUnlessKept(root);
});

describe('approvals through the CLI', () => {
  test('send says a flash report is held; drafts lists it; its author cannot approve it', async () => {
    const send = await hotline([
      'send',
      '--data',
      us.dir,
      '--to',
      'cn',
      '--precedence',
      'flash',
      '--type',
      'query',
      '--text',
      'routine query, released at once',
    ]);
    expect(send.stdout).toMatch(/^Released \S+ \(cn #1\)$/m);
    const id = await draftByAdmin('Loss of control at a lab.');
    const list = await hotlineOk(['drafts', '--data', us.dir]);
    expect(list.stdout).toContain(`${id}  pending  FLASH incident.report to cn  by admin (ops)`);
    const json = JSON.parse((await hotlineOk(['drafts', '--data', us.dir, '--json'])).stdout);
    expect(json).toEqual([expect.objectContaining({ id, state: 'pending', author: 'admin' })]);

    const self = await hotline(['approve', id, '--data', us.dir]);
    expect(self.code).toBe(1);
    expect(oneLine(self.stderr)).toMatch(/^hotline: E_SELF_APPROVAL: "admin" wrote draft /);
    const badId = await hotline(['approve', 'nope', '--data', us.dir]);
    expect(badId.code).not.toBe(0);
    expect(badId.stderr).toContain('is not a draft id');

    const approved = await asOscar([
      'approve',
      id,
      '--note',
      'confirmed by phone',
      '--data',
      us.dir,
    ]);
    expect(approved.code, approved.stderr).toBe(0);
    const match = /^Released (\S+) \(cn #2\)$/.exec(approved.stdout.trim());
    expect(match, approved.stdout).not.toBeNull();
    await until(
      'the approved report at Beijing',
      async () => (await inboxOf(cn)).some((m) => m.id === match?.[1]),
      15_000,
    );
    const again = await asOscar(['approve', id, '--data', us.dir]);
    expect(oneLine(again.stderr)).toMatch(/^hotline: E_CONFLICT: draft \S+ is released/);
  }, 120_000);

  test('reject needs a note and uses no number; break-glass raises an alarm', async () => {
    const rejected = await draftByAdmin('Unconfirmed rumour.');
    const noNote = await asOscar(['reject', rejected, '--data', us.dir]);
    expect(noNote.code).not.toBe(0);
    const reject = await asOscar(['reject', rejected, '--note', 'unconfirmed', '--data', us.dir]);
    expect(reject.stdout.trim()).toBe(`Rejected ${rejected}.`);

    const urgent = await draftByAdmin('Weights are spreading now.');
    const noReason = await hotline(['break-glass', urgent, '--data', us.dir]);
    expect(noReason.code).not.toBe(0);
    const glass = await hotline([
      'break-glass',
      urgent,
      '--reason',
      'no second officer within reach',
      '--data',
      us.dir,
    ]);
    expect(glass.code, glass.stderr).toBe(0);
    // The rejected draft used no number: this is cn #3, right after the approved #2.
    expect(glass.stdout.trim()).toMatch(
      /^Released \S+ \(cn #3\) without a second approval \(break-glass: alarm raised\)$/,
    );
    const status = await hotlineOk(['status', '--data', us.dir, '--json']);
    expect(JSON.parse(status.stdout).alarms).toContainEqual(
      expect.objectContaining({ type: 'break-glass' }),
    );
    // send --break-glass on a message no rule holds: refused in one line, nothing sent.
    const needless = await hotline([
      'send',
      '--data',
      us.dir,
      '--to',
      'cn',
      '--text',
      'x',
      '--break-glass',
      'in a hurry',
    ]);
    expect(needless.code).toBe(1);
    expect(oneLine(needless.stderr)).toMatch(
      /^hotline: E_MALFORMED: this message needs no second approval/,
    );
    const all = JSON.parse(
      (await hotlineOk(['drafts', '--state', 'all', '--data', us.dir, '--json'])).stdout,
    );
    expect(all.map((d: { state: string }) => d.state).sort()).toEqual([
      'rejected',
      'released',
      'released',
    ]);
  }, 120_000);

  test('drill sends an exercise flash; readiness reports both sides once acknowledged', async () => {
    const drill = await hotline(['drill', '--data', us.dir, '--to', 'cn', '--json']);
    expect(drill.code, drill.stderr).toBe(0);
    const { id } = JSON.parse(drill.stdout) as { id: string };
    const arrived = await until(
      'the drill at Beijing',
      async () => (await inboxOf(cn)).find((m) => m.id === id),
      15_000,
    );
    expect(arrived.body).toMatchObject({
      type: 'incident.report',
      precedence: 'flash',
      status: 'exercise',
    });
    // A person in Beijing acknowledges it.
    const ack = await hotline(['ack', 'us', id, '--data', cn.dir, '--json']);
    expect(ack.code, ack.stderr).toBe(0);
    const ackId = (JSON.parse(ack.stdout) as { ack: string }).ack;
    await until(
      'the ack at Washington',
      async () => (await inboxOf(us)).some((m) => m.id === ackId),
      15_000,
    );

    const json = JSON.parse(
      (await hotlineOk(['readiness', '--data', us.dir, '--last', '5', '--json'])).stdout,
    );
    expect(json.last).toBe(5);
    expect(json.peers[0].party).toBe('cn');
    expect(json.peers[0].sent.flash).toMatchObject({
      drills: 1,
      acknowledged: 1,
      unacknowledged: 0,
    });
    expect(json.peers[0].sent.flash.medianMs).toBeGreaterThanOrEqual(0);
    const mirror = JSON.parse((await hotlineOk(['readiness', '--data', cn.dir, '--json'])).stdout);
    expect(mirror.peers[0].received.flash).toMatchObject({ drills: 1, acknowledged: 1 });
    const text = await hotlineOk(['readiness', '--data', us.dir]);
    expect(text.stdout).toMatch(/flash\s+0 tests, 1 drills; 1 acknowledged, median /);
    const bad = await hotline(['readiness', '--data', us.dir, '--last', '0']);
    expect(bad.code).not.toBe(0);
    expect(oneLine(bad.stderr)).toContain('not a whole number');

    // A template of actual traffic is no drill: refused, and readiness counts nothing more.
    const outbox = await us.api<unknown[]>('GET', '/api/v1/outbox');
    const notice = await hotline(['drill', '--data', us.dir, '--template', 'maintenance-notice']);
    expect(notice.code).toBe(1);
    expect(notice.stderr.trim()).toBe(
      'hotline: E_CONFLICT: the template "maintenance-notice" is actual traffic (status actual), not a drill: a drill sends a template of status exercise or test, such as "exercise-flash"',
    );
    expect(await us.api<unknown[]>('GET', '/api/v1/outbox')).toHaveLength(outbox.length);
  }, 120_000);
  test('a second factor given to approve a draft that is no flash is said unused; it is released', async () => {
    // The closure of an incident reported above (a closure of none is refused).
    const reported = (await inboxOf(cn)).find(
      (m) => m.body?.type === 'incident.report' && m.body.status === 'actual',
    );
    const closure = { ...flashReport('The incident is over.').message, report: undefined };
    const held = await us.api<{ state: string; draft: string }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: {
        ...closure,
        incident: reported?.body?.incident,
        type: 'incident.close',
        precedence: 'routine',
      },
    });
    expect(held.state).toBe('pending');
    const approved = await asOscar([
      'approve',
      held.draft,
      '--second-factor',
      '123456',
      '--data',
      us.dir,
    ]);
    expect(approved.code, approved.stderr).toBe(0);
    expect(approved.stdout.trim()).toMatch(/^Released \S+ \(cn #\d+\)$/);
    expect(oneLine(approved.stderr)).toBe(
      'Warning: --second-factor was not needed and not used: approving asks for it only for a flash draft, and this one is routine',
    );
  }, 120_000);
});
