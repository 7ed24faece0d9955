/**
 * `hotline incidents`, `hotline incident`, `hotline ack` and `hotline remind` against two real
 * `hotline serve` processes: Washington reports a flash incident, Beijing's operator lists it,
 * reads it, acknowledges it; Washington sees the acknowledgement and a reminder is refused.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BEIJING,
  draft,
  HotlineNode,
  hotline,
  killAll,
  removeUnlessKept,
  until,
  WASHINGTON,
} from './nodes.ts';

describe('incident commands of the hotline CLI', () => {
  let root: string;
  let us: HotlineNode;
  let cn: HotlineNode;
  const incident = uuidv7();
  let report = '';

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'hotline-incidents-cli-'));
    [us, cn] = await Promise.all([
      HotlineNode.init(root, WASHINGTON, { heartbeatMs: 300 }),
      HotlineNode.init(root, BEIJING, { heartbeatMs: 300 }),
    ]);
    await us.pin(cn);
    await cn.pin(us);
    await Promise.all([us.start(), cn.start()]);
    const released = await us.api<{ id: string }>('POST', '/api/v1/messages', {
      to: ['cn'],
      message: {
        ...draft('Model weights published on a public mirror.', 'flash'),
        type: 'incident.report',
        status: 'exercise',
        incident,
        report: {
          nature: 'incident',
          category: 'category.weights-proliferation',
          actionsTaken: [],
          actionsRequested: [],
        },
      },
    });
    report = released.id;
  }, 90_000);

  afterAll(async () => {
    await killAll();
    removeUnlessKept(root);
  });

  test('incidents lists the flash report at Beijing, with what awaits its acknowledgement', async () => {
    const listed = await until(
      'the report to reach Beijing and escalate',
      async () => {
        const r = await hotline(['incidents', '--data', cn.dir, '--json']);
        const rows = JSON.parse(r.stdout) as Array<{ incident: string; awaiting: unknown[] }>;
        return rows.find((i) => i.incident === incident && i.awaiting.length) && rows;
      },
      20_000,
      200,
    );
    expect(listed[0]).toMatchObject({
      incident,
      owner: 'us',
      state: 'reported',
      precedence: 'flash',
    });
    const text = await hotline(['incidents', '--data', cn.dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`FLASH     reported      ${incident}  owner us`);
    expect(text.stdout).toContain('[EXERCISE]');
    expect(text.stdout).toContain(`awaiting our ack of us's ${report}`);
  }, 60_000);

  test('incident shows the timeline with the escalation to the ops desk, where nobody is rostered', async () => {
    const r = await hotline(['incident', incident, '--data', cn.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `Incident ${incident} [EXERCISE]: REPORTED (flash); state owned by us`,
    );
    expect(r.stdout).toContain('(en) Model weights published on a public mirror.');
    expect(r.stdout).toMatch(/escalated \S+: step 1, desk ops, nobody on duty/);
  }, 60_000);

  test('status lists the report as awaiting a person, apart from alarms', async () => {
    const r = await hotline(['status', '--data', cn.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('  no alarms');
    expect(r.stdout).toMatch(
      /awaiting a person \(1; hotline ack \/ remind\):\n {4}\S+ escalation: /,
    );
    expect(r.stdout).toContain(report);
  }, 60_000);

  test('ack acknowledges it; Washington sees Beijing’s ops desk; remind is then refused in one line', async () => {
    const r = await hotline(['ack', 'us', report, '--data', cn.dir, '--desk', 'ops']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Acknowledged us/${report} as the desk "ops" (admin)`);
    await until(
      'the ack to reach Washington',
      async () => {
        const out = await hotline(['incident', incident, '--data', us.dir, '--json']);
        const view = JSON.parse(out.stdout) as {
          timeline: Array<{
            id: string;
            followup: { acknowledged: { desk: string } | null } | null;
          }>;
        };
        return view.timeline.find((t) => t.id === report)?.followup?.acknowledged?.desk === 'ops';
      },
      20_000,
      200,
    );
    const remind = await hotline(['remind', 'cn', report, '--data', us.dir]);
    expect(remind.code).toBe(1);
    expect(remind.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(remind.stderr).toMatch(
      /^hotline: E_CONFLICT: message \S+ was acknowledged at .* by the desk "ops"/,
    );
    const again = await hotline(['ack', 'us', report, '--data', cn.dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('E_CONFLICT');
  }, 60_000);

  test('incident --set changes the state as its owner; --request from the other side; --retract', async () => {
    const notOwner = await hotline(['incident', incident, '--data', cn.dir, '--set', 'resolved']);
    expect(notOwner.code).toBe(1);
    expect(notOwner.stderr).toMatch(
      /^hotline: E_CONFLICT: "us" reported incident .* owns its state/,
    );
    const set = await hotline(['incident', incident, '--data', us.dir, '--set', 'investigating']);
    expect(set.code, set.stderr).toBe(0);
    expect(set.stdout).toMatch(/: state set to investigating \(message \S+\)\./);
    // Its owner's own node names itself by its party, as `hotline incidents` does.
    const owned = await hotline(['incident', incident, '--data', us.dir]);
    expect(owned.stdout).toContain(
      `Incident ${incident} [EXERCISE]: INVESTIGATING (flash); state owned by us (this node)`,
    );
    const asked = await hotline([
      'incident',
      incident,
      '--data',
      cn.dir,
      '--request',
      'mitigating',
      '--text',
      'Mirror taken down.',
    ]);
    expect(asked.code, asked.stderr).toBe(0);
    const shown = await until(
      'the request to reach Washington',
      async () => {
        const r = await hotline(['incident', incident, '--data', us.dir]);
        return r.stdout.includes('move to mitigating') && r.stdout;
      },
      20_000,
      200,
    );
    expect(shown).toContain('INVESTIGATING (flash)');
    const retract = await hotline([
      'incident',
      incident,
      '--data',
      us.dir,
      '--retract',
      '--text',
      'Drill.',
    ]);
    expect(retract.code, retract.stderr).toBe(0);
    const view = await until(
      'the retraction to reach Beijing',
      async () => {
        const r = await hotline(['incident', incident, '--data', cn.dir]);
        return r.stdout.startsWith('*** RETRACTED') && r.stdout;
      },
      20_000,
      200,
    );
    expect(view.split('\n')[0]).toMatch(
      /^\*\*\* RETRACTED by us \(ops\) at \S+: false alarm or withdrawn — Drill\. \*\*\*$/,
    );
    const both = await hotline([
      'incident',
      incident,
      '--data',
      us.dir,
      '--set',
      'closed',
      '--retract',
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr.trim()).toMatch(/cannot be used with/);
  }, 90_000);

  test('a bad id is refused before anything is sent, in one line', async () => {
    const r = await hotline(['incident', 'not-an-id', '--data', cn.dir]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(
      'hotline: E_MALFORMED: <id> "not-an-id" is not a message or incident id (a UUIDv7)',
    );
    const unknown = await hotline(['incident', uuidv7(), '--data', cn.dir]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^hotline: E_NOT_FOUND: there is no incident/);
  }, 60_000);
});
