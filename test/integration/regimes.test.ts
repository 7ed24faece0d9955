/**
 * Notification regimes across two nodes sharing one injected clock the test moves: Beijing
 * reports a severe incident, which owes Washington a cross-border-incident notice within 72 h;
 * Beijing also sends an advance notice of a training run with `hotline notify`, which Washington
 * acknowledges. Beijing's desk is reminded before the deadline; when the deadline passes unmet,
 * both nodes record the obligation as late in their ledgers and show the same compliance board,
 * and `hotline verify` of both exports reproduces that table offline. Made once on SQLite and once
 * on PostgreSQL (127.0.0.1:5432, db `test`).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningNode } from '../../src/app/start.ts';
import { parseLeaf } from '../../src/ledger/leaves.ts';
import { readToken } from '../../src/node/core/data.ts';
import { exportLedgerToFile } from '../../src/node/record/export.ts';
import { DEFAULT_REGIMES_FILE } from '../../src/protocol/regimes.ts';
import type { ComplianceBoard, Obligation } from '../../src/protocol/views.ts';
import { createPair, draft, eventually, type Pair } from '../support/pair.ts';
import { dropSchemas, TEST_POSTGRES } from '../support/postgres.ts';
import { hotline } from './nodes.ts';

const HOUR = 3_600_000;

describe('the regimes file at the command line', () => {
  test('a bad regimes file is refused with every problem named; the commands have help', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hotline-regimes-'));
    const bad = join(dir, 'bad-regimes.json');
    const doc = JSON.parse(readFileSync(DEFAULT_REGIMES_FILE, 'utf8'));
    delete doc.types[0].name.zh;
    doc.types[1].timing = { kind: 'before', field: 'system', days: 14 };
    writeFileSync(bad, JSON.stringify(doc));
    const r = await hotline(['regimes', 'check', '--file', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('is not a valid regimes file');
    expect(r.stderr).toContain('type "regime.training-run" name has no "zh" text');
    expect(r.stderr).toContain(
      'type "regime.agent-deployment" is timed by "system", which must be a required date field',
    );
    const ok = await hotline(['regimes', 'check']);
    expect(ok.stdout).toMatch(/^OK: regimes 2026\.2, hash [0-9a-f]{64}, 6 types/);
    for (const command of [['notify'], ['compliance'], ['regimes', 'show']]) {
      const help = await hotline([...command, '--help']);
      expect(help.stdout).toContain(`Usage: hotline ${command.join(' ')}`);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);
});

describe.each(['sqlite', 'postgres'] as const)(
  'notification regimes between two nodes on %s',
  (backend) => {
    const run = randomBytes(4).toString('hex');
    const schemaOf = (party: string) => `hotline_reg_${run}_${party}`;
    let pair: Pair;
    const t0 = Date.parse('2026-11-02T08:00:00.000Z');
    let now = t0;
    const clock = () => new Date(now);
    const us = () => pair.us.running as RunningNode;
    const cn = () => pair.cn.running as RunningNode;
    const incident = uuidv7();
    let report = '';
    let training = '';

    async function api(site: 'us' | 'cn', method: string, path: string, body?: unknown) {
      const response = await fetch(`http://${pair[site].operatorListen}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${readToken(pair[site].dir)}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      // biome-ignore lint/suspicious/noExplicitAny: test answers are read loosely
      return { status: response.status, body: (await response.json()) as any };
    }

    const board = async (site: 'us' | 'cn', at: string): Promise<ComplianceBoard> => {
      const r = await api(site, 'GET', `/api/v1/compliance?at=${at}`);
      expect(r.status).toBe(200);
      return r.body as ComplianceBoard;
    };
    const incidentDuty = (b: ComplianceBoard) =>
      b.obligations.find((o) => o.type === 'regime.cross-border-incident') as Obligation;

    beforeAll(async () => {
      pair = await createPair({}, (party) =>
        backend === 'postgres'
          ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
          : {},
      );
      await pair.start(pair.us, { clock });
      await pair.start(pair.cn, { clock });
    }, 60_000);

    afterAll(async () => {
      await pair?.close();
      if (backend === 'postgres') {
        await dropSchemas(...['us', 'cn'].map(schemaOf));
      }
    });

    test('both cards pin the same regimes: no warning either side', async () => {
      const r = await api('us', 'GET', '/api/v1/regimes?lang=zh');
      expect(r.status).toBe(200);
      expect(r.body.card.same).toBe(true);
      expect(r.body.peers).toMatchObject([{ party: 'cn', same: true }]);
      expect(r.body.types.map((t: { name: string }) => t.name)).toContain('年度数据交换');
    });

    test('a notice whose fields the regime refuses is not released', async () => {
      const r = await api('cn', 'POST', '/api/v1/notifications', {
        to: ['us'],
        type: 'regime.training-run',
        fields: {
          plannedStart: '2026-12-20',
          developer: 'Lab A',
          computeFlop: 'lots',
          thresholdFlop: 1e26,
        },
        desk: 'ops',
      });
      expect(r.status).toBe(400);
      expect(r.body.error).toEqual({
        code: 'E_BAD_NOTIFICATION',
        message: 'request body/fields/computeFlop is not a number',
      });
    });

    // Each kind of schema failure of the fields, as the API and `hotline notify` (naming --field) say it.
    const plan = {
      plannedStart: '2026-12-20',
      developer: 'Lab A',
      computeFlop: 3e26,
      thresholdFlop: 1e26,
    };
    const { developer: _, ...noDeveloper } = plan;
    const badFields: [string, string, Record<string, unknown>, string, string][] = [
      [
        'a missing field',
        'regime.training-run',
        noDeveloper,
        'request body/fields has no "developer"',
        '--field developer is not given',
      ],
      [
        'a field of the wrong type',
        'regime.annual-exchange',
        { year: 2026, trainingRuns: 2.5, seriousIncidents: 0 },
        'request body/fields/trainingRuns is not a whole number',
        '--field trainingRuns is not a whole number',
      ],
      [
        'a field the type does not have',
        'regime.training-run',
        { ...plan, foo: 'bar' },
        'request body/fields has "foo", which regime.training-run does not take',
        '--field has "foo", which regime.training-run does not take',
      ],
      [
        'a choice not among its values',
        'regime.agent-deployment',
        { deploymentDate: '2027-01-10', sector: 'space', system: 'S', humanOversight: 'H' },
        'request body/fields/sector is not one of: energy, water, transport, finance, telecom, health, other',
        '--field sector is not one of: energy, water, transport, finance, telecom, health, other',
      ],
      [
        'a date not written YYYY-MM-DD',
        'regime.training-run',
        { ...plan, plannedStart: '20/12/2026' },
        'request body/fields/plannedStart is not a date (YYYY-MM-DD, e.g. 2027-03-01)',
        '--field plannedStart is not a date (YYYY-MM-DD, e.g. 2027-03-01)',
      ],
      [
        'a compute figure below the threshold it states',
        'regime.training-run',
        { ...plan, computeFlop: 5e25 },
        'request body/fields/computeFlop is 5e+25, below thresholdFlop (Agreed threshold (FLOP)), 1e+26: a regime.training-run notice is for a computeFlop at or above it; check both figures',
        '--field computeFlop is 5e+25, below thresholdFlop (Agreed threshold (FLOP)), 1e+26: a regime.training-run notice is for a computeFlop at or above it; check both figures',
      ],
      [
        'a planned start already past',
        'regime.training-run',
        { ...plan, plannedStart: '2026-11-01' },
        'request body/fields/plannedStart 2026-11-01 is in the past (it is 2026-11-02T08:00:00.000Z): a regime.training-run notice announces what is planned, notified 30 days before plannedStart; give the day to come',
        '--field plannedStart 2026-11-01 is in the past (it is 2026-11-02T08:00:00.000Z): a regime.training-run notice announces what is planned, notified 30 days before plannedStart; give the day to come',
      ],
      [
        'a text field of only spaces',
        'regime.training-run',
        { ...plan, developer: '  ' },
        'request body/fields/developer is blank: write something besides spaces and invisible characters',
        '--field developer is blank: write something besides spaces and invisible characters',
      ],
      [
        'a text field of only zero-width characters',
        'regime.training-run',
        { ...plan, developer: '\u200b\u200d' },
        'request body/fields/developer is blank: write something besides spaces and invisible characters',
        '--field developer is blank: write something besides spaces and invisible characters',
      ],
      [
        'a text field with a control character',
        'regime.training-run',
        { ...plan, developer: 'Lab\u001bA' },
        'request body/fields/developer has U+001B ESCAPE, a control character: only tabs and line breaks are taken; write it without',
        '--field developer has U+001B ESCAPE, a control character: only tabs and line breaks are taken; write it without',
      ],
    ];

    test.each(badFields)(
      '%s is refused with a sentence naming it, by the API and by hotline notify',
      async (_what, type, fields, said, typed) => {
        const before = await api('cn', 'GET', '/api/v1/outbox');
        const r = await api('cn', 'POST', '/api/v1/notifications', {
          to: ['us'],
          type,
          fields,
          desk: 'ops',
        });
        expect(r.status).toBe(400);
        expect(r.body.error).toEqual({ code: 'E_BAD_NOTIFICATION', message: said });
        const notify = await hotline([
          'notify',
          '--data',
          pair.cn.dir,
          '--to',
          'us',
          '--type',
          type,
          ...Object.entries(fields).flatMap(([name, value]) => ['--field', `${name}=${value}`]),
        ]);
        expect(notify.code).toBe(1);
        expect(notify.stderr.trim()).toBe(`hotline: E_BAD_NOTIFICATION: ${typed}`);
        expect((await api('cn', 'GET', '/api/v1/outbox')).body).toEqual(before.body);
      },
      30_000,
    );

    test('an advance notice sent with hotline notify arrives readable and is acknowledged', async () => {
      const sent = await hotline([
        'notify',
        '--data',
        pair.cn.dir,
        '--to',
        'us',
        '--type',
        'regime.training-run',
        '--field',
        'plannedStart=2026-12-20',
        '--field',
        'developer=Lab A',
        '--field',
        'computeFlop=3e26',
        '--field',
        'thresholdFlop=1e26',
        '--json',
      ]);
      expect(sent.code, sent.stderr).toBe(0);
      training = JSON.parse(sent.stdout).id;
      await eventually(async () =>
        (await us().store.getInbox('cn', training)) ? true : undefined,
      );
      const view = await api('us', 'GET', `/api/v1/messages/cn/${training}?lang=zh`);
      expect(view.body.rendered.notice.text).toBe('超过算力阈值的训练任务事先通报');
      expect(view.body.attachments[0].notification.fields).toContainEqual({
        name: 'computeFlop',
        label: '训练算力（FLOP）',
        value: 3e26,
      });
      // Named by the regimes: no "unknown code" warning for the subject.
      expect(view.body.warnings.filter((w: string) => w.startsWith('regime.'))).toEqual([]);
      const acked = await api('us', 'POST', `/api/v1/messages/cn/${training}/ack`, { desk: 'ops' });
      expect(acked.status).toBe(201);
    });

    test('a severe incident report owes a notice; the owing desk is reminded before the deadline', async () => {
      const released = await cn().node.release(
        ['us'],
        draft({
          type: 'incident.report',
          incident,
          precedence: 'priority',
          status: 'actual',
          text: { lang: 'en', body: 'An AI-enabled intrusion is spreading across the border.' },
          report: {
            nature: 'incident',
            category: 'category.ai-cyberattack',
            harm: { types: [], severity: 'severity.severe', reversibility: 'unknown' },
            actionsTaken: [],
            actionsRequested: [],
          },
        }),
      );
      report = released.id;
      await eventually(async () => ((await us().store.getInbox('cn', report)) ? true : undefined));
      now = t0 + 61 * HOUR;
      expect(await cn().compliance.tick()).toEqual([]);
      const due = incidentDuty(await board('cn', new Date(now).toISOString()));
      expect(due).toMatchObject({ owedBy: 'cn', owedTo: 'us', state: 'owed', notice: null });
      const reminders = (await cn().store.openAlarms({ category: 'waiting' })).filter(
        (a) => a.type === 'notification-due',
      );
      expect(reminders.map((a) => a.ref)).toEqual([due.key]);
    });

    test('unsent by its deadline, it is late on both sides, identically, and in both ledgers', async () => {
      now = t0 + 73 * HOUR;
      const at = new Date(now).toISOString();
      // Each node looks (the background loop looks every minute; the test does not wait for it).
      await cn().compliance.tick();
      await us().compliance.tick();
      const [cnBoard, usBoard] = [await board('cn', at), await board('us', at)];
      const late = incidentDuty(cnBoard);
      expect(late).toMatchObject({ state: 'late', owedBy: 'cn', notice: null });
      expect(late.basis).toEqual({ kind: 'event', message: report, incident });
      expect(usBoard.obligations).toEqual(cnBoard.obligations);
      expect(usBoard.byParty).toEqual(cnBoard.byParty);
      expect(cnBoard.byParty.cn).toMatchObject({ late: 1, sent: 1, acknowledged: 1 });
      // A second look records nothing again.
      expect(await cn().compliance.tick()).toEqual([]);
      for (const site of [cn(), us()]) {
        const size = await site.store.ledgerSize();
        const leaves = (await site.store.readLeaves(0, size)).map(parseLeaf);
        const events = leaves.filter((l) => l.leaf === 'event' && l.type === 'notification-late');
        expect(events.map((e) => (e.leaf === 'event' ? e.detail.key : ''))).toEqual([late.key]);
      }
    });

    test('hotline verify of both exports reproduces the same table offline', async () => {
      const at = new Date(now).toISOString();
      const files = [join(pair.root, 'us.jsonl'), join(pair.root, 'cn.jsonl')];
      await exportLedgerToFile(pair.us.dir, files[0] as string);
      await exportLedgerToFile(pair.cn.dir, files[1] as string);
      const r = await hotline([
        'verify',
        files[0] as string,
        '--peer-export',
        files[1] as string,
        '--at',
        at,
        '--json',
      ]);
      expect(r.code, r.stdout.slice(0, 2000)).toBe(0);
      const out = JSON.parse(r.stdout);
      const live = await board('us', at);
      for (const report of out.compliance.reports) {
        expect(report.table.obligations).toEqual(live.obligations);
        expect(report.unexplainedLate).toEqual([]);
        expect(report.warning).toBeUndefined();
      }
      expect(out.compliance.cross).toMatchObject({ differ: [], inFlight: [] });
      const text = await hotline([
        'verify',
        files[0] as string,
        '--peer-export',
        files[1] as string,
        '--at',
        at,
      ]);
      expect(text.stdout).toMatch(/late\s+cn → us {2}regime\.cross-border-incident/);
      expect(text.stdout).toMatch(
        /Compliance tables agree on all \d+ obligation\(s\) between us and cn/,
      );
    }, 120_000);
  },
);
