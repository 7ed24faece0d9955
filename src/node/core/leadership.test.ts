/**
 * Two replicas of one party over one PostgreSQL schema (127.0.0.1:5432; HOTLINE_TEST_POSTGRES
 * overrides), in this process: one lease, one ledger both append to, and the fencing rule.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { dropSchemas, TEST_POSTGRES } from '../../../test/support/postgres.ts';
import { eventLeaf } from '../../ledger/leaves.ts';
import { MemoryHashStore, treeHashSync } from '../../ledger/merkle.ts';
import { ed25519NoteSigner } from '../../ledger/note.ts';
import { utf8 } from '../../protocol/encoding.ts';
import { openPostgresStore } from '../../store/postgres/index.ts';
import { PostgresLeases } from '../../store/postgres/leases.ts';
import type { Store } from '../../store/store.ts';
import { Ledger } from '../record/ledger.ts';
import { FencedError, Leadership, type Loops } from './leadership.ts';
import { Metrics } from './metrics.ts';

const signer = () => ed25519NoteSigner('hotline/test/log', new Uint8Array(32).fill(7));

interface Replica {
  id: string;
  store: Store;
  metrics: Metrics;
  leadership: Leadership;
  ledger: Ledger;
  /** Terms this replica started and stopped its loops for. */
  starts: number;
  stops: number;
  /** Resolves the work the replica's last term left waiting (a paused leader's late write). */
  resume: () => void;
  late: Promise<unknown>;
}

let schema: string;
const replicas: Replica[] = [];

async function replica(id: string): Promise<Replica> {
  const store = await openPostgresStore({ url: TEST_POSTGRES, schema, idleInTransactionMs: 2000 });
  const metrics = new Metrics('us', false);
  const leadership = new Leadership({
    leases: new PostgresLeases({ url: TEST_POSTGRES, schema }),
    id,
    leaseMs: 1000,
    renewMs: 200,
    logger: pino({ level: 'silent' }),
    metrics,
  });
  const ledger = await Ledger.open(store, signer(), leadership.guard);
  const r: Replica = {
    id,
    store,
    metrics,
    leadership,
    ledger,
    starts: 0,
    stops: 0,
    resume: () => {},
    late: Promise.resolve(),
  };
  const loops: Loops = {
    start() {
      r.starts++;
      // Work of this term that waits (as a leader's loop would, across a pause) and then
      // appends and signs a checkpoint: it carries the term's fencing token.
      const gate = new Promise<void>((resolve) => {
        r.resume = resolve;
      });
      r.late = (async () => {
        await gate;
        return ledger.commit(async (_tx, log) => {
          await log.append([eventLeaf('late', new Date().toISOString(), { by: id })]);
          return log.checkpoint();
        });
      })();
      r.late.catch(() => {});
    },
    async stop() {
      r.stops++;
    },
  };
  leadership.start(loops);
  replicas.push(r);
  return r;
}

async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>) {
  for (let i = 0; i < 400; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

beforeEach(() => {
  schema = `hotline_lease_${randomBytes(4).toString('hex')}`;
});

afterEach(async () => {
  for (const r of replicas.splice(0)) {
    await r.leadership.stop();
    await r.store.close();
  }
  await dropSchemas(schema);
});

describe('replicas over one PostgreSQL', () => {
  test('one leads; when its lease is taken, its late write is refused by the database', async () => {
    const a = await replica('a');
    await until('a to lead', () => a.leadership.token);
    const b = await replica('b');
    // b looks several times while a renews: it stays a follower.
    await new Promise((r) => setTimeout(r, 600));
    expect(b.leadership.token).toBeUndefined();
    expect(a.starts).toBe(1);

    // a is "paused": its lease is cut short as a missed renewal would end it, and b acquires.
    const client = new pg.Client({ connectionString: TEST_POSTGRES });
    await client.connect();
    await client.query(`update ${schema}.leases set expires_at = 0`);
    await client.end();
    const token = await until('b to lead', () => b.leadership.token);
    expect(token).toBe(2);
    await until('a to follow', () => (a.stops === 1 ? true : undefined));

    // a's work of its ended term now tries to append and sign: refused, nothing kept.
    const before = await a.store.ledgerSize();
    a.resume();
    await expect(a.late).rejects.toBeInstanceOf(FencedError);
    expect(await a.store.ledgerSize()).toBe(before);
    expect(await a.store.latestCheckpoint()).toBeUndefined();
    const fenced = await a.metrics.registry.getSingleMetricAsString('hotline_fenced_writes_total');
    expect(fenced).toMatch(/what="commit"[^\n]* 1/);

    // b's work of its own term is kept, and a, a follower, still writes what a request asks.
    b.resume();
    const signed = (await b.late) as { size: number };
    expect(signed.size).toBe(before + 1);
    await a.ledger.commit((_tx, log) =>
      log.append([eventLeaf('request', new Date().toISOString(), {})]),
    );
    expect(await a.store.ledgerSize()).toBe(before + 2);
  });

  test('two replicas appending at once never take the same index', async () => {
    const a = await replica('a');
    const b = await replica('b');
    const append = (r: Replica, i: number) =>
      r.ledger.commit((_tx, log) =>
        log.append([eventLeaf('n', '2026-12-06T00:00:00.000Z', { by: r.id, i })]),
      );
    const indexes = await Promise.all(
      Array.from({ length: 40 }, (_, i) => append(i % 2 ? a : b, i)),
    );
    expect(new Set(indexes).size).toBe(40);
    expect(await a.store.ledgerSize()).toBe(40);
    // The checkpoint either signs is the tree of the 40 stored leaves, in their stored order.
    const leaves = await a.store.readLeaves(0, 40);
    const { checkpoint } = await b.ledger.commit((_tx, log) => log.checkpoint());
    expect(checkpoint.size).toBe(40);
    const reference = new MemoryHashStore();
    for (const leaf of leaves) reference.append(utf8(leaf));
    expect(checkpoint.root).toEqual(treeHashSync(40, reference));
  });
});
