import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import type { DesksTable } from './schema.ts';
import { openSqliteStore } from './sqlite/index.ts';
import { columnsOf } from './store.ts';

const dir = mkdtempSync(join(tmpdir(), 'hotline-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `Store.rows` and `Store.write` run a Kysely query as a prepared statement on SQLite's hot path
 * (a unit of work's own transaction): what they read and write must be what Kysely would, and
 * belong to that transaction — kept with its commit, gone with its rollback.
 */
test('a Kysely query run prepared in a unit of work reads, writes and rolls back with it', async () => {
  const store = await openSqliteStore(join(dir, 'hotline.db'));
  try {
    const desk = (id: string) => ({ id, name: `desk ${id}`, created_at: '2026-12-06T00:00:00Z' });
    await store.transaction(async (tx) => {
      await store.write(tx.insertInto('desks').values([desk('a'), desk('b')]), tx);
      const inside = await store.rows(tx.selectFrom('desks').selectAll().orderBy('id'), tx);
      expect(inside).toEqual(await tx.selectFrom('desks').selectAll().orderBy('id').execute());
      expect(inside.map((d) => d.id)).toEqual(['a', 'b']);
      const returned = await store.rows(
        tx.insertInto('desks').values(desk('c')).returning(['id', 'name']),
        tx,
      );
      expect(returned).toEqual([{ id: 'c', name: 'desk c' }]);
    });
    await expect(
      store.transaction(async (tx) => {
        await store.write(tx.deleteFrom('desks').where('id', '=', 'a'), tx);
        await store.write(tx.insertInto('desks').values(desk('d')), tx);
        throw new Error('the unit of work fails');
      }),
    ).rejects.toThrow('the unit of work fails');
    // Outside a transaction, a read runs prepared too, and sees only what was committed.
    const after = await store.rows(
      store.db.selectFrom('desks').select('id').orderBy('id'),
      store.db,
      true,
    );
    expect(after.map((d) => d.id)).toEqual(['a', 'b', 'c']);
  } finally {
    await store.close();
  }
});

/**
 * `leafTexts` reads a receipt's leaves as one prepared statement on SQLite's hot path, whatever
 * their number: the texts must be the stored ones, by index, outside a unit of work and inside
 * one (which also sees its own uncommitted leaves), and an index not stored is left out.
 */
test('leaf texts are read by index, in and out of a unit of work', async () => {
  const store = await openSqliteStore(join(dir, 'leaves.db'));
  try {
    const leaves = Array.from({ length: 1200 }, (_, idx) => ({ idx, leaf: `{"leaf":${idx}}` }));
    await store.transaction(async (tx) => {
      for (let i = 0; i < leaves.length; i += 200)
        await tx
          .insertInto('ledger_leaves')
          .values(leaves.slice(i, i + 200))
          .execute();
    });
    const wanted = [1199, 0, 7, 600, 5000, 7];
    const expected = new Map([
      [1199, '{"leaf":1199}'],
      [0, '{"leaf":0}'],
      [7, '{"leaf":7}'],
      [600, '{"leaf":600}'],
    ]);
    expect(await store.leafTexts(wanted)).toEqual(expected);
    const all = await store.leafTexts(leaves.map((l) => l.idx));
    expect(all.size).toBe(1200);
    expect(all.get(777)).toBe('{"leaf":777}');
    expect(await store.leafTexts([])).toEqual(new Map());
    await store.transaction(async (tx) => {
      await tx.insertInto('ledger_leaves').values({ idx: 1200, leaf: '{"leaf":1200}' }).execute();
      expect(await store.leafTexts([1200, 3], tx)).toEqual(
        new Map([
          [1200, '{"leaf":1200}'],
          [3, '{"leaf":3}'],
        ]),
      );
    });
  } finally {
    await store.close();
  }
});

/**
 * `insertRows` writes kept SQL in statements of up to 256 rows: every row lands whatever the
 * count, with its `on conflict` clause, inside the caller's transaction; a row missing a column
 * is refused, not stored with the column's default.
 */
test('rows inserted as kept SQL all land, honour the conflict clause and the transaction', async () => {
  const store = await openSqliteStore(join(dir, 'insert-rows.db'));
  try {
    const columns = columnsOf<DesksTable>()(['id', 'name', 'created_at']);
    const desk = (i: number) => ({ id: `d${i}`, name: `desk ${i}`, created_at: '2026-12-07' });
    await store.transaction(async (tx) => {
      await store.insertRows(
        'desks',
        columns,
        Array.from({ length: 300 }, (_, i) => desk(i)),
        tx,
      );
      // 300 = 256 + 32 + 8 + 4: a row again is skipped by the clause, not an error.
      await store.insertRows(
        'desks',
        columns,
        [desk(7), desk(300)],
        tx,
        ' on conflict (id) do nothing',
      );
    });
    const rows = await store.db.selectFrom('desks').selectAll().orderBy('id').execute();
    expect(rows).toHaveLength(301);
    expect(rows.find((r) => r.id === 'd299')).toEqual(desk(299));
    await expect(
      store.transaction(async (tx) => {
        await store.insertRows('desks', columns, [desk(301)], tx);
        throw new Error('the unit of work fails');
      }),
    ).rejects.toThrow('the unit of work fails');
    const partial = { id: 'd302', name: 'no date' } as unknown as DesksTable;
    await expect(
      store.transaction((tx) => store.insertRows('desks', columns, [partial], tx)),
    ).rejects.toThrow();
    expect(await store.db.selectFrom('desks').select('id').execute()).toHaveLength(301);
  } finally {
    await store.close();
  }
});
