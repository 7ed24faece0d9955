/**
 * Store figures (issue 19): the SQLite hot path against the same statements through Kysely, and
 * the sender's receipt record group-committed against a durable commit — each pair measured
 * interleaved in one run on one file, so the machine's load weighs on both alike and the ratio
 * holds when the absolute figures do not.
 *
 * `npm run bench -- store`, or alone: node --import tsx bench/store.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { Database as Schema } from '../src/store/schema.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import { Store } from '../src/store/store.ts';

const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS ?? 2000);
const COMMITS = Number(process.env.BENCH_STORE_COMMITS ?? 300);

function p50(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

/** Runs `a` and `b` alternately `rounds` times; the p50 of each, in ms. */
async function interleaved(
  rounds: number,
  a: () => Promise<unknown>,
  b: () => Promise<unknown>,
): Promise<[number, number]> {
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < rounds; i++)
    for (const [k, f] of [a, b].entries()) {
      const t = performance.now();
      await f();
      if (i >= rounds / 10) times[k as 0 | 1].push(performance.now() - t);
    }
  return [p50(times[0]), p50(times[1])];
}

class Rollback extends Error {}

export interface StoreFigures {
  /** One flash's delivery read (dueOutbox, one row due), µs p50. */
  dueOutbox: { kysely: number; prepared: number };
  /** The statements of a one-message receipt record and release in one transaction, rolled back. */
  unit: { kysely: number; prepared: number };
  /** The sender's receipt record committed, ms p50. */
  receiptRecord: { durable: number; groupCommitted: number };
}

export async function benchStore(): Promise<StoreFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-bench-store-'));
  const path = join(dir, 'store.db');
  const prepared = await openSqliteStore(path);
  const raw = new Database(path);
  raw.pragma('synchronous = FULL');
  raw.pragma('busy_timeout = 5000');
  const kysely = new Store(
    new Kysely<Schema>({ dialect: new SqliteDialect({ database: raw }) }),
    'sqlite',
  );
  try {
    const envelope = JSON.stringify({ header: { id: 'x' }, sig: 's', sealed: 'y'.repeat(900) });
    const insert = raw.prepare(
      `insert into outbox (party, id, seq, rank, header_hash, envelope, body, created_at, status,
         attempts, next_attempt_at, leaf_index) values (?, ?, ?, ?, ?, ?, '{}', ?, ?, 0, 0, ?)`,
    );
    // One flash due among a backlog already receipted, as a quiet node's outbox holds.
    for (let i = 1; i <= 5000; i++)
      insert.run('cn', `m${i}`, i, 2, 'h', envelope, '2026-12-06T00:00:00Z', 'receipted', i);
    insert.run('cn', 'flash', 5001, 0, 'h', envelope, '2026-12-06T00:00:00Z', 'pending', 5001);
    const receipt = { receipt: { entries: [{ id: 'flash' }], checkpoint: 'c'.repeat(300) } };
    const entries = [{ id: 'flash', receivedAt: '2026-12-06T00:00:01Z', index: 7 }];

    const [dueK, dueP] = await interleaved(
      ROUNDS,
      () => kysely.dueOutbox('cn', [0, 1], Date.now(), 256),
      () => prepared.dueOutbox('cn', [0, 1], Date.now(), 256),
    );
    const unit = (store: Store) => () =>
      store
        .transaction(async (tx) => {
          const seq = await store.lastSeq('cn', tx);
          await store.setLastSeq('cn', seq + 1, tx);
          await store.markReceipted('cn', entries, tx);
          await store.addReceipt('in', 'cn', receipt as never, tx);
          await store.setMeta('ledger_size', String(seq), tx);
          throw new Rollback();
        })
        .catch((e) => {
          if (!(e instanceof Rollback)) throw e;
        });
    const [unitK, unitP] = await interleaved(ROUNDS, unit(kysely), unit(prepared));
    const record = (durable: boolean) => () =>
      prepared.transaction(
        async (tx) => {
          await prepared.markReceipted('cn', entries, tx);
          await prepared.addReceipt('in', 'cn', receipt as never, tx);
        },
        { durable },
      );
    const [durable, groupCommitted] = await interleaved(COMMITS, record(true), record(false));
    const figures: StoreFigures = {
      dueOutbox: { kysely: dueK * 1000, prepared: dueP * 1000 },
      unit: { kysely: unitK * 1000, prepared: unitP * 1000 },
      receiptRecord: { durable, groupCommitted },
    };
    print(figures);
    return figures;
  } finally {
    await kysely.close();
    await prepared.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function print(f: StoreFigures): void {
  const us = (x: number) => `${x.toFixed(1)} µs`;
  const ratio = (a: number, b: number) => `× ${(b / a).toFixed(2)}`;
  console.log('\n## Store (SQLite, interleaved A/B in one run)');
  console.log(
    'dueOutbox, one flash due (p50): Kysely',
    us(f.dueOutbox.kysely),
    '/ prepared',
    us(f.dueOutbox.prepared),
    ratio(f.dueOutbox.kysely, f.dueOutbox.prepared),
  );
  console.log(
    'release + receipt statements, 5 in one transaction (p50): Kysely',
    us(f.unit.kysely),
    '/ prepared',
    us(f.unit.prepared),
    ratio(f.unit.kysely, f.unit.prepared),
  );
  console.log(
    'receipt record commit (p50): durable',
    `${f.receiptRecord.durable.toFixed(2)} ms`,
    '/ group-committed',
    `${f.receiptRecord.groupCommitted.toFixed(2)} ms`,
    ratio(f.receiptRecord.durable, f.receiptRecord.groupCommitted),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) await benchStore();
