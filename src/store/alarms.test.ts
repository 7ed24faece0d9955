import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery } from 'kysely';
import { afterAll, expect, test } from 'vitest';
import { openSqliteStore } from './sqlite/index.ts';
import { OPEN_ALARM } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'hotline-alarms-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * A desk's escalation alarms pile up while messages wait to be acknowledged: raising the next
 * one, and finding those about one message, must not read them all (each received message cost
 * a scan of every open alarm of its type, so a receiver slowed as they grew).
 */
test('an alarm is raised once per cause, and found by message, among thousands open, by index', async () => {
  const store = await openSqliteStore(join(dir, 'hotline.db'));
  try {
    await store.transaction(async (tx) => {
      for (let i = 0; i < 3000; i++)
        await store.raiseAlarm('escalation', 'cn', `cn/${i} waits`, tx, { ref: `cn/${i}` });
    });
    // Raised again — in a unit of work (the hot path) or not — the open alarm of that cause
    // counts it; another cause is another alarm; a null party or cause is matched as such.
    await store.transaction((tx) =>
      store.raiseAlarm('escalation', 'cn', 'again', tx, { ref: 'cn/7' }),
    );
    for (const tx of [undefined, 'unit'] as const) {
      const raise = (party: string | null, cause?: string) =>
        tx
          ? store.transaction((t) => store.raiseAlarm('store', party, 'disk', t, { cause }))
          : store.raiseAlarm('store', party, 'disk', undefined, { cause });
      expect((await raise(null)).count).toBe(tx ? 2 : 1);
      expect((await raise(null, 'full')).count).toBe(tx ? 2 : 1);
      expect((await raise('cn')).count).toBe(tx ? 2 : 1);
    }
    expect(
      (await store.raiseAlarm('escalation', 'cn', 'again', undefined, { ref: 'cn/7' })).count,
    ).toBe(3);
    expect(await store.openAlarmsAbout('cn/7')).toHaveLength(1);

    const plan = async (query: CompiledQuery) => {
      const { rows } = await store.db.executeQuery<{ detail: string }>(
        CompiledQuery.raw(`explain query plan ${query.sql}`, [...query.parameters]),
      );
      return rows.map((r) => r.detail).join('; ');
    };
    const open = store.db
      .selectFrom('alarms')
      .selectAll()
      .where('type', '=', 'escalation')
      .where('party', '=', 'cn')
      .where('cause', '=', 'cn/7')
      .where('cleared_at', 'is', null)
      .orderBy('id')
      .limit(1)
      .compile();
    const byIndex =
      /USING INDEX alarms_open \(type=\? AND party=\? AND cleared_at=\? AND cause=\?\)/;
    expect(await plan(open)).toMatch(byIndex);
    // The same look-up as the SQLite hot path runs it, inside a unit of work.
    expect(await plan(CompiledQuery.raw(OPEN_ALARM, ['escalation', 'cn', 'cn/7']))).toMatch(
      byIndex,
    );
    const about = store.db
      .selectFrom('alarms')
      .selectAll()
      .where('ref', '=', 'cn/7')
      .where('cleared_at', 'is', null)
      .compile();
    expect(await plan(about)).toMatch(/USING INDEX alarms_ref \(ref=\? AND cleared_at=\?\)/);
  } finally {
    await store.close();
  }
});
