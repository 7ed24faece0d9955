import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ed25519FromSeed } from '../../crypto/ed25519.ts';
import { openCheckpoint } from '../../ledger/checkpoint.ts';
import {
  checkRecord,
  checkTree,
  MemoryHashStore,
  proveRecordSync,
  storedHashCount,
  storedHashIndex,
  treeHashSync,
} from '../../ledger/merkle.ts';
import { ed25519NoteSigner, ed25519NoteVerifier } from '../../ledger/note.ts';
import { fromHex, toHex, utf8 } from '../../protocol/encoding.ts';
import { jcs } from '../../protocol/jcs.ts';
import type { Leaf } from '../../protocol/leaf.ts';
import { type Dialect, migrationProvider } from '../../store/migrations.ts';
import { openSqliteStore } from '../../store/sqlite/index.ts';
import { Ledger } from './ledger.ts';

/**
 * The node's log in SQLite: what it stores is the RFC 9162 tree of its leaves, batch after batch
 * and across restarts, and a database written before stored hashes were paged is converted.
 */
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hotline-log-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const seed = new Uint8Array(32).fill(7);
const signer = () => ed25519NoteSigner('hotline/test/log', seed);
const verifier = ed25519NoteVerifier('hotline/test/log', ed25519FromSeed(seed).publicKey);

function event(i: number): Leaf {
  return { leaf: 'event', type: 'test', at: '2026-11-27T00:00:00.000Z', detail: { i } };
}

async function appendBatch(log: Ledger, from: number, count: number) {
  const leaves = Array.from({ length: count }, (_, k) => event(from + k));
  await log.commit((_tx, ledger) => ledger.append(leaves));
}

