/**
 * Incident figures (issue 6): receipt → first notifier fired, and the cost of 10,000 pending
 * escalation timers.
 *
 * 1. Two in-process nodes on loopback (test/support/pair.ts). Washington sends flash reports one
 *    at a time; for each, from the moment Beijing has stored and receipted it (its `received`
 *    event) to (a) the console notice (its `escalation` event: the alarm is committed and the live
 *    feed told) and (b) the signed webhook POST arriving at a local HTTP server — beside a floor
 *    measured in the same run: a bare loopback HTTP POST round trip to the same kind of server.
 * 2. 10,000 pending timers in a fresh SQLite store (and a PostgreSQL schema, when reachable): time to schedule them (one transaction), the
 *    heap and file growth, and the time to find the next due (`nextDue`) and to take a batch of
 *    200 due ones (`due`) — what the escalation loop does on each look.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { v7 as uuidv7 } from 'uuid';
import type { RunningNode } from '../src/app/start.ts';
import { dataFolderActor } from '../src/node/people/people.ts';
import { type FollowupRow, FollowupStore, newFollowup } from '../src/store/followups.ts';
import { openPostgresStore } from '../src/store/postgres/index.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import { createPair, draft } from '../test/support/pair.ts';
import { TEST_POSTGRES } from '../test/support/postgres.ts';
import type { BenchOptions } from './run.ts';

const MESSAGES = Number(process.env.BENCH_INCIDENTS ?? 200);
const WARM_UP = 20;
const TIMERS = 10_000;

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const round = (ms: number) => Math.round(ms * 1000) / 1000;
function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  return {
    n: s.length,
    p50: round(percentile(s, 50)),
    p90: round(percentile(s, 90)),
    max: round(s.at(-1) ?? 0),
  };
}

/** A local webhook receiver: resolves the waiter of each path as its POST arrives. */
async function hookServer() {
  const waiters = new Map<string, (at: number) => void>();
  /** Arrivals that came before their waiter was set. */
  const arrived = new Map<string, number>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const at = performance.now();
      response.writeHead(204).end();
      const id = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { id?: string }).id ?? '';
      const waiter = waiters.get(id);
      if (waiter) waiter(at);
      else arrived.set(id, at);
      waiters.delete(id);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, url, waiters, arrived };
}

