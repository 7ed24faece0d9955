/**
 * Escalation's first step in the receive commit: when Beijing stores Washington's flash report,
 * the same durable commit records the first notice — the escalation row, the console alarm, the
 * event leaf — and the live feed hears of it before `receiveBatch` answers; the webhook of the
 * person on duty follows. No second commit is made for it. When that step cannot be prepared in
 * the commit (the first desk of the ladder does not exist), the message is stored all the same
 * and the timer stays due: the loop fires it and raises the fault, as for any other timer.
 *
 * Both nodes are built in-process and never listen: Washington's envelope is handed to Beijing's
 * `receiveBatch` directly. Run on SQLite and on PostgreSQL (127.0.0.1:5432, db `test`).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { buildServices, type Services } from '../../src/app/services.ts';
import { type Config, readConfig, writeConfig } from '../../src/node/core/config.ts';
import { openNodeStore, readNodeKeys, readOwnCard } from '../../src/node/core/data.ts';
import { dataFolderActor } from '../../src/node/people/people.ts';
import type { EscalationStep } from '../../src/protocol/views.ts';
import type { AlarmRow } from '../../src/store/store.ts';
import { createPair, eventually, flashReport, type Pair } from '../support/pair.ts';
import { dropSchemas, TEST_POSTGRES } from '../support/postgres.ts';

const SECRET = 'webhook-secret-for-tests-0123456789';

describe.each(['sqlite', 'postgres'] as const)('the first escalation step on %s', (backend) => {
  const run = randomBytes(4).toString('hex');
  const schemaOf = (party: string) => `hotline_first_${run}_${party}`;
  const now = Date.parse('2026-12-01T08:00:00.000Z');
  const clock = () => new Date(now);
  let pair: Pair;
  let hooks: Server;
  const calls: string[] = [];
  let open: Services[] = [];

  /** A node's services over its data folder, built but not started (no loop runs). */
  async function build(dir: string, settings: Partial<Config> = {}): Promise<Services> {
    writeConfig(dir, { ...readConfig(dir), ...settings });
    const config = readConfig(dir);
    const services = await buildServices({
      config,
      keys: readNodeKeys(dir),
      card: readOwnCard(dir),
      store: await openNodeStore(dir, config),
      logger: pino({ level: 'silent' }),
      clock,
    });
    open.push(services);
    return services;
  }

  /** Washington releases a flash report; answers its envelope as stored for Beijing. */
  async function flashFromWashington(us: Services) {
    const { id } = await us.node.release(['cn'], flashReport());
    const row = await us.store.getOutbox('cn', id);
    return { id, envelope: row?.envelope };
  }

  beforeAll(async () => {
    hooks = createServer((request, response) => {
      calls.push(request.url ?? '/');
      request.resume();
      request.on('end', () => response.writeHead(204).end());
    });
    await new Promise<void>((resolve) => hooks.listen(0, '127.0.0.1', resolve));
    pair = await createPair({}, (party) =>
      backend === 'postgres'
        ? { store: { backend: 'postgres', url: TEST_POSTGRES, schema: schemaOf(party) } }
        : {},
    );
  }, 60_000);

  afterEach(async () => {
    for (const services of open) {
      await services.escalation.stop();
      await services.store.close();
    }
    open = [];
  });

  afterAll(async () => {
    await pair?.close();
    hooks.closeAllConnections();
    await new Promise<void>((resolve) => hooks.close(() => resolve()));
    if (backend === 'postgres') {
      await dropSchemas(...['us', 'cn'].map(schemaOf));
    }
  });

  test('a received flash is stored with its first notice in one durable commit', async () => {
    const us = await build(pair.us.dir);
    const hook = `http://127.0.0.1:${(hooks.address() as AddressInfo).port}/olga`;
    const cn = await build(pair.cn.dir, {
      notify: { webhook: { secret: SECRET, backoffBaseMs: 20, backoffMaxMs: 100 } },
    } as never);
    // Beijing's ops desk, the ladder's first: Olga is on duty, reached on the console and by webhook.
    const by = dataFolderActor();
    await cn.people.accounts.add(by, {
      name: 'olga',
      role: 'operator',
      password: 'olga-passphrase-1',
    });
    await cn.people.roster.putStaff(by, 'ops', 'olga', [
      { kind: 'console' },
      { kind: 'webhook', url: hook },
    ]);
    await cn.people.roster.addShift(by, {
      desk: 'ops',
      user: 'olga',
      startsAt: new Date(now - 3_600_000).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    });
    const feed = { escalation: [] as EscalationStep[], alarm: [] as AlarmRow[], due: 0 };
    cn.events.on('escalation', (e) => feed.escalation.push(e));
    cn.events.on('alarm', (a) => feed.alarm.push(a));
    cn.events.on('timers-due', () => feed.due++);

    const { id, envelope } = await flashFromWashington(us);
    const commits = cn.ledger.commits;
    const size = cn.ledger.size;
    const answer = await cn.node.receiveBatch([envelope]);

    // Stored and receipted in one durable commit, which carries the first step too.
    expect(answer.rejected).toEqual([]);
    expect(answer.receipts).toHaveLength(1);
    expect(cn.ledger.commits).toBe(commits + 1);
    const [step] = await cn.escalation.followups.escalations('us', id);
    expect(step).toMatchObject({ step: 0, desk: 'ops', user_name: 'olga' });
    const followup = await cn.escalation.followups.get('in', 'us', id);
    expect(followup).toMatchObject({ fired: 1, step: 0, step_fired: 1 });
    // The next notice is one escalation interval after the message arrived, not now.
    const { escalateMs } = cn.recorder.deadline('flash');
    expect(followup?.next_at).toBe(now + escalateMs);
    // The log: the envelope, the receipt, then the escalation event naming the desk.
    expect(cn.ledger.size).toBe(size + 3);
    expect(await cn.store.openAlarmsAbout(`us/${id}`)).toMatchObject([
      { type: 'escalation', category: 'waiting' },
    ]);
    // The console heard of it before the answer left, and nothing is left for the loop.
    expect(feed.escalation).toMatchObject([{ id, desk: 'ops', user: 'olga', step: 0 }]);
    expect(feed.alarm.map((a) => a.type)).toEqual(['escalation']);
    expect(feed.due).toBe(0);
    expect(await cn.escalation.runDue()).toBe(0);
    // Olga's webhook goes out once the commit is durable.
    await eventually(async () => (calls.includes('/olga') ? true : undefined));

    // A batch of three: one commit, and each message its own notice, alarm and event leaf.
    const batch = [];
    for (let i = 0; i < 3; i++) batch.push(await flashFromWashington(us));
    const before = { commits: cn.ledger.commits, size: cn.ledger.size };
    feed.escalation.length = 0;
    const answered = await cn.node.receiveBatch(batch.map((b) => b.envelope));
    expect(answered.receipts).toHaveLength(1);
    expect(cn.ledger.commits).toBe(before.commits + 1);
    expect(cn.ledger.size).toBe(before.size + 3 + 1 + 3);
    for (const b of batch) {
      expect(await cn.escalation.followups.escalations('us', b.id)).toMatchObject([
        { step: 0, desk: 'ops', user_name: 'olga' },
      ]);
      expect(await cn.escalation.followups.get('in', 'us', b.id)).toMatchObject({ fired: 1 });
      expect(await cn.store.openAlarmsAbout(`us/${b.id}`)).toHaveLength(1);
    }
    expect(feed.escalation.map((e) => e.id)).toEqual(batch.map((b) => b.id));
    expect(await cn.escalation.runDue()).toBe(0);
  });

  test('a first step that cannot be prepared in the commit is left to the loop', async () => {
    const us = await build(pair.us.dir);
    // The ladder starts at a desk that was never created: its roster cannot be read.
    const { incidents } = readConfig(pair.cn.dir);
    const shy = await build(pair.cn.dir, {
      incidents: { ...incidents, ladder: ['night-desk', 'ops'] },
    });
    let due = 0;
    shy.events.on('timers-due', () => due++);

    const { id, envelope } = await flashFromWashington(us);
    const commits = shy.ledger.commits;
    const answer = await shy.node.receiveBatch([envelope]);

    expect(answer.receipts).toHaveLength(1);
    expect(shy.ledger.commits).toBe(commits + 1);
    expect(await shy.escalation.followups.escalations('us', id)).toEqual([]);
    expect((await shy.escalation.followups.get('in', 'us', id))?.next_at).toBe(now);
    expect(due).toBe(1);
    // The loop fires it, says why nobody was reached, and raises the fault.
    expect(await shy.escalation.runDue()).toBe(1);
    const [step] = await shy.escalation.followups.escalations('us', id);
    expect(step).toMatchObject({ desk: 'night-desk', user_name: null });
    expect(step?.channels).toContainEqual(expect.objectContaining({ kind: 'roster', ok: false }));
    expect(await shy.store.openAlarmsOf('escalation-fault', null)).not.toEqual([]);
  });
});