describe('the node log in SQLite', () => {
  test('batches of every size, across restarts, store the tree of the leaves: same roots and proofs as in memory', async () => {
    const reference = new MemoryHashStore();
    const path = join(dir, 'node.db');
    // Sizes that cross page boundaries (64 hashes a page) at odd places, and a restart between each.
    const batches = [1, 1, 3, 64, 31, 200, 1, 130, 7];
    let size = 0;
    for (const count of batches) {
      const store = await openSqliteStore(path);
      const log = await Ledger.open(store, signer());
      expect(log.size).toBe(size);
      await appendBatch(log, size, count);
      for (let k = 0; k < count; k++) reference.append(utf8(jcs(event(size + k))));
      size += count;

      // The signed checkpoint has the reference root.
      const { note } = await log.commit((_tx, ledger) => ledger.checkpoint());
      const { checkpoint } = openCheckpoint(utf8(note), verifier.name, verifier);
      expect(checkpoint.size).toBe(size);
      expect(toHex(checkpoint.root)).toBe(toHex(treeHashSync(size, reference)));
      // Every stored hash, read back through its page, is the reference's.
      const all = Array.from({ length: storedHashCount(size) }, (_, i) => i);
      expect((await store.readHashes(all)).map(toHex)).toEqual(
        reference.readHashes(all).map(toHex),
      );
      // Proofs from the store are the reference's, and verify.
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        const proof = await log.commit((_tx, ledger) => ledger.prove(index, size));
        expect(proof).toEqual(proveRecordSync(size, index, reference).map(toHex));
        const leaf = reference.readHashes([storedHashIndex(0, index)])[0] as Uint8Array;
        expect(checkRecord(proof.map(fromHex), size, checkpoint.root, index, leaf)).toBe(true);
      }
      const consistency = await log.proveConsistency(1, size);
      expect(
        checkTree(consistency.map(fromHex), size, checkpoint.root, 1, treeHashSync(1, reference)),
      ).toBe(true);
      await store.close();
    }
  });

  test('a database from before paged hashes (0006-ledger) is converted: the same tree, and it grows on', async () => {
    const path = join(dir, 'old.db');
    const reference = new MemoryHashStore();
    const size = 300;
    for (let i = 0; i < size; i++) reference.append(utf8(jcs(event(i))));

    // The schema as it was before 0006-ledger, filled the way the old log filled it.
    const sqlite = new Database(path);
    const db = new Kysely<OldSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
    const before = migrationsBefore('0006-ledger', 'sqlite');
    const { error } = await new Migrator({ db, provider: before }).migrateToLatest();
    expect(error).toBeUndefined();
    const count = storedHashCount(size);
    const hashes = reference.readHashes(Array.from({ length: count }, (_, i) => i));
    for (let i = 0; i < count; i += 200)
      await db
        .insertInto('ledger_hashes')
        .values(hashes.slice(i, i + 200).map((hash, k) => ({ idx: i + k, hash })))
        .execute();
    for (let i = 0; i < size; i += 200)
      await db
        .insertInto('ledger_leaves')
        .values(
          Array.from({ length: Math.min(200, size - i) }, (_, k) => ({
            idx: i + k,
            leaf: jcs(event(i + k)),
          })),
        )
        .execute();
    await db
      .insertInto('meta')
      .values({ key: 'ledger_size', value: String(size) })
      .execute();
    await db.destroy();

    const store = await openSqliteStore(path);
    expect(await store.hasTable('ledger_hashes')).toBe(false);
    const log = await Ledger.open(store, signer());
    expect(log.size).toBe(size);
    const all = Array.from({ length: count }, (_, i) => i);
    expect((await store.readHashes(all)).map(toHex)).toEqual(hashes.map(toHex));

    // It grows on from where it was, and proves itself consistent with what it was.
    await appendBatch(log, size, 45);
    for (let k = 0; k < 45; k++) reference.append(utf8(jcs(event(size + k))));
    const { note } = await log.commit((_tx, ledger) => ledger.checkpoint());
    const { checkpoint } = openCheckpoint(utf8(note), verifier.name, verifier);
    expect(toHex(checkpoint.root)).toBe(toHex(treeHashSync(size + 45, reference)));
    const proof = (await log.proveConsistency(size, size + 45)).map(fromHex);
    expect(checkTree(proof, size + 45, checkpoint.root, size, treeHashSync(size, reference))).toBe(
      true,
    );
    await store.close();
  });

  test('a group-committed unit joins the tree without an fsync of its own; every other commit keeps synchronous = FULL', async () => {
    const store = await openSqliteStore(join(dir, 'lazy.db'));
    const log = await Ledger.open(store, signer());
    const synchronous = async () =>
      (await sql<{ synchronous: number }>`pragma synchronous`.execute(store.db)).rows[0]
        ?.synchronous;
    const FULL = 2;

    // Its leaves join the tree; it is not counted as a durable commit.
    await log.commit((_tx, ledger) => ledger.append([event(0), event(1)]), { durable: false });
    expect(log.size).toBe(2);
    expect(log.commits).toBe(0);
    expect(await synchronous()).toBe(FULL);

    // A statement that arrives while it runs waits for it, and runs with FULL again.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let entered = () => {};
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const order: string[] = [];
    const lazy = log
      .commit(
        async (_tx, ledger) => {
          entered();
          await held;
          return ledger.append([event(2)]);
        },
        { durable: false },
      )
      .then(() => order.push('lazy'));
    await inside;
    const meanwhile = synchronous().then((level) => order.push(`read ${level}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    await Promise.all([lazy, meanwhile]);
    expect(order).toEqual(['lazy', `read ${FULL}`]);

    // A unit that fails keeps nothing and leaves FULL; a checkpoint is refused in one.
    await expect(
      log.commit(
        async (_tx, ledger) => {
          await ledger.append([event(3)]);
          throw new Error('no');
        },
        { durable: false },
      ),
    ).rejects.toThrow('no');
    await expect(
      log.commit((_tx, ledger) => ledger.checkpoint(), { durable: false }),
    ).rejects.toThrow('only in a durable commit');
    expect(log.size).toBe(3);
    expect(await synchronous()).toBe(FULL);

    // sync makes them durable with one write, and writes nothing when nothing waits.
    await store.sync();
    const synced = await store.getMeta('synced_at');
    expect(synced).toBeDefined();
    await store.sync();
    expect(await store.getMeta('synced_at')).toBe(synced);
    await store.close();

    // Reopened, the tree is the three leaves.
    const again = await openSqliteStore(join(dir, 'lazy.db'));
    const reopened = await Ledger.open(again, signer());
    const reference = new MemoryHashStore();
    for (let i = 0; i < 3; i++) reference.append(utf8(jcs(event(i))));
    const { note } = await reopened.commit((_tx, ledger) => ledger.checkpoint());
    const { checkpoint } = openCheckpoint(utf8(note), verifier.name, verifier);
    expect(toHex(checkpoint.root)).toBe(toHex(treeHashSync(3, reference)));
    await again.close();
  });

  test('a database with a stored hash missing is refused by the conversion, not repacked with a hole', async () => {
    const path = join(dir, 'damaged.db');
    const sqlite = new Database(path);
    const db = new Kysely<OldSchema>({ dialect: new SqliteDialect({ database: sqlite }) });
    await new Migrator({
      db,
      provider: migrationsBefore('0006-ledger', 'sqlite'),
    }).migrateToLatest();
    const hash = new Uint8Array(32);
    await db
      .insertInto('ledger_hashes')
      .values([
        { idx: 0, hash },
        { idx: 2, hash },
      ])
      .execute();
    await db.destroy();
    await expect(openSqliteStore(path)).rejects.toThrow('ledger hash 1 is missing');
  });
});

interface OldSchema {
  meta: { key: string; value: string };
  ledger_leaves: { idx: number; leaf: string };
  ledger_hashes: { idx: number; hash: Uint8Array };
}

/** The migrations named before `name`: a database as an older release left it. */
function migrationsBefore(name: string, dialect: Dialect) {
  return {
    async getMigrations() {
      const all = await migrationProvider(dialect).getMigrations();
      return Object.fromEntries(Object.entries(all).filter(([key]) => key < name));
    },
  };
}