/** A bare loopback POST round trip of a ~300-byte JSON body to a node:http server. */
async function floor(url: string): Promise<number[]> {
  const body = JSON.stringify({ id: 'floor', data: 'x'.repeat(300) });
  const samples: number[] = [];
  for (let i = 0; i < 600; i++) {
    const t = performance.now();
    const r = await fetch(`${url}/floor`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    await r.body?.cancel();
    if (i >= 100) samples.push(performance.now() - t);
  }
  return samples;
}

async function receiptToNotifier() {
  const hooks = await hookServer();
  const pair = await createPair({
    notify: { webhook: { secret: 'bench-secret-0123456789abcdef' } },
    logLevel: 'warn',
  } as never);
  try {
    const us = await pair.start(pair.us);
    const cn: RunningNode = await pair.start(pair.cn);
    const { roster } = cn.people;
    const by = dataFolderActor();
    await roster.putStaff(by, 'ops', 'admin', [
      { kind: 'console' },
      { kind: 'webhook', url: `${hooks.url}/ops` },
    ]);
    const now = Date.now();
    await roster.addShift(by, {
      desk: 'ops',
      user: 'admin',
      startsAt: new Date(now - 3_600_000).toISOString(),
      endsAt: new Date(now + 24 * 3_600_000).toISOString(),
    });
    const received = new Map<string, number>();
    const consoleAt = new Map<string, number>();
    cn.events.on('received', (_party, ids) => {
      const at = performance.now();
      for (const id of ids) received.set(id, at);
    });
    cn.events.on('escalation', (e) => {
      if (!consoleAt.has(e.id)) consoleAt.set(e.id, performance.now());
    });
    const toConsole: number[] = [];
    const toWebhook: number[] = [];
    for (let i = 0; i < MESSAGES + WARM_UP; i++) {
      const incident = uuidv7();
      let hooked: (at: number) => void = () => {};
      const webhook = new Promise<number>((resolve) => {
        hooked = resolve;
      });
      const released = us.node.release(
        ['cn'],
        draft({
          type: 'incident.report',
          incident,
          precedence: 'flash',
          status: 'exercise',
          text: { lang: 'en', body: `bench ${i}` },
          report: {
            nature: 'hazard',
            category: 'category.other',
            actionsTaken: [],
            actionsRequested: [],
          },
        }),
      );
      const { id } = await released;
      const early = hooks.arrived.get(id);
      if (early === undefined) hooks.waiters.set(id, hooked);
      else hooked(early);
      const hookAt = await webhook;
      const start = received.get(id) as number;
      if (i >= WARM_UP) {
        toConsole.push((consoleAt.get(id) as number) - start);
        toWebhook.push(hookAt - start);
      }
    }
    const bare = await floor(hooks.url);
    return {
      messages: MESSAGES,
      receiptToConsoleMs: summary(toConsole),
      receiptToWebhookMs: summary(toWebhook),
      floorLoopbackPostMs: summary(bare),
    };
  } finally {
    await pair.close();
    hooks.server.closeAllConnections();
    await new Promise<void>((resolve) => hooks.server.close(() => resolve()));
  }
}

async function pendingTimers(backend: 'sqlite' | 'postgres') {
  const dir = mkdtempSync(join(tmpdir(), 'hotline-bench-timers-'));
  const file = join(dir, 'timers.db');
  const schema = `hotline_bench_timers_${process.pid}`;
  const store =
    backend === 'sqlite'
      ? await openSqliteStore(file)
      : await openPostgresStore({ url: TEST_POSTGRES, schema });
  try {
    const followups = new FollowupStore(store);
    const base = Date.now();
    const rows: FollowupRow[] = Array.from({ length: TIMERS }, (_, i) =>
      newFollowup({
        dir: 'in',
        party: 'us',
        id: uuidv7(),
        incident: null,
        type: 'incident.report',
        precedence: 'flash',
        status: 'exercise',
        desk: 'ops',
        started_at: new Date(base).toISOString(),
        deadline_at: new Date(base + 300_000).toISOString(),
        // Spread over the next day, in random order.
        next_at: base + Math.floor(Math.random() * 86_400_000) + (i % 2),
      }),
    );
    const sizeBefore = backend === 'sqlite' ? statSync(file).size : 0;
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const t = performance.now();
    await store.transaction((tx) => followups.add(rows, tx));
    const scheduleMs = performance.now() - t;
    const heapAfter = process.memoryUsage().heapUsed;
    const next: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const s = performance.now();
      await followups.nextDue();
      next.push(performance.now() - s);
    }
    const batch: number[] = [];
    for (let i = 0; i < 200; i++) {
      const s = performance.now();
      await followups.due(base + 3_600_000, 200);
      batch.push(performance.now() - s);
    }
    const pending = await followups.countPending();
    return {
      backend,
      timers: pending,
      scheduleAllMs: round(scheduleMs),
      scheduleEachUs: round((scheduleMs * 1000) / TIMERS),
      heapGrowthMiB: round((heapAfter - heapBefore) / 2 ** 20),
      heapNote: globalThis.gc ? 'after gc' : 'without --expose-gc: includes garbage',
      storeGrowthMiB:
        backend === 'sqlite'
          ? round((statSync(file).size + walSize(file) - sizeBefore) / 2 ** 20)
          : null,
      nextDueMs: summary(next),
      dueBatch200Ms: summary(batch),
    };
  } finally {
    if (backend === 'postgres')
      await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.db);
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function walSize(file: string): number {
  try {
    return statSync(`${file}-wal`).size;
  } catch {
    return 0;
  }
}

export async function benchIncidents(options: BenchOptions) {
  const notify = await receiptToNotifier();
  const timers = await pendingTimers('sqlite');
  const onPostgres = await pendingTimers('postgres').catch((e: Error) => ({
    backend: 'postgres',
    skipped: e.message,
  }));
  const result = {
    receiptToNotifier: notify,
    pendingTimers: timers,
    pendingTimersPostgres: onPostgres,
  };
  if (!options.json) {
    const f = (s: { p50: number; p90: number }) => `p50 ${s.p50} ms, p90 ${s.p90} ms`;
    console.log(
      `incidents: receipt → first notifier, ${notify.messages} flash reports one at a time`,
    );
    console.log(`  console notice (escalation event): ${f(notify.receiptToConsoleMs)}`);
    console.log(`  signed webhook arrived:            ${f(notify.receiptToWebhookMs)}`);
    console.log(`  floor, bare loopback POST:         ${f(notify.floorLoopbackPostMs)}`);
    console.log(`incidents: ${timers.timers} pending timers (SQLite)`);
    console.log(`  schedule all: ${timers.scheduleAllMs} ms (${timers.scheduleEachUs} µs each)`);
    console.log(
      `  heap growth: ${timers.heapGrowthMiB} MiB (${timers.heapNote}); store growth ${timers.storeGrowthMiB} MiB`,
    );
    console.log(
      `  next due: ${f(timers.nextDueMs)}; a batch of 200 due: ${f(timers.dueBatch200Ms)}`,
    );
    if ('skipped' in onPostgres) console.log(`  PostgreSQL: skipped (${onPostgres.skipped})`);
    else {
      const p = onPostgres;
      console.log(`incidents: ${p.timers} pending timers (PostgreSQL on 127.0.0.1)`);
      console.log(`  schedule all: ${p.scheduleAllMs} ms (${p.scheduleEachUs} µs each)`);
      console.log(`  next due: ${f(p.nextDueMs)}; a batch of 200 due: ${f(p.dueBatch200Ms)}`);
    }
  }
  return result;
}
