import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { BACKENDS, openSite, type Site } from '../../../test/support/site.ts';
import { PeopleStore } from '../../store/people.ts';
import { openNodeStore } from '../core/data.ts';
import { DEFAULT_PEOPLE_SETTINGS, dataFolderActor, openPeople } from './people.ts';
import { AuditTrail } from './trail.ts';

const by = dataFolderActor();

describe.each(BACKENDS)('the audit trail on %s', (backend) => {
  let site: Site;
  beforeEach(async () => {
    site = await openSite({ backend });
    // init's entries (the first admin, its desk and token) were written without the node.
    await site.trail.anchor();
  });
  afterEach(async () => {
    await site.close();
  });

  test('anchors each entry in an event leaf of the ledger that holds only its hash', async () => {
    const before = site.ledger.size;
    await site.trail.record({ ...by, action: 'config.change', detail: { setting: 'heartbeatMs' } });
    expect(site.ledger.size).toBe(before + 1);
    const [leaf] = await site.store.readLeaves(before, 1);
    const parsed = JSON.parse(leaf as string);
    expect(parsed).toMatchObject({
      leaf: 'event',
      type: 'audit',
      detail: { hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(leaf).not.toContain('heartbeatMs');
    expect(leaf).not.toContain('os:');
    const [entry] = await site.trail.list({ limit: 1 });
    expect(entry).toMatchObject({
      action: 'config.change',
      leafIndex: before,
      id: parsed.detail.entry,
    });
    expect(await site.trail.verify()).toMatchObject({ ok: true, pending: 0, problems: [] });
  });

  test('an entry written by another process is anchored by the node later', async () => {
    const other = new AuditTrail(site.store, new PeopleStore(site.store));
    await other.record({ ...by, action: 'export', detail: { file: 'us.ledger.jsonl' } });
    expect(await site.trail.verify()).toMatchObject({ ok: true, pending: 1 });
    expect(await site.trail.anchor()).toBe(1);
    expect(await site.trail.verify()).toMatchObject({ ok: true, pending: 0 });
  });

  test('an entry altered afterwards no longer matches its anchor', async () => {
    await site.trail.record({ ...by, action: 'user.add', target: 'mallory' });
    const [entry] = await site.trail.list({ limit: 1 });
    await sql`update audit set actor = 'someone-else' where id = ${entry?.id}`.execute(
      site.store.db,
    );
    const report = await site.trail.verify();
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      { entry: entry?.id, problem: expect.stringContaining('altered after it was anchored') },
    ]);
  });

  test('a deleted entry is missed, in the middle or at the end', async () => {
    for (const action of ['login', 'message.view', 'export'] as const)
      await site.trail.record({ ...by, action });
    const entries = await site.trail.list({ limit: 3 });
    const [last, middle] = entries as unknown as [{ id: number }, { id: number }];
    await sql`delete from audit where id in (${middle.id}, ${last.id})`.execute(site.store.db);
    const report = await site.trail.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.entry)).toEqual([middle.id, last.id]);
    expect(report.problems[1]?.problem).toMatch(/anchors entry \d+, which is not in the trail/);
  });

  test('a rewritten entry and leaf together no longer match the signed tree', async () => {
    await site.trail.record({ ...by, action: 'user.disable', target: 'alice' });
    const [entry] = await site.trail.list({ limit: 1 });
    const id = entry?.id as number;
    await sql`update audit set target = 'bob' where id = ${id}`.execute(site.store.db);
    const [row] = await site.people.auditPage(id - 1, 1);
    const { entryHash } = await import('./trail.ts');
    const forged = JSON.stringify({
      at: row?.at,
      detail: { entry: id, hash: entryHash(row as never) },
      leaf: 'event',
      type: 'audit',
    });
    await sql`update ledger_leaves set leaf = ${forged} where idx = ${entry?.leafIndex}`.execute(
      site.store.db,
    );
    const report = await site.trail.verify();
    expect(report.problems).toEqual([
      { entry: id, problem: expect.stringContaining('no longer matches the signed tree') },
    ]);
  });

  test('a data-folder process without the node writes entries but never touches the ledger', async () => {
    const size = site.ledger.size;
    const offline = openPeople(site.store, { ...DEFAULT_PEOPLE_SETTINGS, access: site.policy });
    await offline.accounts.add(by, {
      name: 'carol',
      role: 'officer',
      password: 'carol-passphrase',
    });
    expect(await site.store.ledgerSize()).toBe(size);
    expect((await offline.trail.verify()).pending).toBe(1);
  });
});

// PostgreSQL only: SQLite lets one writer in at a time (a second process waits its turn), and two
// SQLite connections in one process would block each other's event loop instead.
describe('the audit trail on postgres, written from two connections', () => {
  let site: Site;
  beforeEach(async () => {
    site = await openSite({ backend: 'postgres' });
    await site.trail.anchor();
  });
  afterEach(async () => {
    await site.close();
  });

  test('two writers on their own connections, at once, each get their entries, numbered without a gap', async () => {
    const second = await openNodeStore(site.dir);
    try {
      const other = new AuditTrail(second, new PeopleStore(second));
      const before = (await site.trail.verify()).entries;
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 ? other : site.trail).record({ ...by, action: 'export', detail: { i } }),
        ),
      );
      const report = await site.trail.verify();
      expect(report).toMatchObject({ ok: true, entries: before + 20 });
    } finally {
      await second.close();
    }
  });
});
